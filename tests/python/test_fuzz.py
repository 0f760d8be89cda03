"""The fuzzer, its oracle, reducer and bisection; and the CI-sized fixed-seed fuzz.

The CI fuzz runs 200 small programs. Compiling each at all four opt levels
takes ~2 minutes on two cores, over this suite's budget, so program i is
compiled at -O(i mod 4) only (`rotate=True`): every level still sees 50
programs per run. `euler fuzz --count 5000` is the full-strength version.
"""

import collections

import numpy as np
import pytest

from euler.dialects import shapes
from euler.fuzz import bisect, oracle
from euler.fuzz.driver import run_fuzz
from euler.fuzz.generate import generate, program_and_inputs, to_mlir
from euler.fuzz.reduce import reduce, write_test
from euler.tools.euler_main import main as euler_main


def test_ci_fixed_seed_fuzz(tmp_path):
    summary = run_fuzz(2026, 200, max_ops=5, rotate=True, isolate=False, out_dir=str(tmp_path),
                       log=None)
    assert summary.programs == 200 and summary.rejected == 0
    assert not summary.failures, str(summary)


def test_large_shape_mode_catches_running_sums(monkeypatch):
    # Large programs (one reduction over >= 2**20 terms) agree at -O0 and -O3;
    # with euler-split-reductions switched off (one running f32 total per
    # sum, as before it existed) the oracle rejects most of them.
    from euler.fuzz.generate import LARGE_TERMS
    from euler.pipelines import heuristics
    programs = [program_and_inputs(7, i, large=True) for i in range(8)]
    texts = [to_mlir(p) for p, _ in programs]
    refs = [oracle.reference(t, xs) for t, (_, xs) in zip(texts, programs)]
    for (p, xs), text, ref in zip(programs, texts, refs):
        assert max(t.numel for t in p.args) >= LARGE_TERMS
        assert not oracle.check(text, xs, (0, 3), ref=ref), text
    monkeypatch.setattr(heuristics, "REDUCTION_BLOCK", 1 << 40)
    caught = sum(bool(oracle.check(t, xs, (0,), ref=ref))
                 for t, (_, xs), ref in zip(texts, programs, refs))
    assert caught >= 4, f"only {caught} of 8 running sums caught"


def test_sum_rounding_is_the_pairwise_bound():
    # The "ulp" reference run moves a K-term sum by log2(K) * u * sum|x|.
    from euler.runtime.interpreter import interpret_text
    x = np.full((4, 1024), 3.0, np.float32)
    text = """func.func @main(%x: tensor<4x1024xf32>) -> tensor<4xf32> {
  %0 = "euler.reduce_sum"(%x) {axes = array<i64: 1>} : (tensor<4x1024xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}"""
    (exact,), (moved,) = interpret_text(text, "main", x), interpret_text(text, "main", x,
                                                                          precision="ulp")
    # ... then rounded to f32 and moved one ulp more (2**-12 at 3072).
    np.testing.assert_allclose(np.abs(moved - exact), 10 * 2.0 ** -24 * 3072, atol=2 * 2.0 ** -12)


def test_generator_is_deterministic_and_covers_the_op_set():
    seen = collections.Counter()
    for i in range(300):
        program, inputs = program_and_inputs(7, i, 8)
        again, inputs2 = program_and_inputs(7, i, 8)
        assert to_mlir(program) == to_mlir(again)
        assert all(np.array_equal(a, b, equal_nan=True) for a, b in zip(inputs, inputs2))
        seen.update(n.name for n in program.nodes)
    assert set(seen) == set(shapes.OP_NAMES)


def test_generated_programs_are_well_typed():
    from euler.runtime.interpreter import interpret_text
    for i in range(60):
        program, inputs = program_and_inputs(11, i, 12)
        outs = interpret_text(to_mlir(program), "main", *inputs)  # verifies every op
        assert len(outs) == len(program.outputs) >= 1


def test_compare_tolerances():
    ref = np.array([1.0, np.nan, np.inf, 2.0], np.float32)
    ref64 = ref.astype(np.float64)
    assert oracle.compare(ref + np.float32(1e-6), ref, ref64) is None
    assert "NaN positions" in oracle.compare(np.array([1, 0, np.inf, 2], np.float32), ref, ref64)
    assert "Inf values" in oracle.compare(np.array([1, np.nan, -np.inf, 2], np.float32), ref,
                                          ref64)
    assert "values differ" in oracle.compare(np.array([1, np.nan, np.inf, 2.01], np.float32),
                                             ref, ref64)
    # f16 is compared more loosely than f32.
    h = np.array([1.0, 2.0], np.float16)
    assert oracle.compare(h + np.float16(0.004), h, h.astype(np.float64)) is None
    assert "got float32" in oracle.compare(ref[:2], h, h.astype(np.float64))


def _fake_checker(text, inputs, levels, target="cpu"):
    # Pretend softmax miscompiles at every level.
    if "euler.softmax" in text:
        return [oracle.Failure("mismatch", levels[0], "fake", "mismatch")]
    return []


def test_reducer_shrinks_to_the_failing_op(tmp_path):
    rng = np.random.default_rng(3)
    while True:
        program = generate(rng, 12)
        if any(n.name == "softmax" for n in program.nodes) and len(program.nodes) > 6:
            break
    _, inputs = None, None
    from euler.fuzz.generate import inputs as make_inputs
    inputs = make_inputs(program, rng)
    failure = _fake_checker(to_mlir(program), inputs, (2,))[0]
    small, xs, tests = reduce(program, inputs, failure, checker=_fake_checker)
    assert [n.name for n in small.nodes] == ["softmax"]
    assert all(d <= 1 for t in small.args for d in t.shape)  # shapes shrunk too
    assert len(xs) == len(small.args) and tests > 0
    path = write_test(str(tmp_path / "case.mlir"), small, xs, failure, "a test",
                      checker=_fake_checker)
    text = open(path).read()
    assert "// RUN: euler compare %s -O 2" in text and "// CHECK: @main -O2: match" in text
    # The written test is valid: the real compiler agrees with the interpreter on it.
    assert euler_main(["compare", path, "-O", "0"]) == 0


def test_bisect_names_the_pass_that_breaks_results(monkeypatch):
    from mlir import ir

    from euler.pipelines import cpu

    def zero_becomes_one(module, pass_):
        # A deliberately wrong "optimization": every 0.0 constant becomes 1.0.
        def visit(op):
            if op.name == "arith.constant" and str(op.attributes["value"]) == "0.000000e+00 : f32":
                op.attributes["value"] = ir.FloatAttr.get(ir.F32Type.get(), 1.0)
            return ir.WalkResult.ADVANCE
        with module.context, ir.Location.unknown():
            module.walk(visit)

    original = cpu.linalg

    def broken_linalg(pm, opts):
        original(pm, opts)
        if opts.opt_level >= 2:  # -O0, which finishes intermediate IR, stays correct
            pm.add(zero_becomes_one, name="test-zero-becomes-one")
    stages = [(n, broken_linalg if n == "linalg" else f) for n, f in cpu.STAGES]
    monkeypatch.setattr(cpu, "STAGES", stages)
    text = """func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
      %0 = "euler.relu"(%x) : (tensor<4xf32>) -> tensor<4xf32>
      return %0 : tensor<4xf32>
    }"""
    x = np.array([-1.0, 0.5, -2.0, 3.0], np.float32)
    steps, culprit, error = bisect.bisect(text, [x], 2, isolate=False, log=None)
    assert error is None and culprit is not None
    assert steps[culprit].name == "linalg/test-zero-becomes-one"
    assert steps[culprit - 1].verdict == "match"
    assert steps[culprit].verdict.startswith("MISMATCH")


@pytest.mark.parametrize("argv", [["fuzz", "--seed", "1", "--count", "3", "--max-ops", "3",
                                   "--opt-levels", "0", "--no-isolate", "--large", "1"]])
def test_fuzz_cli(argv, capsys, tmp_path):
    assert euler_main(argv + ["--out", str(tmp_path)]) == 0
    assert "4 programs" in capsys.readouterr().out  # 3, then 1 large-shape one
