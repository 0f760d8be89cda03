"""convert-euler-to-linalg beyond its lit test: locations of the new ops and
the diagnostic for an op that has no lowering."""

import pytest
from mlir import ir

from euler import dialects, passes
from euler.passes.conversion import convert_euler_to_linalg as pass_

SOURCE = """
func.func @main(%x: tensor<2x8x64xf32>, %w: tensor<64x32xf32>) -> tensor<2x8x32xf32> {
  %0 = "euler.matmul"(%x, %w) : (tensor<2x8x64xf32>, tensor<64x32xf32>) -> tensor<2x8x32xf32>
  %1 = "euler.relu"(%0) : (tensor<2x8x32xf32>) -> tensor<2x8x32xf32>
  return %1 : tensor<2x8x32xf32>
}
"""


def _lower():
    ctx = dialects.context()
    diagnostics = []

    def handler(d):
        diagnostics.append(f"{d.location}: {d.message}")
        return True

    ctx.attach_diagnostic_handler(handler)
    with ctx:
        module = ir.Operation.parse("module {" + SOURCE + "}", source_name="model.mlir")
        try:
            pass_.run(module)
            failed = False
        except passes.PassFailure:
            failed = True
    return module, failed, diagnostics


def _ops_at_line(module, line):
    found = []

    def visit(op):
        if f'"model.mlir":{line}:' in str(op.location):
            found.append(op.name)
        return ir.WalkResult.ADVANCE

    module.walk(visit)
    return found


def test_new_ops_carry_the_euler_op_location():
    module, failed, diagnostics = _lower()
    assert not failed and not diagnostics
    module.verify()
    assert not passes.euler_ops(module)
    assert {"tensor.collapse_shape", "linalg.fill", "linalg.matmul",
            "tensor.expand_shape"} <= set(_ops_at_line(module, 3))
    assert "linalg.generic" in _ops_at_line(module, 4)


def test_op_without_lowering_is_a_diagnostic(monkeypatch):
    monkeypatch.delitem(pass_.LOWERINGS, "relu")
    module, failed, diagnostics = _lower()
    assert failed
    assert diagnostics == ['loc("model.mlir":4:8): \'euler.relu\' op has no lowering to linalg']
