"""The reference interpreter against hand-computed values, numpy and PyTorch (CPU).

torch is an independent implementation of conv2d, pooling, layer_norm, gelu
and softmax, so agreement here is what makes the interpreter a fair oracle.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mlir import ir
from mlir.dialects import func

from euler import dialects
from euler.dialects import ops
from euler.dialects.shapes import TensorType
from euler.errors import InputError
from euler.runtime.interpreter import UnsupportedOp, _round_bf16, interpret, interpret_text

RNG = np.random.default_rng(0)


def run(build, *arrays, dtypes=None):
    """Build a one-function module whose body is `build(*args)` and interpret it."""
    with dialects.context(), ir.Location.unknown():
        module = ir.Module.create()
        types = [ops.mlir_type(TensorType(a.shape, ops.dtype_of_numpy(a.dtype))) for a in arrays]
        with ir.InsertionPoint(module.body):
            @func.FuncOp.from_py_func(*types, name="main")
            def main(*args):
                return build(*args)
        assert module.operation.verify()
        return interpret(module, "main", *arrays)


def rand(*shape, dtype=np.float32, low=-2.0, high=2.0):
    return RNG.uniform(low, high, shape).astype(dtype)


def close(a, b, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol)


@pytest.mark.parametrize("name,ref", [("add", np.add), ("sub", np.subtract), ("mul", np.multiply),
                                      ("div", np.divide), ("maximum", np.maximum),
                                      ("minimum", np.minimum)])
def test_binary_broadcasts(name, ref):
    a, b = rand(3, 1, 4), rand(5, 1)
    (y,) = run(getattr(ops, name), a, b)
    assert y.shape == (3, 5, 4) and y.dtype == np.float32
    close(y, ref(a, b))


def test_pow_hand_computed():
    (y,) = run(ops.pow, np.array([4.0, 9.0, 2.0], np.float32), np.array([0.5], np.float32))
    close(y, [2.0, 3.0, 1.4142135])


@pytest.mark.parametrize("name,ref", [
    ("neg", torch.neg), ("abs", torch.abs), ("exp", torch.exp), ("tanh", torch.tanh),
    ("sigmoid", torch.sigmoid), ("relu", torch.relu)])
def test_unary_vs_torch(name, ref):
    x = rand(4, 7, low=-30, high=30)
    (y,) = run(getattr(ops, name), x)
    close(y, ref(torch.from_numpy(x)).numpy(), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name,ref", [("log", torch.log), ("sqrt", torch.sqrt),
                                      ("rsqrt", torch.rsqrt)])
def test_unary_positive_vs_torch(name, ref):
    x = rand(4, 7, low=0.01, high=50)
    (y,) = run(getattr(ops, name), x)
    close(y, ref(torch.from_numpy(x)).numpy())


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_vs_torch(approximate):
    x = rand(5, 9, low=-6, high=6)
    (y,) = run(lambda v: ops.gelu(v, approximate=approximate), x)
    close(y, F.gelu(torch.from_numpy(x), approximate=approximate).numpy(), atol=1e-6)


def test_gelu_hand_computed():
    # gelu(1) = 0.5 * (1 + erf(1/sqrt 2)) = 0.8413447...
    (y,) = run(ops.gelu, np.array([0.0, 1.0, -1.0], np.float32))
    close(y, [0.0, 0.8413447, -0.1586553])


def test_matmul_batch_broadcast():
    a, b = rand(2, 1, 3, 4), rand(5, 4, 6)
    (y,) = run(ops.matmul, a, b)
    assert y.shape == (2, 5, 3, 6)
    close(y, torch.matmul(torch.from_numpy(a), torch.from_numpy(b)).numpy(), rtol=1e-5, atol=1e-5)


def test_matmul_hand_computed():
    a = np.array([[1, 2], [3, 4]], np.float32)
    b = np.array([[5, 6], [7, 8]], np.float32)
    (y,) = run(ops.matmul, a, b)
    close(y, [[19, 22], [43, 50]])


def test_transpose_reshape_broadcast_to():
    x = rand(2, 3, 4)
    (t,) = run(lambda v: ops.transpose(v, (2, 0, 1)), x)
    close(t, x.transpose(2, 0, 1))
    (r,) = run(lambda v: ops.reshape(v, (6, 4)), x)
    close(r, x.reshape(6, 4))
    (b,) = run(lambda v: ops.broadcast_to(v, (5, 2, 3, 4)), x)
    close(b, np.broadcast_to(x, (5, 2, 3, 4)))


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axes", [(0,), (-1,), (0, 2), (0, 1, 2)])
@pytest.mark.parametrize("name,ref", [("reduce_sum", np.sum), ("reduce_max", np.max),
                                      ("reduce_mean", np.mean)])
def test_reductions(name, ref, axes, keepdims):
    x = rand(3, 4, 5)
    (y,) = run(lambda v: getattr(ops, name)(v, axes, keepdims), x)
    close(y, ref(x, axis=axes, keepdims=keepdims), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", [np.int64, np.int32])
def test_integer_max_and_its_identity(dtype):
    # Integer maxima (argmax's candidate indices, booleans' any) start from the
    # lowest integer: -inf has no integer value (MobileViTV2's folded masks).
    x = RNG.integers(-50, 50, (3, 4)).astype(dtype)
    (y,) = run(lambda v: ops.reduce_max(v, (1,)), x)
    np.testing.assert_array_equal(y, x.max(axis=1))
    (e,) = run(lambda v: ops.reduce_max(v, (1,)), np.zeros((3, 0), dtype))
    np.testing.assert_array_equal(e, np.full(3, np.iinfo(dtype).min, dtype))


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_softmax_vs_torch(axis):
    x = rand(3, 4, 5, low=-50, high=50)
    (y,) = run(lambda v: ops.softmax(v, axis), x)
    close(y, torch.softmax(torch.from_numpy(x), axis).numpy(), atol=1e-7)


def test_softmax_is_stable_for_large_inputs():
    (y,) = run(ops.softmax, np.array([1000.0, 1000.0], np.float32))
    close(y, [0.5, 0.5])


@pytest.mark.parametrize("axis", [1, 2, -1])
def test_layer_norm_vs_torch(axis):
    x = rand(2, 3, 4)
    norm = x.shape[axis:] if axis >= 0 else x.shape[axis:]
    g, b = rand(*norm), rand(*norm)
    (y,) = run(lambda v, gv, bv: ops.layer_norm(v, gv, bv, axis=axis, epsilon=1e-3), x, g, b)
    ref = F.layer_norm(torch.from_numpy(x), norm, torch.from_numpy(g), torch.from_numpy(b), 1e-3)
    close(y, ref.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("strides,padding,dilations,groups", [
    ((1, 1), (0, 0), (1, 1), 1), ((2, 1), (1, 2), (1, 1), 1), ((1, 2), (0, 1), (2, 1), 1),
    ((2, 2), (1, 1), (1, 2), 2), ((1, 1), (2, 0), (1, 1), 4)])
def test_conv2d_vs_torch(strides, padding, dilations, groups):
    x = rand(2, 4, 7, 8)
    w = rand(8, 4 // groups, 3, 2)
    (y,) = run(lambda a, b: ops.conv2d(a, b, strides, padding, dilations, groups), x, w)
    ref = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), None, strides, padding, dilations,
                   groups)
    assert y.shape == tuple(ref.shape)
    close(y, ref.numpy(), rtol=1e-5, atol=1e-5)


def test_conv2d_hand_computed():
    x = np.arange(9, dtype=np.float32).reshape(1, 1, 3, 3)
    w = np.ones((1, 1, 2, 2), np.float32)
    (y,) = run(ops.conv2d, x, w)
    close(y, [[[[8, 12], [20, 24]]]])


@pytest.mark.parametrize("kernel,strides,padding", [
    ((2, 2), None, (0, 0)), ((3, 3), (2, 2), (1, 1)), ((3, 2), (1, 2), (1, 0)),
    ((2, 3), (3, 1), (1, 1))])
@pytest.mark.parametrize("name", ["max_pool2d", "avg_pool2d"])
def test_pools_vs_torch(name, kernel, strides, padding):
    x = rand(2, 3, 7, 6)
    (y,) = run(lambda v: getattr(ops, name)(v, kernel, strides, padding), x)
    args = (torch.from_numpy(x), kernel, strides or kernel, padding)
    ref = F.max_pool2d(*args) if name == "max_pool2d" else \
        F.avg_pool2d(*args, count_include_pad=True)
    assert y.shape == tuple(ref.shape)
    close(y, ref.numpy(), atol=1e-6)


def test_max_pool_pads_with_minus_infinity():
    x = -np.ones((1, 1, 2, 2), np.float32)
    (y,) = run(lambda v: ops.max_pool2d(v, (2, 2), (1, 1), (1, 1)), x)
    close(y, -np.ones((1, 1, 3, 3)))


def test_concat_and_negative_axis():
    a, b = rand(2, 3), rand(2, 5)
    (y,) = run(lambda u, v: ops.concat([u, v], axis=-1), a, b)
    close(y, np.concatenate([a, b], axis=1))


def test_cast():
    x = np.array([1.5, -2.7, 65504.0, 1e6], np.float32)
    (h,) = run(lambda v: ops.cast(v, "f16"), x)
    assert h.dtype == np.float16 and np.isinf(h[3])
    (i,) = run(lambda v: ops.cast(v, "i32"), x[:3])
    assert i.dtype == np.int32 and list(i) == [1, -2, 65504]


def test_gather_and_index_out_of_range():
    table = rand(5, 3)
    idx = np.array([[4, 0], [2, 2]], np.int64)
    (y,) = run(lambda t, i: ops.gather(t, i, axis=0), table, idx)
    close(y, np.take(table, idx, axis=0))
    with pytest.raises(InputError, match="gather index 7 is out of range"):
        run(lambda t, i: ops.gather(t, i), table, np.array([7], np.int64))


def test_constant():
    value = np.array([[1, 2], [3, 4]], np.float32)
    (y,) = run(lambda v: ops.add(v, ops.constant(value)), np.ones((2, 2), np.float32))
    close(y, value + 1)


def test_nan_and_inf_propagate_like_torch():
    x = np.array([np.nan, np.inf, -np.inf, 1.0], np.float32)
    for name in ("relu", "abs", "neg", "exp", "tanh", "sigmoid"):
        (y,) = run(getattr(ops, name), x)
        ref = getattr(torch, name)(torch.from_numpy(x)).numpy()
        np.testing.assert_allclose(y, ref, rtol=1e-6, err_msg=name)  # NaN == NaN here
    (m,) = run(ops.maximum, x, np.zeros(4, np.float32))
    assert np.isnan(m[0]) and m[1] == np.inf and m[2] == 0
    (p,) = run(lambda v: ops.max_pool2d(v, (2, 2)), x.reshape(1, 1, 2, 2))
    assert np.isnan(p).all()


def test_f16_ops_return_f16_and_match_f32_rounded():
    x = rand(4, 8, dtype=np.float16)
    w = rand(8, 3, dtype=np.float16)
    (y,) = run(ops.matmul, x, w)
    assert y.dtype == np.float16
    close(y, (x.astype(np.float32) @ w.astype(np.float32)).astype(np.float16), rtol=1e-3, atol=1e-3)


def test_bf16_rounding_matches_torch():
    x = rand(1000, low=-100, high=100)
    x[:3] = [np.nan, np.inf, -np.inf]
    ref = torch.from_numpy(x).to(torch.bfloat16).to(torch.float32).numpy()
    np.testing.assert_array_equal(_round_bf16(x), ref)


def test_bf16_function():
    text = """func.func @main(%x: tensor<3xbf16>) -> tensor<3xbf16> {
      %0 = "euler.exp"(%x) : (tensor<3xbf16>) -> tensor<3xbf16>
      return %0 : tensor<3xbf16>
    }"""
    x = np.array([0.0, 1.0, 2.0], np.float32)
    (y,) = interpret_text(text, "main", x)
    ref = torch.exp(torch.from_numpy(x).to(torch.bfloat16)).to(torch.float32).numpy()
    np.testing.assert_array_equal(y, ref)


SIMPLE = """func.func @main(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = "euler.relu"(%x) : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}"""


def test_bad_arguments_raise_input_error():
    x = np.zeros((2, 3), np.float32)
    with pytest.raises(InputError, match="takes 1 arguments, got 2"):
        interpret_text(SIMPLE, "main", x, x)
    with pytest.raises(InputError, match="expected shape"):
        interpret_text(SIMPLE, "main", np.zeros((3, 2), np.float32))
    with pytest.raises(InputError, match="expected dtype float32"):
        interpret_text(SIMPLE, "main", x.astype(np.float64))
    with pytest.raises(InputError, match="no function '@nope'"):
        interpret_text(SIMPLE, "nope", x)


def test_inputs_are_not_written_and_views_are_read_correctly():
    base = rand(3, 4)
    x = base.T[:2, :]  # non-contiguous (2, 3) view
    x.setflags(write=False)
    before = x.copy()
    (y,) = interpret_text(SIMPLE, "main", x)
    close(y, np.maximum(before, 0))
    np.testing.assert_array_equal(x, before)


def test_non_euler_op_is_rejected_with_location():
    text = """func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> {
      %0 = arith.addf %x, %x : tensor<2xf32>
      return %0 : tensor<2xf32>
    }"""
    with pytest.raises(UnsupportedOp, match="'arith.addf' op is not an euler op"):
        interpret_text(text, "main", np.zeros(2, np.float32))


def test_shape_violation_is_reported_at_the_op():
    text = """func.func @main(%x: tensor<2x3xf32>) -> tensor<2x2xf32> {
      %0 = "euler.matmul"(%x, %x) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x2xf32>
      return %0 : tensor<2x2xf32>
    }"""
    from euler.errors import VerifyError
    with pytest.raises(VerifyError, match="contracting dimensions differ: 3 vs 2"):
        interpret_text(text, "main", np.zeros((2, 3), np.float32))
