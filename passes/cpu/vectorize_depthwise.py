"""euler-vectorize-depthwise: depthwise convolutions and max pooling as
vector loops along the output rows (-O3, `tiled` stage, after
`euler-conv-to-matmul`).

A depthwise conv (`linalg.conv_2d_ngchw_gfchw` with one input channel per
group, as MobileNet's) has no reuse for a matmul (euler-conv-to-matmul
leaves it), and on the generic path its window loops stay scalar. Here each
output plane is computed a row at a time, in chunks two vector registers
wide: the chunk's accumulator starts from the init (a fill's value, or the
init's data), and every tap adds the tap's weight times one contiguous read
of the (padded) input row, or with a stride a read of the span and a
shuffle. The taps are unrolled inside the row loop, so the accumulator
never leaves registers; the loops carry the output tensor, as
euler-conv-to-matmul's patch loops do (whose helpers this reuses: padding
redone as vector loops, transfers along the innermost dimension).

Max pooling (`linalg.pooling_nchw_max`) is the same window loop with a max
for the FMA and no weights: on the generic path its loops stayed scalar
(ResNet-18's 3x3/2 pool of 64 x 112 x 112, 1 thread: 5.5 ms, 0.95 ms here).

Static shapes and float element types only; anything else stays a
convolution (or pooling) for the generic path.
"""

from __future__ import annotations

from mlir import ir
from mlir.dialects import arith, tensor, vector

from ...pipelines import heuristics
from .conv_to_matmul import (_Builder, _erase_if_unused, _ints, _padded_planes, _read,
                             _reshape, _write)

NAME = "euler-vectorize-depthwise"
SUMMARY = "Lower depthwise convolutions to vector loops along the output rows"

_FLOATS = (ir.F32Type, ir.F64Type)


def run(module):
    convs = []

    def visit(op):
        if op.name in ("linalg.conv_2d_ngchw_gfchw", "linalg.pooling_nchw_max") \
                and _depthwise(op):
            convs.append(op.operation)
        return ir.WalkResult.ADVANCE

    module.walk(visit)
    for conv in convs:
        with ir.InsertionPoint(conv), conv.location:
            out = _lower(conv)
        x, init = conv.operands[0], conv.operands[2]
        conv.results[0].replace_all_uses_with(out)
        conv.erase()
        _erase_if_unused(init)
        _erase_if_unused(x)


def _depthwise(op) -> bool:
    types = [v.type for v in op.operands]
    if not all(isinstance(t, ir.RankedTensorType) and t.has_static_shape for t in types):
        return False  # dynamic shapes: the generic path
    if any(d == 0 for t in types for d in t.shape):
        return False  # nothing to compute
    if op.name != "linalg.pooling_nchw_max" and types[1].shape[2] != 1:
        return False  # not depthwise
    etype = types[0].element_type
    return isinstance(etype, _FLOATS) and all(t.element_type == etype for t in types)


def _lower(conv) -> ir.Value:
    x, w, init = conv.operands
    etype = x.type.element_type
    pool = conv.name == "linalg.pooling_nchw_max"
    if pool:  # x [N, C, H, W], w the [KH, KW] window: a plane per channel
        n, g = x.type.shape[:2]
        fg, (kh, kw) = 1, w.type.shape
    else:
        n, g = x.type.shape[:2]
        _, fg, _, kh, kw = w.type.shape
    oh, ow = init.type.shape[-2:]
    sh, sw = _ints(conv, "strides")
    dh, dw = _ints(conv, "dilations")
    planes = n * g * fg
    b = _Builder(x, etype)
    x3 = _padded_planes(x, n * g, b)
    w2 = None if pool else _reshape(w, [g * fg, kh * kw])
    fill = init.owner if isinstance(init, ir.OpResult) and init.owner.name == "linalg.fill" \
        else None
    init3 = None if fill is not None else _reshape(init, [planes, oh, ow])
    lanes = heuristics.VECTOR_BYTES // (etype.width // 8)
    chunk = 2 * lanes  # two registers: taps' reads overlap the adds
    chunks = [(s, min(chunk, ow - s)) for s in range(0, ow, chunk)]

    def plane(p, acc):
        # Output plane p = (image, group, filter): input plane image*g + group
        # = p / fg, weights row (group, filter) = p % (g * fg).
        src = p if fg == 1 else arith.divui(p, b.c(fg))
        weights = None
        if not pool:
            wrow = p if n == 1 else arith.remui(p, b.c(g * fg))
            weights = [tensor.extract(w2, [wrow, b.c(t)]) for t in range(kh * kw)]
        return b.loop(oh, acc, lambda o, acc: row(p, src, weights, o, acc))

    def row(p, src, weights, o, acc):
        r0 = b.mul(o, sh)
        for start, width in chunks:
            vty = ir.VectorType.get([width], etype)
            if fill is not None:
                total = vector.broadcast(vty, fill.operands[0])
            else:
                total = _read(init3, [p, o, b.c(start)], width, b.pad(0))
            for i in range(kh):
                r = b.add(r0, i * dh)
                for j in range(kw):
                    v = _read(x3, [src, r, b.c(start * sw + j * dw)], (width - 1) * sw + 1,
                              b.pad(0))
                    if sw != 1:
                        v = vector.shuffle(v, v, [q * sw for q in range(width)])
                    if pool:
                        total = arith.maximumf(total, v)
                        continue
                    wv = vector.broadcast(vty, weights[i * kw + j])
                    total = vector.fma(v, wv, total)
            acc = _write(total, acc, [p, o, b.c(start)])
        return acc

    out = b.loop(planes, tensor.empty([planes, oh, ow], etype), plane)
    return _reshape(out, list(init.type.shape))
