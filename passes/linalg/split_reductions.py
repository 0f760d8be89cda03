"""euler-split-reductions: blocked (cascade) summation for long float sums.

Runs last in the `tiled` stage of the CPU pipeline and of the CUDA
pipeline's `gpu-tiled` stage, at every opt level. A
float sum accumulated in one running total loses digits as the total grows:
over 8M terms of ~100 in f32 the error reaches percents. This pass rewrites
every additive float reduction (a `linalg.reduce` or `linalg.generic` whose
body yields `acc + f(inputs)`) longer than `reduction_block` terms into a
cascade in which no accumulator ever sums more than a block, the scheme
numpy, PyTorch and XLA use:

  * the innermost reduced dim r of extent n = a * b is split into (a, b),
    with b <= block (inputs reshaped by `tensor.expand_shape`, free after
    bufferization); the original body sums the b terms of every block into
    a zero-initialized partial tensor, the other reduced dims made parallel;
  * the partials are then summed into the original init by a plain add
    reduction, which is itself split again if it is still too long;
  * when no divisor of n makes a reasonable block, the last n mod b terms
    are summed by a copy of the body over that slice, and added in too.

Each level accumulates at most `block` terms, so the error bound is about
levels * block * u instead of n * u (and far smaller in practice). Sums of at
most `block` terms, max/min reductions (exact), integer sums and bodies that
read `linalg.index` are left alone. So are the named contractions (matmul,
conv): their K is cache-tiled at -O3, and their lowering keeps K moderate.
"""

from __future__ import annotations

import math

from mlir import ir
from mlir.dialects import arith, linalg, tensor

from ...pipelines.heuristics import reduction_block
from .. import clone_body

NAME = "euler-split-reductions"
SUMMARY = "Split long float sums into blocks summed in a cascade (accurate at any length)"


def run(module, block=None, skip_marked="", reductions_innermost=False):
    """`block` overrides the heuristic's block size (terms per accumulator);
    ops carrying the attribute `skip_marked` are left alone (on the GPU, the
    row groups planned as one kernel, which sum each row as a tree).
    `reductions_innermost` orders every new op's loops parallel first (on
    the GPU the parallel loops become one kernel's threads: a reduction loop
    between them would leave kernel launches inside a host loop)."""
    limit = reduction_block(override=block)
    work = []

    def visit(op):
        if op.name in ("linalg.generic", "linalg.reduce") and not (
                skip_marked and skip_marked in op.attributes):
            work.append(op)
        return ir.WalkResult.ADVANCE

    module.walk(visit)
    while work:
        op = work.pop()
        red = _Reduction.of(op)
        if red is None or red.length() <= limit:
            continue
        red.innermost = reductions_innermost
        with ir.InsertionPoint(op), op.location:
            result, combines = red.split(limit)
        op.results[0].replace_all_uses_with(result)
        op.erase()
        work.extend(combines)  # still too long? split them again


# --- analysis --------------------------------------------------------------------

class _Reduction:
    """An additive float reduction as plain Python: its iteration domain,
    the dims each operand reads (projected permutations only), and the op."""

    def __init__(self, op, inputs, input_dims, init, out_dims, iterators, extents):
        self.op, self.inputs, self.input_dims = op, inputs, input_dims
        self.init, self.out_dims = init, out_dims
        self.iterators, self.extents = iterators, extents
        self.reduced = [d for d, it in enumerate(iterators) if it == "reduction"]
        self.innermost = False

    @staticmethod
    def of(op):
        """The reduction `op` computes, or None if the pass does not apply."""
        if len(op.results) != 1 or not _is_float(op.results[0].type):
            return None  # a multi-result op or an integer sum (exact)
        body = op.regions[0].blocks[0]
        if not _adds_into_accumulator(body):
            return None  # max/min are exact; other combiners are not sums
        if any(o.name == "linalg.index" for o in body.operations):
            return None  # would need its index rebuilt from the split dims
        if op.name == "linalg.reduce":
            (x,), (init,) = op.operands[:1], op.operands[1:]
            rank = len(x.type.shape)
            dropped = list(op.attributes["dimensions"])
            iterators = ["reduction" if d in dropped else "parallel" for d in range(rank)]
            return _Reduction(op, [x], [list(range(rank))], init,
                              [d for d in range(rank) if d not in dropped],
                              iterators, list(x.type.shape))
        maps = [m.value for m in op.attributes["indexing_maps"]]
        dims = [_permuted_dims(m) for m in maps]
        if any(d is None for d in dims):
            return None  # a conv window or constant index: blocks are no plain slices
        iterators = [str(a).split("<")[-1].rstrip(">") for a in op.attributes["iterator_types"]]
        operands = list(op.operands)
        inputs, init = operands[:-1], operands[-1]
        extents = [None] * len(iterators)
        for v, ds in zip(operands, dims):
            for size, d in zip(v.type.shape, ds):
                extents[d] = size
        if any(e is None or e < 0 for e in extents):
            return None  # a dim no operand reads, or a dynamic one
        return _Reduction(op, inputs, dims[:-1], init, dims[-1], iterators, extents)

    def length(self) -> int:
        """Terms summed into each result element."""
        return math.prod(self.extents[d] for d in self.reduced)

    # --- the rewrite --------------------------------------------------------------

    def split(self, limit):
        """Build the cascade before `self.op`; return (its result, the new
        combining reductions, which may still be too long)."""
        r = self.reduced[-1]  # innermost: its blocks are contiguous rows
        n = self.extents[r]
        b, rem = _block_size(n, limit) if n > limit else (n, 0)
        a = (n - rem) // b
        combines = []
        partial = self._blocks(r, a, b, rem)
        total = self.init
        if rem:
            # The ragged tail: the body over the last `rem` terms, then into the init.
            tail = self._tail(r, n - rem, rem)
            keep = [d for d in range(len(self.extents)) if d != r]
            total = _sum_into(tail, keep, self.init, self.out_dims, self.innermost)
            combines.append(total.owner)
        if b == n:  # r fits one block: no (a, b) split, only r reduced here
            keep = [d for d in range(len(self.extents)) if d != r]
            total = _sum_into(partial, keep, total, self.out_dims, self.innermost)
        else:
            # Partial dims: every dim but b, with r standing for a.
            keep = list(range(len(self.extents)))
            total = _sum_into(partial, keep, total, self.out_dims, self.innermost)
        combines.append(total.owner)
        return total, combines

    def _blocks(self, r, a, b, rem):
        """The body over blocks of b terms: a zero-initialized partial tensor
        over every dim of the op, with r replaced by a (r's blocks) when split."""
        split = b != self.extents[r]
        # New dims: r -> (r, r + 1) = (a, b) when split; later dims shift by one.
        shift = (lambda d: d + 1 if d > r else d) if split else (lambda d: d)
        rank = len(self.extents) + split
        extents = [self.extents[d] for d in range(len(self.extents))]
        iterators = ["parallel"] * rank
        inner = r + 1 if split else r
        iterators[inner] = "reduction"
        if split:
            extents[r:r + 1] = [a, b]
        inputs, maps = [], []
        for v, dims in zip(self.inputs, self.input_dims):
            if r in dims and split:
                p = dims.index(r)
                if rem:
                    v = _slice(v, p, 0, a * b)
                v = _expand(v, p, a, b)
                new = [shift(d) for d in dims]
                new[p:p + 1] = [r, r + 1]
            else:
                new = [shift(d) for d in dims]
            inputs.append(v)
            maps.append(_map(rank, new))
        out = [d for d in range(rank) if d != inner]
        init = _zeros([extents[d] for d in out], self.init.type.element_type)
        maps.append(_map(rank, out))
        return _generic_like(self.op, inputs, maps, init, iterators, self.innermost)

    def _tail(self, r, start, rem):
        """The body over the last `rem` terms of dim r, into zeros over every
        other dim (the other reduced dims kept, for the combine)."""
        rank = len(self.extents)
        inputs, maps = [], []
        for v, dims in zip(self.inputs, self.input_dims):
            if r in dims:
                v = _slice(v, dims.index(r), start, rem)
            inputs.append(v)
            maps.append(_map(rank, dims))
        out = [d for d in range(rank) if d != r]
        extents = list(self.extents)
        extents[r] = rem
        init = _zeros([extents[d] for d in out], self.init.type.element_type)
        maps.append(_map(rank, out))
        iterators = ["reduction" if d == r else "parallel" for d in range(rank)]
        return _generic_like(self.op, inputs, maps, init, iterators, self.innermost)


def _sum_into(partial, partial_dims, init, out_dims, innermost=False):
    """`init` + the sum of `partial` over every dim that is not an output dim.

    `partial_dims` names the original dims `partial`'s axes stand for (the
    split dim's blocks keep its number)."""
    rank = len(partial_dims)
    position = {d: i for i, d in enumerate(partial_dims)}
    iterators = ["parallel" if d in out_dims else "reduction" for d in partial_dims]
    maps = [ir.AffineMap.get_identity(rank), _map(rank, [position[d] for d in out_dims])]
    if innermost:
        maps, iterators = _reductions_last(maps, iterators)
    etype = init.type.element_type
    op = linalg.GenericOp(
        result_tensors=[init.type], inputs=[partial], outputs=[init],
        indexing_maps=ir.ArrayAttr.get([ir.AffineMapAttr.get(m) for m in maps]),
        iterator_types=_iterator_attrs(iterators))
    block = op.regions[0].blocks.append(partial.type.element_type, etype)
    with ir.InsertionPoint(block):
        linalg.YieldOp([arith.addf(block.arguments[1], block.arguments[0])])
    return op.result


# --- IR helpers ------------------------------------------------------------------

def _is_float(t) -> bool:
    return isinstance(getattr(t, "element_type", None),
                      (ir.F16Type, ir.BF16Type, ir.F32Type, ir.F64Type))


def _adds_into_accumulator(body) -> bool:
    """Whether the body yields `acc + x` (or `x + acc`), `acc` (the last block
    argument) used nowhere else: then zeros are a valid init for any block."""
    acc = body.arguments[len(body.arguments) - 1]
    ops = [o.operation for o in body.operations]
    if len(ops[-1].operands) != 1:
        return False
    add = ops[-1].operands[0].owner
    if isinstance(add, ir.Block) or add.operation.name != "arith.addf":
        return False
    uses = [u for o in ops for u in o.operands if u == acc]
    return len(uses) == 1 and acc in list(add.operands)


def _permuted_dims(m: ir.AffineMap):
    dims = []
    for e in m.results:
        if not isinstance(e, ir.AffineDimExpr):
            return None
        dims.append(e.position)
    return dims


def _block_size(n, limit):
    """(b, rem): blocks of b terms, and the terms left over. A divisor of n
    near the limit if there is one (no tail op), else the limit itself."""
    for b in range(limit, max(limit // 8, 1), -1):  # b >= 2: every split shrinks
        if n % b == 0:
            return b, 0
    return limit, n % limit


def _map(rank, dims) -> ir.AffineMap:
    return ir.AffineMap.get(rank, 0, [ir.AffineDimExpr.get(d) for d in dims])


def _iterator_attrs(iterators):
    return ir.ArrayAttr.get([ir.Attribute.parse(f"#linalg.iterator_type<{it}>")
                             for it in iterators])


def _zeros(shape, etype) -> ir.Value:
    init = tensor.empty(list(shape), etype)
    return linalg.fill(arith.constant(etype, 0.0), outs=[init])


def _slice(v, axis, start, size) -> ir.Value:
    shape = list(v.type.shape)
    offsets = [start if d == axis else 0 for d in range(len(shape))]
    sizes = [size if d == axis else s for d, s in enumerate(shape)]
    rtype = ir.RankedTensorType.get(sizes, v.type.element_type)
    return tensor.extract_slice(rtype, v, [], [], [], offsets, sizes, [1] * len(shape))


def _expand(v, axis, a, b) -> ir.Value:
    shape = list(v.type.shape)
    new = shape[:axis] + [a, b] + shape[axis + 1:]
    groups = [[d] for d in range(axis)] + [[axis, axis + 1]] + \
        [[d + 1] for d in range(axis + 1, len(shape))]
    rtype = ir.RankedTensorType.get(new, v.type.element_type)
    return tensor.expand_shape(rtype, v, groups, [], new)


def _reductions_last(maps, iterators):
    """The same loops, reordered: the parallel ones first, then the reduced."""
    order = [d for d, it in enumerate(iterators) if it == "parallel"] + \
        [d for d, it in enumerate(iterators) if it == "reduction"]
    where = {d: i for i, d in enumerate(order)}
    maps = [_map(len(order), [where[e.position] for e in m.results]) for m in maps]
    return maps, [iterators[d] for d in order]


def _generic_like(op, inputs, maps, init, iterators, innermost=False) -> ir.Value:
    """A linalg.generic with `op`'s body (cloned) over new operands and maps."""
    if innermost:
        maps, iterators = _reductions_last(maps, iterators)
    new = linalg.GenericOp(
        result_tensors=[init.type], inputs=inputs, outputs=[init],
        indexing_maps=ir.ArrayAttr.get([ir.AffineMapAttr.get(m) for m in maps]),
        iterator_types=_iterator_attrs(iterators))
    old = op.regions[0].blocks[0]
    block = new.regions[0].blocks.append(*[a.type for a in old.arguments])
    with ir.InsertionPoint(block):
        linalg.YieldOp(clone_body(op, dict(zip(old.arguments, block.arguments))))
    return new.result
