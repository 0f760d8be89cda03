"""The CUDA pipeline's fused row kernels compute the right values, checked
without a GPU by the SIMT interpreter in gpu_simt.py (lockstep threads:
arithmetic and indexing, not synchronization; the GPU tests in test_cuda.py
run the same programs on a device).
"""

import numpy as np
import pytest

from gpu_simt import run
from test_cuda import layer_norm_src, reduce_src, softmax_src

_rng = np.random.default_rng(9)


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _layer_norm(x, g, b):
    m = x.mean(-1, keepdims=True)
    return (x - m) / np.sqrt(((x - m) ** 2).mean(-1, keepdims=True) + 1e-5) * g + b


# (rows, columns, row tiles): one warp a row, several warps, vectors of 1, 2
# and 4, ragged rows, and rows longer than registers hold (looped tiles).
SHAPES = [(16, 1000, None), (3, 33, None), (4, 4096, None), (64, 2050, (32, 1)),
          (64, 8200, (64, 1))]


@pytest.mark.parametrize("rows,cols,tiles", SHAPES, ids=[f"{r}x{c}" for r, c, _ in SHAPES])
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


def test_row_kernel_after_a_matmul_written_as_a_generic():
    # softmax(x @ w + b), and x @ w: the matmul, written as a contraction
    # generic, runs on the host here (the interpreter's numpy loops), the bias
    # add and the softmax are one row kernel. (Returning x @ w keeps its
    # buffer from being reused in place, which would leave the kernel to the
    # loop nest.)
    m, k, n = 32, 48, 256
    t = f"tensor<{m}x{n}xf32>"
    src = f"""func.func @main(%x: tensor<{m}x{k}xf32>, %w: tensor<{k}x{n}xf32>, %b: tensor<{n}xf32>) -> ({t}, {t}) {{
  %cst = arith.constant 0.000000e+00 : f32
  %e = tensor.empty() : {t}
  %z = linalg.fill ins(%cst : f32) outs(%e : {t}) -> {t}
  %y = linalg.generic {{indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d2, d1)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]}} ins(%x, %w : tensor<{m}x{k}xf32>, tensor<{k}x{n}xf32>) outs(%z : {t}) {{
  ^bb0(%a: f32, %c: f32, %acc: f32):
    %0 = arith.mulf %a, %c : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  }} -> {t}
  %e2 = tensor.empty() : {t}
  %yb = linalg.generic {{indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}} ins(%y, %b : {t}, tensor<{n}xf32>) outs(%e2 : {t}) {{
  ^bb0(%a: f32, %c: f32, %o: f32):
    %0 = arith.addf %a, %c : f32
    linalg.yield %0 : f32
  }} -> {t}
  %0 = "euler.softmax"(%yb) {{axis = -1 : i64}} : ({t}) -> {t}
  return %y, %0 : {t}, {t}
}}"""
    x, w = (_rng.standard_normal(s).astype(np.float32) for s in [(m, k), (k, n)])
    b = _rng.standard_normal(n).astype(np.float32)
    (y, got), launches = run(src, [x, w, b], [(m, n), (m, n)], kernels_only=False)
    assert launches == 1
    y64 = x.astype(np.float64) @ w
    want = _softmax(y64 + b)
    assert np.abs(y - y64).max() <= 1e-5 * np.abs(y64).max()
    assert np.abs(got - want).max() <= 1e-6 * np.abs(want).max()
