"""Regressions found by running torch-mlir's e2e suite through euler.torch.compile.

Each test is named after the e2e test that found the bug (internal errors in
the importer's dtype and shape bookkeeping, wrong values) and compares with
eager PyTorch at -O2 and -O3, or checks the located diagnostic where euler
cannot express the op.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import euler  # noqa: E402
import euler.torch as et  # noqa: E402
from test_torch_frontend import Fn  # noqa: E402

LEVELS = [2, 3]


def run(fn, *inputs, opt_level=2, **buffers):
    model = Fn(fn, **buffers).eval()
    cm = et.compile(model, inputs, opt_level=opt_level)
    with torch.no_grad():
        want = model(*inputs)
    return cm(*inputs), want


def check(fn, *inputs, opt_level=2, exact=False, **buffers):
    got, want = run(fn, *inputs, opt_level=opt_level, **buffers)
    assert got.dtype == want.dtype and got.shape == want.shape
    if exact:  # bit for bit, NaN where eager has NaN
        torch.testing.assert_close(got, want, rtol=0, atol=0, equal_nan=True)
    else:
        torch.testing.assert_close(got, want, equal_nan=True)


# --- f16/bf16 contractions accumulate in f32 (AtenMmF16Types, Conv2dFP16NoBias) -------

@pytest.mark.parametrize("opt_level", [0] + LEVELS)
def test_f16_mm_accumulates_in_f32(opt_level):
    # 4096 products of 1: an f16 accumulator stops at 2048 (its ulp there is 2).
    a, b = torch.ones(3, 4096, dtype=torch.half), torch.ones(4096, 5, dtype=torch.half)
    got, want = run(lambda m, a, b: torch.mm(a, b), a, b, opt_level=opt_level)
    assert torch.equal(got, want) and want[0, 0] == 4096


@pytest.mark.parametrize("opt_level", LEVELS)
def test_f16_bmm_accumulates_in_f32(opt_level):
    a, b = torch.ones(2, 3, 4096, dtype=torch.half), torch.ones(2, 4096, 4, dtype=torch.half)
    got, want = run(lambda m, a, b: torch.bmm(a, b), a, b, opt_level=opt_level)
    assert torch.equal(got, want)


@pytest.mark.parametrize("groups", [1, 2])
@pytest.mark.parametrize("opt_level", LEVELS)
def test_f16_conv2d_accumulates_in_f32(opt_level, groups):
    # 1024 channels x 2x2 taps per group = 4096 products of 1 per output.
    x = torch.ones(1, 1024 * groups, 3, 3, dtype=torch.half)
    w = torch.ones(2 * groups, 1024, 2, 2, dtype=torch.half)
    got, want = run(lambda m, x: torch.nn.functional.conv2d(x, m.w, groups=groups), x,
                    opt_level=opt_level, w=w)
    assert torch.equal(got, want) and want[0, 0, 0, 0] == 4096


@pytest.mark.parametrize("opt_level", LEVELS)
def test_f16_conv2d_random(opt_level):
    torch.manual_seed(0)
    x, w = torch.randn(2, 4, 6, 6, dtype=torch.half), torch.randn(8, 4, 3, 3, dtype=torch.half)
    check(lambda m, x: torch.nn.functional.conv2d(x, m.w), x, opt_level=opt_level, w=w)


def test_bf16_matmul_accumulates_in_f32():
    # A bf16 accumulator stops at 256 (8 bits of mantissa).
    src = """
func.func @main(%a: tensor<2x4096xf32>, %b: tensor<4096x3xf32>) -> tensor<2x3xf32> {
  %0 = "euler.cast"(%a) : (tensor<2x4096xf32>) -> tensor<2x4096xbf16>
  %1 = "euler.cast"(%b) : (tensor<4096x3xf32>) -> tensor<4096x3xbf16>
  %2 = "euler.matmul"(%0, %1) : (tensor<2x4096xbf16>, tensor<4096x3xbf16>) -> tensor<2x3xbf16>
  %3 = "euler.cast"(%2) : (tensor<2x3xbf16>) -> tensor<2x3xf32>
  return %3 : tensor<2x3xf32>
}"""
    for level in (0, 2, 3):
        y = euler.compile(src, opt_level=level).main(np.ones((2, 4096), np.float32),
                                                      np.ones((4096, 3), np.float32))
        assert (y == 4096).all(), (level, y)


# --- dtype bookkeeping in the importer -------------------------------------------------

@pytest.mark.parametrize("opt_level", LEVELS)
def test_sum_with_dtype(opt_level):  # ReduceSumDtypeFloatModule_basic
    x = torch.rand(3, 4, 5, dtype=torch.float64)
    check(lambda m, x: torch.sum(x, dtype=torch.float32), x, opt_level=opt_level)


@pytest.mark.parametrize("opt_level", LEVELS)
def test_mean_dim_with_dtype(opt_level):  # MeanDimDtypeModule_basic
    x = torch.rand(3, 4, 5, dtype=torch.float64)
    check(lambda m, x: torch.mean(x, (0,), dtype=torch.float32), x, opt_level=opt_level)


@pytest.mark.parametrize("opt_level", LEVELS)
def test_softmax_with_dtype(opt_level):  # SoftmaxIntNonNoneDtypeModule_basic
    x = torch.randn(3, 2, 4)
    check(lambda m, x: torch.ops.aten.softmax(x, 2, dtype=torch.float64), x, opt_level=opt_level)
    check(lambda m, x: torch.log_softmax(x, 1, dtype=torch.float64), x, opt_level=opt_level)


@pytest.mark.parametrize("opt_level", LEVELS)
def test_bf16_inputs_and_results(opt_level):  # ElementwiseReluModule_bfloat16, ...Clamp..._bfloat16
    x = torch.randn(4, 5).to(torch.bfloat16)
    check(lambda m, x: torch.relu(x), x, opt_level=opt_level, exact=True)
    check(lambda m, x: torch.clamp(x, -0.5, 0.25), x, opt_level=opt_level, exact=True)
    check(lambda m, x: x * m.w + 1, x, opt_level=opt_level, w=torch.randn(5).to(torch.bfloat16))


def test_unsupported_input_dtype_is_a_diagnostic():  # TypeConversionUint8ToF32Module_basic
    model = Fn(lambda m, x: x.to(torch.float32) / 2)
    with pytest.raises(euler.CompileError) as err:
        et.compile(model, (torch.ones(3, dtype=torch.int16),))
    assert "<xs_0>: error: unsupported op '<input>': inputs of dtype torch.int16 are not " \
        "supported" in str(err.value)
    assert "internal error" not in str(err.value)


@pytest.mark.parametrize("opt_level", LEVELS)
def test_clamp_int_to_float(opt_level):  # ElementwiseClampIntToFloatModule_basic
    x = torch.randint(-10, 10, (3, 5))
    check(lambda m, x: torch.clamp(x, min=-2.5, max=2.5), x, opt_level=opt_level)
    check(lambda m, x: torch.clamp(x, min=-3, max=4), x, opt_level=opt_level, exact=True)


@pytest.mark.parametrize("opt_level", LEVELS)
def test_sdpa_runtime_bool_mask(opt_level):  # ScaledDotProductAttentionBoolMaskModule_basic
    torch.manual_seed(0)
    q, k, v = torch.randn(2, 3, 8, 16), torch.randn(2, 3, 12, 16), torch.randn(2, 3, 12, 20)
    mask = torch.randn(2, 3, 8, 12) > 0.5
    mask[0, 0, 0] = False  # a row that attends to nothing: 0 in eager, not NaN
    check(lambda m, q, k, v, mask: torch.ops.aten.scaled_dot_product_attention(q, k, v, mask),
          q, k, v, mask, opt_level=opt_level)


@pytest.mark.parametrize("opt_level", LEVELS)
def test_index_select_rank0_index(opt_level):  # IndexSelectRank0IdxModule_basic
    x = torch.randn(5, 4, 3)
    idx = torch.tensor(2)
    got, want = run(lambda m, x, i: torch.index_select(x, 1, i), x, idx, opt_level=opt_level)
    assert want.shape == (5, 1, 3)
    torch.testing.assert_close(got, want)


@pytest.mark.parametrize("opt_level", LEVELS)
def test_pooling_unbatched_chw(opt_level):  # AvgPool2dCHWModule_basic
    x = torch.randn(3, 8, 8)
    check(lambda m, x: torch.nn.functional.avg_pool2d(x, 2), x, opt_level=opt_level)
    check(lambda m, x: torch.nn.functional.avg_pool2d(x, 3, 2, 1, count_include_pad=False), x,
          opt_level=opt_level)
    check(lambda m, x: torch.nn.functional.max_pool2d(x, 3, 2, 1), x, opt_level=opt_level)
    check(lambda m, x: torch.nn.functional.max_pool2d(x, 2, ceil_mode=True), x[:, :7, :7],
          opt_level=opt_level)


# --- booleans: comparisons, where/masked_fill with computed masks, logical ops -----------

@pytest.mark.parametrize("opt_level", [0] + LEVELS)
def test_comparisons(opt_level):  # ElementwiseGtIntScalarModule_basic, ...NeFloatScalar...
    x = torch.tensor([[-1.5, 0.0, 0.5, float("nan")], [2.0, 3.0, -0.0, 1.0]])
    y = torch.tensor([0.5, 0.0, 0.5, 1.0])
    i = torch.tensor([[3, -2, 7], [0, 5, 5]])
    for fn in (lambda m, x, y: x > y, lambda m, x, y: x <= y, lambda m, x, y: x != y,
               lambda m, x, y: torch.eq(x, 0.5), lambda m, x, y: x.ge(y)):
        check(fn, x, y, opt_level=opt_level, exact=True)
    # int64 against a float scalar compares in float (type promotion): 5 < 5.5.
    check(lambda m, i: i < 5.5, i, opt_level=opt_level, exact=True)
    check(lambda m, i: i == 5, i, opt_level=opt_level, exact=True)


@pytest.mark.parametrize("opt_level", [0] + LEVELS)
def test_bool_inputs_results_and_casts(opt_level):  # TypeConversionI1ToI32Module_basic
    b = torch.tensor([[True, False, True], [False, False, True]])
    x = torch.tensor([0.0, 0.5, -2.0, float("nan")])
    # (_to_copy: Tensor.to also exports a metadata assert that this test is not about)
    to = torch.ops.aten._to_copy
    check(lambda m, b: to(b, dtype=torch.int32), b, opt_level=opt_level, exact=True)
    check(lambda m, b: to(b, dtype=torch.float32) * 2, b, opt_level=opt_level, exact=True)
    check(lambda m, b: torch.logical_not(b), b, opt_level=opt_level, exact=True)
    # to(bool) is x != 0 (NaN and 0.5 are true), not a truncation.
    check(lambda m, x: to(x, dtype=torch.bool), x, opt_level=opt_level, exact=True)


@pytest.mark.parametrize("opt_level", LEVELS)
def test_logical_ops(opt_level):  # ElementwiseAtenLogicalOrOpRandomFloatModule_basic
    a, b = torch.tensor([0.0, 1.5, 0.0, -2.0]), torch.tensor([[0.0], [3.0]])
    for fn in (torch.logical_or, torch.logical_and, torch.logical_xor):
        check(lambda m, a, b, fn=fn: fn(a, b), a, b, opt_level=opt_level, exact=True)


@pytest.mark.parametrize("opt_level", [0] + LEVELS)
def test_where_and_masked_fill_with_computed_masks(opt_level):  # ElementwiseWhereSelfModule_basic
    torch.manual_seed(0)
    x, y = torch.randn(3, 4), torch.randn(4)
    check(lambda m, x, y: torch.where(x > y, x, y), x, y, opt_level=opt_level, exact=True)
    check(lambda m, x, y: torch.where(x > 0, x, 0.0), x, y, opt_level=opt_level, exact=True)
    check(lambda m, x, y: x.masked_fill(x < y, -1.0), x, y, opt_level=opt_level, exact=True)
    # a boolean input as the condition
    c = torch.tensor([True, False, False, True])
    check(lambda m, c, x: torch.where(c, x, -x), c, x, opt_level=opt_level, exact=True)


# --- 1-D convolution and pooling, adaptive pooling with uneven windows -------------------

@pytest.mark.parametrize("opt_level", LEVELS)
def test_conv1d(opt_level):  # Conv1dModule_basic, Conv1dGroupModule_basic, ...SamePadding...
    torch.manual_seed(0)
    x = torch.randn(2, 4, 11)
    for kw in ({}, {"stride": 2, "padding": 1, "dilation": 2}, {"groups": 2}, {"padding": "same"}):
        conv = torch.nn.Conv1d(4, 6, 3, **kw).eval()
        check(lambda m, x, conv=conv: conv(x), x, opt_level=opt_level)
    w = torch.randn(6, 4, 3)
    check(lambda m, x, w: torch.nn.functional.conv1d(x, w), x, w, opt_level=opt_level)


@pytest.mark.parametrize("opt_level", LEVELS)
def test_pool1d(opt_level):  # AvgPool1d*_basic, MaxPool1d*_basic
    x = torch.randn(2, 3, 10)
    F = torch.nn.functional
    check(lambda m, x: F.avg_pool1d(x, 3, 2, 1, count_include_pad=False), x, opt_level=opt_level)
    check(lambda m, x: F.avg_pool1d(x, 2), x[0], opt_level=opt_level)
    check(lambda m, x: F.max_pool1d(x, 3, 2, 1), x, opt_level=opt_level)
    check(lambda m, x: F.max_pool1d(x, 3, ceil_mode=True), x, opt_level=opt_level)
    check(lambda m, x: F.adaptive_avg_pool1d(x, 5), x, opt_level=opt_level)


@pytest.mark.parametrize("opt_level", LEVELS)
def test_adaptive_pooling_uneven_windows(opt_level):  # AdaptiveAvgPool1dStaticLargerOutput_basic
    torch.manual_seed(0)
    x = torch.randn(2, 3, 10, 7)
    F = torch.nn.functional
    check(lambda m, x: F.adaptive_avg_pool2d(x, (4, 13)), x, opt_level=opt_level)
    check(lambda m, x: F.adaptive_avg_pool1d(x, 7), x[:, :, 0], opt_level=opt_level)
    check(lambda m, x: F.adaptive_max_pool2d(x, (3, 5)), x, opt_level=opt_level, exact=True)


# --- integer arithmetic, advanced indexing -------------------------------------------------

@pytest.mark.parametrize("opt_level", [0] + LEVELS)
def test_integer_arithmetic_and_sums(opt_level):  # ReduceSumElementTypeBoolModule_basic, ...
    a = torch.tensor([[3, -7, 2**40], [0, 5, -1]])
    b = torch.tensor([2, -3, 1])
    check(lambda m, a, b: a * b + a - 4, a, b, opt_level=opt_level, exact=True)
    check(lambda m, a, b: torch.maximum(a, b).sum(0), a, b, opt_level=opt_level, exact=True)
    check(lambda m, a, b: a.amax(1), a, b, opt_level=opt_level, exact=True)
    # sums of booleans count in int64
    check(lambda m, a, b: (a > b).sum(), a, b, opt_level=opt_level, exact=True)


@pytest.mark.parametrize("opt_level", LEVELS)
def test_index_tensor(opt_level):  # IndexTensorMultiInput*_basic, ...NonContiguous...
    torch.manual_seed(0)
    x = torch.randn(4, 5, 6)
    i = torch.tensor([[0, 3], [-1, 1]])
    j = torch.tensor([4, -2])
    check(lambda m, x, i: x[i], x, i, opt_level=opt_level, exact=True)
    check(lambda m, x, i, j: x[:, i, j], x, i, j, opt_level=opt_level, exact=True)
    check(lambda m, x, i, j: x[i, :, j], x, i, j, opt_level=opt_level, exact=True)  # dims go first
    check(lambda m, x, i, j: x[i, j, j], x, i, j, opt_level=opt_level, exact=True)


# --- constant masks, argmax ----------------------------------------------------------------

@pytest.mark.parametrize("opt_level", [0] + LEVELS)
def test_triangles_and_constant_masks_keep_infinities(opt_level):  # TriuModule_basic (was NaN)
    x = torch.tensor([[0.5, -0.1, -1.8, 0.7], [float("nan"), float("inf"), -float("inf"), 0.5],
                      [1.0, 2.0, 3.0, 4.0]])
    check(lambda m, x: torch.triu(x, 1), x, opt_level=opt_level, exact=True)
    check(lambda m, x: torch.tril(x, -1), x, opt_level=opt_level, exact=True)
    mask = torch.tensor([True, False, True, False])
    check(lambda m, x: x.masked_fill(m.mask, 2.0), x, opt_level=opt_level, exact=True, mask=mask)


@pytest.mark.parametrize("opt_level", [0] + LEVELS)
def test_argmax_argmin(opt_level):  # ArgmaxModule_with_dim, ArgminIntModule_multiple_mins, ...
    x = torch.tensor([[1.0, 7.0, 7.0, -2.0], [3.0, -5.0, 0.0, -5.0], [2.0, 2.0, 2.0, 2.0]])
    i = torch.tensor([[4, 9, 9], [-1, -8, -8]])
    check(lambda m, x: torch.argmax(x, 1), x, opt_level=opt_level, exact=True)  # first max
    check(lambda m, x: torch.argmin(x, 1, keepdim=True), x, opt_level=opt_level, exact=True)
    check(lambda m, x: torch.argmax(x), x, opt_level=opt_level, exact=True)
    check(lambda m, i: torch.argmin(i, 0), i, opt_level=opt_level, exact=True)
    check(lambda m, i: torch.argmax(i, -1), i, opt_level=opt_level, exact=True)


@pytest.mark.parametrize("opt_level", LEVELS)
def test_transposed_convolution(opt_level):  # ConvolutionModule2DTranspose*, TransposedConv*
    torch.manual_seed(0)
    F = torch.nn.functional
    x = torch.randn(2, 4, 5, 6)
    w = torch.randn(4, 3, 3, 2)
    for kw in ({}, {"stride": 2, "padding": 1, "output_padding": 1}, {"dilation": 2, "padding": 2},
               {"stride": (2, 3), "padding": (3, 0)}):  # padding > dilation*(k-1) crops
        check(lambda m, x, w, kw=kw: F.conv_transpose2d(x, w, **kw), x, w, opt_level=opt_level)
    wg = torch.randn(4, 2, 3, 3)  # groups: 4 in -> 2 groups of 2, 2 out each
    check(lambda m, x: F.conv_transpose2d(x, m.w, m.b, stride=2, groups=2), x,
          opt_level=opt_level, w=wg, b=torch.randn(4))
    x1, w1 = torch.randn(1, 4, 7), torch.randn(4, 2, 3)
    check(lambda m, x, w: F.conv_transpose1d(x, w, stride=3, padding=1), x1, w1,
          opt_level=opt_level)


@pytest.mark.parametrize("opt_level", LEVELS)
def test_python_scalar_outputs(opt_level):  # NumelModule_basic, TestMultipleTensorAndPrimitive...
    x = torch.randn(3, 4)
    model = Fn(lambda m, x: (x * 2, x.numel(), x.shape[0] > 2, 0.5 * x.shape[1]))
    got = et.compile(model, (x,), opt_level=opt_level)(x)
    want = model(x)
    assert got[1:] == want[1:] and type(got[1]) is int and type(got[2]) is bool
    torch.testing.assert_close(got[0], want[0])
    only = Fn(lambda m, x: x.numel())  # no tensor result at all
    assert et.compile(only, (x,), opt_level=opt_level)(x) == 12


@pytest.mark.parametrize("opt_level", [0] + LEVELS)
def test_rounding_division_and_remainders(opt_level):  # ElementwiseDiv*RoundingMode*, Remainder*
    x = torch.tensor([[-2.5, -1.0, -0.4, 0.0, 0.4, 1.0, 2.5, 7.9], [3e9, -3e9, 1e30, 6.5, -6.5,
                                                                   float("inf"), 5.0, -5.0]])
    y = torch.tensor([2.0, -3.0, 0.7, 1.5, -1.5, 4.0, 2.0, -2.0])
    for fn in (torch.floor, torch.ceil, torch.trunc):
        check(lambda m, x, y, fn=fn: fn(x), x, y, opt_level=opt_level, exact=True)
    for mode in ("floor", "trunc"):
        check(lambda m, x, y, mode=mode: torch.div(x[:, :6], y[:6], rounding_mode=mode), x, y,
              opt_level=opt_level)
    check(lambda m, x, y: torch.floor_divide(x[:, :6], 2.5), x, y, opt_level=opt_level)
    check(lambda m, x, y: torch.remainder(x[0], y), x, y, opt_level=opt_level)
    check(lambda m, x, y: torch.fmod(x[0], y), x, y, opt_level=opt_level)
    i, j = torch.tensor([5, -7, 0, 9]), torch.tensor([2, 2, -3, -4])
    for fn in (lambda i, j: torch.remainder(i, 3), lambda i, j: torch.fmod(i, -4),
               torch.floor_divide, lambda i, j: torch.div(i, j, rounding_mode="trunc")):
        # Integers: euler.div floors, no float detour.
        check(lambda m, i, j, fn=fn: fn(i, j), i, j, opt_level=opt_level, exact=True)
