"""euler-lower-matmul-microkernel: the register-level end of the matmul
schedule (-O3, end of the `bufferized` stage).

`euler-schedule-matmul` leaves, in each register-tile loop, a read of the C
tile, a `vector.contract` and a write back. On buffers this pass:

  * folds subviews into the transfers' indices, moves loop-invariant index
    computations out of the loops and CSEs them, so that the C read and
    write of a tile provably touch the same memory, at indices defined
    outside the k-loop;
  * hoists that read/write pair out of the k-loop (the accumulator lives in
    registers for the whole kc sweep);
  * lowers the contraction to outer products, i.e. broadcast-FMAs on whole
    vector registers, and unrolls the 2-D transfers into 1-D loads/stores.

Canonicalization runs only inside the loop nests around contractions:
together with alias folding over the packing loops it can make the greedy
driver loop (see the notes); alias folding alone runs on whole functions.
"""

from __future__ import annotations

from mlir import ir
from mlir.dialects.transform import interpreter

NAME = "euler-lower-matmul-microkernel"
SUMMARY = "Hoist the C accumulator and lower vector.contract to outer products"

NEST_ATTR = "euler.matmul_nest"

_SCRIPT = """
module attributes {transform.with_named_sequence} {
transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
  %nests = transform.structured.match attributes {euler.matmul_nest} in %root
      : (!transform.any_op) -> !transform.any_op
  transform.apply_patterns to %nests {
    transform.apply_patterns.memref.fold_memref_alias_ops
    transform.apply_patterns.canonicalization
  } : !transform.any_op
  // Folding may materialize index constants inside the k-loop; a transfer
  // is only hoisted when all its operands are defined outside the loop.
  transform.foreach %nests : !transform.any_op {
  ^bb0(%nest: !transform.any_op):
    %loops = transform.structured.match ops{["scf.for"]} in %nest
        : (!transform.any_op) -> !transform.any_op
    transform.apply_licm to %loops : !transform.any_op
  }
  %funcs = transform.structured.match ops{["func.func"]} in %root
      : (!transform.any_op) -> !transform.any_op
  // Hoisting refuses a buffer with any view-like user: the views of the
  // other writers of C (the threaded fill) were folded by the upstream
  // fold-memref-alias-ops pass before this one (the same patterns applied
  // here to whole functions never terminated on the encoder layer); drop
  // the dead views.
  transform.apply_dce to %funcs : !transform.any_op
  transform.apply_cse to %funcs : !transform.any_op
  %hoisted = transform.structured.hoist_redundant_vector_transfers %funcs
      : (!transform.any_op) -> !transform.any_op
  %nests2 = transform.structured.match attributes {euler.matmul_nest} in %root
      : (!transform.any_op) -> !transform.any_op
  // No canonicalization in this set: mixed with the contraction lowering it
  // scalarizes the kernel.
  transform.apply_patterns to %nests2 {
    transform.apply_patterns.vector.lower_contraction lowering_strategy = "outerproduct"
    transform.apply_patterns.vector.lower_outerproduct
  } : !transform.any_op
  // The packing loops' transfers too: left to convert-vector-to-scf, 2-D
  // transfers go through a stack buffer per iteration.
  transform.apply_patterns to %hoisted {
    transform.apply_patterns.vector.transfer_permutation_patterns
    transform.apply_patterns.vector.lower_transfer max_transfer_rank = 1
    transform.apply_patterns.vector.transfer_to_scf max_transfer_rank = 1 full_unroll = true
  } : !transform.any_op
  transform.yield
}
}"""


def run(module):
    with module.context:
        _run(module)


def _run(module):
    nests = _contraction_nests(module)
    if not nests:
        return
    for nest in nests:
        nest.attributes[NEST_ATTR] = ir.UnitAttr.get(module.context)
    script = ir.Module.parse(_SCRIPT, module.context)
    entry = next(iter(script.body.operations))
    interpreter.apply_named_sequence(module, entry, script)

    def untag(op):
        if NEST_ATTR in op.attributes:
            del op.attributes[NEST_ATTR]
        return ir.WalkResult.ADVANCE

    module.walk(untag)


def _contraction_nests(module):
    """The outermost scf.for around each vector.contract on memrefs (below
    any scf.forall, so that each thread's nest is handled on its own)."""
    nests = []

    def visit(op):
        if op.name == "vector.contract":
            nest, parent = None, op.parent
            while parent is not None and parent.name == "scf.for":
                nest, parent = parent, parent.parent
            if nest is not None and not any(n == nest for n in nests):
                nests.append(nest)
        return ir.WalkResult.ADVANCE

    module.walk(visit)
    return nests
