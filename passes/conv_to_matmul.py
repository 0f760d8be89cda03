"""euler-conv-to-matmul: lower NCHW convolutions to matmuls (im2col), so that
they run on `euler-schedule-matmul`'s packed, threaded GEMM.

Runs at -O3 in the `tiled` stage, right before `euler-schedule-matmul`, on
the `linalg.conv_2d_nchw_fchw` / `linalg.conv_2d_ngchw_gfchw` ops that
`convert-euler-to-linalg` makes (padding is already a `tensor.pad` of the
input). Per image n and group g:

    P[g, (c, kh, kw), (oh, ow)] = x[n, g, c, oh*sh + kh*dh, ow*sw + kw*dw]
    y[n, g, f, (oh, ow)]         = W[g, f, (c, kh, kw)] @ P[g]

The patch matrix P is built one row of `ow` at a time by loops of vector
transfers (contiguous when the stride is 1, a shuffle otherwise). The
product is a `linalg.matmul` when there is one image and one group, else a
`linalg.batch_matmul` over (image, group) with W broadcast over images. A
1x1 convolution with stride 1 needs no patch matrix: P is x reshaped. The
result is reshaped back to NCHW, so a bias/relu epilogue stays an
elementwise op for `euler-tile-and-fuse`.

Only what the schedule handles is rewritten: static shapes, one float
element type it packs (f32/f64). Anything else (f16, integers, dynamic
shapes) stays a convolution for the generic tiling and loop path.
"""

from __future__ import annotations

import math

from mlir import ir
from mlir.dialects import arith, linalg, scf, tensor, vector

# The element types euler-schedule-matmul packs: a conv of another type would
# become a matmul no schedule touches, i.e. naive loops plus an im2col copy.
from .schedule_matmul import _FLOAT_TYPES
from .convert_euler_to_linalg import _reassociation

NAME = "euler-conv-to-matmul"
SUMMARY = "Lower linalg NCHW convolutions to (batch) matmuls over an im2col patch matrix"

_CONVS = ("linalg.conv_2d_nchw_fchw", "linalg.conv_2d_ngchw_gfchw")


def run(module):
    convs = []

    def visit(op):
        if op.name in _CONVS and _convertible(op):
            convs.append(op.operation)
        return ir.WalkResult.ADVANCE

    module.walk(visit)
    for conv in convs:
        with ir.InsertionPoint(conv), conv.location:
            out = _lower(conv)
        init = conv.operands[2]
        conv.results[0].replace_all_uses_with(out)
        conv.erase()
        _erase_if_unused(init)


def _erase_if_unused(v):
    """Erase the conv's old init (a fill of an empty) once nothing uses it."""
    if not isinstance(v, ir.OpResult) or v.owner.name not in ("linalg.fill", "tensor.empty") \
            or any(True for _ in v.uses):
        return
    owner = v.owner
    operands = list(owner.operands)
    owner.erase()
    for operand in operands:
        _erase_if_unused(operand)


def _convertible(op) -> bool:
    types = [v.type for v in op.operands]
    if not all(isinstance(t, ir.RankedTensorType) and t.has_static_shape for t in types):
        return False  # dynamic shapes: the schedule only takes static matmuls
    if any(d == 0 for t in types for d in t.shape):
        return False  # nothing to compute; the generic path handles it trivially
    etype = types[0].element_type
    return isinstance(etype, _FLOAT_TYPES) and all(t.element_type == etype for t in types)


def _ints(op, name):
    if name not in op.attributes:
        return [1, 1]
    return [int(v) for v in ir.DenseIntElementsAttr(op.attributes[name])]


def _ttype(shape, etype):
    return ir.RankedTensorType.get(list(shape), etype)


def _reshape(v, shape):
    """Row-major reshape of `v`: one collapse_shape or expand_shape where the
    dims group, else a collapse to 1-D and an expand."""
    src, shape = list(v.type.shape), list(shape)
    if src == shape:
        return v
    etype = v.type.element_type
    if len(shape) < len(src) and (groups := _reassociation(src, shape)) is not None:
        return tensor.collapse_shape(_ttype(shape, etype), v, groups)
    if len(shape) > len(src) and (groups := _reassociation(shape, src)) is not None:
        return tensor.expand_shape(_ttype(shape, etype), v, groups, [], shape)
    flat = tensor.collapse_shape(_ttype([math.prod(src)], etype), v, [list(range(len(src)))])
    return _reshape(flat, shape)


def _lower(conv) -> ir.Value:
    x, w, init = conv.operands
    etype = x.type.element_type
    grouped = conv.name == "linalg.conv_2d_ngchw_gfchw"
    # Canonical grouped form: x [N, G, Cg, H, W], w [G, Fg, Cg, KH, KW],
    # init [N, G, Fg, OH, OW].
    if grouped:
        n, g, cg = x.type.shape[:3]
        _, fg, _, kh, kw = w.type.shape
    else:
        n, c = x.type.shape[:2]
        f, _, kh, kw = w.type.shape
        g, cg, fg = 1, c, f
    oh, ow = init.type.shape[-2:]
    sh, sw = _ints(conv, "strides")
    dh, dw = _ints(conv, "dilations")
    k = cg * kh * kw
    batch = n * g

    # Weights: [G, Fg, K], broadcast over images when there are several.
    if batch == 1:
        lhs = _reshape(w, [fg, k])
    else:
        lhs = _reshape(w, [g, fg, k])
        if n > 1:
            lhs = linalg.broadcast(lhs, outs=[tensor.empty([n, g, fg, k], etype)],
                                   dimensions=[0])
            lhs = _reshape(lhs if isinstance(lhs, ir.Value) else lhs.results[0],
                           [batch, fg, k])

    if kh == kw == 1 and sh == sw == 1:
        patches = x  # [N, G, Cg, OH, OW] already (OH == H, OW == W)
    else:
        patches = _im2col(x, [n, g, cg, kh, kw, oh, ow], (sh, sw), (dh, dw))

    # Accumulator: a fresh fill when the conv's init is one (so the schedule
    # sees, and threads, the fill), else the init's data reshaped.
    fill = init.owner if isinstance(init, ir.OpResult) and init.owner.name == "linalg.fill" \
        else None
    cshape = [batch, fg, oh * ow] if batch > 1 else [fg, oh * ow]
    rhs = _reshape(patches, [batch, k, oh * ow] if batch > 1 else [k, oh * ow])
    if fill is not None:
        acc = linalg.fill(fill.operands[0], outs=[tensor.empty(cshape, etype)])
    else:
        acc = _reshape(init, cshape)
    if batch == 1:
        y = linalg.matmul(lhs, rhs, outs=[acc])
    else:
        y = linalg.batch_matmul(lhs, rhs, outs=[acc])
    return _reshape(y, list(init.type.shape))


def _im2col(x, pshape, strides, dilations) -> ir.Value:
    """The patch tensor [N*G*Cg*KH*KW, OH, OW] of x ([N, G, Cg, H, W] or
    [N, C, H, W]), one row of `ow` at a time.

    Loops over vector transfers, not a linalg op: a generic's maps cannot say
    `oh * sh + kh * dh`, and a generic reading x with tensor.extract becomes
    gathers once tiled (the vectorizer's contiguity analysis rejects the
    tile offsets' affine.apply). With stride 1 a row of P is a contiguous
    read of x; with stride s, one read of the span and a shuffle that takes
    every s-th element."""
    n, g, cg, kh, kw, oh, ow = pshape
    etype = x.type.element_type
    hp, wp = x.type.shape[-2:]
    planes = n * g * cg
    x3 = _reshape(x, [planes, hp, wp])
    rows = planes * kh * kw
    index = ir.IndexType.get()
    pad = arith.constant(etype, 0.0)  # never read: every transfer is in bounds
    zero, one = arith.constant(index, 0), arith.constant(index, 1)
    outer = scf.ForOp(zero, arith.constant(index, rows), one,
                      [tensor.empty([rows, oh, ow], etype)])
    constants = {0: zero, 1: one}

    def c(v):
        if v not in constants:
            with ir.InsertionPoint(outer):
                constants[v] = arith.constant(index, v)
        return constants[v]

    def mul(a, v):
        return a if v == 1 else arith.muli(a, c(v))

    def add(a, v):
        return a if v == 0 else arith.addi(a, c(v))

    with ir.InsertionPoint(outer.body):
        r = outer.induction_variable
        plane = arith.divui(r, c(kh * kw))
        tap = arith.remui(r, c(kh * kw))
        row0 = mul(arith.divui(tap, c(kw)), dilations[0])
        col0 = mul(arith.remui(tap, c(kw)), dilations[1])
        inner = scf.ForOp(zero, c(oh), one, [outer.inner_iter_args[0]])
        with ir.InsertionPoint(inner.body):
            o = inner.induction_variable
            row = arith.addi(mul(o, strides[0]), row0)
            acc = inner.inner_iter_args[0]
            for start, width in _chunks(ow):
                col = add(col0, start * strides[1])
                v = _read(x3, [plane, row, col], (width - 1) * strides[1] + 1, etype, pad)
                if strides[1] != 1:
                    v = vector.shuffle(v, v, [i * strides[1] for i in range(width)])
                acc = _write(v, acc, [r, o, c(start)])
            scf.YieldOp([acc])
        scf.YieldOp([inner.results[0]])
    return outer.results[0]


# Elements per transfer along a row of P (four AVX-512 registers of f32):
# wider rows are split, so that no vector grows with the image.
_ROW_CHUNK = 64


def _chunks(size):
    return [(s, min(_ROW_CHUNK, size - s)) for s in range(0, size, _ROW_CHUNK)]


def _minor(rank):
    return ir.AffineMapAttr.get(ir.AffineMap.get(rank, 0, [ir.AffineDimExpr.get(rank - 1)]))


_IN_BOUNDS = lambda: ir.ArrayAttr.get([ir.BoolAttr.get(True)])  # noqa: E731


def _read(src, indices, width, etype, pad) -> ir.Value:
    """vector<width> along the innermost dim of `src`."""
    return vector.transfer_read(ir.VectorType.get([width], etype), src, indices,
                                _minor(len(src.type.shape)), pad, _IN_BOUNDS())


def _write(v, dest, indices) -> ir.Value:
    return vector.transfer_write(dest.type, v, dest, indices, _minor(len(dest.type.shape)),
                                 _IN_BOUNDS())
