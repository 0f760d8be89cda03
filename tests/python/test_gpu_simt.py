"""The CUDA pipeline's fused row kernels compute the right values, checked
without a GPU by the SIMT interpreter in gpu_simt.py (lockstep threads:
arithmetic and indexing, not synchronization; the GPU tests in test_cuda.py
run the same programs on a device).
"""

import os
import sys

import numpy as np
import pytest

from gpu_simt import lowered, run
from test_cuda import (column_of_products_src, layer_norm_src, matmul_bias_softmax_src,
                       reduce_src, softmax_src)

_rng = np.random.default_rng(9)


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _layer_norm(x, g, b):
    m = x.mean(-1, keepdims=True)
    return (x - m) / np.sqrt(((x - m) ** 2).mean(-1, keepdims=True) + 1e-5) * g + b


# (rows, columns, row tiles): one warp a row, several warps, vectors of 1, 2
# and 4, ragged rows, rows longer than registers hold (looped tiles), and
# rows split over the blocks of a cluster (one warp a block, several, ragged).
SHAPES = [(16, 1000, None), (3, 33, None), (4, 4096, None), (64, 2050, (32, 1)),
          (64, 8200, (64, 1)), (4, 4096, (32, 1, 8)), (3, 8200, (128, 1, 4)),
          (2, 1030, (64, 1, 2))]


@pytest.mark.parametrize("rows,cols,tiles", SHAPES, ids=[
    f"{r}x{c}" + (f"-cluster{t[2]}" if t and len(t) > 2 else "") for r, c, t in SHAPES])
@pytest.mark.parametrize("op", ["softmax", "layer_norm", "sum", "max"])
def test_row_kernel_values(op, rows, cols, tiles):
    x = _rng.standard_normal((rows, cols)).astype(np.float32)
    g, b = (_rng.standard_normal(cols).astype(np.float32) for _ in range(2))
    x64 = x.astype(np.float64)
    src, args, shape, want = {
        "softmax": (softmax_src(rows, cols), [x], (rows, cols), lambda: _softmax(x64)),
        "layer_norm": (layer_norm_src(rows, cols), [x, g, b], (rows, cols),
                       lambda: _layer_norm(x64, g, b)),
        "sum": (reduce_src("reduce_sum", rows, cols, 1), [x], (rows,), lambda: x64.sum(-1)),
        "max": (reduce_src("reduce_max", rows, cols, 1), [x], (rows,), lambda: x64.max(-1)),
    }[op]
    options = {"tile_sizes": {"gpu_row": tiles}} if tiles else {}
    (got,), launches = run(src, args, [shape], **options)
    assert launches == 1
    ref = want()
    assert np.abs(got - ref).max() <= 1e-6 * np.abs(ref).max(), op


@pytest.mark.parametrize("rows,cols,tiles", [(16, 1000, None), (4, 4096, (32, 1, 8)),
                                            (64, 8200, (64, 1))],
                         ids=["warp", "cluster8", "looped"])
@pytest.mark.parametrize("op", ["softmax", "sum", "max"])
def test_f16_rows_reduce_in_f32(op, rows, cols, tiles):
    # 16-bit reductions combine in f32 (partials, shuffles, shared memory):
    # the result is their rounding to f16; a max is exact.
    x = (_rng.standard_normal((rows, cols)) * 2).astype(np.float16)
    x64 = x.astype(np.float64)
    t, r = f"tensor<{rows}x{cols}xf16>", f"tensor<{rows}xf16>"
    src = (softmax_src(rows, cols, "f16") if op == "softmax" else
           f'func.func @main(%a: {t}) -> {r} {{\n  %0 = "euler.reduce_{op}"(%a) '
           f'{{axes = array<i64: 1>}} : ({t}) -> {r}\n  return %0 : {r}\n}}')
    shape = (rows, cols) if op == "softmax" else (rows,)
    options = {"tile_sizes": {"gpu_row": tiles}} if tiles else {}
    (got,), launches = run(src, [x], [shape], **options)
    assert launches == 1
    ref = {"softmax": lambda: _softmax(x64), "sum": lambda: x64.sum(-1),
           "max": lambda: x64.max(-1)}[op]()
    assert np.abs(got - ref).max() <= (0 if op == "max" else 1e-3) * np.abs(ref).max(), op


# (rows, columns, (warps, cluster)): a cluster of blocks down the rows, ragged
# rows (not a multiple of the blocks' steps), ragged columns (vectors of 2,
# a partial warp), one block down the rows, scalar columns.
COLUMNS = [(256, 1024, (8, 4)), (1000, 4096, (4, 8)), (37, 130, (2, 2)), (300, 256, (8, 1)),
           (50, 33, (1, 1))]


@pytest.mark.parametrize("rows,cols,tiles", COLUMNS, ids=[f"{r}x{c}" for r, c, _ in COLUMNS])
@pytest.mark.parametrize("op", ["reduce_sum", "reduce_max"])
def test_column_kernel_values(op, rows, cols, tiles):
    x = _rng.standard_normal((rows, cols)).astype(np.float32)
    (got,), launches = run(reduce_src(op, rows, cols, 0), [x], [(cols,)],
                           tile_sizes={"gpu_column": tiles})
    assert launches == 1
    ref = x.astype(np.float64).sum(0) if op == "reduce_sum" else x.max(0)
    assert np.abs(got - ref).max() <= 1e-6 * np.abs(x).sum(0).max(), op


def test_column_kernel_computes_its_producers():
    # sum((x * y + b)^2 over rows): the elementwise ops (one reading a bias
    # row) are computed in the column kernel, never stored.
    m, n = 300, 1024
    src = column_of_products_src(m, n)
    x, y = (_rng.standard_normal((m, n)).astype(np.float32) for _ in range(2))
    b = _rng.standard_normal(n).astype(np.float32)
    (got,), launches = run(src, [x, y, b], [(n,)], tile_sizes={"gpu_column": (8, 2)})
    assert launches == 1
    ref = ((x.astype(np.float64) * y + b) ** 2).sum(0)
    assert np.abs(got - ref).max() <= 1e-6 * np.abs(ref).max()


@pytest.mark.parametrize("keep_matmul", [True, False], ids=["two-buffers", "in-place"])
def test_row_kernel_after_a_matmul_written_as_a_generic(keep_matmul):
    # softmax(x @ w + b), and x @ w: the matmul, written as a contraction
    # generic, runs on the host here (the interpreter's numpy loops), the bias
    # add and the softmax are one row kernel. Without x @ w among the results
    # bufferization computes all three in the result's buffer, in place.
    m, k, n = 32, 48, 256
    src = matmul_bias_softmax_src(m, k, n, keep_matmul)
    x, w = (_rng.standard_normal(s).astype(np.float32) for s in [(m, k), (k, n)])
    b = _rng.standard_normal(n).astype(np.float32)
    outs, launches = run(src, [x, w, b], [(m, n)] * (1 + keep_matmul), kernels_only=False)
    assert launches == 1
    y64 = x.astype(np.float64) @ w
    want = _softmax(y64 + b)
    if keep_matmul:
        assert np.abs(outs[0] - y64).max() <= 1e-5 * np.abs(y64).max()
    assert np.abs(outs[-1] - want).max() <= 1e-6 * np.abs(want).max()


def test_encoder_layer_norms_are_row_kernels():
    # The encoder's second layer_norm is one row kernel too: its fills sit
    # ahead of the first layer_norm's kernel, which writes the buffer the
    # second reads (in place); only what runs after a member reads a buffer
    # may not write it.
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))
    import workloads
    w = workloads.encoder_layer(32, 64, 4, 128, np.random.default_rng(3))
    ctx, module = lowered(w.ir)
    with ctx:
        host = str(next(op.operation for op in module.body.operations
                        if op.operation.name == "func.func"))
    assert not [line for line in host.splitlines()
                if "linalg.generic" in line and '"reduction"' in line]
    (got,), _ = run(w.ir, list(w.inputs), [w.inputs[0].shape], kernels_only=False)
    ref = w.numpy(*[a.astype(np.float64) for a in w.inputs])
    assert np.linalg.norm(got - ref) <= 1e-6 * np.linalg.norm(ref)
