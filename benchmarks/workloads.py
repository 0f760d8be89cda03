"""The benchmark's workloads, written in euler ops, with numpy/PyTorch twins.

Each workload is a `Workload`: euler IR text (built with the op builders of
`euler.dialects.ops`, so result types come from the shape rules), random
inputs, the FLOP and byte counts its throughput figures use, and the same
computation in numpy and in PyTorch. `benchmarks/cpu.py` times them.
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple

import numpy as np
from mlir import ir
from mlir.dialects import func

from euler import dialects
from euler.dialects import ops
from euler.dialects.shapes import TensorType


class Workload(NamedTuple):
    name: str
    ir: str
    inputs: tuple
    flops: float
    bytes: float          # compulsory traffic: inputs read once, output written once
    numpy: Callable       # (*inputs) -> array
    torch: Callable       # (*torch tensors) -> tensor
    rtol: float = 1e-4


def build(fn, *inputs) -> str:
    """IR text of a module with one public @main(inputs) = fn(*values)."""
    with dialects.context():
        module = ir.Module.create(loc=ir.Location.unknown())
        with ir.InsertionPoint(module.body), ir.Location.name("main"):
            types = [ops.mlir_type(TensorType(a.shape, ops.dtype_of_numpy(a.dtype)))
                     for a in inputs]
            func.FuncOp.from_py_func(*types, name="main")(lambda *args: fn(*args))
        return str(module)


def _rand(rng, *shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def _nbytes(*arrays_or_shapes):
    return 4.0 * sum(math.prod(a.shape if hasattr(a, "shape") else a) for a in arrays_or_shapes)


def gemm(m, k, n, rng) -> Workload:
    a, b = _rand(rng, m, k), _rand(rng, k, n)
    return Workload(f"gemm {m}x{k}x{n}", build(ops.matmul, a, b), (a, b), 2.0 * m * n * k,
                    _nbytes(a, b, (m, n)), np.matmul, lambda x, y: x @ y)


def _np_gelu(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def _in(dtype, *arrays):
    """`arrays` in `dtype`, and the name suffix and byte scale that go with it."""
    suffix = "" if dtype == np.float32 else f" {np.dtype(dtype).name.replace('float', 'f')}"
    return tuple(a.astype(dtype) for a in arrays), suffix, np.dtype(dtype).itemsize / 4.0


def mlp(m, d, hidden, rng, dtype=np.float32) -> Workload:
    """gelu(x@W1+b1)@W2+b2 (tanh gelu, as PyTorch's approximate='tanh')."""
    x, w1, b1 = _rand(rng, m, d), _rand(rng, d, hidden, scale=d ** -0.5), _rand(rng, hidden)
    w2, b2 = _rand(rng, hidden, d, scale=hidden ** -0.5), _rand(rng, d)
    (x, w1, b1, w2, b2), suffix, per = _in(dtype, x, w1, b1, w2, b2)

    def fn(x, w1, b1, w2, b2):
        h = ops.gelu(ops.add(ops.matmul(x, w1), b1), approximate="tanh")
        return ops.add(ops.matmul(h, w2), b2)

    def torch_fn(x, w1, b1, w2, b2):
        import torch
        return torch.nn.functional.gelu(x @ w1 + b1, approximate="tanh") @ w2 + b2

    return Workload(f"mlp {m}x{d}x{hidden}{suffix}", build(fn, x, w1, b1, w2, b2),
                    (x, w1, b1, w2, b2), 4.0 * m * d * hidden,
                    per * _nbytes(x, w1, b1, w2, b2, (m, d)),
                    lambda x, w1, b1, w2, b2: _np_gelu(x @ w1 + b1) @ w2 + b2, torch_fn)


def _np_softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax(m, n, rng) -> Workload:
    x = _rand(rng, m, n)

    def torch_fn(x):
        import torch
        return torch.softmax(x, dim=-1)

    return Workload(f"softmax {m}x{n}", build(ops.softmax, x), (x,), 5.0 * m * n,
                    _nbytes(x, x), _np_softmax, torch_fn)


def _np_layer_norm(x, g, b, eps=1e-5):
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


def layer_norm(m, n, rng) -> Workload:
    x, g, b = _rand(rng, m, n), _rand(rng, n), _rand(rng, n)

    def torch_fn(x, g, b):
        import torch
        return torch.nn.functional.layer_norm(x, (x.shape[-1],), g, b)

    return Workload(f"layer_norm {m}x{n}", build(ops.layer_norm, x, g, b), (x, g, b),
                    8.0 * m * n, _nbytes(x, g, b, x), _np_layer_norm, torch_fn)


def conv_bias_relu(n, c, h, w, f, rng) -> Workload:
    """3x3 conv, padding 1, + bias + relu (NCHW/FCHW, as PyTorch)."""
    x, k, b = _rand(rng, n, c, h, w), _rand(rng, f, c, 3, 3, scale=(9 * c) ** -0.5), _rand(rng, f)

    def fn(x, k, b):
        y = ops.conv2d(x, k, padding=(1, 1))
        return ops.relu(ops.add(y, ops.reshape(b, (f, 1, 1))))

    def np_fn(x, k, b):
        xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
        y = np.zeros((n, f, h, w), np.float32)
        for i in range(3):
            for j in range(3):
                y += np.einsum("nchw,fc->nfhw", xp[:, :, i:i + h, j:j + w], k[:, :, i, j],
                               optimize=True)
        return np.maximum(y + b[:, None, None], 0)

    def torch_fn(x, k, b):
        import torch
        return torch.relu(torch.nn.functional.conv2d(x, k, b, padding=1))

    return Workload(f"conv3x3 {n}x{c}x{h}x{w} f{f}", build(fn, x, k, b), (x, k, b),
                    2.0 * n * f * h * w * c * 9, _nbytes(x, k, b, (n, f, h, w)), np_fn, torch_fn)


def encoder_layer(seq, d, heads, ffn, rng, dtype=np.float32) -> Workload:
    """Post-norm transformer encoder layer (PyTorch's TransformerEncoderLayer
    defaults: relu FFN, norm after each residual), batch 1, no dropout."""
    dh = d // heads
    x = _rand(rng, seq, d)
    wq, wk, wv, wo = (_rand(rng, d, d, scale=d ** -0.5) for _ in range(4))
    w1, w2 = _rand(rng, d, ffn, scale=d ** -0.5), _rand(rng, ffn, d, scale=ffn ** -0.5)
    b1, b2 = _rand(rng, ffn), _rand(rng, d)
    g1, be1, g2, be2 = _rand(rng, d), _rand(rng, d), _rand(rng, d), _rand(rng, d)
    inputs, suffix, per = _in(dtype, x, wq, wk, wv, wo, w1, b1, w2, b2, g1, be1, g2, be2)
    x = inputs[0]
    scale = np.full((), 1.0 / math.sqrt(dh), dtype)

    def fn(x, wq, wk, wv, wo, w1, b1, w2, b2, g1, be1, g2, be2):
        def heads_of(t):  # [seq, d] -> [heads, seq, dh]
            return ops.transpose(ops.reshape(t, (seq, heads, dh)), (1, 0, 2))
        q, k, v = (heads_of(ops.matmul(x, w)) for w in (wq, wk, wv))
        s = ops.mul(ops.matmul(q, ops.transpose(k, (0, 2, 1))), ops.constant(scale))
        a = ops.matmul(ops.softmax(s), v)
        a = ops.reshape(ops.transpose(a, (1, 0, 2)), (seq, d))
        h = ops.layer_norm(ops.add(x, ops.matmul(a, wo)), g1, be1)
        f = ops.add(ops.matmul(ops.relu(ops.add(ops.matmul(h, w1), b1)), w2), b2)
        return ops.layer_norm(ops.add(h, f), g2, be2)

    def np_fn(x, wq, wk, wv, wo, w1, b1, w2, b2, g1, be1, g2, be2):
        def heads_of(t):
            return t.reshape(seq, heads, dh).transpose(1, 0, 2)
        q, k, v = heads_of(x @ wq), heads_of(x @ wk), heads_of(x @ wv)
        a = _np_softmax(q @ k.transpose(0, 2, 1) * scale) @ v
        h = _np_layer_norm(x + a.transpose(1, 0, 2).reshape(seq, d) @ wo, g1, be1)
        return _np_layer_norm(h + np.maximum(h @ w1 + b1, 0) @ w2 + b2, g2, be2)

    def torch_fn(*t):
        return _torch_encoder(seq, d, heads, ffn)(*t)

    flops = 2.0 * seq * d * d * 4 + 4.0 * seq * seq * d + 4.0 * seq * d * ffn
    return Workload(f"encoder s{seq} d{d} h{heads} f{ffn}{suffix}", build(fn, *inputs), inputs,
                    flops, per * _nbytes(*inputs, x), np_fn, torch_fn)


_torch_layers = {}


def _torch_encoder(seq, d, heads, ffn):
    """PyTorch eager's fused TransformerEncoderLayer, loaded with the same
    weights on each call (the copy is outside the timed region: see cpu.py)."""
    import torch
    key = (seq, d, heads, ffn)
    if key not in _torch_layers:
        layer = torch.nn.TransformerEncoderLayer(d, heads, ffn, dropout=0.0, batch_first=True)
        layer.eval()

        def run(x, wq, wk, wv, wo, w1, b1, w2, b2, g1, be1, g2, be2):
            with torch.no_grad():
                sd = layer.state_dict()
                if not getattr(run, "loaded", None) is wq:
                    sd["self_attn.in_proj_weight"].copy_(torch.cat([wq.T, wk.T, wv.T]))
                    sd["self_attn.in_proj_bias"].zero_()
                    sd["self_attn.out_proj.weight"].copy_(wo.T)
                    sd["self_attn.out_proj.bias"].zero_()
                    sd["linear1.weight"].copy_(w1.T)
                    sd["linear1.bias"].copy_(b1)
                    sd["linear2.weight"].copy_(w2.T)
                    sd["linear2.bias"].copy_(b2)
                    sd["norm1.weight"].copy_(g1)
                    sd["norm1.bias"].copy_(be1)
                    sd["norm2.weight"].copy_(g2)
                    sd["norm2.bias"].copy_(be2)
                    run.loaded = wq
                return layer(x[None])[0]
        _torch_layers[key] = run
    return _torch_layers[key]


def all_workloads(quick=False, rng=None):
    """The issue's workload list (`quick`: small shapes for a smoke run)."""
    rng = rng or np.random.default_rng(0)
    if quick:
        return [gemm(256, 256, 256, rng), gemm(77, 256, 128, rng), mlp(64, 128, 512, rng),
                softmax(512, 512, rng), layer_norm(512, 256, rng),
                conv_bias_relu(1, 8, 14, 14, 8, rng), encoder_layer(32, 64, 4, 128, rng)]
    return [gemm(n, n, n, rng) for n in (256, 512, 1024, 2048)] + [
        gemm(1000, 1000, 1000, rng), gemm(1023, 1000, 999, rng), gemm(77, 4096, 1024, rng),
        mlp(256, 1024, 4096, rng), softmax(4096, 4096, rng), layer_norm(4096, 1024, rng),
        conv_bias_relu(1, 64, 56, 56, 64, rng), encoder_layer(128, 512, 8, 2048, rng)]
