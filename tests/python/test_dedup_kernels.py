"""euler-dedup-kernels: identical layers compile once, and still compute right.

A residual MLP block stacked 1, 2 and 4 times (each layer its own weights, as
arguments): past the first layer, a deeper stack adds no kernel function,
and every depth agrees with numpy at -O2 and -O3, on one and two threads.
"""

import os
import sys

import numpy as np
import pytest

import euler

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))
import workloads as W  # noqa: E402
from euler.dialects import ops  # noqa: E402

_rng = np.random.default_rng(0)


def _np_gelu(x):
    return 0.5 * x * (1 + np.tanh(0.7978845608 * (x + 0.044715 * x ** 3)))


def _stack(layers, m=16, d=64, hidden=128):
    """x + gelu(x @ w1 + b1) @ w2, `layers` times."""
    args = [_rng.standard_normal((m, d)).astype(np.float32)]
    for _ in range(layers):
        args += [(_rng.standard_normal((d, hidden)) * d ** -0.5).astype(np.float32),
                 _rng.standard_normal(hidden).astype(np.float32),
                 (_rng.standard_normal((hidden, d)) * hidden ** -0.5).astype(np.float32)]

    def fn(x, *weights):
        for i in range(layers):
            w1, b1, w2 = weights[3 * i:3 * i + 3]
            h = ops.gelu(ops.add(ops.matmul(x, w1), b1), approximate="tanh")
            x = ops.add(x, ops.matmul(h, w2))
        return x

    def reference(x, *weights):
        for i in range(layers):
            w1, b1, w2 = weights[3 * i:3 * i + 3]
            x = x + _np_gelu(x @ w1 + b1) @ w2
        return x

    return W.build(fn, *args), args, reference(*args)


@pytest.mark.parametrize("opt_level, threads", [(2, 1), (3, 1), (3, 2)])
def test_identical_layers_compile_once(opt_level, threads):
    kernels = {}
    for layers in (1, 2, 4):
        text, args, want = _stack(layers)
        mod = euler.compile(text, opt_level=opt_level, num_threads=threads)
        kernels[layers] = mod.stages["tiled"].count("func.func private @__euler_kernel_")
        np.testing.assert_allclose(mod.main(*args), want, rtol=1e-4, atol=1e-4)
    assert kernels[1] >= 1 and kernels[4] == kernels[2]


def test_stage_seconds():
    text, args, _ = _stack(1)
    mod = euler.compile(text, opt_level=3)
    assert list(mod.stages.seconds) == list(mod.stages) + ["jit"]
    assert all(s >= 0 for s in mod.stages.seconds.values())
