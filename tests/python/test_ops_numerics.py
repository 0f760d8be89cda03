"""Every euler op, compiled through the CPU pipeline and JIT-run, against numpy.

Each case is one function of its op family's module, compiled once per opt
level (a few dozen compiles in all); each case is still its own test. The IR
is built with the op builders of `euler.dialects.ops`, so result types come
from the shape rules and are not restated here. References are plain numpy
formulas (conv and pooling by explicit windows).
"""

import math
from typing import Callable, NamedTuple

import numpy as np
import pytest
from mlir import ir
from mlir.dialects import func

import euler
from euler import dialects
from euler.dialects import ops
from euler.dialects.shapes import TensorType

RTOL = 1e-5
RTOL_TRANSCENDENTAL = 1e-4


class Case(NamedTuple):
    name: str
    build: Callable  # euler values -> euler value, through ops.*
    inputs: tuple
    ref: Callable  # numpy arrays -> numpy array
    rtol: float = RTOL


_rng = np.random.default_rng(0)


def rand(*shape, dtype=np.float32, low=-2.0, high=2.0):
    return _rng.uniform(low, high, shape).astype(dtype)


def pos(*shape, dtype=np.float32):
    return rand(*shape, dtype=dtype, low=0.1, high=3.0)


# --- numpy references ------------------------------------------------------------

def _windows(x, kh, kw, stride, dilation, oh, ow):
    """Yield (i, j, x[:, :, window tap (i, j)]) of shape (N, C, OH, OW)."""
    for i in range(kh):
        for j in range(kw):
            h0, w0 = i * dilation[0], j * dilation[1]
            yield i, j, x[:, :, h0:h0 + stride[0] * (oh - 1) + 1:stride[0],
                          w0:w0 + stride[1] * (ow - 1) + 1:stride[1]]


def _out_size(size, k, s, p, d=1):
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def conv_ref(x, w, strides=(1, 1), padding=(0, 0), dilations=(1, 1), groups=1):
    n, c, h, wd = x.shape
    f, cg, kh, kw = w.shape
    oh = _out_size(h, kh, strides[0], padding[0], dilations[0])
    ow = _out_size(wd, kw, strides[1], padding[1], dilations[1])
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    out = np.zeros((n, f, oh, ow))
    fg = f // groups
    for g in range(groups):
        xs = xp[:, g * cg:(g + 1) * cg]
        ws = w[g * fg:(g + 1) * fg].astype(np.float64)
        for i, j, patch in _windows(xs, kh, kw, strides, dilations, oh, ow):
            out[:, g * fg:(g + 1) * fg] += np.einsum("nchw,fc->nfhw", patch, ws[:, :, i, j])
    return out.astype(x.dtype)


def pool_ref(x, kernel, strides=None, padding=(0, 0), kind="max"):
    strides = strides or kernel
    n, c, h, w = x.shape
    oh = _out_size(h, kernel[0], strides[0], padding[0])
    ow = _out_size(w, kernel[1], strides[1], padding[1])
    fill = -np.inf if kind == "max" else 0.0
    xp = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2), constant_values=fill)
    taps = [p for _, _, p in _windows(xp, kernel[0], kernel[1], strides, (1, 1), oh, ow)]
    if kind == "max":
        return np.max(taps, axis=0)
    return (np.sum(taps, axis=0) / (kernel[0] * kernel[1])).astype(x.dtype)


def layer_norm_ref(x, gamma, beta, axis=-1, eps=1e-5):
    axes = tuple(range(axis % x.ndim, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def softmax_ref(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


_erf = np.vectorize(math.erf)


def gelu_ref(x, approximate="none"):
    x64 = x.astype(np.float64)
    if approximate == "tanh":
        y = 0.5 * x64 * (1 + np.tanh(math.sqrt(2 / math.pi) * (x64 + 0.044715 * x64 ** 3)))
    else:
        y = 0.5 * x64 * (1 + _erf(x64 / math.sqrt(2)))
    return y.astype(x.dtype)


def with_nan(a):
    a = a.copy()
    a.flat[1] = np.nan
    return a


# --- the cases ------------------------------------------------------------------

T = RTOL_TRANSCENDENTAL

# Cases by op family; each family is compiled as one module per opt level.
FAMILIES = {
    # Broadcasting binary ops: same shape, rank mismatch, size-1 dims on both sides.
    "binary": [
        Case("add", ops.add, (rand(3, 4), rand(3, 4)), np.add),
        Case("sub_rank_mismatch", ops.sub, (rand(2, 3, 4), rand(4)), np.subtract),
        Case("mul_size1_both", ops.mul, (rand(2, 1, 4), rand(3, 1)), np.multiply),
        Case("div_scalar_like", ops.div, (rand(3, 4), pos(1, 1)), np.divide),
        Case("div_lhs_broadcast", ops.div, (rand(4), pos(2, 3, 4)), np.divide),
        Case("maximum_nan", ops.maximum, (with_nan(rand(4, 5)), rand(5)), np.maximum),
        Case("minimum_nan", ops.minimum, (rand(1, 4), with_nan(rand(3, 1))), np.minimum),
        Case("pow", ops.pow, (pos(3, 4), rand(4)), np.power, T),
        Case("add_f64", ops.add, (rand(3, 4, dtype=np.float64), rand(4, dtype=np.float64)), np.add),
        Case("add_f16", ops.add, (rand(3, 4, dtype=np.float16), rand(1, 4, dtype=np.float16)),
             np.add),
    ],
    # Unary.
    "unary": [
        Case("neg", ops.neg, (rand(3, 4),), np.negative),
        Case("abs", ops.abs, (rand(3, 4),), np.abs),
        Case("exp", ops.exp, (rand(3, 4),), np.exp, T),
        Case("log", ops.log, (pos(3, 4),), np.log, T),
        Case("sqrt", ops.sqrt, (pos(3, 4),), np.sqrt, T),
        Case("rsqrt", ops.rsqrt, (pos(3, 4),), lambda x: 1 / np.sqrt(x), T),
        Case("tanh", ops.tanh, (rand(3, 4),), np.tanh, T),
        Case("sigmoid", ops.sigmoid, (rand(3, 4, low=-20, high=20),), lambda x: 1 / (1 + np.exp(-x)), T),
        Case("relu_nan", ops.relu, (with_nan(rand(3, 4)),), lambda x: np.maximum(x, 0)),
        Case("gelu_erf", ops.gelu, (rand(3, 4, low=-4, high=4),), gelu_ref, T),
        Case("gelu_tanh", lambda x: ops.gelu(x, approximate="tanh"), (rand(3, 4, low=-4, high=4),),
             lambda x: gelu_ref(x, "tanh"), T),
        Case("exp_f64", ops.exp, (rand(3, 4, dtype=np.float64),), np.exp, T),
    ],
    # matmul: 2-D, batched lhs against 2-D rhs, batches, broadcast batches.
    "matmul": [
        Case("matmul_2d", ops.matmul, (rand(4, 5), rand(5, 6)), np.matmul),
        Case("matmul_batched_lhs", ops.matmul, (rand(2, 3, 4, 5), rand(5, 6)), np.matmul),
        Case("matmul_batch", ops.matmul, (rand(2, 4, 5), rand(2, 5, 3)), np.matmul),
        Case("matmul_broadcast_batch", ops.matmul, (rand(2, 1, 4, 5), rand(3, 5, 6)), np.matmul),
        Case("matmul_2d_lhs_batched_rhs", ops.matmul, (rand(4, 5), rand(2, 5, 3)), np.matmul),
    ],
    # conv2d with stride, padding, dilation and groups.
    "conv2d": [
        Case("conv2d", ops.conv2d, (rand(2, 3, 6, 6), rand(4, 3, 3, 3)), conv_ref),
        Case("conv2d_stride_pad",
             lambda x, w: ops.conv2d(x, w, strides=(2, 1), padding=(1, 2)),
             (rand(1, 2, 7, 6), rand(3, 2, 3, 2)),
             lambda x, w: conv_ref(x, w, strides=(2, 1), padding=(1, 2))),
        Case("conv2d_dilation",
             lambda x, w: ops.conv2d(x, w, dilations=(2, 3), padding=(1, 1)),
             (rand(1, 2, 8, 9), rand(2, 2, 3, 3)),
             lambda x, w: conv_ref(x, w, dilations=(2, 3), padding=(1, 1))),
        Case("conv2d_groups",
             lambda x, w: ops.conv2d(x, w, groups=2, strides=(2, 2), padding=(1, 1)),
             (rand(2, 4, 6, 6), rand(6, 2, 3, 3)),
             lambda x, w: conv_ref(x, w, groups=2, strides=(2, 2), padding=(1, 1))),
        Case("conv2d_depthwise",
             lambda x, w: ops.conv2d(x, w, groups=3, dilations=(2, 2)),
             (rand(1, 3, 7, 7), rand(3, 1, 2, 2)),
             lambda x, w: conv_ref(x, w, groups=3, dilations=(2, 2))),
    ],
    # Pools, with stride and padding (avg counts the padding).
    "pool": [
        Case("max_pool2d", lambda x: ops.max_pool2d(x, (2, 2)), (rand(2, 3, 6, 6),),
             lambda x: pool_ref(x, (2, 2))),
        Case("max_pool2d_stride_pad",
             lambda x: ops.max_pool2d(x, (3, 3), strides=(2, 1), padding=(1, 1)),
             (rand(1, 2, 7, 6, low=-5, high=-1),),
             lambda x: pool_ref(x, (3, 3), (2, 1), (1, 1))),
        Case("avg_pool2d", lambda x: ops.avg_pool2d(x, (2, 3)), (rand(2, 3, 6, 6),),
             lambda x: pool_ref(x, (2, 3), kind="avg")),
        Case("avg_pool2d_stride_pad",
             lambda x: ops.avg_pool2d(x, (3, 3), strides=(2, 2), padding=(1, 1)),
             (rand(1, 2, 7, 6),),
             lambda x: pool_ref(x, (3, 3), (2, 2), (1, 1), kind="avg")),
    ],
    # layer_norm over the last dim and over several trailing dims.
    "layer_norm": [
        Case("layer_norm_last", ops.layer_norm, (rand(3, 8), rand(8), rand(8)), layer_norm_ref, T),
        Case("layer_norm_multi",
             lambda x, g, b: ops.layer_norm(x, g, b, axis=1, epsilon=1e-3),
             (rand(2, 3, 4), rand(3, 4), rand(3, 4)),
             lambda x, g, b: layer_norm_ref(x, g, b, axis=1, eps=1e-3), T),
        Case("layer_norm_f16", ops.layer_norm,
             (rand(3, 8, dtype=np.float16), rand(8, dtype=np.float16), rand(8, dtype=np.float16)),
             lambda x, g, b: layer_norm_ref(*(a.astype(np.float32) for a in (x, g, b))
                                            ).astype(np.float16), 2e-3),
    ],
    # softmax on every axis of a 3-D tensor.
    "softmax": [
        *[Case(f"softmax_axis{a}".replace("-", "m"), lambda x, a=a: ops.softmax(x, axis=a),
               (rand(2, 3, 4, low=-10, high=10),), lambda x, a=a: softmax_ref(x, a), T)
          for a in (0, 1, 2, -1)],
        Case("softmax_f16", ops.softmax, (rand(2, 5, dtype=np.float16, low=-4, high=4),),
             lambda x: softmax_ref(x.astype(np.float32), -1).astype(np.float16), 2e-3),
        Case("gelu_f16", ops.gelu, (rand(3, 4, dtype=np.float16),), gelu_ref, 2e-3),
    ],
    # Reductions with and without keepdims, several and negative axes.
    "reduce": [
        Case("reduce_sum", lambda x: ops.reduce_sum(x, (1,)), (rand(2, 3, 4),),
             lambda x: x.sum(axis=1)),
        Case("reduce_sum_keep", lambda x: ops.reduce_sum(x, (0, 2), keepdims=True), (rand(2, 3, 4),),
             lambda x: x.sum(axis=(0, 2), keepdims=True)),
        Case("reduce_max_neg_keep", lambda x: ops.reduce_max(x, (-1,), keepdims=True),
             (rand(2, 3, 4),), lambda x: x.max(axis=-1, keepdims=True)),
        Case("reduce_max_all", lambda x: ops.reduce_max(x, (0, 1, 2)), (rand(2, 3, 4),),
             lambda x: x.max().reshape(())),
        Case("reduce_mean", lambda x: ops.reduce_mean(x, (0, -1)), (rand(2, 3, 4),),
             lambda x: x.mean(axis=(0, -1))),
        Case("reduce_mean_all_keep", lambda x: ops.reduce_mean(x, (0, 1), keepdims=True),
             (rand(3, 5),), lambda x: x.mean(keepdims=True)),
    ],
    # Layout ops.
    "layout": [
        Case("reshape_collapse", lambda x: ops.reshape(x, (6, 4)), (rand(2, 3, 4),),
             lambda x: x.reshape(6, 4)),
        Case("reshape_expand", lambda x: ops.reshape(x, (1, 2, 3, 4, 1)), (rand(6, 4),),
             lambda x: x.reshape(1, 2, 3, 4, 1)),
        Case("reshape_general", lambda x: ops.reshape(x, (4, 6)), (rand(2, 3, 4),),
             lambda x: x.reshape(4, 6)),
        Case("reshape_same_rank", lambda x: ops.reshape(x, (3, 2)), (rand(2, 3),),
             lambda x: x.reshape(3, 2)),
        Case("transpose", lambda x: ops.transpose(x, (2, 0, 1)), (rand(2, 3, 4),),
             lambda x: np.transpose(x, (2, 0, 1))),
        Case("transpose_2d", lambda x: ops.transpose(x, (1, 0)), (rand(3, 5),), np.transpose),
        Case("broadcast_to", lambda x: ops.broadcast_to(x, (2, 3, 4)), (rand(3, 1),),
             lambda x: np.broadcast_to(x, (2, 3, 4))),
        Case("broadcast_to_rank", lambda x: ops.broadcast_to(x, (3, 4)), (rand(4),),
             lambda x: np.broadcast_to(x, (3, 4))),
        Case("concat2", lambda a, b: ops.concat([a, b], axis=0), (rand(2, 3), rand(4, 3)),
             lambda a, b: np.concatenate([a, b], axis=0)),
        Case("concat3", lambda a, b, c: ops.concat([a, b, c], axis=-1),
             (rand(2, 3, 1), rand(2, 3, 2), rand(2, 3, 2)),
             lambda a, b, c: np.concatenate([a, b, c], axis=-1)),
        # Any mix of shapes in one op (issue 11: once a parse error), and more
        # runs of shapes than euler.concat has operand groups (chained).
        Case("concat_mixed", lambda a, b: ops.concat([a, b, a], axis=0), (rand(1), rand(3)),
             lambda a, b: np.concatenate([a, b, a])),
        Case("concat_many_runs", lambda a, b: ops.concat([a, b] * 5, axis=1),
             (rand(2, 1), rand(2, 2)), lambda a, b: np.concatenate([a, b] * 5, axis=1)),
    ],
    # cos and sin (rotary embeddings of run-time positions), erf (ESM's GELU).
    "trig": [
        Case("cos", ops.cos, (rand(3, 7, low=-8, high=8),), np.cos, RTOL_TRANSCENDENTAL),
        Case("sin", ops.sin, (rand(3, 7, low=-8, high=8),), np.sin, RTOL_TRANSCENDENTAL),
        Case("erf", ops.erf, (rand(3, 37, low=-4, high=4),),
             np.vectorize(math.erf, otypes=[np.float32]), RTOL_TRANSCENDENTAL),
    ],
    # Booleans (i8 0/1), select, integer arithmetic, cumsum.
    "compare_select": [
        Case("compare_gt", lambda a, b: ops.compare(a, b, "gt"), (rand(3, 4), rand(4)),
             lambda a, b: (a > b).astype(np.int8)),
        Case("compare_ne_nan", lambda a, b: ops.compare(a, b, "ne"),
             (np.array([1.0, np.nan, 2.0], np.float32), np.array([1.0, np.nan, 3.0], np.float32)),
             lambda a, b: (a != b).astype(np.int8)),
        Case("compare_le_int", lambda a, b: ops.compare(a, b, "le"),
             (_rng.integers(-5, 5, (2, 6)).astype(np.int64), np.array([[0]], np.int64)),
             lambda a, b: (a <= b).astype(np.int8)),
        Case("select", lambda a, b: ops.select(ops.compare(a, b, "lt"), a, b),
             (rand(3, 4), rand(3, 1)), lambda a, b: np.where(a < b, a, b)),
        Case("and_or", lambda a, b: ops.maximum(ops.compare(a, b, "eq"),
                                                ops.minimum(ops.compare(a, b, "lt"),
                                                            ops.compare(a, b, "ge"))),
             (rand(5), rand(5)), lambda a, b: (a == b).astype(np.int8)),
        Case("int_arith", lambda a, b: ops.maximum(ops.sub(ops.mul(a, b), a), ops.add(a, b)),
             (_rng.integers(-9, 9, (3, 4)).astype(np.int32), _rng.integers(-9, 9, (4,)).astype(np.int32)),
             lambda a, b: np.maximum(a * b - a, a + b)),
        Case("cumsum_int", lambda x: ops.cumsum(x, axis=1),
             (_rng.integers(-9, 9, (2, 7)).astype(np.int64),), lambda x: np.cumsum(x, axis=1)),
        Case("cumsum_float", lambda x: ops.cumsum(x, axis=0), (rand(5, 3),),
             lambda x: np.cumsum(x, axis=0)),
    ],
    # Constant padding (numpy.pad), a zero-pad dim included.
    "pad": [
        Case("pad_nchw", lambda x: ops.pad(x, (0, 0, 1, 0), (0, 0, 2, 1)), (rand(2, 3, 4, 5),),
             lambda x: np.pad(x, [(0, 0), (0, 0), (1, 2), (0, 1)])),
        Case("pad_fill", lambda x: ops.pad(x, (2, 0), (1, 3), fill=-1.5), (rand(3, 4),),
             lambda x: np.pad(x, [(2, 1), (0, 3)], constant_values=-1.5)),
    ],
    # Casts.
    "cast": [
        Case("cast_f32_f16", lambda x: ops.cast(x, "f16"), (rand(3, 4),),
             lambda x: x.astype(np.float16)),
        Case("cast_f16_f32", lambda x: ops.cast(x, "f32"), (rand(3, 4, dtype=np.float16),),
             lambda x: x.astype(np.float32)),
        Case("cast_f32_f64", lambda x: ops.cast(x, "f64"), (rand(3, 4),),
             lambda x: x.astype(np.float64)),
        Case("cast_f64_f32", lambda x: ops.cast(x, "f32"), (rand(3, 4, dtype=np.float64),),
             lambda x: x.astype(np.float32)),
        Case("cast_f32_i32", lambda x: ops.cast(x, "i32"), (rand(3, 4, low=-9, high=9),),
             lambda x: x.astype(np.int32)),
        Case("cast_i64_f32", lambda x: ops.cast(x, "f32"),
             (_rng.integers(-100, 100, (3, 4)).astype(np.int64),), lambda x: x.astype(np.float32)),
    ],
    # gather (numpy.take), negative indices included.
    "gather": [
        Case("gather", ops.gather, (rand(5, 3), np.array([4, 0, -1, 2], np.int64)),
             lambda t, i: np.take(t, i, axis=0)),
        Case("gather_axis1", lambda t, i: ops.gather(t, i, axis=1),
             (rand(2, 5, 3), np.array([[1, 4], [0, -2]], np.int32)),
             lambda t, i: np.take(t, i, axis=1)),
        # Constant indices in a run: slices (tensor.extract_slice), a scalar
        # index dropping its axis.
        Case("gather_run", lambda t: ops.gather(t, ops.constant(np.array([1, 3], np.int64)),
                                                axis=1),
             (rand(2, 5, 3),), lambda t: np.take(t, [1, 3], axis=1)),
        Case("gather_scalar", lambda t: ops.gather(t, ops.constant(np.array(-1, np.int64))),
             (rand(5, 3),), lambda t: np.take(t, -1, axis=0)),
    ],
    # constant.
    "constant": [
        Case("constant", lambda x: ops.add(x, ops.constant(np.arange(4, dtype=np.float32))),
             (rand(3, 4),), lambda x: x + np.arange(4, dtype=np.float32)),
    ],
}
CASES = [(family, case) for family, cases in FAMILIES.items() for case in cases]


def _fn_name(case):
    return "case_" + case.name


def build_module(cases) -> str:
    """IR text of one module with a public function per case."""
    with dialects.context():
        module = ir.Module.create(loc=ir.Location.unknown())
        for case in cases:
            with ir.InsertionPoint(module.body), ir.Location.name(case.name):
                types = [ops.mlir_type(TensorType(a.shape, ops.dtype_of_numpy(a.dtype)))
                         for a in case.inputs]
                # Prefixed: a function named like a libm symbol (`exp`) would
                # capture the calls that LLVM emits for math intrinsics.
                func.FuncOp.from_py_func(*types, name=_fn_name(case))(
                    lambda *args, case=case: case.build(*args))
        return str(module)


_compiled = {}


def compiled(family, opt_level):
    """The family's module at `opt_level`, compiled once; a compile error
    fails every case of the family (and only those)."""
    key = (family, opt_level)
    if key not in _compiled:
        try:
            _compiled[key] = euler.compile(build_module(FAMILIES[family]), opt_level=opt_level)
        except euler.EulerError as err:
            _compiled[key] = err
    if isinstance(_compiled[key], Exception):
        raise _compiled[key]
    return _compiled[key]


def test_every_op_is_covered():
    from euler.passes.conversion import convert_euler_to_linalg
    built = build_module([case for _, case in CASES])
    missing = [n for n in convert_euler_to_linalg.LOWERINGS if f'"euler.{n}"' not in built]
    assert not missing


@pytest.mark.parametrize("opt_level", [0, 1, 2, 3], ids=lambda n: f"O{n}")
@pytest.mark.parametrize("family,case", CASES, ids=[c.name for _, c in CASES])
def test_op(family, case, opt_level):
    got = compiled(family, opt_level)[_fn_name(case)](*case.inputs)
    want = np.asarray(case.ref(*case.inputs))
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, got.dtype, want.shape)
    scale = float(np.nanmax(np.abs(want.astype(np.float64)))) if want.size else 1.0
    np.testing.assert_allclose(got, want, rtol=case.rtol, atol=1e-6 * scale)
