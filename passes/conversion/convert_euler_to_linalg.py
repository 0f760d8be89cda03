"""convert-euler-to-linalg: lower every euler op to linalg on tensors.

The `linalg` stage of every pipeline: after it, the module holds only upstream
dialects (linalg, tensor, arith, math), ready for tiling and bufferization.
Each op becomes a named linalg op where one exists (matmul, batch_matmul,
conv_2d_nchw_fchw, pooling_nchw_max/sum, transpose, broadcast, reduce, fill)
and a `linalg.generic` otherwise. Numpy broadcasting in elementwise ops is
expressed in the indexing maps (size-1 dims are collapsed away first), never
by materializing the broadcast tensor.

Each lowering is a function `(op, attrs) -> Value` registered in `LOWERINGS`;
`patterns()` wraps them as rewrite patterns `(op, rewriter)`, applied in one
walk. New ops carry the euler op's location, so later diagnostics point at
the user's line.
"""

from __future__ import annotations

import math

from mlir import ir, rewrite
from mlir.dialects import arith, linalg, tensor
from mlir.dialects import math as mmath

from ...dialects import ops
from ...dialects.shapes import ShapeError, normalize_axes, normalize_axis
from .. import PassFailure, euler_ops

NAME = "convert-euler-to-linalg"
SUMMARY = "Lower euler ops to linalg, tensor, arith and math on tensors"


# --- small IR helpers ---------------------------------------------------------

def _shape(v: ir.Value) -> list:
    return list(v.type.shape)


def _ttype(shape, etype) -> ir.RankedTensorType:
    return ir.RankedTensorType.get(list(shape), etype)


def _scalar(etype, value) -> ir.Value:
    if isinstance(etype, (ir.IntegerType, ir.IndexType)):
        return arith.constant(etype, int(value))
    return arith.constant(etype, float(value))


def _full(shape, etype, value) -> ir.Value:
    """A tensor of `shape` filled with `value` (the init of reductions)."""
    init = tensor.empty(list(shape), etype)
    return linalg.fill(_scalar(etype, value), outs=[init])


def _dims(rank, which) -> ir.AffineMap:
    return ir.AffineMap.get(rank, 0, [ir.AffineDimExpr.get(d) for d in which])


def _generic(inputs, maps, init, iterators, body) -> ir.Value:
    """linalg.generic over `inputs` into `init`; `body(*block_args)` returns the
    value to yield. The output map is the identity unless reductions drop dims."""
    op = linalg.GenericOp(
        result_tensors=[init.type], inputs=list(inputs), outputs=[init],
        indexing_maps=ir.ArrayAttr.get([ir.AffineMapAttr.get(m) for m in maps]),
        iterator_types=ir.ArrayAttr.get(
            [ir.Attribute.parse(f"#linalg.iterator_type<{it}>") for it in iterators]))
    block = op.regions[0].blocks.append(
        *[v.type.element_type for v in inputs], init.type.element_type)
    with ir.InsertionPoint(block):
        linalg.YieldOp([body(*block.arguments)])
    return op.result


def _map(inputs, out_shape, etype, body) -> ir.Value:
    """Elementwise generic with numpy broadcasting of `inputs` to `out_shape`."""
    rank = len(out_shape)
    operands, maps = [], []
    for v in inputs:
        v, m = _broadcast_operand(v, out_shape)
        operands.append(v)
        maps.append(m)
    maps.append(ir.AffineMap.get_identity(rank))
    return _generic(operands, maps, tensor.empty(list(out_shape), etype),
                    ["parallel"] * rank, body)


def _collapse(v, groups, shape) -> ir.Value:
    if _shape(v) == list(shape):
        return v
    return tensor.collapse_shape(_ttype(shape, v.type.element_type), v, groups)


def _expand(v, groups, shape) -> ir.Value:
    if _shape(v) == list(shape):
        return v
    return tensor.expand_shape(_ttype(shape, v.type.element_type), v, groups, [], list(shape))


def _reassociation(big, small):
    """Groups of `big`'s dims whose products are `small`'s dims, in order, or
    None. Any valid grouping reshapes identically (row-major), so greedy is fine."""
    if not small:
        return [] if all(d == 1 for d in big) else None
    groups, i = [], 0
    for d in small:
        if i >= len(big):
            return None
        group, prod = [i], big[i]
        i += 1
        while prod < d and i < len(big):
            group.append(i)
            prod *= big[i]
            i += 1
        if prod != d:
            return None
        groups.append(group)
    if any(big[j] != 1 for j in range(i, len(big))):
        return None
    groups[-1].extend(range(i, len(big)))
    return groups


def _groups_keeping(rank, kept):
    """Reassociation that folds every dim not in `kept` into a neighbouring kept one."""
    if not kept:
        return []
    groups, pending = [], []
    for d in range(rank):
        pending.append(d)
        if d in kept:
            groups.append(pending)
            pending = []
    groups[-1].extend(pending)
    return groups


def _drop_broadcast_dims(v, out_shape):
    """Collapse away the size-1 dims of `v` that broadcast against `out_shape`
    (numpy alignment: trailing dims match). Returns the collapsed value and the
    output dims its remaining dims map to."""
    shape = _shape(v)
    offset = len(out_shape) - len(shape)
    kept = [j for j, d in enumerate(shape) if not (d == 1 and out_shape[offset + j] != 1)]
    if len(kept) < len(shape):
        v = _collapse(v, _groups_keeping(len(shape), kept), [shape[j] for j in kept])
    return v, [offset + j for j in kept]


def _broadcast_operand(v, out_shape):
    v, dims = _drop_broadcast_dims(v, out_shape)
    return v, _dims(len(out_shape), dims)


def _broadcast(v, out_shape) -> ir.Value:
    """numpy.broadcast_to as linalg.broadcast (materializes: for matmul batches
    and the explicit op only)."""
    v, dims = _drop_broadcast_dims(v, out_shape)
    added = [d for d in range(len(out_shape)) if d not in dims]
    if not added:
        return v
    init = tensor.empty(list(out_shape), v.type.element_type)
    return linalg.broadcast(v, outs=[init], dimensions=added).results[0]


def _reduce(x, axes, kind) -> ir.Value:
    """linalg.reduce over `axes` (sorted, non-negative); drops those dims.

    Float sums of f16/bf16 accumulate in f32 (`_accumulator`) and the result
    keeps that type: callers narrow it once, after any division. Long float
    sums are split into blocks later, by euler-split-reductions."""
    shape, etype = _shape(x), x.type.element_type
    out_shape = [d for i, d in enumerate(shape) if i not in axes]
    is_float = _is_float(etype)
    acc = _accumulator(etype) if kind == "sum" else etype
    if kind == "sum":
        init = _full(out_shape, acc, 0.0)
    elif is_float:
        init = _full(out_shape, acc, float("-inf"))
    else:
        init = _full(out_shape, acc, -(1 << (etype.width - 1)) if etype.width > 1 else 0)
    op = linalg.ReduceOp([init.type], [x], [init], list(axes))
    block = op.regions[0].blocks.append(etype, acc)
    with ir.InsertionPoint(block):
        v, total = block.arguments
        if kind == "sum":
            combine = arith.addf if is_float else arith.addi
            result = combine(_convert(v, acc), total)
        else:
            result = (arith.maximumf if is_float else arith.maxsi)(v, total)
        linalg.YieldOp([result])
    return op.result


def _without(rank, axis):
    return _dims(rank, [d for d in range(rank) if d != axis])


def _pad(x, low, high, value) -> ir.Value:
    """tensor.pad with a constant; a no-op when there is nothing to pad."""
    if not any(low) and not any(high):
        return x
    etype = x.type.element_type
    shape = [d + lo + hi for d, lo, hi in zip(_shape(x), low, high)]
    pad_value = _scalar(etype, value)
    op = tensor.PadOp(_ttype(shape, etype), x, [], [], list(low), list(high))
    block = op.regions[0].blocks.append(*[ir.IndexType.get()] * len(shape))
    with ir.InsertionPoint(block):
        tensor.YieldOp(pad_value)
    return op.result


def _is_float(t) -> bool:
    return isinstance(t, (ir.F16Type, ir.BF16Type, ir.F32Type, ir.F64Type))


def _convert(v, to) -> ir.Value:
    """Scalar element conversion with numpy astype semantics (floats truncate
    toward zero into ints; ints are signed)."""
    src = v.type
    if src == to:
        return v
    if _is_float(src) and _is_float(to):
        if src.width == to.width:  # f16 <-> bf16: through f32
            return arith.truncf(to, arith.extf(ir.F32Type.get(), v))
        return arith.extf(to, v) if to.width > src.width else arith.truncf(to, v)
    if _is_float(src):
        return arith.fptosi(to, v)
    if _is_float(to):
        return arith.sitofp(to, v)
    return arith.extsi(to, v) if to.width > src.width else arith.trunci(to, v)


# --- lowerings, one per op family ------------------------------------------------

def lower_constant(op, attrs):
    return arith.ConstantOp(op.results[0].type, op.attributes["value"]).result


_BINARY = {
    "add": arith.addf, "sub": arith.subf, "mul": arith.mulf, "div": arith.divf,
    # maximumf/minimumf propagate NaN, as numpy.maximum/minimum do.
    "maximum": arith.maximumf, "minimum": arith.minimumf, "pow": mmath.powf,
}


def _floordivi(a, b):
    """Signed integer floor division (shapes.INT_BINARY_OPS): x // 0 is 0 and
    INT_MIN // -1 wraps, where LLVM's sdiv would trap on both."""
    zero, one, minus_one = (_scalar(a.type, v) for v in (0, 1, -1))
    cmp = lambda pred, x, y: arith.cmpi(getattr(arith.CmpIPredicate, pred), x, y)  # noqa: E731
    by_zero, by_minus_one = cmp("eq", b, zero), cmp("eq", b, minus_one)
    safe = arith.select(arith.ori(by_zero, by_minus_one), one, b)
    q, r = arith.divsi(a, safe), arith.remsi(a, safe)
    # sdiv truncates: one lower where the remainder's sign differs from the divisor's.
    down = arith.andi(cmp("ne", r, zero), arith.xori(cmp("slt", r, zero), cmp("slt", safe, zero)))
    q = arith.select(down, arith.subi(q, one), q)
    return arith.select(by_zero, zero, arith.select(by_minus_one, arith.subi(zero, a), q))


# Integer index arithmetic; on booleans (i8 0/1) maximum/minimum are or/and.
_INT_BINARY = {"add": arith.addi, "sub": arith.subi, "mul": arith.muli, "div": _floordivi,
               "maximum": arith.maxsi, "minimum": arith.minsi}


def lower_binary(op, attrs):
    rt = op.results[0].type
    etype = rt.element_type
    fn = (_BINARY if _is_float(etype) else _INT_BINARY)[ops.op_name(op)]
    return _map(list(op.operands), rt.shape, rt.element_type, lambda a, b, _: fn(a, b))


def _sigmoid(x):
    one = _scalar(x.type, 1.0)
    return arith.divf(one, arith.addf(one, mmath.exp(arith.negf(x))))


def _gelu_erf(x):
    half = _scalar(x.type, 0.5)
    inner = mmath.erf(arith.mulf(x, _scalar(x.type, math.sqrt(0.5))))
    return arith.mulf(arith.mulf(half, x), arith.addf(_scalar(x.type, 1.0), inner))


def _gelu_tanh(x):
    cube = arith.mulf(arith.mulf(x, x), x)
    inner = arith.addf(x, arith.mulf(_scalar(x.type, 0.044715), cube))
    t = mmath.tanh(arith.mulf(_scalar(x.type, math.sqrt(2.0 / math.pi)), inner))
    half = _scalar(x.type, 0.5)
    return arith.mulf(arith.mulf(half, x), arith.addf(_scalar(x.type, 1.0), t))


_UNARY = {
    "neg": arith.negf, "abs": mmath.absf, "exp": mmath.exp, "log": mmath.log,
    "sqrt": mmath.sqrt, "rsqrt": mmath.rsqrt, "tanh": mmath.tanh, "sigmoid": _sigmoid,
    # maximumf keeps NaN, like numpy.maximum(x, 0) and torch.relu.
    "relu": lambda x: arith.maximumf(x, _scalar(x.type, 0.0)),
    "cos": mmath.cos, "sin": mmath.sin, "erf": mmath.erf,
}


def lower_unary(op, attrs):
    name = ops.op_name(op)
    if name == "gelu":
        fn = _gelu_tanh if attrs.get("approximate", "none") == "tanh" else _gelu_erf
    else:
        fn = _UNARY[name]
    rt = op.results[0].type
    return _map([op.operands[0]], rt.shape, rt.element_type, lambda x, _: fn(x))


def _accumulator(etype):
    """The type products are summed in: f32 for f16/bf16, as PyTorch does on
    every device (an f16 sum of K products loses ~log2(K) bits)."""
    return ir.F32Type.get() if _is_float(etype) and etype.width < 32 else etype


def _narrowed(v, etype) -> ir.Value:
    """`v` converted elementwise to `etype` (a no-op when it has that type)."""
    if v.type.element_type == etype:
        return v
    return _map([v], _shape(v), etype, lambda x, _: _convert(x, etype))


def lower_matmul(op, attrs):
    a, b = op.operands
    sa, sb, out = _shape(a), _shape(b), list(op.results[0].type.shape)
    etype = op.results[0].type.element_type
    # linalg's named contractions extend their inputs to the init's type.
    acc = _accumulator(etype)
    if len(sb) == 2:
        # x[B.., M, K] @ w[K, N] is one 2-D matmul over B*M rows.
        rows = math.prod(sa[:-1])
        lead = [list(range(len(sa) - 1)), [len(sa) - 1]]
        lhs = _collapse(a, lead, [rows, sa[-1]])
        res = linalg.matmul(lhs, b, outs=[_full([rows, sb[-1]], acc, 0.0)])
        return _expand(_narrowed(res, etype), lead, out)
    batch = out[:-2]
    nb = len(batch)
    a = _broadcast(a, batch + sa[-2:])
    b = _broadcast(b, batch + sb[-2:])
    # batch_matmul has one batch dim: fold the others into it.
    groups = [list(range(nb)), [nb], [nb + 1]]
    flat = math.prod(batch)
    a = _collapse(a, groups, [flat] + sa[-2:])
    b = _collapse(b, groups, [flat] + sb[-2:])
    res = linalg.batch_matmul(a, b, outs=[_full([flat] + out[-2:], acc, 0.0)])
    return _expand(_narrowed(res, etype), groups, out)


def lower_transpose(op, attrs):
    x = op.operands[0]
    rt = op.results[0].type
    perm = list(attrs["perm"])
    if perm == sorted(perm):
        return x
    init = tensor.empty(list(rt.shape), rt.element_type)
    return linalg.transpose(x, outs=[init], permutation=perm).results[0]


def lower_reshape(op, attrs):
    x = op.operands[0]
    src, dst = _shape(x), list(op.results[0].type.shape)
    if src == dst:
        return x
    if len(dst) < len(src) and (groups := _reassociation(src, dst)) is not None:
        return _collapse(x, groups, dst)
    if len(dst) > len(src) and (groups := _reassociation(dst, src)) is not None:
        return _expand(x, groups, dst)
    # No dim-grouping relates the shapes (e.g. 2x3 -> 3x2): go through 1-D.
    n = math.prod(src)
    flat = _collapse(x, [list(range(len(src)))], [n])
    return _expand(flat, [list(range(len(dst)))], dst)


def lower_broadcast_to(op, attrs):
    return _broadcast(op.operands[0], list(op.results[0].type.shape))


def lower_reduce(op, attrs):
    x = op.operands[0]
    shape = _shape(x)
    axes = normalize_axes(attrs.get("axes", range(len(shape))), len(shape))
    name = ops.op_name(op)
    rt = op.results[0].type
    if not axes:
        return x
    res = _reduce(x, axes, "max" if name == "reduce_max" else "sum")
    if name == "reduce_mean":
        acc = res.type.element_type
        count = _scalar(acc, math.prod(shape[a] for a in axes))
        res = _map([res], _shape(res), acc, lambda s, _: arith.divf(s, count))
    res = _narrowed(res, rt.element_type)
    if attrs.get("keepdims", False):
        res = _expand(res, _reassociation(list(rt.shape), _shape(res)), list(rt.shape))
    return res


def lower_softmax(op, attrs):
    x = op.operands[0]
    shape, etype = _shape(x), x.type.element_type
    rank = len(shape)
    axis = normalize_axis(attrs.get("axis", -1), rank)
    ident, reduced = ir.AffineMap.get_identity(rank), _without(rank, axis)
    par = ["parallel"] * rank
    # f16/bf16 rows in f32, as PyTorch computes them; rounded once at the end.
    acc = _accumulator(etype)
    # Numerically stable: subtract the max along the axis before exp.
    m = _reduce(x, [axis], "max")
    e = _generic([x, m], [ident, reduced, ident], tensor.empty(shape, acc), par,
                 lambda v, mx, _: mmath.exp(_convert(arith.subf(v, mx), acc)))
    s = _reduce(e, [axis], "sum")
    return _generic([e, s], [ident, reduced, ident], tensor.empty(shape, etype), par,
                    lambda v, sm, _: _convert(arith.divf(v, sm), etype))


def lower_layer_norm(op, attrs):
    x, gamma, beta = op.operands
    shape, etype = _shape(x), x.type.element_type
    rank = len(shape)
    axis = normalize_axis(attrs.get("axis", -1), rank)
    eps = attrs.get("epsilon", 1e-5)
    # Statistics in f32 at least: f16/bf16 sums lose too much.
    ctype = _accumulator(etype)
    outer = shape[:axis]
    n = math.prod(shape[axis:])
    ident = ir.AffineMap.get_identity(rank)
    stat = _dims(rank, range(axis))
    norm = _dims(rank, range(axis, rank))
    red = ["parallel"] * axis + ["reduction"] * (rank - axis)
    par = ["parallel"] * rank
    ext = lambda v: _convert(v, ctype)  # noqa: E731

    def row_sum(inputs, maps, term):
        return _generic(inputs, maps + [stat], _full(outer, ctype, 0.0), red,
                        lambda *args: arith.addf(args[-1], term(*args[:-1])))

    def per_row(inputs, fn):
        return _map(inputs, outer, ctype, lambda *args: fn(*args[:-1]))

    # Shifted two-pass statistics: a first mean m0, then the deviations from
    # it, which are small, so their sums keep every digit. mean = m0 + c and
    # var = E[(x-m0)^2] - c^2 with c = E[x-m0] tiny: no cancellation, unlike
    # E[x^2] - E[x]^2, and (x - m0) - c normalizes without rounding the mean.
    inv_n = lambda v: arith.divf(v, _scalar(ctype, n))  # noqa: E731
    m0 = per_row([row_sum([x], [ident], ext)], inv_n)
    dev = lambda v, mu: arith.subf(ext(v), mu)  # noqa: E731
    c = per_row([row_sum([x, m0], [ident, stat], dev)], inv_n)

    def square(v, mu):
        d = dev(v, mu)
        return arith.mulf(d, d)
    sq = row_sum([x, m0], [ident, stat], square)

    def rstd_of(s, shift):
        var = arith.subf(inv_n(s), arith.mulf(shift, shift))
        var = arith.maximumf(var, _scalar(ctype, 0.0))  # rounding below zero
        return mmath.rsqrt(arith.addf(var, _scalar(ctype, eps)))
    rstd = per_row([sq, c], rstd_of)

    def normalize(v, mu, shift, r, g, b, _):
        y = arith.mulf(arith.mulf(arith.subf(dev(v, mu), shift), r), ext(g))
        return _convert(arith.addf(y, ext(b)), etype)
    return _generic([x, m0, c, rstd, gamma, beta],
                    [ident, stat, stat, stat, norm, norm, ident],
                    tensor.empty(shape, etype), par, normalize)


def lower_conv2d(op, attrs):
    x, w = op.operands
    rt = op.results[0].type
    etype = rt.element_type
    strides = list(attrs.get("strides", (1, 1)))
    dilations = list(attrs.get("dilations", (1, 1)))
    ph, pw = attrs.get("padding", (0, 0))
    groups = int(attrs.get("groups", 1))
    x = _pad(x, [0, 0, ph, pw], [0, 0, ph, pw], 0.0)
    n, f, oh, ow = rt.shape
    acc = _accumulator(etype)
    if groups == 1:
        init = _full([n, f, oh, ow], acc, 0.0)
        res = linalg.conv_2d_nchw_fchw(x, w, outs=[init], strides=strides, dilations=dilations)
        return _narrowed(_value(res), etype)
    # Split channels and filters into (group, per-group): NGCHW x GFCHW.
    _, c, h, wd = _shape(x)
    cg, kh, kw = _shape(w)[1:]
    x = _expand(x, [[0], [1, 2], [3], [4]], [n, groups, c // groups, h, wd])
    w = _expand(w, [[0, 1], [2], [3], [4]], [groups, f // groups, cg, kh, kw])
    init = _full([n, groups, f // groups, oh, ow], acc, 0.0)
    res = linalg.conv_2d_ngchw_gfchw(x, w, outs=[init], strides=strides, dilations=dilations)
    return _collapse(_narrowed(_value(res), etype), [[0], [1, 2], [3], [4]], list(rt.shape))


def lower_pool2d(op, attrs):
    x = op.operands[0]
    rt = op.results[0].type
    etype = rt.element_type
    kernel = list(attrs["kernel"])
    strides = list(attrs.get("strides", kernel))
    ph, pw = attrs.get("padding", (0, 0))
    is_max = ops.op_name(op) == "max_pool2d"
    # Max pads with -inf so padding never wins; avg counts padding as zeros.
    pad_value = float("-inf") if is_max else 0.0
    x = _pad(x, [0, 0, ph, pw], [0, 0, ph, pw], pad_value)
    window = tensor.empty(kernel, etype)
    init = _full(list(rt.shape), etype, pad_value)
    pool = linalg.pooling_nchw_max if is_max else linalg.pooling_nchw_sum
    res = pool(x, window, outs=[init], strides=strides, dilations=[1, 1])
    if is_max:
        return res
    count = _scalar(etype, kernel[0] * kernel[1])
    return _map([res], list(rt.shape), etype, lambda s, _: arith.divf(s, count))


def lower_concat(op, attrs):
    inputs = list(op.operands)
    rt = op.results[0].type
    if len(inputs) == 1:
        return inputs[0]
    rank = rt.rank
    axis = normalize_axis(attrs.get("axis", 0), rank)
    out = tensor.empty(list(rt.shape), rt.element_type)
    offset = 0
    for v in inputs:
        sizes = _shape(v)
        offsets = [offset if d == axis else 0 for d in range(rank)]
        out = tensor.insert_slice(v, out, [], [], [], offsets, sizes, [1] * rank)
        offset += sizes[axis]
    return out


# NaN compares unequal to everything, as in numpy and torch: `ne` is unordered.
_CMPF = {"eq": "OEQ", "ne": "UNE", "lt": "OLT", "le": "OLE", "gt": "OGT", "ge": "OGE"}
_CMPI = {"eq": "eq", "ne": "ne", "lt": "slt", "le": "sle", "gt": "sgt", "ge": "sge"}


def lower_compare(op, attrs):
    rt = op.results[0].type
    pred = attrs["predicate"]
    if _is_float(op.operands[0].type.element_type):
        cmp = lambda a, b: arith.cmpf(getattr(arith.CmpFPredicate, _CMPF[pred]), a, b)  # noqa: E731
    else:
        cmp = lambda a, b: arith.cmpi(getattr(arith.CmpIPredicate, _CMPI[pred]), a, b)  # noqa: E731
    # The i1 of the comparison is stored as an i8 0/1 (see shapes.BOOL).
    return _map(list(op.operands), rt.shape, rt.element_type,
                lambda a, b, _: arith.extui(rt.element_type, cmp(a, b)))


def lower_select(op, attrs):
    rt = op.results[0].type
    return _map(list(op.operands), rt.shape, rt.element_type,
                lambda c, a, b, _: arith.select(
                    arith.cmpi(arith.CmpIPredicate.ne, c, _scalar(c.type, 0)), a, b))


def lower_cumsum(op, attrs):
    """out[.., j, ..] = sum of x[.., k, ..] for k <= j: a generic with the
    scanned dim twice (j parallel, k reduction), masked by k <= j. Quadratic
    in the scanned length, which models use on short axes (token positions)."""
    x = op.operands[0]
    rt = op.results[0].type
    rank, etype = rt.rank, rt.element_type
    axis = normalize_axis(attrs.get("axis", 0), rank)
    k = rank  # the extra loop dim
    in_map = _dims(rank + 1, [k if d == axis else d for d in range(rank)])
    out_map = _dims(rank + 1, range(rank))
    add = arith.addf if _is_float(etype) else arith.addi

    def body(v, acc):
        keep = arith.cmpi(arith.CmpIPredicate.ule, linalg.IndexOp(k).result,
                          linalg.IndexOp(axis).result)
        return arith.select(keep, add(acc, v), acc)
    iterators = ["parallel"] * rank + ["reduction"]
    return _generic([x], [in_map, out_map], _full(list(rt.shape), etype, 0), iterators, body)


def lower_pad(op, attrs):
    return _pad(op.operands[0], attrs["low"], attrs["high"], attrs.get("fill", 0.0))


def lower_cast(op, attrs):
    x = op.operands[0]
    rt = op.results[0].type
    if x.type == rt:
        return x
    return _map([x], list(rt.shape), rt.element_type,
                lambda v, _: _convert(v, rt.element_type))


def lower_gather(op, attrs):
    table, idx = op.operands
    tshape, ishape = _shape(table), _shape(idx)
    rt = op.results[0].type
    axis = normalize_axis(attrs.get("axis", 0), len(tshape))
    rank, ni = rt.rank, len(ishape)
    index = ir.IndexType.get()
    size = tshape[axis]
    run = _constant_run(idx, size) if ni <= 1 else None
    if run is not None:
        # Constant indices i0, i0 + step, ...: a slice (q, k and v out of one
        # projection), which bufferizes to a view instead of a copy.
        start, step = run
        n = ishape[0] if ni else 1
        offsets, sizes, strides = [0] * len(tshape), list(tshape), [1] * len(tshape)
        offsets[axis], sizes[axis], strides[axis] = start, n, step
        return tensor.ExtractSliceOp(rt, table, [], [], [], offsets, sizes, strides).result

    def body(i, _):
        # numpy.take: negative indices count from the end. Out-of-range
        # indices are not checked (undefined, as in an unchecked C load).
        i = arith.index_cast(index, i)
        i = arith.select(arith.cmpi(arith.CmpIPredicate.slt, i, _scalar(index, 0)),
                         arith.addi(i, _scalar(index, size)), i)
        # linalg.index is shadowed by an opdsl helper in the bindings: use IndexOp.
        coords = ([linalg.IndexOp(d).result for d in range(axis)] + [i]
                  + [linalg.IndexOp(d).result for d in range(axis + ni, rank)])
        return tensor.extract(table, coords)
    return _generic([idx], [_dims(rank, range(axis, axis + ni)), ir.AffineMap.get_identity(rank)],
                    tensor.empty(list(rt.shape), rt.element_type), ["parallel"] * rank, body)


def _constant_run(idx, size):
    """(first, step) if `idx` is a constant of indices into an axis of `size`
    that run first, first + step, ... (step >= 1), else None."""
    owner = idx.owner
    if isinstance(owner, ir.Block) or owner.name not in ("euler.constant", "arith.constant"):
        return None
    attr = owner.attributes["value"]
    if not isinstance(attr, ir.DenseIntElementsAttr):
        return None
    n = math.prod(_shape(idx))
    values = [attr.get_splat_value().value] * n if attr.is_splat else list(attr)
    values = [v + size if v < 0 else v for v in values]  # numpy.take's negative indices
    if not values or not all(0 <= v < size for v in values):
        return None
    step = values[1] - values[0] if n > 1 else 1
    if step < 1 or any(b - a != step for a, b in zip(values, values[1:])):
        return None
    return values[0], step


LOWERINGS = {
    "constant": lower_constant,
    **{n: lower_binary for n in _BINARY},
    **{n: lower_unary for n in (*_UNARY, "gelu")},
    "matmul": lower_matmul,
    "transpose": lower_transpose,
    "reshape": lower_reshape,
    "broadcast_to": lower_broadcast_to,
    **{n: lower_reduce for n in ("reduce_sum", "reduce_max", "reduce_mean")},
    "softmax": lower_softmax,
    "layer_norm": lower_layer_norm,
    "conv2d": lower_conv2d,
    **{n: lower_pool2d for n in ("max_pool2d", "avg_pool2d")},
    "concat": lower_concat,
    "cast": lower_cast,
    "gather": lower_gather,
    "pad": lower_pad,
    "compare": lower_compare,
    "select": lower_select,
    "cumsum": lower_cumsum,
}


# --- the pass ----------------------------------------------------------------------

def _pattern(lower, failures):
    def rewrite_op(op, rewriter):
        op = op.operation
        try:
            ops.verify_op(op)  # lowerings may assume well-typed ops
            attrs = ops.attrs_of(op)
        except ShapeError as err:
            op.location.emit_error(f"'{op.name}' op {err}")
            failures.append(op)
            return True  # no match: the op stays, and the pass fails below
        with rewriter.ip, op.location:
            value = lower(op, attrs)
        rewriter.replace_op(op, [_value(value)])
        return None
    return rewrite_op


def _value(v):
    return v.result if isinstance(v, (ir.OpView, ir.Operation)) else v


def patterns(failures: list) -> rewrite.FrozenRewritePatternSet:
    """One rewrite pattern per euler op; ops that fail verification are
    appended to `failures` and left in place."""
    pset = rewrite.RewritePatternSet()
    for name, lower in LOWERINGS.items():
        pset.add(f"euler.{name}", _pattern(lower, failures))
    return pset.freeze()


def run(module):
    failures = []
    with module.context:
        rewrite.walk_and_apply_patterns(module, patterns(failures))
    left = [op for op in euler_ops(module) if op not in failures]
    for op in left:
        op.location.emit_error(f"'{op.name}' op has no lowering to linalg")
    if failures or left:
        raise PassFailure()
