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
