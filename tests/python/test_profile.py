"""profile=True: each kernel call is timed in the compiled code, counted right,
and the program computes what it computes without the profiler."""

import os
import sys

import numpy as np
import pytest

import euler
from euler.runtime import profile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))
import workloads as W  # noqa: E402
from euler.dialects import ops  # noqa: E402

_rng = np.random.default_rng(0)


def _layers(n, m=16, d=64):
    """x = relu(x @ w_i) + x, n times: one kernel function per distinct kernel,
    each called n times a call of @main."""
    args = [_rng.standard_normal((m, d)).astype(np.float32)]
    args += [(_rng.standard_normal((d, d)) * d ** -0.5).astype(np.float32) for _ in range(n)]

    def fn(x, *ws):
        for w in ws:
            x = ops.add(ops.relu(ops.matmul(x, w)), x)
        return x

    return W.build(fn, *args), args


@pytest.mark.parametrize("opt_level, threads", [(2, 1), (3, 1), (3, 2)])
def test_kernel_calls_are_counted(opt_level, threads):
    text, args = _layers(3)
    plain = euler.compile(text, opt_level=opt_level, num_threads=threads)
    mod = euler.compile(text, opt_level=opt_level, num_threads=threads, profile=True)
    assert "__euler_profile" not in plain.stages["llvm"]
    np.testing.assert_array_equal(mod.main(*args), plain.main(*args))
    for _ in range(3):
        mod.main(*args)
    rows = {r.name: r for r in mod.profile()}
    kernels = [r for n, r in rows.items() if n.startswith("__euler_kernel_")]
    called = mod.stages["tiled"].count("call @__euler_kernel_")
    assert kernels and rows["@main"].calls == 4
    # Every kernel call of @main, 4 times; at -O3 the layers' matmul 3 times
    # each (-O2 fuses the three layers into one kernel, row tile by row tile).
    assert sum(r.calls for r in kernels) == 4 * called
    if opt_level == 3:
        assert any(r.calls == 12 and "matmul" in r.ops for r in kernels)
    assert all(r.seconds > 0 for r in kernels if r.calls)
    assert sum(r.seconds for r in kernels) <= rows["@main"].seconds
    assert "| @main | 4 |" in profile.table(mod.profile())
    mod.profile(reset=True)
    assert all(r.calls == 0 and r.seconds == 0 for r in mod.profile())
    mod.main(*args)
    assert {r.name: r.calls for r in mod.profile()}["@main"] == 1


def test_profile_needs_the_option(monkeypatch):
    text, args = _layers(1)
    with pytest.raises(euler.errors.InputError, match="profile=True"):
        euler.compile(text, num_threads=1).profile()
    monkeypatch.setenv("EULER_PROFILE", "1")
    mod = euler.compile(text, num_threads=1)
    mod.main(*args)
    assert {r.name: r.calls for r in mod.profile()}["@main"] == 1
