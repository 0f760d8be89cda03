"""euler-collapse-contractions: matmuls that reshapes turned into N-D
`linalg.generic` contractions become `linalg.matmul` again.

Runs in the CUDA pipeline's `gpu-tiled` stage right after
`linalg-fuse-elementwise-ops`, which moves a reshape of a matmul's operand or
result (the heads of an attention projection: 128x512 -> 128x8x64) into the
matmul, turning it into a generic over more dimensions (128 x 8 x 64 x 512)
that no matmul schedule knows; on the GPU it then ran one thread per output
element instead of on the tensor cores. (The CPU pipeline schedules its
matmuls before that fusion instead.)

A generic qualifies when it is C[b..., m..., n...] += A[b..., m..., k...] *
B[b..., k..., n...] (the products of its two inputs, each maybe extended to
C's type, summed into its output), on static tensors, the dimensions of each
group in the same order wherever they appear. It becomes a `linalg.matmul`
(no b) or `linalg.batch_matmul` on A, B and C collapsed to one dimension per
group (`tensor.collapse_shape`), its result expanded back; canonicalization
folds the reshapes into the fill and the empty tensor around it.

Fusion also moves elementwise producers into a contraction (attention's
softmax division, an FFN's bias and relu before the second matmul): such a
contraction out + f(...) * g(...) first gets each computed factor as an
elementwise generic of its own, as the program had it before fusion, when
what remains is a matmul.
"""

from __future__ import annotations

from mlir import ir
from mlir.dialects import arith, linalg, tensor

from .. import ops_named

NAME = "euler-collapse-contractions"
SUMMARY = "Rewrite N-D linalg.generic contractions (matmuls with reshaped operands) as linalg.matmul"

_FLOATS = ("f16", "bf16", "f32")


def run(module):
    # First the contractions whose factors fusion computes in the body; then,
    # in program order, the matmuls (a materialized factor may be the
    # epilogue of the matmul before).
    for op in ops_named(module, "linalg.generic"):
        _materialize_factors(op)
    # The contractions are found before any is rewritten: a rewrite erases
    # the elementwise consumer it collapses (`_collapse_consumer`), and a
    # handle to it in a list of all generics would point at freed memory
    # (MLIR's Python handles are not told: a use after free, and a double
    # free once a new op took its place and looked like a contraction).
    contractions = []
    for op in ops_named(module, "linalg.generic"):
        groups = _matmul_groups(op)
        if groups is not None:
            contractions.append((op, groups))
    for op, groups in contractions:
        _rewrite(op, groups)


def _materialize_factors(op):
    """A contraction out + f(...) * g(...) whose factors are elementwise in
    its inputs (linalg-fuse-elementwise-ops moved attention's softmax
    division, or an FFN's bias and relu, into the matmul after it) becomes
    an elementwise generic per computed factor, over the dimensions of its
    largest input, and the contraction of the factors: a matmul again, whose
    inputs are read once each instead of once per output column."""
    if len(op.results) != 1 or len(op.regions[0].blocks) != 1:
        return
    block = op.regions[0].blocks[0]
    args = list(block.arguments)
    body = [o.operation for o in block.operations]
    inputs = list(op.operands)[:-1]
    if len(inputs) < 2 or len(body) < 3 or [o.name for o in body[-3:]] != [
            "arith.mulf", "arith.addf", "linalg.yield"]:
        return
    mul, add, _ = body[-3:]
    if args[-1] not in add.operands or mul.results[0] not in add.operands \
            or body[-1].operands[0] != add.results[0]:
        return
    maps = [_dims(ir.AffineMapAttr(m).value) for m in ir.ArrayAttr(op.attributes["indexing_maps"])]
    if any(m is None for m in maps) or any(
            o.name == "linalg.index" or len(o.regions) for o in body):
        return
    producer = {r: o for o in body[:-3] for r in o.results}

    def cone(v, ops, leaves):
        """The body ops (in `ops`) and block arguments (in `leaves`) `v` needs."""
        if v in args:
            leaves.add(args.index(v))
        elif v in producer and producer[v] not in ops:
            ops.add(producer[v])
            for w in producer[v].operands:
                cone(w, ops, leaves)
    sides = []
    for x in mul.operands:
        ops, leaves = set(), set()
        cone(x, ops, leaves)
        if len(args) - 1 in leaves or not leaves:
            return
        anchor = max(leaves, key=lambda i: len(maps[i]))
        if any(not set(maps[i]) <= set(maps[anchor]) for i in leaves):
            return
        sides.append((x, ops, sorted(leaves), anchor))
    if set(sides[0][2]) & set(sides[1][2]) or all(
            len(leaves) == 1 and all(o.name == "arith.extf" for o in ops)
            for _, ops, leaves, _ in sides):
        return  # shared inputs, or already a plain (extended) product
    parallel = ir.Attribute.parse("#linalg.iterator_type<parallel>")
    factors, created = [], []
    with ir.InsertionPoint(op), op.location:
        for x, ops, leaves, anchor in sides:
            if not ops:
                factors.append((inputs[leaves[0]], maps[leaves[0]]))
                continue
            dims = maps[anchor]
            shape = ir.RankedTensorType(inputs[anchor].type).shape
            empty = tensor.empty(shape, x.type)
            affine = [ir.AffineMapAttr.get(ir.AffineMap.get(
                len(dims), 0, [ir.AffineDimExpr.get(dims.index(d)) for d in m]))
                for m in [maps[i] for i in leaves] + [dims]]
            new = linalg.GenericOp([empty.type], [inputs[i] for i in leaves], [empty],
                                   ir.ArrayAttr.get(affine),
                                   ir.ArrayAttr.get([parallel] * len(dims)))
            inner = new.regions[0].blocks.append(*[args[i].type for i in leaves], x.type)
            mapping = {args[i]: inner.arguments[n] for n, i in enumerate(leaves)}
            with ir.InsertionPoint(inner):
                for o in body[:-3]:
                    if o in ops:
                        clone = o.clone()
                        for i, v in enumerate(clone.operands):
                            clone.operands[i] = mapping.get(v, v)
                        mapping.update(zip(o.results, clone.results))
                linalg.YieldOp([mapping[x]])
            created += [new, empty.owner]
            factors.append((new.results[0], dims))
        out_t = op.results[0].type
        affine = [ir.AffineMapAttr.get(ir.AffineMap.get(
            len(ir.ArrayAttr(op.attributes["iterator_types"])), 0,
            [ir.AffineDimExpr.get(d) for d in m])) for m in [f[1] for f in factors] + [maps[-1]]]
        contraction = linalg.GenericOp([out_t], [f[0] for f in factors], [op.operands[-1]],
                                       ir.ArrayAttr.get(affine), op.attributes["iterator_types"])
        types = [ir.RankedTensorType(f[0].type).element_type for f in factors]
        inner = contraction.regions[0].blocks.append(*types, args[-1].type)
        with ir.InsertionPoint(inner):
            a, b, o = inner.arguments
            # A factor that stays an input keeps its extension.
            a, b = (arith.extf(args[-1].type, v) if str(v.type) != str(args[-1].type) else v
                    for v in (a, b))
            linalg.YieldOp([arith.addf(o, arith.mulf(a, b))])
    if _matmul_groups(contraction) is None:
        for new in [contraction] + created[::-1]:
            new.operation.erase()
        return
    op.results[0].replace_all_uses_with(contraction.results[0])
    op.erase()


def _dims(m):
    """The dimension positions of affine map `m`'s results, or None if any
    result is not a plain dimension."""
    out = []
    for e in m.results:
        if not isinstance(e, ir.AffineDimExpr):
            return None
        out.append(ir.AffineDimExpr(e).position)
    return out


def _matmul_groups(op):
    """(b, m, n, k): the dimension lists of a generic that is a (batch)
    matmul over groups of dimensions, else None."""
    if len(op.results) != 1 or len(op.operands) != 3 or len(op.regions[0].blocks) != 1:
        return None
    a, b, c = op.operands
    types = [v.type for v in (a, b, c)]
    if not all(isinstance(t, ir.RankedTensorType) and t.has_static_shape for t in types):
        return None
    ta, tb, tc = (ir.RankedTensorType(t) for t in types)
    if str(ta.element_type) != str(tb.element_type) or str(ta.element_type) not in _FLOATS:
        return None
    if str(tc.element_type) not in _FLOATS:
        return None
    maps = [_dims(ir.AffineMapAttr(m).value) for m in ir.ArrayAttr(op.attributes["indexing_maps"])]
    if any(m is None for m in maps):
        return None
    ma, mb, mc = maps
    iters = [str(t) for t in ir.ArrayAttr(op.attributes["iterator_types"])]
    reduction = [d for d, t in enumerate(iters) if "reduction" in t]
    b = [d for d in mc if d in ma and d in mb]
    m = [d for d in mc if d in ma and d not in mb]
    n = [d for d in mc if d in mb and d not in ma]
    k = [d for d in ma if d in reduction]
    # Every parallel dim of C in both inputs (b) or one (m, n), the reductions
    # in both, each group contiguous and in one order: A = b + m + k,
    # B = b + k + n, C = b + m + n.
    if not m or not n or not k or sorted(k) != reduction or len(iters) != len(b + m + n + k):
        return None
    if ma != b + m + k or mb != b + k + n or mc != b + m + n:
        return None
    return (b, m, n, k) if _is_multiply_add(op) else None


def _is_multiply_add(op):
    """Whether the generic's body is out + x * y, x and y its inputs maybe
    extended (arith.extf) to the output's type."""
    block = op.regions[0].blocks[0]
    args = list(block.arguments)
    body = [o.operation for o in block.operations]
    ext = {}
    for o in body[:-3]:
        if o.name != "arith.extf" or o.operands[0] not in args[:2]:
            return False
        ext[o.results[0]] = o.operands[0]
    if len(body) < 3 or [o.name for o in body[-3:]] != ["arith.mulf", "arith.addf", "linalg.yield"]:
        return False
    mul, add, yield_ = body[-3:]
    factors = {ext.get(v, v) for v in mul.operands}
    if factors != set(args[:2]) or any(v not in args[:2] and v not in ext for v in mul.operands):
        return False
    terms = list(add.operands)
    if mul.results[0] not in terms or args[2] not in terms:
        return False
    return yield_.operands[0] == add.results[0]


def _rewrite(op, groups):
    b, m, n, k = groups
    a_, b_, c = op.operands
    shapes = {}
    for v, dims in ((a_, b + m + k), (b_, b + k + n), (c, b + m + n)):
        for d, size in zip(dims, ir.RankedTensorType(v.type).shape):
            shapes[d] = size

    def collapse(v, parts):
        """`v` with each group of `parts` (the non-empty ones) one dimension."""
        t = ir.RankedTensorType(v.type)
        parts = [p for p in parts if p]
        if t.rank == len(parts):
            return v, None
        sizes, reassociation, at = [], [], 0
        for p in parts:
            total = 1
            for d in p:
                total *= shapes[d]
            sizes.append(total)
            reassociation.append(list(range(at, at + len(p))))
            at += len(p)
        return tensor.collapse_shape(ir.RankedTensorType.get(sizes, t.element_type), v,
                                     reassociation), reassociation

    tc = ir.RankedTensorType(c.type)
    named = linalg.batch_matmul if b else linalg.matmul
    with ir.InsertionPoint(op), op.location:
        lhs, rhs = collapse(a_, [b, m, k])[0], collapse(b_, [b, k, n])[0]
        init, reassociation = collapse(c, [b, m, n])
        flat = named(lhs, rhs, outs=[init])
        result = flat
        if reassociation is not None:
            result = tensor.expand_shape(tc, flat, reassociation, [], list(tc.shape))
    op.results[0].replace_all_uses_with(result)
    op.erase()
    if reassociation is not None:
        _collapse_consumer(result, flat, reassociation)


def _collapse_consumer(expanded, flat, groups):
    """When the one user of `expanded` (the matmul's result `flat`, expanded
    back by `groups`) is an elementwise generic that reads it whole and whose
    every operand indexes each group of dimensions whole or not at all (a
    bias, a residual, the rounding of the result), that generic over the
    collapsed dimensions instead, reading `flat`, its result expanded back:
    then it follows the matmul directly, and euler-gpu-schedule-matmul runs
    it in the matmul's epilogue."""
    uses = list(expanded.uses)
    if len(uses) != 1 or uses[0].owner.name != "linalg.generic":
        return
    user = uses[0].owner
    iters = [str(t) for t in ir.ArrayAttr(user.attributes["iterator_types"])]
    maps = [_dims(ir.AffineMapAttr(m).value)
            for m in ir.ArrayAttr(user.attributes["indexing_maps"])]
    body = user.regions[0].blocks[0]
    rank = sum(len(g) for g in groups)
    if (len(user.results) != 1 or len(iters) != rank or any("parallel" not in t for t in iters)
            or any(m is None for m in maps)
            or any(o.operation.name == "linalg.index" for o in body.operations)):
        return
    operands = list(user.operands)
    if maps[-1] != list(range(rank)) or any(
            v == expanded and m != list(range(rank)) for v, m in zip(operands, maps)):
        return
    group_of = {d: i for i, g in enumerate(groups) for d in g}
    new_maps, collapses = [], []
    for v, dims in zip(operands, maps):
        new_dims, reassociation, at = [], [], 0
        while at < len(dims):
            g = groups[group_of[dims[at]]]
            if dims[at:at + len(g)] != g:
                return  # part of a group: no collapsed index for it
            new_dims.append(group_of[dims[at]])
            reassociation.append(list(range(at, at + len(g))))
            at += len(g)
        new_maps.append(new_dims)
        collapses.append(reassociation)
    with ir.InsertionPoint(user), user.location:
        new_operands = []
        for v, reassociation in zip(operands, collapses):
            t = ir.RankedTensorType(v.type)
            if v == expanded:
                new_operands.append(flat)
            elif len(reassociation) == t.rank:
                new_operands.append(v)
            else:
                sizes = [1] * len(reassociation)
                for i, r in enumerate(reassociation):
                    for d in r:
                        sizes[i] *= t.shape[d]
                new_operands.append(tensor.collapse_shape(
                    ir.RankedTensorType.get(sizes, t.element_type), v, reassociation))
        out_t = ir.RankedTensorType(new_operands[-1].type)
        affine = [ir.AffineMapAttr.get(ir.AffineMap.get(
            len(groups), 0, [ir.AffineDimExpr.get(d) for d in dims])) for dims in new_maps]
        parallel = ir.Attribute.parse("#linalg.iterator_type<parallel>")
        new = linalg.GenericOp([out_t], new_operands[:-1], new_operands[-1:],
                               ir.ArrayAttr.get(affine), ir.ArrayAttr.get([parallel] * len(groups)))
        block = new.regions[0].blocks.append(*[a.type for a in body.arguments])
        mapping = list(zip(body.arguments, block.arguments))
        with ir.InsertionPoint(block):
            for o in body.operations:
                clone = o.operation.clone()
                for i, v in enumerate(clone.operands):
                    clone.operands[i] = next((new_v for old_v, new_v in mapping if old_v == v), v)
                mapping += list(zip(o.operation.results, clone.results))
        result = tensor.expand_shape(ir.RankedTensorType(user.results[0].type), new.results[0],
                                     groups, [], list(ir.RankedTensorType(user.results[0].type).shape))
    user.results[0].replace_all_uses_with(result)
    user.erase()
    expanded.owner.erase()
