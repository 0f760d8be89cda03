"""euler-clone-fills: give every op that writes into a `linalg.fill` its own fill.

Runs right before bufferization in the CUDA pipeline. CSE leaves one zero
fill for all the matmuls of one shape (the encoder's q, k, v and output
projections); each matmul accumulates into its init in place, so one-shot
bufferization gives all but one of them a copy of the shared filled buffer:
a zero-fill kernel and a copy kernel per matmul. A fill of its own, right
before its writer, bufferizes in place, and `euler-gpu-schedule-matmul`
folds it into the matmul (its accumulators start at zero).
"""

from mlir import ir
from .. import ops_named

NAME = "euler-clone-fills"
SUMMARY = "Clone a linalg.fill shared by several destination-passing ops, one per writer"


def run(module):
    for fill in ops_named(module, "linalg.fill"):
        result = fill.results[0]
        writers = []
        for use in result.uses:
            user = use.owner
            # Only destinations: a fill read as an input is no copy.
            if user.name.startswith("linalg.") and "operandSegmentSizes" in user.attributes:
                inputs = ir.DenseI32ArrayAttr(user.attributes["operandSegmentSizes"])[0]
                if use.operand_number >= inputs:
                    writers.append((user, use.operand_number))
        if len(writers) < 2 and not (writers and len(list(result.uses)) > len(writers)):
            continue
        for user, index in writers:
            clone = fill.clone(ir.InsertionPoint(user))
            user.operands[index] = clone.results[0]
        if not list(result.uses):
            fill.erase()
