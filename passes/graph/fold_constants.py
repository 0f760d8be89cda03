"""euler-fold-constants: evaluate euler ops whose operands are all constants.

Weight transposes, reshapes and casts, bias broadcasts and any arithmetic on
constants happen once, at compile time, instead of on every call. Runs at -O1
and above in the `euler` stage, between two rounds of euler-simplify. Values
are computed by the reference interpreter (`runtime.interpreter.evaluate_op`),
so folded code has exactly the interpreter's semantics.
"""

from __future__ import annotations

import numpy as np
from mlir import ir

from ...dialects import ops
from ...dialects.shapes import DTYPE_BYTES, ShapeError
from ...errors import InputError
from ...runtime.interpreter import evaluate_op
from .. import euler_ops
from . import dce

NAME = "euler-fold-constants"
SUMMARY = "Evaluate euler ops on constant operands at compile time"

# A folded tensor is stored in the IR and in the compiled binary: past this
# size, baking it in (e.g. a bias broadcast to a huge activation shape) costs
# more memory and compile time than recomputing it on each call saves.
MAX_FOLDED_BYTES = 64 << 20


def _constant_value(v: ir.Value):
    owner = v.owner
    if isinstance(owner, ir.Block) or owner.operation.name != "euler.constant":
        return None
    return owner.operation.attributes["value"]


def _splat_attr(array: np.ndarray, result_type: ir.RankedTensorType):
    """A splat attribute when every element of `array` has the same bits."""
    flat = array.reshape(-1)
    if flat.size == 0 or np.any(flat.view(np.uint8).reshape(flat.size, -1) !=
                                flat[:1].view(np.uint8)):
        return None
    return ir.DenseElementsAttr.get(flat[:1], type=result_type)


def _fold(op: ir.Operation) -> bool:
    values = [_constant_value(v) for v in op.operands]
    if not values or any(v is None for v in values):
        return False  # not every operand is a constant
    result = ops.tensor_type(op.results[0].type)
    if result.dtype not in ops.NUMPY_DTYPES:
        return False  # bf16: numpy has no type to build the folded attribute from
    all_splats = all(isinstance(v, ir.DenseElementsAttr) and v.is_splat for v in values)
    # The size cap does not apply to a result that will be a splat anyway
    # (all splat operands through elementwise or layout ops), except that its
    # evaluation must still fit in memory comfortably.
    if result.numel * DTYPE_BYTES[result.dtype] > MAX_FOLDED_BYTES and not (
            all_splats and result.numel * 8 <= 4 * MAX_FOLDED_BYTES):
        return False
    try:
        arrays = [ops.elements_to_numpy(v) for v in values]
        array = evaluate_op(op, arrays)
    except (ShapeError, InputError):
        # bf16 and dense_resource constants cannot be read into numpy, and a
        # bad gather index is the program's error to report at run time.
        return False
    result_type = op.results[0].type
    attr = _splat_attr(array, result_type)
    if attr is None:
        if result.numel * DTYPE_BYTES[result.dtype] > MAX_FOLDED_BYTES:
            return False
        attr = ir.DenseElementsAttr.get(array, type=result_type)
    with ir.InsertionPoint(op), op.location:
        new = ir.Operation.create("euler.constant", results=[result_type],
                                  attributes={"value": attr})
    op.results[0].replace_all_uses_with(new.result)
    op.erase()
    return True


def fold_constants(module: ir.Operation) -> int:
    """Fold every foldable euler op under `module`; return how many were folded."""
    # Pre-order visits producers first, so a chain of foldable ops folds in
    # one sweep: each op sees its operands already replaced by constants.
    folded = sum(_fold(op) for op in euler_ops(module) if op.name != "euler.constant")
    dce.erase_dead(module)
    return folded


def run(module):
    with module.context:
        fold_constants(module)
