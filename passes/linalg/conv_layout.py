"""euler-conv-layout: run NCHW/FCHW convolutions in NHWC/HWCF layout.

euler's conv2d is NCHW x FCHW (PyTorch's layout), which `convert-euler-to-
linalg` lowers to `linalg.conv_2d_nchw_fchw`. Channels-last puts the
reduction over input channels and the output filters in the innermost,
unit-stride dimensions, which is what a vectorizing schedule wants. This pass
rewrites each `linalg.conv_2d_nchw_fchw` into

    transpose x to NHWC -> linalg.conv_2d_nhwc_hwcf -> transpose back to NCHW

with the weight transposed at compile time when it is an `arith.constant`
(the usual case: euler-fold-constants has already evaluated anything computed
from constants) and the zero-filled init created directly in NHWC. It runs on
linalg IR, after `convert-euler-to-linalg`.

Not enabled by default, because it does not pay yet. Measured on this
machine (conv 1x64x56x56 * 64x64x3x3, padding 1, -O1, best of 4 calls x 6
interleaved rounds, three runs): NCHW 92-124 ms, NHWC 92-104 ms; the ratio
ranged from 0.90x to 1.19x with the constant weight and 0.92x to 1.04x with a
weight argument, i.e. within the noise of a shared 2-core machine. At -O1
both layouts become the same scalar loop nest (about 1.2 GFMA/s) and the two
activation transposes (800 KB each) are too small to register. The layout
should pay once a vectorizing schedule maps the filter dimension onto vector
lanes; re-measure then.
"""

from __future__ import annotations

import numpy as np
from mlir import ir
from mlir.dialects import arith, linalg, tensor

NAME = "euler-conv-layout"
SUMMARY = "Rewrite linalg NCHW/FCHW convolutions to NHWC/HWCF, folding constant weight transposes"

TO_NHWC = (0, 2, 3, 1)
TO_HWCF = (2, 3, 1, 0)
TO_NCHW = (0, 3, 1, 2)


def _permuted_type(t: ir.RankedTensorType, perm) -> ir.RankedTensorType:
    return ir.RankedTensorType.get([t.shape[p] for p in perm], t.element_type)


def _transpose(v: ir.Value, perm) -> ir.Value:
    t = _permuted_type(v.type, perm)
    init = tensor.empty(list(t.shape), t.element_type)
    return _value(linalg.transpose(v, outs=[init], permutation=list(perm)))


def _value(built) -> ir.Value:
    # Named-op builders return the op itself when it has no unique result
    # type to infer (linalg.transpose) and the result value otherwise.
    return built if isinstance(built, ir.Value) else built.results[0]


def _producer(v: ir.Value, name: str):
    owner = v.owner
    if isinstance(owner, ir.Block) or owner.operation.name != name:
        return None
    return owner.operation


def _constant_transpose(v: ir.Value, perm):
    """`v` transposed at compile time, if it is a constant numpy can read."""
    const = _producer(v, "arith.constant")
    if const is None or not isinstance(const.attributes["value"], ir.DenseElementsAttr):
        return None  # not a constant: transposed at run time instead
    attr = const.attributes["value"]
    t = _permuted_type(v.type, perm)
    if attr.is_splat:
        return arith.ConstantOp(t, ir.DenseElementsAttr.get_splat(t, attr.get_splat_value())).result
    if isinstance(v.type.element_type, ir.BF16Type):
        return None  # numpy has no bf16 to transpose the data with
    array = np.array(attr).reshape(v.type.shape)
    data = np.ascontiguousarray(np.transpose(array, perm))
    return arith.ConstantOp(t, ir.DenseElementsAttr.get(data, type=t)).result


def _nhwc_init(init: ir.Value) -> ir.Value:
    fill = _producer(init, "linalg.fill")
    t = _permuted_type(init.type, TO_NHWC)
    if fill is None:
        return _transpose(init, TO_NHWC)  # an arbitrary init: move its data
    empty = tensor.empty(list(t.shape), t.element_type)
    return _value(linalg.fill(fill.operands[0], outs=[empty]))


def _ints(attr) -> list:
    return [int(v) for v in ir.DenseIntElementsAttr(attr)] if attr is not None else [1, 1]


def to_channels_last(conv: ir.Operation) -> None:
    """Rewrite one `linalg.conv_2d_nchw_fchw` in place."""
    x, w, init = conv.operands
    attrs = conv.attributes
    strides = _ints(attrs["strides"] if "strides" in attrs else None)
    dilations = _ints(attrs["dilations"] if "dilations" in attrs else None)
    with ir.InsertionPoint(conv), conv.location:
        x_nhwc = _transpose(x, TO_NHWC)
        w_hwcf = _constant_transpose(w, TO_HWCF)
        if w_hwcf is None:
            w_hwcf = _transpose(w, TO_HWCF)
        y = _value(linalg.conv_2d_nhwc_hwcf(x_nhwc, w_hwcf, outs=[_nhwc_init(init)],
                                            strides=strides, dilations=dilations))
        out = _transpose(y, TO_NCHW)
    conv.results[0].replace_all_uses_with(out)
    conv.erase()
    # The NCHW init and the FCHW weight constant are usually dead now.
    for v in (init, w):
        _erase_if_unused(v)


def _erase_if_unused(v: ir.Value) -> None:
    owner = v.owner
    if isinstance(owner, ir.Block) or owner.operation.name not in (
            "linalg.fill", "tensor.empty", "arith.constant") or any(True for _ in v.uses):
        return  # a block argument, an op we do not know to be pure, or still used
    owner = owner.operation
    operands = list(owner.operands)
    owner.erase()
    for operand in operands:
        _erase_if_unused(operand)


def run(module):
    convs = []

    def visit(op):
        if op.name == "linalg.conv_2d_nchw_fchw":
            convs.append(op.operation)
        return ir.WalkResult.ADVANCE

    module.walk(visit)
    with module.context:
        for conv in convs:
            to_channels_last(conv)
