"""euler-conv-to-matmul: lower NCHW convolutions to matmuls (im2col), so that
they run on `euler-schedule-matmul`'s packed, threaded GEMM.

Runs at -O3 in the `tiled` stage, right before `euler-schedule-matmul`, on
the `linalg.conv_2d_nchw_fchw` / `linalg.conv_2d_ngchw_gfchw` ops that
`convert-euler-to-linalg` makes (padding is a `tensor.pad` of the input).
With images n, groups g, input channels c, kernel taps (kh, kw):

    P[g, (c, kh, kw), (n, oh, ow)] = x[n, g, c, oh*sh + kh*dh, ow*sw + kw*dw]
    y[n, g, f, oh, ow]              = (W[g, f, (c, kh, kw)] @ P[g])[f, (n, oh, ow)]

P is built one row of `ow` at a time by loops of vector transfers
(contiguous reads of x when the stride is 1, a shuffle otherwise); the
padding is written by vector loops too. The product is a `linalg.matmul`
(one group) or `linalg.batch_matmul` (over groups); all images share it as
columns, and a transposing generic (which elementwise fusion merges into a
bias/relu epilogue) brings the result back to NCHW. Images that are several
whole register tiles wide instead run as one matmul each (`per_image`: W
broadcast, no transpose). A 1x1 stride-1 convolution of one image needs no
patch matrix: P is x reshaped.

Only what the schedule handles, and where it pays, is rewritten: static
shapes, one float element type it packs (f32/f64), not depthwise. Anything
else (f16, integers, dynamic shapes, one input channel per group) stays a
convolution for the generic tiling and loop path.
"""

from __future__ import annotations

import math

from mlir import ir
from mlir.dialects import arith, linalg, scf, tensor, vector

# The element types euler-schedule-matmul packs: a conv of another type would
# become a matmul no schedule touches, i.e. naive loops plus an im2col copy.
from .schedule_matmul import _FLOAT_TYPES, ZERO_PADDED
from ..conversion.convert_euler_to_linalg import _reassociation
from ...pipelines import heuristics
from ...pipelines.heuristics import matmul_tiles

NAME = "euler-conv-to-matmul"
SUMMARY = "Lower linalg NCHW convolutions to (batch) matmuls over an im2col patch matrix"

_CONVS = ("linalg.conv_2d_nchw_fchw", "linalg.conv_2d_ngchw_gfchw")


def run(module, num_threads=1, tiles=None):
    """`num_threads`: workers the im2col copies are split over; `tiles`: the
    matmul tile override euler-schedule-matmul gets, whose register tile
    the patch matrix is laid out for."""
    convs = []

    def visit(op):
        if op.name in _CONVS and _convertible(op):
            convs.append(op.operation)
        return ir.WalkResult.ADVANCE

    module.walk(visit)
    for conv in convs:
        with ir.InsertionPoint(conv), conv.location:
            out = _lower(conv, num_threads, tiles)
        x, init = conv.operands[0], conv.operands[2]
        conv.results[0].replace_all_uses_with(out)
        conv.erase()
        _erase_if_unused(init)
        _erase_if_unused(x)


# Pure producers of a conv's operands, dead once the conv is rewritten.
_ERASABLE = ("linalg.fill", "tensor.empty", "tensor.pad", "tensor.expand_shape")


def _erase_if_unused(v):
    """Erase the conv's old init (a fill of an empty) and a padding folded
    into the patch loops once nothing uses them."""
    if not isinstance(v, ir.OpResult) or v.owner.name not in _ERASABLE \
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
    if op.name == "linalg.conv_2d_ngchw_gfchw" and types[1].shape[2] == 1:
        # Depthwise (one input channel per group): each group's matmul is a
        # 1 x KH*KW by KH*KW x OH*OW product, all packing and no reuse. The
        # generic path is faster: 0.63 against 1.03 ms for 1x64x56x56 3x3
        # (and euler-vectorize-depthwise, next, faster still).
        return False
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


def _lower(conv, num_threads, tiles=None) -> ir.Value:
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

    fill = init.owner if isinstance(init, ir.OpResult) and init.owner.name == "linalg.fill" \
        else None
    pointwise = kh == kw == 1 and sh == sw == 1
    if n > 1 and per_image(fg, oh * ow, k, str(etype)):
        # Big images: one matmul per (image, group), a batch_matmul with W
        # broadcast over the images, and no transpose of the result.
        batch = n * g
        lhs = _reshape(w, [g, fg, k] if g > 1 else [fg, k])
        lhs = linalg.broadcast(lhs, outs=[tensor.empty([n] + list(lhs.type.shape), etype)],
                               dimensions=[0])
        lhs = _reshape(lhs if isinstance(lhs, ir.Value) else lhs.results[0], [batch, fg, k])
        patches = x if pointwise else _im2col(x, [n, g, cg, kh, kw, oh, ow], (sh, sw),
                                              (dh, dw), num_threads, images_outer=True)
        rhs = _reshape(patches, [batch, k, oh * ow])
        cshape = [batch, fg, oh * ow]
        acc = _reshape(init, cshape) if fill is None else \
            linalg.fill(fill.operands[0], outs=[tensor.empty(cshape, etype)])
        y = linalg.batch_matmul(lhs, rhs, outs=[acc])
        return _reshape(y, list(init.type.shape))

    # Images are matmul columns, next to the pixels: W[G, Fg, K] x
    # P[G, K, N*OH*OW], one matmul (a batch over groups) with all the images'
    # pixels as columns; the result [G, Fg, N, OH*OW] is transposed to NCHW.
    lhs = _reshape(w, [g, fg, k] if g > 1 else [fg, k])
    cols = n * oh * ow
    if n == 1 and pointwise:
        patches = x  # [1, G, Cg, OH, OW] already (OH == H, OW == W)
        rhs = _reshape(patches, [g, k, cols] if g > 1 else [k, cols])
    elif g == 1:
        # Written in the schedule's packed layout of B, which it then reads
        # as it is: no patch matrix to pack again.
        t = matmul_tiles(f, cols, k, str(etype), threads=num_threads, override=tiles)
        packed = _im2col_packed(x, [n, c, kh, kw, oh, ow], (sh, sw), (dh, dw), num_threads,
                                t.kr, t.nr)
        rhs = linalg.unpack(packed, tensor.empty([k, cols], etype), inner_dims_pos=[0, 1],
                            inner_tiles=[t.kr, t.nr], outer_dims_perm=[1, 0])
        # The rows padding K to whole k-steps are zeros, as a pack's are.
        rhs.owner.attributes[ZERO_PADDED] = ir.UnitAttr.get()
    else:
        patches = _im2col(x, [n, g, cg, kh, kw, oh, ow], (sh, sw), (dh, dw), num_threads)
        rhs = _reshape(patches, [g, k, cols])

    # Accumulator: a fresh fill when the conv's init is one (so the schedule
    # sees, and threads, the fill), else the init's data in [G, Fg, N*OH*OW].
    cshape = [g, fg, cols] if g > 1 else [fg, cols]
    if fill is not None:
        acc = linalg.fill(fill.operands[0], outs=[tensor.empty(cshape, etype)])
    elif n > 1:
        acc = _reshape(_permute(_reshape(init, [n, g, fg, oh * ow]), [1, 2, 0, 3]), cshape)
    else:
        acc = _reshape(init, cshape)
    if g > 1:
        y = linalg.batch_matmul(lhs, rhs, outs=[acc])
    else:
        y = linalg.matmul(lhs, rhs, outs=[acc])
    if n > 1:
        y = _permute(_reshape(y, [g, fg, n, oh * ow]), [2, 0, 1, 3])
    return _reshape(y, list(init.type.shape))


def per_image(rows, pixels, depth, dtype) -> bool:
    """Whether a batch of images runs as one matmul per image (W broadcast,
    no transpose) rather than one matmul with every image's pixels as
    columns (then transposed to NCHW). Per image only when an image's pixels
    are several whole register tiles of the matmul schedule: a ragged last
    tile per image (14x14 = 6 x 32 + 4), or a single tile, costs more than
    the transpose. Measured on the
    ResNet basic block (8 x 14x14 outputs): 13.4 ms per image, 9.6 merged;
    the small CNN (8 x 32x32 and 8 x 16x16): 1.40 ms per image, 1.73 merged."""
    nr = matmul_tiles(rows, pixels, depth, dtype).nr
    return pixels % nr == 0 and pixels // nr >= 4


def _permute(v, perm):
    """v transposed by `perm` (result dim i is v's dim perm[i]), as a
    linalg.generic, so that elementwise fusion can merge it into an epilogue;
    `v` itself when only unit dims move."""
    shape = list(v.type.shape)
    if [p for p in perm if shape[p] != 1] == sorted(p for p in perm if shape[p] != 1):
        return _reshape(v, [shape[p] for p in perm])
    rank = len(perm)
    etype = v.type.element_type
    out = tensor.empty([shape[p] for p in perm], etype)
    # Input map: v[d_perm^-1] for output dims d.
    inverse = [perm.index(i) for i in range(rank)]
    in_map = ir.AffineMap.get(rank, 0, [ir.AffineDimExpr.get(d) for d in inverse])
    maps = [ir.AffineMapAttr.get(in_map), ir.AffineMapAttr.get(ir.AffineMap.get_identity(rank))]
    parallel = ir.Attribute.parse("#linalg.iterator_type<parallel>")
    op = linalg.GenericOp([out.type], [v], [out], ir.ArrayAttr.get(maps),
                          ir.ArrayAttr.get([parallel] * rank))
    body = op.regions[0].blocks.append(etype, etype)
    with ir.InsertionPoint(body):
        linalg.YieldOp([body.arguments[0]])
    return op.result


def _im2col(x, pshape, strides, dilations, threads, images_outer=False) -> ir.Value:
    """The patch tensor [G*Cg, KH*KW, N, OH, OW] (`images_outer`: [N, G*Cg,
    KH*KW, OH, OW]) of x ([N, G, Cg, H, W] or [N, C, H, W]), one row of `ow`
    at a time; split over `threads` by channels.

    Loops over vector transfers, not a linalg op: a generic's maps cannot say
    `oh * sh + kh * dh`, and a generic reading x with tensor.extract becomes
    gathers once tiled (the vectorizer's contiguity analysis rejects the
    tile offsets' affine.apply). With stride 1 a row of P is a contiguous
    read of x; with stride s, one read of the span and a shuffle that takes
    every s-th element. The taps are a loop, not unrolled: one-shot
    bufferization takes time exponential in the number of loops chained
    through iter_args (3x3 taps unrolled: 0.3 s, 4x4: 93 s)."""
    n, g, cg, kh, kw, oh, ow = pshape
    etype = x.type.element_type
    channels = g * cg
    b = _Builder(x, etype)
    x3 = _padded_planes(x, n * channels, b)
    taps = kh * kw

    def rows_of(ch0, count, dest):
        """Fill dest[ch, tap, n, :, :] for channels ch0 .. ch0 + count."""
        return b.loop(count, dest, lambda ch, acc: b.loop(
            n, acc, lambda image, acc: b.loop(
                taps, acc, lambda tap, acc: one_tap(ch0, ch, image, tap, acc))))

    def one_tap(ch0, ch, image, tap, acc):
        src_plane = ch if ch0 is None else arith.addi(ch, ch0)
        if n > 1:
            src_plane = arith.addi(arith.muli(image, b.c(channels)), src_plane)
        # Tap (i, j) of the kernel, i = tap / KW and j = tap % KW (None: 0).
        i = None if kh == 1 else tap if kw == 1 else arith.divui(tap, b.c(kw))
        j = None if kw == 1 else tap if kh == 1 else arith.remui(tap, b.c(kw))
        row0 = None if i is None else b.mul(i, dilations[0])
        col0 = None if j is None else b.mul(j, dilations[1])
        lead = [image, ch, tap] if images_outer else [ch, tap, image]

        def row(o, acc):
            r = b.mul(o, strides[0])
            r = r if row0 is None else arith.addi(r, row0)
            for start, width in _chunks(ow):
                col = b.c(start * strides[1]) if col0 is None else b.add(col0, start * strides[1])
                v = _read(x3, [src_plane, r, col], (width - 1) * strides[1] + 1, b.pad(0))
                if strides[1] != 1:
                    v = vector.shuffle(v, v, [i * strides[1] for i in range(width)])
                acc = _write(v, acc, lead + [o, b.c(start)])
            return acc
        return b.loop(oh, acc, row)

    def order(dims):  # [channels, taps, images, ...] in the patch tensor's order
        return dims[2:3] + dims[:2] + dims[3:] if images_outer else dims

    out = tensor.empty(order([channels, taps, n, oh, ow]), etype)
    # The work: one copied element per patch entry.
    copies = channels * taps * n * oh * ow
    if channels % threads == 0 and \
            heuristics.parallel_threads(copies / heuristics.PACK_ELEMENTS_PER_S, threads) > 1:
        chunk = channels // threads
        forall = scf.ForallOp([0], [threads], [1], [out])
        with ir.InsertionPoint(forall.body):
            ch0 = arith.muli(forall.induction_variables[0], b.c(chunk))
            sizes = order([chunk, taps, n, oh, ow])
            slice_ = dict(static_offsets=order([ir.ShapedType.get_dynamic_size()] + [0] * 4),
                          static_sizes=sizes, static_strides=[1] * 5)
            part = tensor.extract_slice(_ttype(sizes, etype), forall.inner_iter_args[0],
                                        [ch0], [], [], **slice_)
            part = rows_of(ch0, chunk, part)
            with ir.InsertionPoint(forall.terminator().region.blocks[0]):
                tensor.parallel_insert_slice(part, forall.inner_iter_args[0], [ch0], [], [],
                                             **slice_)
        return forall.results[0]
    return rows_of(None, channels, out)


def _im2col_packed(x, pshape, strides, dilations, threads, kr, nr) -> ir.Value:
    """The patch matrix P[(c, kh, kw), (n, oh, ow)] of x [N, C, H, W] packed
    as euler-schedule-matmul packs B: [ceil(cols / nr), ceil(K / kr), kr,
    nr], P[k, j] at [j / nr, k / kr, k % kr, j % nr], the rows padding K
    zero.

    A row of `ow` output pixels (fixed image, oh, channel and tap) lands in
    the columns r*ow .. r*ow + ow (r = image*OH + oh), cut where a panel of
    nr columns ends. Where the cuts fall repeats every p = nr / gcd(ow, nr)
    rows, so rows are handled p at a time with the cuts known statically:
    each piece one read of x (and a shuffle for strides) and one write.
    Split over `threads` by whole groups of p rows (whole panels) where they
    divide, else by channels (whole k-steps of rows of P): a small image
    (14x14, 7x7: fewer rows than one group) is all one group's remainder."""
    n, c, kh, kw, oh, ow = pshape
    etype = x.type.element_type
    b = _Builder(x, etype)
    x3 = _padded_planes(x, n * c, b)
    taps, k = kh * kw, c * kh * kw
    cols = n * oh * ow
    n1, k1 = _ceil(cols, nr), _ceil(k, kr)
    period = nr // math.gcd(ow, nr)
    rows = n * oh
    groups = rows // period
    # The pieces of row u of a group: (first pixel, width, panel, lane).
    pieces = []
    for u in range(period):
        start = 0
        while start < ow:
            col = u * ow + start
            width = min(ow - start, nr - col % nr)
            pieces.append((u, start, width, col // nr, col % nr))
            start += width
    panels_per_group = period * ow // nr

    def group(g0, panel0, acc, count=period, ch0=None, channels=c):
        """Rows g0 .. g0 + count (g0: an index value) into panels from
        `panel0` (an index value, relative to acc), for the `channels`
        channels from `ch0` (an index value; None: 0), whose first k-step
        is acc's first."""
        def channel(ch, acc):
            return b.loop(taps, acc, lambda tap, acc: one_tap(ch, tap, acc))

        def one_tap(ch, tap, acc):
            kk = arith.addi(arith.muli(ch, b.c(taps)), tap) if taps > 1 else ch
            if ch0 is not None:
                ch = arith.addi(ch, ch0)
            kq, ks = (arith.divui(kk, b.c(kr)), arith.remui(kk, b.c(kr))) if kr > 1 \
                else (kk, b.c(0))
            i = None if kh == 1 else tap if kw == 1 else arith.divui(tap, b.c(kw))
            j = None if kw == 1 else tap if kh == 1 else arith.remui(tap, b.c(kw))
            row0 = None if i is None else b.mul(i, dilations[0])
            col0 = None if j is None else b.mul(j, dilations[1])
            for u, start, width, panel, lane in pieces:
                if u >= count:
                    break
                r = b.add(g0, u)
                image, o = (arith.divui(r, b.c(oh)), arith.remui(r, b.c(oh))) if n > 1 \
                    else (None, r)
                plane = ch if image is None else arith.addi(arith.muli(image, b.c(c)), ch)
                src_r = b.mul(o, strides[0])
                src_r = src_r if row0 is None else arith.addi(src_r, row0)
                src_c = start * strides[1]
                src_c = b.c(src_c) if col0 is None else b.add(col0, src_c)
                v = _read(x3, [plane, src_r, src_c], (width - 1) * strides[1] + 1, b.pad(0))
                if strides[1] != 1:
                    v = vector.shuffle(v, v, [q * strides[1] for q in range(width)])
                acc = _write(v, acc, [b.add(panel0, panel), kq, ks, b.c(lane)])
            return acc
        return b.loop(channels, acc, channel)

    def group_loop(first, count, acc):
        """Groups first .. first + count into acc, whose panel 0 is group first's."""
        def body(gi, acc):
            rel = gi if first == 0 else arith.subi(gi, b.c(first))
            return group(b.mul(gi, period), b.mul(rel, panels_per_group), acc)
        return b.loop(first + count, acc, body, start=first)

    out = tensor.empty([n1, k1, kr, nr], etype)
    # One copied element per patch entry, at the speed of the schedule's packs.
    copies = k * cols
    parallel = heuristics.parallel_threads(copies / heuristics.PACK_ELEMENTS_PER_S, threads) > 1
    by_rows = parallel and groups % threads == 0 and groups >= threads
    by_channels = parallel and not by_rows and c % threads == 0 \
        and (c // threads * taps) % kr == 0
    if by_channels:
        # Each thread all rows of its channels: a slice of whole k-steps.
        chunk = c // threads
        steps = chunk * taps // kr
        forall = scf.ForallOp([0], [threads], [1], [out])
        with ir.InsertionPoint(forall.body):
            ch0 = arith.muli(forall.induction_variables[0], b.c(chunk))
            step0 = arith.muli(forall.induction_variables[0], b.c(steps))
            sizes = [n1, steps, kr, nr]
            slice_ = dict(static_offsets=[0, ir.ShapedType.get_dynamic_size(), 0, 0],
                          static_sizes=sizes, static_strides=[1] * 4)
            part = tensor.extract_slice(_ttype(sizes, etype), forall.inner_iter_args[0],
                                        [step0], [], [], **slice_)

            def row_group(gi, acc):
                return group(b.mul(gi, period), b.mul(gi, panels_per_group), acc,
                             ch0=ch0, channels=chunk)
            part = b.loop(groups, part, row_group)
            if rows % period:
                part = group(b.c(groups * period), b.c(groups * panels_per_group), part,
                             count=rows % period, ch0=ch0, channels=chunk)
            with ir.InsertionPoint(forall.terminator().region.blocks[0]):
                tensor.parallel_insert_slice(part, forall.inner_iter_args[0], [step0], [], [],
                                             **slice_)
        acc = forall.results[0]
    elif by_rows:
        chunk = groups // threads
        forall = scf.ForallOp([0], [threads], [1], [out])
        with ir.InsertionPoint(forall.body):
            first = arith.muli(forall.induction_variables[0], b.c(chunk))
            panel_off = arith.muli(forall.induction_variables[0], b.c(chunk * panels_per_group))
            sizes = [chunk * panels_per_group, k1, kr, nr]
            slice_ = dict(static_offsets=[ir.ShapedType.get_dynamic_size(), 0, 0, 0],
                          static_sizes=sizes, static_strides=[1] * 4)
            part = tensor.extract_slice(_ttype(sizes, etype), forall.inner_iter_args[0],
                                        [panel_off], [], [], **slice_)
            op = scf.ForOp(b.c(0), b.c(chunk), b.c(1), [part])
            with ir.InsertionPoint(op.body):
                gi = arith.addi(first, op.induction_variable)
                scf.YieldOp([group(b.mul(gi, period), b.mul(op.induction_variable,
                                                            panels_per_group),
                                   op.inner_iter_args[0])])
            with ir.InsertionPoint(forall.terminator().region.blocks[0]):
                tensor.parallel_insert_slice(op.results[0], forall.inner_iter_args[0],
                                             [panel_off], [], [], **slice_)
        acc = forall.results[0]
    else:
        acc = group_loop(0, groups, out)
    if rows % period and not by_channels:
        # The last rows, short of a group: their cuts are the group's first.
        g0 = groups * period
        acc = group(b.c(g0), b.c(groups * panels_per_group), acc, count=rows % period)
    if k % kr:
        # Zero rows pad K (A's padding is zero too, but 0 * NaN is not 0).
        zeros = b.pad(nr)
        def pad_panel(p, acc):
            for ks in range(k % kr, kr):
                acc = _write(zeros, acc, [p, b.c(k1 - 1), b.c(ks), b.c(0)])
            return acc
        acc = b.loop(n1, acc, pad_panel)
    return acc


def _ceil(a, b):
    return -(-a // b)


class _Builder:
    """Index constants and padding values hoisted to the function's entry,
    and scf.for loops that carry one tensor."""

    def __init__(self, anchor, etype):
        owner = anchor.owner if isinstance(anchor, ir.OpResult) else anchor.owner.owner
        self.entry = _function_block(owner)
        self.etype = etype
        self.pad_value = 0.0
        self.constants = {}

    def _hoisted(self, key, build):
        if key not in self.constants:
            with ir.InsertionPoint.at_block_begin(self.entry):
                self.constants[key] = build()
        return self.constants[key]

    def c(self, v):
        return self._hoisted(v, lambda: arith.constant(ir.IndexType.get(), v))

    def pad(self, width):
        """The padding value: a vector of `width`, or the scalar for width 0."""
        ty = ir.VectorType.get([width], self.etype) if width else self.etype
        value = ir.FloatAttr.get(self.etype, self.pad_value)
        return self._hoisted(("pad", self.pad_value, width), lambda: arith.constant(
            ty, ir.DenseElementsAttr.get_splat(ty, value) if width else value))

    def mul(self, a, v):
        return a if v == 1 else arith.muli(a, self.c(v))

    def add(self, a, v):
        return a if v == 0 else arith.addi(a, self.c(v))

    def loop(self, stop, init, body, start=0):
        """scf.for i in [start, stop) carrying `init`; body(i, acc) -> acc.
        A single trip is inlined, no trip is `init`."""
        if stop - start == 1:
            return body(self.c(start), init)
        if stop <= start:
            return init
        op = scf.ForOp(self.c(start), self.c(stop), self.c(1), [init])
        with ir.InsertionPoint(op.body):
            scf.YieldOp([body(op.induction_variable, op.inner_iter_args[0])])
        return op.results[0]


def _padded_planes(x, planes, b) -> ir.Value:
    """x as [planes, Hp, Wp]. A constant `tensor.pad` of H and W is redone
    here as vector loops (zero rows, zero column edges, row copies): the
    upstream lowering of tensor.pad copies through memref.copy of strided
    views, an element-at-a-time runtime call."""
    hp, wp = x.type.shape[-2:]
    source, (top, left), value = _unpadded(x)
    if source is x:
        return _reshape(x, [planes, hp, wp])
    b.pad_value = value
    h, w = source.type.shape[-2:]
    src = _reshape(source, [planes, h, w])
    right = wp - left - w

    def zero_row(p, r, acc):
        for start, width in _chunks(wp):
            acc = _write(b.pad(width), acc, [p, r, b.c(start)])
        return acc

    def copy_row(p, r, acc):
        dst_r = b.add(r, top)
        for start, width in _chunks(left) + [(left + w + s, n) for s, n in _chunks(right)]:
            acc = _write(b.pad(width), acc, [p, dst_r, b.c(start)])
        for start, width in _chunks(w):
            v = _read(src, [p, r, b.c(start)], width, b.pad(0))
            acc = _write(v, acc, [p, dst_r, b.c(left + start)])
        return acc

    def plane(p, acc):
        acc = b.loop(top, acc, lambda r, a: zero_row(p, r, a))
        acc = b.loop(h, acc, lambda r, a: copy_row(p, r, a))
        return b.loop(hp, acc, lambda r, a: zero_row(p, r, a), start=top + h)

    padded = b.loop(planes, tensor.empty([planes, hp, wp], x.type.element_type), plane)
    b.pad_value = 0.0
    return padded


def _unpadded(x):
    """(source, (top, left), pad value) when x is a constant padding of H and
    W only (seen through the expand_shape of the grouped form), else
    (x, (0, 0), 0)."""
    value = x
    if isinstance(value, ir.OpResult) and value.owner.name == "tensor.expand_shape":
        value = value.owner.operands[0]
        # Only the grouped form's split of C: a 1-D conv's expand of [N, C, W]
        # to [N, C, 1, W] would take C for H (Canine's padded conv1d).
        if value.type.rank != 4 or list(value.type.shape[-2:]) != list(x.type.shape[-2:]):
            return x, (0, 0), 0.0
    if not isinstance(value, ir.OpResult) or value.owner.name != "tensor.pad":
        return x, (0, 0), 0.0
    pad = value.owner
    low = list(ir.DenseI64ArrayAttr(pad.attributes["static_low"]))
    high = list(ir.DenseI64ArrayAttr(pad.attributes["static_high"]))
    yielded = pad.regions[0].blocks[0].operations[0].operands[0]
    if len(pad.operands) != 1 or any(low[:-2]) or any(high[:-2]) \
            or not isinstance(yielded, ir.OpResult) or yielded.owner.name != "arith.constant" \
            or not isinstance(yielded.owner.attributes["value"], ir.FloatAttr):
        return x, (0, 0), 0.0  # dynamic or non-constant padding: read the padded copy
    return pad.operands[0], (low[-2], low[-1]), ir.FloatAttr(yielded.owner.attributes["value"]).value


def _function_block(op):
    """The entry block of the function around `op`."""
    op = op.operation
    while op.name != "func.func":
        op = op.parent
    return op.regions[0].blocks[0]


# Elements per transfer along a row of P (four AVX-512 registers of f32):
# wider rows are split, so that no vector grows with the image.
_ROW_CHUNK = 64


def _chunks(size):
    return [(s, min(_ROW_CHUNK, size - s)) for s in range(0, size, _ROW_CHUNK)]


def _minor(rank):
    return ir.AffineMapAttr.get(ir.AffineMap.get(rank, 0, [ir.AffineDimExpr.get(rank - 1)]))


_IN_BOUNDS = lambda: ir.ArrayAttr.get([ir.BoolAttr.get(True)])  # noqa: E731


def _read(src, indices, width, pad) -> ir.Value:
    """vector<width> along the innermost dim of `src`."""
    return vector.transfer_read(ir.VectorType.get([width], src.type.element_type), src, indices,
                                _minor(len(src.type.shape)), pad, _IN_BOUNDS())


def _write(v, dest, indices) -> ir.Value:
    return vector.transfer_write(dest.type, v, dest, indices, _minor(len(dest.type.shape)),
                                 _IN_BOUNDS())
