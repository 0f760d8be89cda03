"""euler-lower-strided-copies: copies between strided buffers as loops, not runtime calls.

Runs at the start of the `loops` stage, on buffers. Bufferization writes a
`memref.copy` wherever a tensor is inserted into a slice of another (a `cat`
of rotary embeddings' halves, a head's rows into their place).
`convert-to-llvm` makes a copy between contiguous buffers a memcpy, but one
with any gap (half of each row) a call of MLIR's `memrefCopy`, which walks
the elements one at a time through the descriptors' dynamic strides: 3 ns an
element here, 50 us for Llama's 1x4x128x32 half of its rotated queries. As a
`linalg.copy` it becomes a loop nest of static bounds and strides that LLVM
vectorizes along the contiguous innermost dimension.
"""

from __future__ import annotations

import math

from mlir import ir
from mlir.dialects import linalg

from .. import ops_named

NAME = "euler-lower-strided-copies"
SUMMARY = "Rewrite memref.copy between non-contiguous static buffers as linalg.copy loops"


def run(module):
    with module.context:
        for op in ops_named(module.operation, "memref.copy"):
            source, target = op.operands
            if _contiguous(source.type) and _contiguous(target.type):
                continue  # a memcpy already
            if not (_static(source.type) and _static(target.type)):
                continue  # dynamic shapes: the runtime's copy handles any
            with ir.InsertionPoint(op), op.location:
                linalg.copy(source, outs=[target])
            op.erase()


def _static(t) -> bool:
    return isinstance(t, ir.MemRefType) and ir.MemRefType(t).has_static_shape


def _contiguous(t) -> bool:
    """Row-major without gaps (strides of unit dimensions do not matter),
    which the LLVM lowering copies with one memcpy."""
    t = ir.MemRefType(t)
    if not t.has_static_shape:
        return False
    strides, _ = t.get_strides_and_offset()
    expected = 1
    for size, stride in reversed(list(zip(t.shape, strides))):
        if size != 1 and stride != expected:
            return False
        expected *= size
    return math.prod(t.shape) == expected
