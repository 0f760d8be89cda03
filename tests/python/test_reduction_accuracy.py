"""Long reductions are accurate at every opt level (issue: sums over millions
of f32 terms were off by percents at -O0..-O2).

On the CPU at every level, and on a GPU where there is one. Inputs have a
large mean and a small spread (uniform in [100, 101]), where a sequential f32
accumulator drifts most. Sums are held to about the bound of
a pairwise sum, log2(K) * u * sum|x| with u = 2**-24, which a sequential sum
breaks by orders of magnitude (each test checks that, with numpy's own
sequential `cumsum`, so the bound cannot pass everything). The reference is
float64 numpy.
"""

import math

import numpy as np
import pytest

import euler

from euler.runtime import cuda

LEVELS = [0, 1, 2, 3]
# Every level on the CPU; on a GPU (skipped without one) -O1 (one kernel per
# op, the long sums split) and -O3 (row groups as one tree-reducing kernel).
TARGETS = [("cpu", level) for level in LEVELS] + [
    pytest.param("cuda", level, id=f"cuda-{level}",
                 marks=pytest.mark.skipif(not cuda.available(), reason="no CUDA GPU"))
    for level in (1, 3)]
U = 2.0 ** -24
_rng = np.random.default_rng(2026)


def _pairwise_bound(x, axis=None):
    """log2(K) * u * sum|x| along `axis`: what a pairwise f32 sum meets."""
    k = x.size if axis is None else math.prod(x.shape[a] for a in np.atleast_1d(axis))
    return math.log2(k) * U * np.abs(x.astype(np.float64)).sum(axis=axis)


def _sequential_sum(x):
    """An f32 running total along the last axis, as naive loops compute it."""
    return np.cumsum(x, axis=-1, dtype=np.float32)[..., -1]


def _compile(body, args, result, target, level, **options):
    return euler.compile(f"func.func @main({args}) -> {result} {{\n{body}\n}}",
                         target=target, opt_level=level, **options)


@pytest.fixture(scope="module")
def flat():
    return _rng.uniform(100, 101, 8388608).astype(np.float32)


@pytest.fixture(scope="module")
def rows():
    return _rng.uniform(100, 101, (4, 4194304)).astype(np.float32)


@pytest.mark.parametrize("target,level", TARGETS)
def test_mean_of_8m(flat, target, level):
    n = flat.size
    mod = _compile(f'  %0 = "euler.reduce_mean"(%x) {{axes = array<i64: 0>}} : '
                   f'(tensor<{n}xf32>) -> tensor<f32>\n  return %0 : tensor<f32>',
                   f"%x: tensor<{n}xf32>", "tensor<f32>", target, level)
    ref = flat.astype(np.float64).mean()
    bound = _pairwise_bound(flat) / n
    assert abs(_sequential_sum(flat) / n - ref) > 100 * bound  # the bound has teeth
    got = float(mod.main(flat))
    assert abs(got - ref) <= bound
    assert abs(got - ref) <= 1e-5 * abs(ref)


@pytest.mark.parametrize("target,level", TARGETS)
def test_row_sums_of_4m(rows, target, level):
    r, c = rows.shape
    mod = _compile(f'  %0 = "euler.reduce_sum"(%x) {{axes = array<i64: 1>}} : '
                   f'(tensor<{r}x{c}xf32>) -> tensor<{r}xf32>\n  return %0 : tensor<{r}xf32>',
                   f"%x: tensor<{r}x{c}xf32>", f"tensor<{r}xf32>", target, level)
    ref = rows.astype(np.float64).sum(axis=1)
    bound = _pairwise_bound(rows, axis=1)
    assert np.all(np.abs(_sequential_sum(rows) - ref) > 100 * bound)
    got = mod.main(rows)
    assert np.all(np.abs(got - ref) <= bound)


@pytest.mark.parametrize("target,level", TARGETS)
def test_layer_norm_of_4m_rows(rows, target, level):
    r, c = rows.shape
    g = np.ones(c, np.float32)
    b = np.zeros(c, np.float32)
    mod = _compile(f'  %0 = "euler.layer_norm"(%x, %g, %b) {{axis = 1 : i64, epsilon = 1.0e-05 : f64}}'
                   f' : (tensor<{r}x{c}xf32>, tensor<{c}xf32>, tensor<{c}xf32>) -> tensor<{r}x{c}xf32>'
                   f'\n  return %0 : tensor<{r}x{c}xf32>',
                   f"%x: tensor<{r}x{c}xf32>, %g: tensor<{c}xf32>, %b: tensor<{c}xf32>",
                   f"tensor<{r}x{c}xf32>", target, level)
    x = rows.astype(np.float64)
    mean = x.mean(axis=1, keepdims=True)
    ref = (x - mean) / np.sqrt(((x - mean) ** 2).mean(axis=1, keepdims=True) + 1e-5)
    err = np.abs(mod.main(rows, g, b) - ref).max()
    # Relative to the output's scale (|y| <= 1.74): 1e-5, below PyTorch's own
    # f32 error on these rows (4e-5), though the mean (100.5) is 350 sigma out.
    assert err <= 1e-5 * np.abs(ref).max()


@pytest.mark.parametrize("target,level", TARGETS)
def test_strided_column_sums(target, level):
    # numpy sums sequentially along a non-contiguous axis; PyTorch does not.
    x = _rng.uniform(100, 101, (1048576, 8)).astype(np.float32)
    mod = _compile('  %0 = "euler.reduce_sum"(%x) {axes = array<i64: 0>} : '
                   '(tensor<1048576x8xf32>) -> tensor<8xf32>\n  return %0 : tensor<8xf32>',
                   "%x: tensor<1048576x8xf32>", "tensor<8xf32>", target, level)
    ref = x.astype(np.float64).sum(axis=0)
    bound = _pairwise_bound(x, axis=0)
    assert np.all(np.abs(_sequential_sum(x.T) - ref) > 10 * bound)
    assert np.all(np.abs(mod.main(x) - ref) <= bound)


@pytest.mark.parametrize("target,level", TARGETS)
def test_sum_over_two_axes_of_prime_length(target, level):
    # Two reduced axes (outer and inner), one of a prime length: blocks with a tail.
    x = _rng.uniform(100, 101, (1009, 3, 1031)).astype(np.float32)
    mod = _compile('  %0 = "euler.reduce_sum"(%x) {axes = array<i64: 0, 2>} : '
                   '(tensor<1009x3x1031xf32>) -> tensor<3xf32>\n  return %0 : tensor<3xf32>',
                   "%x: tensor<1009x3x1031xf32>", "tensor<3xf32>", target, level)
    ref = x.astype(np.float64).sum(axis=(0, 2))
    bound = _pairwise_bound(x, axis=(0, 2))
    assert np.all(np.abs(_sequential_sum(x.transpose(1, 0, 2).reshape(3, -1)) - ref) > 10 * bound)
    assert np.all(np.abs(mod.main(x) - ref) <= bound)


@pytest.mark.parametrize("target,level", TARGETS)
def test_softmax_denominator_of_a_long_row(target, level):
    # Every output is exp(x_i - max) / sum: the sum's error is each output's.
    n = 2 ** 21
    x = _rng.uniform(0, 1e-3, (2, n)).astype(np.float32)
    mod = _compile(f'  %0 = "euler.softmax"(%x) {{axis = 1 : i64}} : (tensor<2x{n}xf32>) -> '
                   f'tensor<2x{n}xf32>\n  return %0 : tensor<2x{n}xf32>',
                   f"%x: tensor<2x{n}xf32>", f"tensor<2x{n}xf32>", target, level)
    e = np.exp(x.astype(np.float64) - x.max(axis=1, keepdims=True))
    ref = e / e.sum(axis=1, keepdims=True)
    assert np.abs(mod.main(x) / ref - 1).max() <= 1e-5


@pytest.mark.parametrize("target,level", TARGETS)
def test_f16_sum_accumulates_in_f32(target, level):
    # An f16 accumulator stops at 2048 (2048 + 1 rounds back to 2048).
    x = np.ones(4096, np.float16)
    mod = _compile('  %0 = "euler.reduce_sum"(%x) {axes = array<i64: 0>} : '
                   '(tensor<4096xf16>) -> tensor<f16>\n  return %0 : tensor<f16>',
                   "%x: tensor<4096xf16>", "tensor<f16>", target, level)
    assert float(mod.main(x)) == 4096.0


@pytest.mark.parametrize("level", LEVELS)
def test_torch_var_over_two_8m_axes(level):
    # The case: aten.var over 1024 x 8192 planes through the frontend.
    torch = pytest.importorskip("torch")
    import euler.torch

    class Var(torch.nn.Module):
        def forward(self, x):
            return torch.ops.aten.var(x, dim=[2, 3], correction=2)

    x = torch.from_numpy(_rng.uniform(100, 101, (3, 4, 1024, 8192)).astype(np.float32))
    ref = x.double().var(dim=(2, 3), correction=2)
    got = euler.torch.compile(Var().eval(), (x,), opt_level=level)(x)
    torch.testing.assert_close(got.double(), ref, rtol=1e-3, atol=0)
