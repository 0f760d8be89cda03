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
    if exact:
        assert torch.equal(got, want), (got, want)
    else:
        torch.testing.assert_close(got, want)


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
