"""euler-gpu-conv-to-matmul: NCHW convolutions on the GPU as a gather of
patches (im2col) and one matmul, which euler-gpu-schedule-matmul runs on
tensor cores (f16/bf16) or as register-tiled FMAs (f32).

Runs in the CUDA pipeline's `gpu-tiled` stage after `linalg-fuse-elementwise-ops`
and `euler-collapse-contractions`, on the convolutions that fusion left as
`linalg.generic`s over (n, f, oh, ow, c, kh, kw):

    y[n, f, oh, ow] += x[n, c, in(oh, ow, kh, kw)] * w[f, c, kh, kw]

(`in` any affine map of the output pixel and the tap: strides, dilations).
Without this pass such a
generic ran one thread per output element, each summing C * KH * KW
products read from global memory. It becomes

    P[c, kh, kw, n, oh, ow] = x[n, c, in(oh, ow, kh, kw)]      (all parallel)
    Y[f, (n, oh, ow)]       = W[f, (c, kh, kw)] @ P[(c, kh, kw), (n, oh, ow)]

with every image's pixels as columns of one matmul (the CPU's
`euler-conv-to-matmul` packs its patches for its own micro-kernel instead).
A zero padding of x (the `tensor.pad` that convert-euler-to-linalg writes)
is read through: the gather selects zeros outside x, and the padded tensor
(a fill and a copy, two kernels) is never built.
Y is NCHW transposed: the elementwise generics that read the convolution
(batch norm, relu, a residual) read Y through the transposing map instead,
so that the first of them can run in the matmul's epilogue; any other user
gets a transposing copy.

Only convolutions whose accumulator starts at zero (a fill of 0, as the
frontend writes them), on static shapes and float elements, are rewritten;
grouped and depthwise convolutions stay generics.
"""

from __future__ import annotations

from mlir import ir
from mlir.dialects import arith, linalg, tensor

from .. import ops_named
from ..linalg.collapse_contractions import _is_multiply_add

NAME = "euler-gpu-conv-to-matmul"
SUMMARY = "Rewrite NCHW convolution generics as an im2col gather and a matmul, for the GPU"

_FLOATS = ("f16", "bf16", "f32")
# The convolution's dimensions as fusion writes them: n, f, oh, ow, then the
# reductions c, kh, kw.
_N, _F, _OH, _OW, _C, _KH, _KW = range(7)
# The patch matrix's dimensions, in its memory order: c, kh, kw, n, oh, ow.
_PATCH_DIMS = (_C, _KH, _KW, _N, _OH, _OW)
# The named form (from convert-euler-to-linalg; fusion leaves it named).
_NAMED = ("linalg.conv_2d_nchw_fchw",)


def run(module):
    # All found first: a rewrite erases ops, and handles to them would dangle.
    convs = [op for op in ops_named(module, "linalg.generic", *_NAMED) if _is_conv(op)]
    for op in convs:
        with ir.InsertionPoint(op), op.location:
            _rewrite(op)


def _dim(i):
    return ir.AffineDimExpr.get(i)


def _maps(op):
    return [ir.AffineMapAttr(m).value for m in ir.ArrayAttr(op.attributes["indexing_maps"])]


def _x_map(op):
    """The map from the convolution's dimensions to x's indices."""
    if op.name == "linalg.conv_2d_nchw_fchw":
        (sh, sw), (dh, dw) = (_ints(op, a) for a in ("strides", "dilations"))
        return ir.AffineMap.get(7, 0, [
            _dim(_N), _dim(_C), _dim(_OH) * sh + _dim(_KH) * dh, _dim(_OW) * sw + _dim(_KW) * dw])
    return _maps(op)[0]


def _ints(op, name):
    if name not in op.attributes:
        return [1, 1]
    return [int(v) for v in ir.DenseIntElementsAttr(op.attributes[name])]


def _is_conv(op) -> bool:
    """Whether `op` (the named NCHW convolution, or the generic fusion makes
    of one) is a convolution this pass takes."""
    if len(op.results) != 1 or len(op.operands) != 3 or len(op.regions[0].blocks) != 1:
        return False
    types = [v.type for v in op.operands]
    if not all(isinstance(t, ir.RankedTensorType) and t.has_static_shape and t.rank == 4
               for t in types):
        return False
    tx, tw, ty = (ir.RankedTensorType(t) for t in types)
    if str(tx.element_type) != str(tw.element_type) or str(tx.element_type) not in _FLOATS \
            or str(ty.element_type) not in _FLOATS:
        return False
    if op.name == "linalg.generic":
        iters = [str(a) for a in ir.ArrayAttr(op.attributes["iterator_types"])]
        if iters != ["#linalg.iterator_type<parallel>"] * 4 \
                + ["#linalg.iterator_type<reduction>"] * 3:
            return False
        _, w_map, y_map = _maps(op)
        if list(y_map.results) != [_dim(d) for d in (_N, _F, _OH, _OW)] \
                or list(w_map.results) != [_dim(d) for d in (_F, _C, _KH, _KW)]:
            return False
        # x is read at (n, c, ...) and never through f: then every (n, oh,
        # ow) column and (c, kh, kw) row of the patch matrix is one element.
        no_f = ir.AffineMap.get(7, 0, [ir.AffineConstantExpr.get(0) if d == _F else _dim(d)
                                       for d in range(7)])
        results = list(_x_map(op).results)
        if results[:2] != [_dim(_N), _dim(_C)] or any(e.compose(no_f) != e for e in results):
            return False
    return _is_zero(op.operands[2]) and _is_multiply_add(op)


def _is_zero(v) -> bool:
    """Whether tensor `v` is a fill of zero (linalg.fill, or the generic that
    fusion makes of one)."""
    owner = v.owner
    if isinstance(owner, ir.Block):
        return False
    if owner.name == "linalg.fill":
        scalar = owner.operands[0]
    elif owner.name == "linalg.generic" and len(owner.operands) == 2 \
            and not isinstance(owner.operands[0].type, ir.ShapedType):
        body = [o.operation for o in owner.regions[0].blocks[0].operations]
        args = list(owner.regions[0].blocks[0].arguments)
        if len(body) != 1 or body[0].operands[0] != args[0]:
            return False
        scalar = owner.operands[0]
    else:
        return False
    const = scalar.owner
    if isinstance(const, ir.Block) or const.name != "arith.constant":
        return False
    attr = const.attributes["value"]
    return isinstance(attr, ir.FloatAttr) and attr.value == 0.0


def _rewrite(conv):
    x, w, init = conv.operands
    tx, tw, ty = (ir.RankedTensorType(v.type) for v in (x, w, init))
    f, c, kh, kw = tw.shape
    n, _, oh, ow = ty.shape
    sizes = {_N: n, _F: f, _OH: oh, _OW: ow, _C: c, _KH: kh, _KW: kw}
    k, cols = c * kh * kw, n * oh * ow

    # The gather: the conv's map of x, on the patch matrix's dimensions.
    to_conv = [ir.AffineConstantExpr.get(0)] * 7
    for i, d in enumerate(_PATCH_DIMS):
        to_conv[d] = _dim(i)
    to_conv = ir.AffineMap.get(6, 0, to_conv)
    x_map = _x_map(conv)
    gather = ir.AffineMap.get(6, 0, [e.compose(to_conv) for e in x_map.results])
    patch_t = ir.RankedTensorType.get([sizes[d] for d in _PATCH_DIMS], tx.element_type)
    padding = _zero_padding(x)
    im2col = _copy(x, gather, patch_t) if padding is None else _padded_gather(
        x.owner.operands[0], padding, gather, patch_t)

    rows = tensor.collapse_shape(ir.RankedTensorType.get([f, k], tw.element_type), w,
                                 [[0], [1, 2, 3]])
    patches = tensor.collapse_shape(ir.RankedTensorType.get([k, cols], tx.element_type),
                                    im2col, [[0, 1, 2], [3, 4, 5]])
    zero = arith.constant(ty.element_type, 0.0)
    acc = linalg.fill(zero, outs=[tensor.empty([f, cols], ty.element_type)])
    product = linalg.matmul(rows, patches, outs=[acc])
    # Y as [f, n, oh, ow]; NCHW reads it through (n, f, oh, ow) -> (f, n, oh, ow).
    y = tensor.expand_shape(ir.RankedTensorType.get([f, n, oh, ow], ty.element_type), product,
                            [[0], [1, 2, 3]], [], [f, n, oh, ow])
    transposed = ir.AffineMap.get(4, 0, [_dim(1), _dim(0), _dim(2), _dim(3)])
    result = conv.results[0]
    copies = []
    for use in list(result.uses):
        user = use.owner
        if _reads_elementwise(user, use.operand_number):
            maps = _maps(user)
            maps[use.operand_number] = transposed
            user.operands[use.operand_number] = y
            user.attributes["indexing_maps"] = ir.ArrayAttr.get(
                [ir.AffineMapAttr.get(m) for m in maps])
        else:
            copies.append(use)
    if copies:
        nchw = _copy(y, transposed, ty)
        for use in copies:
            use.owner.operands[use.operand_number] = nchw
    fill = init.owner
    conv.erase()
    # The accumulator's fill and a padding read through, once unused.
    for v, owner, kinds in ((init, fill, ("linalg.fill", "linalg.generic")),
                            (x, x.owner, ("tensor.pad",))):
        if not isinstance(owner, ir.Block) and owner.name in kinds and not list(v.uses):
            owner.erase()


def _zero_padding(x):
    """The low padding of x's last two dimensions when x is a tensor.pad
    of zeros of those alone, else None."""
    pad = x.owner
    if isinstance(pad, ir.Block) or pad.name != "tensor.pad" or len(pad.operands) != 1:
        return None
    low, high = (list(ir.DenseI64ArrayAttr(pad.attributes[a])) for a in ("static_low", "static_high"))
    body = [o.operation for o in pad.regions[0].blocks[0].operations]
    if low[:2] != [0, 0] or high[:2] != [0, 0] or len(body) != 1:
        return None
    value = body[0].operands[0].owner
    if isinstance(value, ir.Block) or value.name != "arith.constant" \
            or not isinstance(value.attributes["value"], ir.FloatAttr) \
            or ir.FloatAttr(value.attributes["value"]).value != 0.0:
        return None
    return low[2:]


def _padded_gather(x, low, gather, result_t):
    """`_copy` of the zero padding of `x` (by `low` before its rows and
    columns) at `gather`, reading `x` itself: elements that fall in the
    padding are zeros, selected, so the padded tensor is never built."""
    from mlir.dialects import affine
    index_t = ir.IndexType.get()
    rank = result_t.rank
    parallel = ir.Attribute.parse("#linalg.iterator_type<parallel>")
    copy = linalg.GenericOp([result_t], [], [tensor.empty(result_t.shape, result_t.element_type)],
                            ir.ArrayAttr.get([ir.AffineMapAttr.get(ir.AffineMap.get_identity(rank))]),
                            ir.ArrayAttr.get([parallel] * rank))
    body = copy.regions[0].blocks.append(result_t.element_type)
    shape = ir.RankedTensorType(x.type).shape
    with ir.InsertionPoint(body):
        dims = [linalg.IndexOp(i).result for i in range(rank)]
        at, inside = [], None
        for r, e in enumerate(gather.results):
            v = affine.apply(ir.AffineMap.get(rank, 0, [e]), dims)
            if r >= 2:  # a row or column: shifted by the padding, maybe outside
                v = arith.subi(v, arith.constant(index_t, low[r - 2]))
                ok = arith.andi(
                    arith.cmpi(arith.CmpIPredicate.sge, v, arith.constant(index_t, 0)),
                    arith.cmpi(arith.CmpIPredicate.slt, v, arith.constant(index_t, shape[r])))
                inside = ok if inside is None else arith.andi(inside, ok)
                # Clamped, so that the load stays inside x.
                v = arith.minsi(arith.maxsi(v, arith.constant(index_t, 0)),
                                arith.constant(index_t, shape[r] - 1))
            at.append(v)
        value = tensor.extract(x, at)
        zero = arith.constant(result_t.element_type, 0.0)
        linalg.YieldOp([arith.select(inside, value, zero)])
    return copy.results[0]


def _copy(src, read, result_t):
    """A new tensor of type `result_t` whose element at i is `src` at
    `read`(i): an all-parallel generic, one thread per element on the GPU."""
    rank = result_t.rank
    maps = [ir.AffineMapAttr.get(m) for m in (read, ir.AffineMap.get_identity(rank))]
    parallel = ir.Attribute.parse("#linalg.iterator_type<parallel>")
    copy = linalg.GenericOp([result_t], [src], [tensor.empty(result_t.shape, result_t.element_type)],
                            ir.ArrayAttr.get(maps), ir.ArrayAttr.get([parallel] * rank))
    body = copy.regions[0].blocks.append(result_t.element_type, result_t.element_type)
    with ir.InsertionPoint(body):
        linalg.YieldOp([body.arguments[0]])
    return copy.results[0]


def _reads_elementwise(user, index) -> bool:
    """Whether `user` is an elementwise generic reading operand `index` (not
    its output) through the identity map."""
    if user.name != "linalg.generic":
        return False
    iters = [str(a) for a in ir.ArrayAttr(user.attributes["iterator_types"])]
    n_in = len(user.operands) - len(user.results)
    return (len(iters) == 4 and all("parallel" in t for t in iters) and index < n_in
            and _maps(user)[index] == ir.AffineMap.get_identity(4))
