"""Numerical tests of the graph-level passes on the euler dialect.

Each program is compiled at -O0 as written and again after the pass under
test; both must compute the same values (exactly, for rewrites that are exact
in IEEE arithmetic), and the pass must actually have changed the program, so
that a pass that does nothing cannot pass. The -O1 pipeline as a whole is
checked against numpy.
"""

import collections

import numpy as np
import pytest
from mlir import passmanager

import euler
from euler import dialects, passes
from euler.pipelines import driver

RNG = np.random.default_rng(0)


def apply(text, *names):
    """Run euler passes `names` over `text`; return the resulting IR text."""
    ctx = dialects.context()
    module = driver.parse(text, ctx)
    pm = passmanager.PassManager(context=ctx)
    for name in names:
        passes.add(pm, name)
    pm.run(module.operation)
    return str(module)


def op_counts(text):
    ctx = dialects.context()
    module = driver.parse(text, ctx)
    return collections.Counter(op.name for op in passes.euler_ops(module.operation))


def run(text, *args, opt_level=0):
    return euler.compile(text, opt_level=opt_level).main(*args)


def rand(*shape):
    return RNG.uniform(-2.0, 2.0, shape).astype(np.float32)


def assert_same(text, transformed, *args):
    expected = run(text, *args)
    got = run(transformed, *args)
    for e, g in zip(expected if isinstance(expected, tuple) else (expected,),
                    got if isinstance(got, tuple) else (got,)):
        # Exact, up to the sign of zero (assert_array_equal has -0 == 0).
        np.testing.assert_array_equal(g, e)


# --- euler-simplify ----------------------------------------------------------

SIMPLIFY_CASES = {
    "identities": ("""
func.func @main(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %zero = "euler.constant"() {value = dense<0.0> : tensor<4x8xf32>} : () -> tensor<4x8xf32>
  %one = "euler.constant"() {value = dense<1.0> : tensor<1x8xf32>} : () -> tensor<1x8xf32>
  %0 = "euler.add"(%zero, %x) : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %1 = "euler.mul"(%0, %one) : (tensor<4x8xf32>, tensor<1x8xf32>) -> tensor<4x8xf32>
  %2 = "euler.div"(%1, %one) : (tensor<4x8xf32>, tensor<1x8xf32>) -> tensor<4x8xf32>
  %3 = "euler.sub"(%2, %zero) : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %4 = "euler.exp"(%3) : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return %4 : tensor<4x8xf32>
}""", [(4, 8)], {"euler.add": 0, "euler.mul": 0, "euler.div": 0, "euler.sub": 0}),
    "broadcasting_identity_kept": ("""
func.func @main(%x: tensor<8xf32>) -> tensor<4x8xf32> {
  %zero = "euler.constant"() {value = dense<0.0> : tensor<4x8xf32>} : () -> tensor<4x8xf32>
  %0 = "euler.add"(%x, %zero) : (tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %1 = "euler.neg"(%0) : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %2 = "euler.neg"(%1) : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return %2 : tensor<4x8xf32>
}""", [(8,)], {"euler.add": 1, "euler.neg": 0}),
    "negations_and_powers": ("""
func.func @main(%x: tensor<16xf32>) -> tensor<16xf32> {
  %m1 = "euler.constant"() {value = dense<-1.0> : tensor<f32>} : () -> tensor<f32>
  %two = "euler.constant"() {value = dense<2.0> : tensor<16xf32>} : () -> tensor<16xf32>
  %zero = "euler.constant"() {value = dense<0.0> : tensor<16xf32>} : () -> tensor<16xf32>
  %0 = "euler.mul"(%x, %m1) : (tensor<16xf32>, tensor<f32>) -> tensor<16xf32>
  %1 = "euler.pow"(%0, %two) : (tensor<16xf32>, tensor<16xf32>) -> tensor<16xf32>
  %2 = "euler.sub"(%zero, %1) : (tensor<16xf32>, tensor<16xf32>) -> tensor<16xf32>
  %3 = "euler.add"(%2, %0) : (tensor<16xf32>, tensor<16xf32>) -> tensor<16xf32>
  return %3 : tensor<16xf32>
}""", [(16,)], {"euler.pow": 0, "euler.sub": 0, "euler.neg": 2}),
    "relu_relu": ("""
func.func @main(%x: tensor<3x5xf32>) -> tensor<3x5xf32> {
  %0 = "euler.relu"(%x) : (tensor<3x5xf32>) -> tensor<3x5xf32>
  %1 = "euler.relu"(%0) : (tensor<3x5xf32>) -> tensor<3x5xf32>
  return %1 : tensor<3x5xf32>
}""", [(3, 5)], {"euler.relu": 1}),
    "transposes": ("""
func.func @main(%x: tensor<2x3x4xf32>) -> (tensor<4x3x2xf32>, tensor<2x3x4xf32>) {
  %0 = "euler.transpose"(%x) {perm = array<i64: 1, 2, 0>} : (tensor<2x3x4xf32>) -> tensor<3x4x2xf32>
  %1 = "euler.transpose"(%0) {perm = array<i64: 1, 0, 2>} : (tensor<3x4x2xf32>) -> tensor<4x3x2xf32>
  %2 = "euler.transpose"(%0) {perm = array<i64: 2, 0, 1>} : (tensor<3x4x2xf32>) -> tensor<2x3x4xf32>
  %3 = "euler.exp"(%2) : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  return %1, %3 : tensor<4x3x2xf32>, tensor<2x3x4xf32>
}""", [(2, 3, 4)], {"euler.transpose": 1}),
    "reshape_broadcast_chains": ("""
func.func @main(%x: tensor<6xf32>) -> tensor<5x3x2xf32> {
  %0 = "euler.reshape"(%x) : (tensor<6xf32>) -> tensor<2x3xf32>
  %1 = "euler.reshape"(%0) : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %2 = "euler.broadcast_to"(%1) : (tensor<3x2xf32>) -> tensor<1x3x2xf32>
  %3 = "euler.broadcast_to"(%2) : (tensor<1x3x2xf32>) -> tensor<5x3x2xf32>
  return %3 : tensor<5x3x2xf32>
}""", [(6,)], {"euler.reshape": 1, "euler.broadcast_to": 1}),
    "unit_reductions": ("""
func.func @main(%x: tensor<1x7x1xf32>) -> (tensor<7xf32>, tensor<1x7x1xf32>, tensor<7x1xf32>) {
  %0 = "euler.reduce_sum"(%x) {axes = array<i64: 0, 2>} : (tensor<1x7x1xf32>) -> tensor<7xf32>
  %1 = "euler.reduce_mean"(%x) {axes = array<i64: -1>, keepdims = true} : (tensor<1x7x1xf32>) -> tensor<1x7x1xf32>
  %2 = "euler.reduce_max"(%x) {axes = array<i64: 0>} : (tensor<1x7x1xf32>) -> tensor<7x1xf32>
  return %0, %1, %2 : tensor<7xf32>, tensor<1x7x1xf32>, tensor<7x1xf32>
}""", [(1, 7, 1)], {"euler.reduce_sum": 0, "euler.reduce_mean": 0, "euler.reduce_max": 0}),
    "splat_to_scalar": ("""
func.func @main(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %c = "euler.constant"() {value = dense<3.0> : tensor<4x8xf32>} : () -> tensor<4x8xf32>
  %0 = "euler.div"(%c, %x) : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %1 = "euler.maximum"(%0, %c) : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return %1 : tensor<4x8xf32>
}""", [(4, 8)], {"euler.constant": 2}),
}


@pytest.mark.parametrize("case", sorted(SIMPLIFY_CASES))
def test_simplify(case):
    text, shapes, expected_counts = SIMPLIFY_CASES[case]
    simplified = apply(text, "euler-simplify")
    counts = op_counts(simplified)
    assert {name: counts[name] for name in expected_counts} == expected_counts, simplified
    assert_same(text, simplified, *(rand(*s) for s in shapes))


def test_splat_to_scalar_makes_rank0_constant():
    simplified = apply(SIMPLIFY_CASES["splat_to_scalar"][0], "euler-simplify")
    assert "dense<3.000000e+00> : tensor<f32>" in simplified
    assert "tensor<4x8xf32>} : () ->" not in simplified


# --- euler-fold-constants ------------------------------------------------------

W = RNG.uniform(-1, 1, (16, 8)).astype(np.float32)
B = RNG.uniform(-1, 1, (2, 8)).astype(np.float32)


def dense(array):
    body = np.array2string(array, separator=", ", threshold=1 << 30, floatmode="unique",
                           max_line_width=1 << 30)
    shape = "x".join(map(str, array.shape))
    return f'dense<{body}> : tensor<{shape}xf32>'


FOLD_TEXT = f"""
func.func @main(%x: tensor<4x8xf32>) -> tensor<4x16xf32> {{
  %w = "euler.constant"() {{value = {dense(W)}}} : () -> tensor<16x8xf32>
  %wt = "euler.transpose"(%w) {{perm = array<i64: 1, 0>}} : (tensor<16x8xf32>) -> tensor<8x16xf32>
  %b = "euler.constant"() {{value = {dense(B)}}} : () -> tensor<2x8xf32>
  %bf = "euler.reshape"(%b) : (tensor<2x8xf32>) -> tensor<16xf32>
  %be = "euler.exp"(%bf) : (tensor<16xf32>) -> tensor<16xf32>
  %y = "euler.matmul"(%x, %wt) : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %z = "euler.add"(%y, %be) : (tensor<4x16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  return %z : tensor<4x16xf32>
}}"""


def test_fold_constants():
    folded = apply(FOLD_TEXT, "euler-fold-constants")
    counts = op_counts(folded)
    assert counts["euler.transpose"] == counts["euler.reshape"] == counts["euler.exp"] == 0
    assert counts["euler.constant"] == 2 and counts["euler.matmul"] == 1
    x = rand(4, 8)
    expected = x @ W.T + np.exp(B.reshape(16))
    np.testing.assert_allclose(run(folded, x), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(run(FOLD_TEXT, x), run(folded, x), rtol=1e-6, atol=1e-6)


# --- euler-cse and euler-dce -----------------------------------------------------

CSE_TEXT = """
func.func @main(%a: tensor<8x8xf32>, %b: tensor<8x8xf32>) -> tensor<8x8xf32> {
  %0 = "euler.matmul"(%a, %b) : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
  %1 = "euler.matmul"(%a, %b) : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
  %2 = "euler.matmul"(%a, %b) : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
  %3 = "euler.matmul"(%b, %a) : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
  %4 = "euler.sub"(%0, %1) : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
  %5 = "euler.add"(%4, %2) : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
  %6 = "euler.add"(%5, %3) : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
  return %6 : tensor<8x8xf32>
}"""


def test_cse():
    merged = apply(CSE_TEXT, "euler-cse")
    assert op_counts(merged)["euler.matmul"] == 2
    a, b = rand(8, 8), rand(8, 8)
    assert_same(CSE_TEXT, merged, a, b)
    np.testing.assert_allclose(run(merged, a, b), a @ b + b @ a, rtol=1e-5, atol=1e-5)


def test_upstream_cse_leaves_euler_ops_alone():
    # The reason euler-cse exists: if upstream learns to merge IRDL ops,
    # euler-cse can go.
    ctx = dialects.context()
    module = driver.parse(CSE_TEXT, ctx)
    passmanager.PassManager.parse("builtin.module(cse,canonicalize)", ctx).run(module.operation)
    assert op_counts(str(module))["euler.matmul"] == 4


DCE_TEXT = """
func.func @main(%x: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %0 = "euler.matmul"(%x, %x) : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %1 = "euler.exp"(%0) : (tensor<4x4xf32>) -> tensor<4x4xf32>
  %2 = "euler.tanh"(%x) : (tensor<4x4xf32>) -> tensor<4x4xf32>
  return %2 : tensor<4x4xf32>
}"""


def test_dce():
    cleaned = apply(DCE_TEXT, "euler-dce")
    assert sum(op_counts(cleaned).values()) == 1
    x = rand(4, 4)
    assert_same(DCE_TEXT, cleaned, x)
    np.testing.assert_allclose(run(cleaned, x), np.tanh(x), rtol=1e-6, atol=1e-6)


# --- the -O1 pipeline ---------------------------------------------------------------

MLP_TEXT = f"""
func.func @main(%x: tensor<4x8xf32>) -> tensor<4x16xf32> {{
  %w = "euler.constant"() {{value = {dense(W)}}} : () -> tensor<16x8xf32>
  %wt = "euler.transpose"(%w) {{perm = array<i64: 1, 0>}} : (tensor<16x8xf32>) -> tensor<8x16xf32>
  %wt2 = "euler.transpose"(%w) {{perm = array<i64: 1, 0>}} : (tensor<16x8xf32>) -> tensor<8x16xf32>
  %one = "euler.constant"() {{value = dense<1.0> : tensor<f32>}} : () -> tensor<f32>
  %y = "euler.matmul"(%x, %wt) : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %y2 = "euler.matmul"(%x, %wt2) : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %s = "euler.mul"(%y2, %one) : (tensor<4x16xf32>, tensor<f32>) -> tensor<4x16xf32>
  %r = "euler.relu"(%y) : (tensor<4x16xf32>) -> tensor<4x16xf32>
  %rr = "euler.relu"(%r) : (tensor<4x16xf32>) -> tensor<4x16xf32>
  %z = "euler.add"(%rr, %s) : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  %dead = "euler.exp"(%z) : (tensor<4x16xf32>) -> tensor<4x16xf32>
  return %z : tensor<4x16xf32>
}}"""


def test_o1_pipeline_against_numpy():
    mod = euler.compile(MLP_TEXT, opt_level=1)
    counts = op_counts(mod.stages["euler"])
    assert counts == {"euler.constant": 1, "euler.matmul": 1, "euler.relu": 1, "euler.add": 1}, \
        mod.stages["euler"]
    x = rand(4, 8)
    y = x @ W.T
    np.testing.assert_allclose(mod.main(x), np.maximum(y, 0) + y, rtol=1e-5, atol=1e-5)
    assert op_counts(euler.compile(MLP_TEXT, opt_level=0).stages["euler"])["euler.matmul"] == 2


# --- euler-conv-layout (linalg level, not in the default pipeline) ---------------

CONV_W = RNG.uniform(-1, 1, (6, 4, 3, 3)).astype(np.float32)


def conv_text(const_weight):
    x_t, w_t, y_t = "tensor<2x4x9x9xf32>", "tensor<6x4x3x3xf32>", "tensor<2x6x4x6xf32>"
    attrs = "{strides = array<i64: 2, 2>, padding = array<i64: 1, 2>, dilations = array<i64: 2, 1>}"
    if const_weight:
        w_def = f'%w = "euler.constant"() {{value = {dense(CONV_W)}}} : () -> {w_t}'
        return f"""
func.func @main(%x: {x_t}) -> {y_t} {{
  {w_def}
  %y = "euler.conv2d"(%x, %w) {attrs} : ({x_t}, {w_t}) -> {y_t}
  return %y : {y_t}
}}"""
    return f"""
func.func @main(%x: {x_t}, %w: {w_t}) -> {y_t} {{
  %y = "euler.conv2d"(%x, %w) {attrs} : ({x_t}, {w_t}) -> {y_t}
  return %y : {y_t}
}}"""


@pytest.mark.parametrize("const_weight", [True, False])
def test_conv_layout(const_weight):
    import torch

    text = conv_text(const_weight)
    linalg_ir = euler.compile(text, opt_level=0, emit="linalg").stages["linalg"]
    assert "linalg.conv_2d_nchw_fchw" in linalg_ir
    nhwc = apply(linalg_ir, "euler-conv-layout")
    assert "conv_2d_nchw_fchw" not in nhwc and "linalg.conv_2d_nhwc_hwcf" in nhwc
    # Input and result always; the weight only when it is not a constant.
    assert nhwc.count("linalg.transpose") == (2 if const_weight else 3)
    x = rand(2, 4, 9, 9)
    args = (x,) if const_weight else (x, CONV_W)
    expected = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(CONV_W),
                                          stride=2, padding=(1, 2), dilation=(2, 1)).numpy()
    got = euler.compile(nhwc, opt_level=0).main(*args)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(got, run(text, *args), rtol=1e-5, atol=1e-5)
