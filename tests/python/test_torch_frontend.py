"""The PyTorch frontend (euler.torch): every supported ATen op and five models
against eager PyTorch, the torch.compile backend, eager fallback, diagnostics
with source lines, and the coverage report and CLI."""

import inspect
import os
import subprocess
import sys
import warnings

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

import euler  # noqa: E402
import euler.torch as et  # noqa: E402

sys.path.insert(0, os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "examples")))
import pytorch_models  # noqa: E402
from pytorch_models import GPTBlock, SmallCNN  # noqa: E402

RTOL, ATOL = 1e-4, 1e-5
HERE = os.path.abspath(__file__)


class Fn(nn.Module):
    """Wraps a function of tensors so that torch.export accepts it."""

    def __init__(self, fn, **buffers):
        super().__init__()
        self.fn = fn
        for name, value in buffers.items():
            self.register_buffer(name, value)

    def forward(self, *xs):
        return self.fn(self, *xs)


def assert_close(got, want):
    if isinstance(want, torch.Tensor):
        want, got = [want], [got]
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        torch.testing.assert_close(g, w, rtol=RTOL, atol=ATOL)


def check(model, *inputs, expect=(), **kw):
    """Compile with euler, compare with eager, and check `expect` ops were imported
    (so that a test cannot pass by constant-folding the op it is about)."""
    model = model.eval() if isinstance(model, nn.Module) else model
    cm = et.compile(model, inputs, **kw)
    with torch.no_grad():
        want = model(*inputs)
    assert_close(cm(*inputs), want)
    for op in expect:
        assert any(name.startswith(f"aten.{op}.") for name in cm.program.ops), \
            f"{op} not imported: {sorted(cm.program.ops)}"
    return cm


def r(*shape, dtype=torch.float32, seed=None):
    g = torch.Generator().manual_seed(seed if seed is not None else sum(shape) * 7 + len(shape))
    return torch.randn(*shape, generator=g, dtype=dtype)


# --- one case per op, with the attributes models pass --------------------------------

OPS = {
    "mm": (lambda m, a, b: torch.mm(a, b), [r(8, 16), r(16, 12)], ["mm"]),
    "bmm": (lambda m, a, b: torch.bmm(a, b), [r(3, 8, 16), r(3, 16, 5)], ["bmm"]),
    "matmul_broadcast": (lambda m, a, b: a @ b, [r(2, 3, 8, 16), r(16, 4)], ["matmul"]),
    "matmul_vec": (lambda m, a, b: torch.matmul(a, b), [r(3, 8, 16), r(16)], ["matmul"]),
    "linear_3d": (lambda m, x, w, b: F.linear(x, w, b), [r(2, 5, 16), r(12, 16), r(12)], ["linear"]),
    "addmm": (lambda m, c, a, b: torch.addmm(c, a, b, beta=0.5, alpha=2.0),
              [r(8, 12), r(8, 16), r(16, 12)], ["addmm"]),
    "conv2d_stride_pad": (lambda m, x, w, b: F.conv2d(x, w, b, stride=2, padding=1),
                          [r(2, 3, 16, 16), r(8, 3, 3, 3), r(8)], ["conv2d"]),
    "conv2d_dilation_groups": (lambda m, x, w: F.conv2d(x, w, None, 1, 2, 2, 2),
                               [r(1, 4, 12, 12), r(6, 2, 3, 3)], ["conv2d"]),
    "conv2d_same": (lambda m, x, w: F.conv2d(x, w, padding="same"), [r(1, 3, 9, 9), r(4, 3, 5, 5)],
                    ["conv2d"]),
    "max_pool2d": (lambda m, x: F.max_pool2d(x, 3, 2, 1), [r(2, 4, 15, 15)], ["max_pool2d"]),
    "max_pool2d_dilation": (lambda m, x: F.max_pool2d(x, 3, 1, 1, dilation=2), [r(1, 2, 10, 11)],
                            ["max_pool2d"]),
    "max_pool2d_ceil": (lambda m, x: F.max_pool2d(x, 2, 2, ceil_mode=True), [r(1, 2, 7, 9)],
                        ["max_pool2d"]),
    # Indices of the first maximum: padding, stride, dilation, ceil mode, ties
    # (the rounded input), 3-D input.
    "max_pool2d_indices": (lambda m, x: sum((F.max_pool2d(x, 3, 2, 1, return_indices=True),
                                             F.max_pool2d(x.round(), 2, return_indices=True),
                                             F.max_pool2d(x, 3, 1, 1, dilation=2, ceil_mode=True,
                                                          return_indices=True),
                                             F.max_pool2d(x[0], 2, 2, ceil_mode=True,
                                                          return_indices=True)), ()),
                           [r(2, 3, 9, 11)], ["max_pool2d_with_indices"]),
    "avg_pool2d": (lambda m, x: F.avg_pool2d(x, 2), [r(2, 4, 8, 8)], ["avg_pool2d"]),
    "avg_pool2d_exclude_pad": (lambda m, x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
                               [r(1, 3, 9, 9)], ["avg_pool2d"]),
    # Ceil mode's partial last windows, with and without the padding in the count;
    # a kernel wider than the input (EfficientNet's pooler).
    "avg_pool2d_ceil": (lambda m, x: (F.avg_pool2d(x, 3, 2, 1, ceil_mode=True),
                                      F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
                                      F.avg_pool2d(x, 2, 3, ceil_mode=True),
                                      F.avg_pool2d(x, 40, ceil_mode=True)),
                        [r(1, 3, 8, 9)], ["avg_pool2d"]),
    "adaptive_avg_pool2d": (lambda m, x: F.adaptive_avg_pool2d(x, 1), [r(2, 8, 5, 5)],
                            ["adaptive_avg_pool2d"]),
    "relu": (lambda m, x: torch.relu(x), [r(4, 33)], ["relu"]),
    "gelu": (lambda m, x: F.gelu(x), [r(4, 33)], ["gelu"]),
    "gelu_tanh": (lambda m, x: F.gelu(x, approximate="tanh"), [r(4, 33)], ["gelu"]),
    "sigmoid": (lambda m, x: torch.sigmoid(x), [r(4, 33)], ["sigmoid"]),
    "tanh": (lambda m, x: torch.tanh(x), [r(4, 33)], ["tanh"]),
    "silu": (lambda m, x: F.silu(x), [r(4, 33)], ["silu"]),
    "exp": (lambda m, x: torch.exp(x), [r(4, 33)], ["exp"]),
    "cos_sin": (lambda m, x: torch.cos(x * 3) + torch.sin(x), [r(4, 33)], ["cos", "sin"]),
    "erf": (lambda m, x: torch.erf(x * 2), [r(4, 33)], ["erf"]),
    "sign": (lambda m, x: (torch.sign(x), torch.sign((x - x) / (x - x)), torch.sign((x * 4).int())),
             [r(4, 33)], ["sign"]),
    "log1p": (lambda m, x: (torch.log1p(x.abs() * 1e-6), torch.log1p(x.abs() * 3),
                            F.softplus(x * 4), torch.log1p(1 / (x - x))), [r(4, 33)], ["log1p"]),
    "rsqrt": (lambda m, x: torch.rsqrt(x.abs() + 0.1), [r(4, 33)], ["rsqrt"]),
    # Halves to even (0.5, 1.5, 2.5, -0.5, -1.5), two decimals.
    "round": (lambda m, x: (torch.round(x * 4), torch.round(torch.floor(x * 8) / 2 + 0.5),
                            torch.round(x, decimals=2)), [r(4, 33)], ["round"]),
    # Values outside [min, max] left out, max itself in the last bin.
    "histc": (lambda m, x: (torch.histc(x, 5, -1, 1),
                            torch.histc(torch.clamp(x, -1, 1).floor(), 3, -1, 1)),
              [r(4, 33)], ["histc"]),
    # [-1, 1] and its ends, NaN outside.
    "acos_asin": (lambda m, x: (torch.acos(torch.tanh(x)), torch.asin(torch.tanh(x * 3)),
                                torch.acos(torch.clamp(x * 5, -1, 1)),
                                torch.isnan(torch.acos(x * 2))),
                  [r(4, 33)], ["acos", "asin"]),
    # Every quadrant, the axes (x = 0, y = +-0), broadcasting, |x| > 1 for atan;
    # atanh near 0, at +-1 and outside.
    "atan_atan2_atanh": (lambda m, x, y: (torch.atan(x * 3), torch.atan2(y, x),
                                          torch.atan2(y, torch.zeros_like(x)),
                                          torch.atan2(y * 0, x), torch.atan2(y[:1], x),
                                          torch.atanh(torch.tanh(x)), torch.atanh(x * 1e-3),
                                          torch.atanh(torch.sign(x)), torch.isnan(torch.atanh(x * 3))),
                         [r(4, 33), r(4, 33, seed=5)], ["atan", "atan2", "atanh"]),
    # sinh near 0 (expm1), asinh/acosh past 2^12 (no x^2 overflow), acosh below 1.
    "hyperbolic_tan_logs": (lambda m, x: (torch.sinh(x * 3), torch.sinh(x * 1e-4), torch.cosh(x * 3),
                                          torch.tan(x), torch.asinh(x * 5), torch.asinh(x * 1e-4),
                                          torch.asinh(x * 1e5), torch.acosh(x.abs() * 3 + 1),
                                          torch.acosh(x.abs() * 1e5 + 1),
                                          torch.isnan(torch.acosh(x.abs() * 0.5)),
                                          torch.log2(x.abs() + 0.1), torch.log10(x.abs() + 0.1)),
                            [r(4, 33)], ["sinh", "cosh", "tan", "asinh", "acosh", "log2", "log10"]),
    # Over one axis (odd and even lengths), all axes, integers exactly.
    "prod": (lambda m, x: (torch.prod(x, 1), torch.prod(x, -1, keepdim=True), torch.prod(x[:, :3]),
                           torch.prod((x * 2).int(), 0)), [r(5, 7)], ["prod"]),
    # Integer and fractional factors, an explicit size, one axis unchanged.
    "upsample_nearest": (lambda m, x: (F.interpolate(x, scale_factor=2), F.interpolate(x, size=(7, 5)),
                                       F.interpolate(x, scale_factor=(1.5, 1)),
                                       torch.ops.aten.upsample_nearest2d(x, [8, 9], 2.0, 3.0)),
                         [r(1, 2, 4, 3)], ["upsample_nearest2d"]),
    "log_sqrt_neg": (lambda m, x: -torch.log(x.abs() + 1) + torch.sqrt(x.abs()), [r(4, 33)],
                     ["log", "sqrt", "neg", "abs"]),
    "clamp_hardtanh": (lambda m, x: torch.clamp(x, -0.5, 0.7) + F.hardtanh(x) + F.relu6(x * 4),
                       [r(4, 33)], ["clamp", "hardtanh"]),
    "pow": (lambda m, x: x ** 2 + x.abs() ** 1.5, [r(4, 33)], ["pow"]),
    "add_sub_broadcast": (lambda m, a, b: a + b - b * 0.5 - 2.0, [r(2, 3, 8), r(3, 1)], ["add", "sub"]),
    "add_alpha_rsub": (lambda m, a, b: torch.add(a, b, alpha=3) + (1 - a), [r(5, 8), r(8)],
                       ["add", "rsub"]),
    "mul_div": (lambda m, a, b: a * b / (b.abs() + 1) / 4 * 3, [r(6, 8), r(6, 1)], ["mul", "div"]),
    "softmax": (lambda m, x: torch.softmax(x, dim=1), [r(4, 10, 6)], ["softmax"]),
    "log_softmax": (lambda m, x: F.log_softmax(x * 10, dim=-1), [r(4, 10)], ["log_softmax"]),
    "layer_norm": (lambda m, x, w, b: F.layer_norm(x, (6, 8), w, b, eps=1e-6),
                   [r(3, 6, 8), r(6, 8), r(6, 8)], ["layer_norm"]),
    "layer_norm_no_affine": (lambda m, x: F.layer_norm(x, (16,)), [r(2, 5, 16)], ["layer_norm"]),
    "sum_mean_amax": (lambda m, x: (x.sum(dim=(1, 2), keepdim=True), x.mean(-1), x.amax(dim=0),
                                    x.sum(), x.mean(dim=[0, 2], keepdim=True)),
                      [r(3, 4, 5)], ["sum", "mean", "amax"]),
    "group_norm": (lambda m, x, w, b: (F.group_norm(x, 2, w, b, eps=1e-3), F.group_norm(x, 6),
                                       F.group_norm(x[..., 0], 3, w, b)),
                   [r(2, 6, 5, 4), r(6), r(6)], ["group_norm"]),
    # No euler handler and kept by core ATen: PyTorch's non-core decomposition.
    "vector_norm": (lambda m, x: (torch.linalg.vector_norm(x, dim=(1, 2), keepdim=True),
                                  torch.linalg.vector_norm(x, ord=1, dim=-1)),
                    [r(2, 5, 6)], ["pow", "sum", "abs"]),
    # Constants folded in the importer: a view of what was a contiguous clone of
    # a transposed constant (the clone is stripped).
    "fold_view_of_transposed": (lambda m, x: x + m.table.t().contiguous().view(-1)[:6],
                                [r(6)], ["add"]),
    "var_std": (lambda m, x: (x.var(dim=-1, keepdim=True), x.std(dim=0, unbiased=False)),
                [r(4, 9)], ["var", "std"]),
    "transpose_permute": (lambda m, x: (x.transpose(1, 2) * 2, x.permute(2, 0, 1) + 1, x.mT - 1),
                          [r(2, 3, 4)], ["transpose", "permute"]),
    "view_reshape_flatten": (lambda m, x: (x.view(6, 4) * 2, x.reshape(-1) + 1, x.flatten(1) - 1,
                                           x.unflatten(2, (2, 2)) * 3),
                             [r(2, 3, 4)], ["view"]),
    "squeeze_unsqueeze_expand": (lambda m, x: (x.unsqueeze(0).expand(4, 3, 1, 5) * 2,
                                               x.squeeze(1) + 1),
                                 [r(3, 1, 5)], ["unsqueeze", "expand", "squeeze"]),
    "cat_stack": (lambda m, a, b: (torch.cat([a, b, a], dim=1), torch.stack([a, a], dim=1),
                                   torch.cat([a, b * 2], -1)),
                  [r(2, 3), r(2, 5)], ["cat", "stack"]),
    "split_chunk_slice_select": (lambda m, x: (*x.split(3, dim=1), *x.chunk(2, dim=0),
                                               x[:, 1:7:2] * 1, x[1] * 1, x[..., -1] * 1),
                                 [r(4, 8)], ["split", "slice", "select"]),
    "embedding": (lambda m, idx: F.embedding(idx, m.table), [torch.tensor([[1, 0, 9], [3, 3, 2]])],
                  ["embedding"]),
    "sdpa_causal": (lambda m, q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
                    [r(2, 4, 7, 8), r(2, 4, 7, 8), r(2, 4, 7, 8)], ["scaled_dot_product_attention"]),
    "sdpa_scale_mask": (lambda m, q, k, v, mask: F.scaled_dot_product_attention(
        q, k, v, attn_mask=mask, scale=0.3), [r(2, 5, 8), r(2, 6, 8), r(2, 6, 4), r(5, 6)],
        ["scaled_dot_product_attention"]),
    "sdpa_bool_mask": (lambda m, q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=m.keep),
                       [r(1, 2, 5, 8), r(1, 2, 6, 8), r(1, 2, 6, 8)], ["scaled_dot_product_attention"]),
    "sdpa_gqa": (lambda m, q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True,
                                                                  enable_gqa=True),
                 [r(1, 6, 5, 8), r(1, 2, 5, 8), r(1, 2, 5, 8)], ["scaled_dot_product_attention"]),
    "masked_fill_where": (lambda m, x: (x.masked_fill(m.keep[:, :6] == 0, float("-inf")),
                                        torch.where(m.keep, x, 0.5 * x)),
                          [r(5, 6)], ["masked_fill", "where"]),
    # Computed integer indices (RoBERTa's position ids): ne, int cast, cumsum, int mul/add,
    # then torch.gather and an embedding of them.
    "position_ids_gather": (lambda m, ids, x: (
        (torch.cumsum(ids.ne(1).int(), dim=1) * ids.ne(1).int()).long() + 1,
        torch.gather(x, 1, (ids.clamp(0, 3))), torch.cumsum(x, dim=0)),
        [torch.tensor([[1, 3, 2, 1, 0], [2, 1, 1, 3, 0]]), r(2, 4)], ["cumsum", "ne", "gather"]),
    "pad_modes": (lambda m, x: (F.pad(x, (1, 2, 0, 1)), F.pad(x, (2, 1), value=-3.0),
                                F.pad(x, (2, 1, 1, 2), mode="reflect"),
                                F.pad(x, (1, 3, 0, 0), mode="replicate"), torch.constant_pad_nd(x, (-1, 2, 1, -2), 0.5),
                                F.pad(x, (2, 1, 1, 0), mode="circular")),
                  [r(1, 2, 4, 5)], ["pad", "constant_pad_nd"]),
    "batch_norm_eval": (lambda m, x: F.batch_norm(x, m.mean, m.var, m.gamma, m.beta, False, 0.1, 1e-3),
                        [r(4, 6, 5, 5)], ["batch_norm"]),
    # Integer quotients of every sign: floor and trunc divisions, remainder and fmod.
    "int_division": (lambda m, a, b: (torch.floor_divide(a, b), torch.div(a, b, rounding_mode="trunc"),
                                      torch.div(a, b, rounding_mode="floor"), torch.remainder(a, b),
                                      torch.fmod(a, b), a % 3, (a * 7919) % 64, a // -4, torch.reciprocal(b)),
                     [torch.tensor([[7, -7, 7, -7, 0, 9], [1, -1, 100, -100, 6, -6]]),
                      torch.tensor([[2, 2, -2, -2, 5, 3], [3, 3, -7, 7, -4, 4]])],
                     ["floor_divide", "div", "remainder", "fmod"]),
    # Padding of a 1-D conv's input, not absorbed into the conv (Canine).
    "conv1d_after_pad": (lambda m, x, w: (F.conv1d(F.pad(x, (1, 2)), w),
                                          F.conv1d(F.pad(x, (2, 1), value=0.5), w, stride=2)),
                         [r(1, 6, 16), r(4, 6, 3)], ["conv1d", "pad"]),
    "min_any_all_var_mean": (lambda m, x: (x.amin(dim=1), x.min(dim=0).values, x.min(), x.max(),
                                           (x > 0).any(dim=1), (x > -2).all(), torch.any(x.long() > 1),
                                           *torch.var_mean(x, dim=1, correction=0),
                                           *torch.std_mean(x, dim=0, keepdim=True), x.long().amin(0)),
                             [r(4, 6)], ["amin", "min", "any", "all", "var_mean", "std_mean"]),
    "expm1_exp2_repeat": (lambda m, x: (torch.expm1(x), torch.expm1(x * 1e-6), torch.expm1(x * 100),
                                        torch.exp2(x), x.repeat(2, 1, 3)),
                          [r(3, 4)], ["expm1", "exp2", "repeat"]),
    "fill_like": (lambda m, x: (torch.full_like(x, 2.5) + x, torch.zeros_like(x, dtype=torch.int64) + 3,
                                torch.ones_like(x) * x, x.new_full((2, 3), -1.0)),
                  [r(3, 4)], ["full_like", "zeros_like"]),
    "float_class": (lambda m, x: (torch.isnan(x), torch.isinf(x), torch.isfinite(x),
                                  torch.isneginf(x), torch.isnan(x.long())),
                    [torch.tensor([[0.0, float("nan"), float("inf")], [-float("inf"), 1.0, -2.0]])],
                    ["isnan", "isinf", "isfinite"]),
    "flip_roll": (lambda m, x: (torch.flip(x, [0, 2]), torch.roll(x, (1, -2), (0, 2)), torch.roll(x, 5)),
                  [r(3, 2, 5)], ["flip", "roll"]),
    "diagonal_as_strided_unfold": (lambda m, x: (torch.diagonal(x, 1, 0, 2), torch.diagonal(x[0], -1),
                                                 torch.as_strided(x, (3, 2), (2, 5), 1), x.unfold(2, 2, 2)),
                                   [r(3, 4, 5)], ["diagonal", "as_strided", "unfold"]),
    # as_strided addresses the storage under a view: of a transpose, a broadcast,
    # a slice (its offset), a channels-last copy.
    "as_strided_views": (lambda m, x: (torch.as_strided(x.t(), (3, 2), (1, 4)),
                                       torch.as_strided(x[:1].expand(3, 4), (2, 3), (0, 1)),
                                       torch.as_strided(x[1:], (2, 2), (1, 4)),
                                       torch.as_strided(x.reshape(1, 3, 2, 2).contiguous(
                                           memory_format=torch.channels_last), (2, 6), (6, 1))),
                         [r(3, 4)], ["as_strided"]),
    # Run-time indices with duplicates (the last write wins, accumulate adds them
    # all), negative, several index tensors, a boolean mask with one value.
    "index_put": (lambda m, x, i, j, v: (x.clone().index_put_((i,), v[:3]), x.index_put((i,), v[:3], True),
                                         x.clone().index_put_((torch.arange(2)[:, None], j), v[3, :2]),
                                         x.index_put((x > 0,), torch.tensor(-7.0))),
                  [r(4, 5), torch.tensor([0, -1, 0]), torch.tensor([4, 1]), r(4, 5)], ["index_put"]),
    "scatter_family": (lambda m, x, i, s: (x.scatter(0, i, s), x.scatter(1, i[:, :2], 9.0),
                                           x.scatter_add(1, i[:, :3], s[:2]),
                                           x.scatter_reduce(0, i, s, "sum"),
                                           x.scatter_reduce(0, i, s, "mean"),
                                           x.scatter_reduce(0, i, s, "amax", include_self=False),
                                           x.scatter_reduce(0, i, s, "amin")),
                       [r(3, 4), torch.tensor([[0, 1, 2, 0], [1, 1, 0, 2]]), r(3, 4)],
                       ["scatter", "scatter_add", "scatter_reduce"]),
    # A stable ranking: ties (x's 1.0s) in index order, as torch.sort(stable=True)
    # (topk leaves their order open: y has none); topk of the smallest, along dim 1.
    "topk_sort": (lambda m, x, y: (*torch.topk(y, 3), *torch.topk(y, 2, dim=1, largest=False),
                                   *torch.sort(y, dim=1, descending=True),
                                   *torch.sort(x, stable=True), torch.argsort(x, stable=True, dim=1)),
                  [torch.cat([torch.ones(2, 3, 3), r(2, 3, 4)], -1), r(2, 3, 7)], ["topk", "sort"]),
    # Complex tensors as (re, im) pairs: FNet's fftn(...).real, normalized and
    # inverse transforms, Llama 4's rotary embeddings (a complex product with a
    # folded polar table, through view_as_complex / view_as_real).
    "complex_fft_rotary": (lambda m, x: (
        torch.fft.fftn(x, dim=(1, 2)).real, torch.view_as_real(torch.fft.fft(x, norm="ortho")),
        torch.fft.ifft(torch.fft.fft(x, dim=1) * 2 + 1, dim=1, norm="forward").imag,
        torch.view_as_real(torch.view_as_complex(x.reshape(2, 3, 3, 2)) * m.freqs.unsqueeze(1)
                           - x[..., :3]).flatten(2)),
        [r(2, 3, 6)], ["_fft_c2c", "view_as_complex", "view_as_real"]),
    "slice_select_scatter": (lambda m, x, s: (torch.slice_scatter(x, s[:, :3], 1, 0, 6, 2),
                                              torch.select_scatter(x, s[:, 0], 1, -1)),
                             [r(2, 6, 4), r(2, 3, 4)], ["slice_scatter", "select_scatter"]),
}

_BUFFERS = {
    "embedding": {"table": r(10, 16)},
    "fold_view_of_transposed": {"table": r(3, 4)},
    "sdpa_bool_mask": {"keep": torch.rand(5, 6, generator=torch.Generator().manual_seed(1)) > 0.3},
    "masked_fill_where": {"keep": torch.tril(torch.ones(5, 6, dtype=torch.bool))},
    "complex_fft_rotary": {"freqs": torch.polar(torch.ones(2, 3), r(2, 3))},
    "batch_norm_eval": {"mean": r(6), "var": r(6).abs() + 0.5, "gamma": r(6, seed=3),
                        "beta": r(6, seed=4)},
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_op(name):
    fn, inputs, expect = OPS[name]
    if name == "sdpa_bool_mask":
        _BUFFERS[name]["keep"][:, 0] = True  # no fully-masked row: its NaNs are not a test
    check(Fn(fn, **_BUFFERS.get(name, {})), *inputs, expect=expect)


def test_input_and_buffer_updates_are_copied_back():
    """In-place writes to inputs and buffers (a running counter) happen as in
    eager, call after call: buffers the program updates are read at each call."""
    class Counter(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("seen", torch.zeros(3))

        def forward(self, x, y, out):
            self.seen.add_(x.sum(0))
            y[0] = 5.0
            return x * 2 + self.seen, torch.mul(x, 3, out=out)

    eager, model = Counter(), Counter()
    cm = et.compile(model, (r(2, 3), r(4), r(2, 3)))
    for step in range(3):
        x, y, out = r(2, 3, seed=step), r(4, seed=10 + step), r(2, 3)
        y_eager, out_eager = y.clone(), out.clone()
        got = cm(x, y, out)
        assert_close(got, eager(x, y_eager, out_eager))
        assert got[1] is out  # out= returns the tensor it wrote
        assert_close(y, y_eager)
        assert_close(out, out_eager)
        assert_close(model.seen, eager.seen)


def test_float64_runs_as_float64():
    model = nn.Sequential(nn.Linear(16, 8), nn.GELU(), nn.LayerNorm(8)).double()
    cm = check(model, r(4, 16, dtype=torch.float64))
    assert "f64" in str(cm.program.module) and "f32" not in str(cm.program.module)


def test_core_aten_form_and_params_as_args():
    model = SmallCNN()
    x = r(2, 3, 16, 16)
    cm = check(model, x, decompose="core", expect=["convolution", "addmm"])
    assert "aten.linear.default" not in cm.program.ops
    cm = check(model, x, params_as_args=True)
    assert cm.program.arguments[-1] == ("input", 0)
    with torch.no_grad():
        model.fc.bias += 1  # parameters passed as arguments are read at each call
        assert_close(cm(x), model(x))


def test_decompositions_functionalize_and_drop_valueless_ops():
    def fn(m, x, w, lo):
        y = x * 2
        y.add_(1)  # in place: functionalized before the importer sees it
        y = F.dropout(F.hardswish(y), 0.3, training=False)  # hardswish: no euler handler
        # conv2d with "same" padding of an even kernel is kept whole first, refused
        # (asymmetric padding), then decomposed into constant_pad_nd + convolution.
        y = F.conv2d(y, w, padding="same")
        return torch.clamp_min(y, lo).to(torch.float64).detach().clone()
    model, inputs = Fn(fn), (r(1, 2, 6, 6), r(3, 2, 4, 4), r(6))
    cm = check(model, *inputs, expect=["add", "clamp_min", "constant_pad_nd", "convolution"])
    for name in ("add_", "_assert_tensor_metadata", "dropout", "detach", "clone", "hardswish"):
        assert not any(op.startswith(f"aten.{name}.") for op in cm.program.ops), cm.program.ops
    assert {"aten.hardswish.default", "aten.conv2d.padding"} <= set(cm.program.decomposed)
    assert "aten.dropout.default" not in cm.program.decomposed  # dropped, not decomposed
    report = et.coverage(model.eval(), inputs)
    assert report.ok and "aten.hardswish.default" in report.decomposed
    assert "decomposed by PyTorch:" in str(report) and "aten.add_.Tensor" not in str(report)



def test_in_place_ops_on_own_intermediates_skip_the_retrace(monkeypatch):
    """ResNet's residual `h += shortcut`: an in-place op on an intermediate of
    the program's own is imported as its functional form, without PyTorch's
    retrace of the whole program; one that a view of the tensor would see is
    left to PyTorch's functionalization."""
    def residual(m, x, y):
        h = x * 2
        h += y
        h.relu_()
        return h + x

    def through_view(m, x, y):
        h = x * 2
        v = h.view(-1)
        h += y
        return v * 1

    calls = []
    retrace = torch.export.ExportedProgram.run_decompositions
    monkeypatch.setattr(torch.export.ExportedProgram, "run_decompositions",
                        lambda self, *a, **k: calls.append(1) or retrace(self, *a, **k))
    check(Fn(residual), r(2, 8), r(8), expect=["add", "relu"])
    assert not calls
    check(Fn(through_view), r(2, 8), r(8))
    assert calls

# --- models -------------------------------------------------------------------------

def _seeded(factory):
    torch.manual_seed(0)
    model = factory().eval()
    # Non-trivial batch-norm statistics, so that folding them is tested.
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)
    return model


MODELS = pytorch_models.models("small")


@pytest.mark.parametrize("name", sorted(MODELS))
def test_model(name):
    factory, inputs = MODELS[name]
    cm = check(_seeded(factory), *inputs())
    assert not cm.program.unsupported
    if name in ("cnn", "resnet_block"):  # eval batch_norm is folded into the convolutions
        text = str(cm.program.module)
        assert "batch_norm" in " ".join(cm.program.ops) and "rsqrt" not in text


@pytest.mark.parametrize("name", sorted(MODELS))
def test_torch_compile_backend(name):
    factory, inputs = MODELS[name]
    model, xs = _seeded(factory), inputs()
    torch._dynamo.reset()
    opt = torch.compile(model, backend="euler")
    with warnings.catch_warnings():
        warnings.simplefilter("error", et.EulerFallbackWarning)  # no silent eager fallback
        with torch.no_grad():
            got = opt(*xs)
            assert_close(got, model(*xs))
            assert_close(opt(*[x + 1 for x in xs]), model(*[x + 1 for x in xs]))


# --- unsupported ops: diagnostics, fallback, coverage ---------------------------------

class Unsupported(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(8, 8)

    def forward(self, x):
        y = self.lin(x)
        y = torch.erfinv(torch.tanh(y))  # no euler lowering, no decomposition
        return torch.relu(torch.cummax(y, dim=-1).values)


def _line_of(text):
    src, start = inspect.getsourcelines(Unsupported)
    return start + next(i for i, line in enumerate(src) if text in line)


def _col_of(text):
    src, _ = inspect.getsourcelines(Unsupported)
    return next(line.index(text) for line in src if text in line) + 1


def test_unsupported_op_is_a_compile_error_with_source_lines():
    with pytest.raises(euler.CompileError) as info:
        et.compile(Unsupported().eval(), (r(4, 8),))
    msg = str(info.value)
    assert (f"{HERE}:{_line_of('erfinv')}:{_col_of('erfinv')}: error: unsupported op "
            "'aten.erfinv.default'") in msg
    assert f"{HERE}:{_line_of('cummax')}:" in msg and "aten.cummax" in msg
    assert len(info.value.diagnostics) == 2  # relu depends on cummax: not reported again


class SizeFromBuffer(nn.Module):
    """A slice whose size is Python arithmetic on `.item()` of a buffer (Reformer's
    axial position encodings): a compile-time number once the buffer is folded."""

    def __init__(self):
        super().__init__()
        self.register_buffer("pos", torch.arange(4))
        self.register_buffer("table", r(2, 4, 8))

    def forward(self, x):
        n = self.pos.max().item()
        torch._check(n >= 0)
        torch._check(n < 4)
        table = self.table[:, :(n + 2) // 2].reshape(-1, 8)
        return x + torch.index_select(table, 0, self.pos)


def test_python_arithmetic_on_folded_sizes():
    check(SizeFromBuffer(), r(1, 4, 8), expect=["index_select"])


class CountOfPositives(nn.Module):
    def forward(self, x):
        n = (x > 0).sum().item()  # a number only known at run time
        torch._check(n >= 0)
        torch._check(n <= x.numel())
        return x * (n + 1)


def test_run_time_numbers_are_reported_once():
    report = et.coverage(CountOfPositives(), (r(3, 4),))
    assert list(report.unsupported) == ["aten._local_scalar_dense.default"], report
    ((loc, reason),) = report.unsupported["aten._local_scalar_dense.default"]
    assert "read from a tensor computed at run time" in reason


class Noisy(nn.Module):
    def forward(self, x):
        with torch.no_grad():  # a region torch.export keeps as a higher-order op
            noise = torch.rand_like(x)
        return x + noise


def test_random_ops_are_named_with_their_model_line():
    with pytest.raises(euler.CompileError) as info:
        et.compile(Noisy(), (r(4, 8),))
    (msg,) = info.value.diagnostics
    src, start = inspect.getsourcelines(Noisy)
    line = start + next(i for i, text in enumerate(src) if "rand_like" in text)
    assert msg.startswith(f"{HERE}:{line}:") and "'aten.rand_like.default': a random op" in msg, msg


class Branchy(nn.Module):
    def forward(self, x):
        if (x > 0).any():  # Longformer's `if is_global_attn:` from the attention mask
            return x * 2
        return x


def test_capture_failure_names_the_model_line():
    with pytest.raises(euler.CompileError) as info:
        et.compile(Branchy(), (r(3),))
    (msg,) = info.value.diagnostics
    src, start = inspect.getsourcelines(Branchy)
    line = start + next(i for i, text in enumerate(src) if "if (x > 0)" in text)
    assert msg.startswith(f"{HERE}:{line}:9: error: cannot capture the model: "), msg
    assert 'torch.compile(model, backend="euler")' in msg


def test_ir_locations_point_at_the_model_source():
    program = et.import_model(GPTBlock().eval(), (r(1, 4, 32),))
    asm = program.module.operation.get_asm(enable_debug_info=True)
    src, start = inspect.getsourcelines(GPTBlock.forward)
    softmax_line = start + next(i for i, line in enumerate(src) if "F.softmax" in line)
    assert f'loc("{inspect.getsourcefile(GPTBlock)}":{softmax_line}:' in asm


def test_backend_falls_back_to_eager_with_a_warning():
    model = Unsupported().eval()
    x = r(4, 8)
    torch._dynamo.reset()
    opt = torch.compile(model, backend="euler")
    with pytest.warns(et.EulerFallbackWarning, match=r"aten.erfinv.default") as rec:
        with torch.no_grad():
            assert_close(opt(x), model(x))
    assert f"test_torch_frontend.py:{_line_of('erfinv')}" in str(rec[0].message)


def test_coverage_report():
    report = et.coverage(Unsupported().eval(), (r(4, 8),))
    assert not report.ok
    assert sorted(report.supported) == ["aten.linear.default", "aten.relu.default",
                                        "aten.tanh.default"]
    assert sorted(report.unsupported) == ["aten.cummax.default", "aten.erfinv.default"]
    (loc, reason), = report.unsupported["aten.erfinv.default"]
    assert loc.startswith(f"{HERE}:{_line_of('erfinv')}:")
    text = str(report)
    assert "aten.linear.default" in text and "x1" in text and "aten.cummax.default" in text

    report = et.coverage(GPTBlock().eval(), (r(1, 4, 32),))
    assert report.ok and len(report.supported["aten.linear.default"]) == 4


def test_coverage_cli(tmp_path):
    (tmp_path / "covmodel.py").write_text(
        "import torch\n"
        "class Erfinv(torch.nn.Module):\n"
        "    def forward(self, x):\n"
        "        return torch.erfinv(torch.nn.functional.softplus(x))\n"
        "def make():\n"
        "    return torch.nn.Sequential(torch.nn.Linear(4, 4), Erfinv()), (torch.randn(2, 4),)\n")
    proc = subprocess.run([sys.executable, "-c", "from euler.tools.euler_main import entry; entry()",
                           "torch-coverage", "covmodel:make"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1, proc.stderr  # erfinv has no lowering
    out = proc.stdout
    assert "aten.linear.default" in out and "aten.erfinv.default" in out.split("unsupported:")[1]
    assert "aten.softplus.default" in out.split("decomposed by PyTorch:")[1].split("supported:")[0]


def test_backend_new_shapes_and_updated_weights():
    model = nn.Sequential(nn.Linear(8, 4), nn.GELU()).eval()
    torch._dynamo.reset()
    opt = torch.compile(model, backend="euler")
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("error", et.EulerFallbackWarning)
        for n in (2, 3, 5):  # the second shape makes dynamo hand over a dynamic graph
            x = r(n, 8)
            assert_close(opt(x), model(x))
        model[0].weight += 1  # frozen weights are recompiled when updated in place
        assert_close(opt(x), model(x))


def test_backend_graph_shared_by_modules_of_one_class():
    # Dynamo hands both instances' weights to one graph of Linear.forward (as
    # to every expert of Switch Transformers): each must get its own weights.
    a, b = nn.Linear(8, 4).eval(), nn.Linear(8, 4).eval()
    torch._dynamo.reset()
    x = r(2, 8)
    with torch.no_grad():
        got = [torch.compile(m, backend="euler")(x) for m in (a, b)]
        assert_close(got, [a(x), b(x)])


def test_plain_function():
    """compile() takes a function of tensors, as its docstring says (torch.export
    itself takes modules only), and rejects what is neither with a diagnostic."""
    fn = lambda a, b: torch.relu(a @ b) + 1  # noqa: E731
    a, b = r(4, 5), r(5, 3)
    torch.testing.assert_close(et.compile(fn, (a, b))(a, b), fn(a, b))
    with pytest.raises(euler.CompileError, match="expected an nn.Module or a function"):
        et.compile(3, (a,))
