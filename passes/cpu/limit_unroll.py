"""euler-limit-unroll: keep LLVM from fully unrolling loop nests into giant blocks.

Runs at the end of the `loops` stage, on the scf loops over buffers. LLVM's
-O3 unroller fully unrolls nests of short constant loops, and its machine
instruction schedulers (before and after register allocation) are quadratic
in the length of a block: an im2col copy of ResNet-18 (9 taps x 28 rows of
vector<28xf32>) became one block of 252 vector loads and stores, 2.3-3 s of
code generation for that one kernel, 0.1 s with its tap loop kept. MLIR has
unrolled what pays already (vector ops, register tiles), so a loop that holds
another loop and whose full unrolling would exceed `BUDGET` native vector
operations gets `llvm.loop.unroll.disable`: `convert-scf-to-cf` carries an
scf.for's `loop_annotation` onto its back edge, and `convert-cf-to-llvm`
makes it the `llvm.br`'s. An innermost loop with a wide body (`WIDE`
native vector ops or more) and no loop-carried values keeps its loop too
when its full unrolling would pass `INNER_BUDGET` but not `BUDGET`: LLVM's
full unrolling of such short loops (an im2col row: 9 taps x 16 odd-sized
vector copies) was most of its code generation time on the CNNs, and saves
them at most one branch per `WIDE` ops. Other innermost loops are LLVM's:
narrow bodies and reductions gain from its (partial) unrolling.
"""

from __future__ import annotations

from mlir import ir

NAME = "euler-limit-unroll"
SUMMARY = "Disable LLVM unrolling of loop nests whose full unrolling would make a giant block"

# A native vector register (AVX2), the unit of the size estimate.
VECTOR_BITS = 256
# Native vector ops in one fully unrolled nest: a few thousand machine
# instructions, where the schedulers' cost starts to show.
BUDGET = 1024
# The same for an innermost loop, whose unrolled copies LLVM schedules as one
# block: past a few hundred machine instructions scheduling costs more than
# the loop's branch ever did.
INNER_BUDGET = 128
WIDE = 16

_DISABLE = "#llvm.loop_annotation<unroll = <disable = true>>"


def run(module):
    disable = ir.Attribute.parse(_DISABLE)
    for op in module.regions[0].blocks[0].operations:
        op = op.operation
        if op.name == "func.func" and len(op.regions[0].blocks):
            for block in op.regions[0].blocks:
                _block_cost(block, disable)


def _block_cost(block, disable):
    """(native vector ops of `block` once LLVM unrolled what it may, whether
    it holds a loop), annotating the loops inside it on the way."""
    total, loops = 0, False
    for op in block.operations:
        op = op.operation
        if op.name == "scf.for":
            total += _loop_cost(op, disable)
            loops = True
        elif len(op.regions):
            for region in op.regions:
                for inner in region.blocks:
                    cost, has = _block_cost(inner, disable)
                    total, loops = total + cost, loops or has
        else:
            total += _op_cost(op)
    return total, loops


def _loop_cost(loop, disable):
    body, nested = _block_cost(loop.regions[0].blocks[0], disable)
    trips = _trip_count(loop)
    if trips is None:
        return body  # a dynamic loop stays a loop
    wide = body >= WIDE and not len(loop.results)
    if trips * body > BUDGET if nested else wide and INNER_BUDGET < trips * body <= BUDGET:
        loop.attributes["loop_annotation"] = disable
        return body
    return trips * body


def _op_cost(op):
    """Native vector ops that `op` becomes (1 for a scalar op), judged by its
    first result, or for a store its stored value: the widest as a rule, and
    the walk over every op is most of this pass's time."""
    values = op.results if len(op.results) else op.operands
    if not len(values):
        return 1
    t = values[0].type
    if not isinstance(t, ir.VectorType):
        return 1
    bits = t.element_type.width if hasattr(t.element_type, "width") else 32
    return max(1, -(-_elements(t) * bits // VECTOR_BITS))


def _elements(vector_type):
    n = 1
    for d in vector_type.shape:
        n *= d
    return n


def _trip_count(loop):
    lower, upper, step = (_constant(v) for v in list(loop.operands)[:3])
    if lower is None or upper is None or not step:
        return None
    return max(0, -(-(upper - lower) // step))


def _constant(value):
    owner = value.owner
    if isinstance(owner, ir.Block):
        return None
    op = owner.operation
    if op.name != "arith.constant" or not isinstance(op.attributes["value"], ir.IntegerAttr):
        return None
    return op.attributes["value"].value
