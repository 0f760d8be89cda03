"""euler-pack-constant-weights: constant operands of matmuls packed at
compile time (-O3, `tiled` stage, before `euler-schedule-matmul`).

The schedule packs A into mr-row panels and B into nr-column panels of
kr-deep k-steps on every call. When one is a constant (a linear layer's
weight as B, a conv's as A, frozen into the code), that pack is the same
every time: it is done here once, in numpy, and the operand becomes a
`linalg.unpack` of the packed constant marked
`euler.zero_padded`, which the schedule reads in place (the mechanism
`euler-conv-to-matmul` uses for its patch matrices). The tiles are the
schedule's own (`heuristics.matmul_tiles` with the same options), so the
layouts agree; were they ever to differ, the schedule packs the unpacked
tensor again, which is slower but still right.
"""

from __future__ import annotations

import numpy as np
from mlir import ir
from mlir.dialects import arith, linalg, tensor

from ...dialects.ops import elements_to_numpy
from ...dialects.shapes import ShapeError
from ...pipelines.heuristics import matmul_tiles
from .. import OptionError, ops_named
from .schedule_matmul import PACKED_LAYOUT, ZERO_PADDED, _problem, _schedulable

NAME = "euler-pack-constant-weights"
SUMMARY = "Pack constant matmul operands into the schedule's panel layouts at compile time"


def run(module, num_threads=1, tiles=None):
    """`num_threads` and `tiles` must be the ones `euler-schedule-matmul` gets."""
    with module.context:
        for op in ops_named(module, "linalg.matmul"):
            if not _schedulable(op):
                continue
            _, M, N, K = _problem(op)
            weights = [_constant(v) for v in op.operands[:2]]
            if all(w is None for w in weights):
                continue  # activations on both sides: packed per call
            etype = op.operands[0].type.element_type
            try:
                t = matmul_tiles(M, N, K, dtype=str(etype), threads=num_threads,
                                 override=tiles)
            except ValueError as exc:  # the `tiles` option's
                op.location.emit_error(f"'{op.name}' op {exc}")
                raise OptionError() from None
            # A's panels are B's of A transposed: [M1, K1, kr, mr].
            for index, operand, w, lanes in ((0, "a", weights[0], t.mr),
                                             (1, "b", weights[1], t.nr)):
                if w is None:
                    continue
                packed = pack(w.T if operand == "a" else w, t.kr, lanes)
                with ir.InsertionPoint(op), op.location:
                    ptype = ir.RankedTensorType.get(list(packed.shape), etype)
                    source = arith.constant(ptype, ir.DenseElementsAttr.get(packed, type=ptype))
                    unpacked = linalg.unpack(source, tensor.empty(list(w.shape), etype),
                                             **PACKED_LAYOUT[operand](t.kr, lanes))
                    unpacked.owner.attributes[ZERO_PADDED] = ir.UnitAttr.get()
                old = op.operands[index]
                op.operands[index] = unpacked
                _erase_unused(old)


def _erase_unused(v):
    """Erase the weight's constant and the reshapes of it that nothing reads now."""
    while isinstance(v, ir.OpResult) and not any(True for _ in v.uses):
        owner = v.owner
        v = owner.operands[0] if len(owner.operands) else None
        owner.erase()


def _constant(v):
    """`v` as a numpy array when it is a non-splat constant, possibly through
    reshapes (a conv's weight as the matmul's A), else None."""
    shape = list(v.type.shape)
    while isinstance(v, ir.OpResult) and v.owner.name in ("tensor.collapse_shape",
                                                          "tensor.expand_shape"):
        v = v.owner.operands[0]
    if not isinstance(v, ir.OpResult) or v.owner.name != "arith.constant":
        return None
    value = v.owner.attributes["value"]
    if not isinstance(value, ir.DenseElementsAttr) or value.is_splat:
        return None  # dense_resource blobs cannot be read; a splat costs no pack
    try:
        return elements_to_numpy(value).reshape(shape)
    except ShapeError:
        return None  # an element type numpy has not: packed per call


def pack(b, kr, nr):
    """B[K, N] as [ceil(N/nr), ceil(K/kr), kr, nr] panels, zero-padded:
    packed[n1, k1, k0, n0] = B[k1*kr + k0, n1*nr + n0], linalg.pack's
    layout for outer_dims_perm = [1, 0], inner_dims_pos = [0, 1]."""
    K, N = b.shape
    k1, n1 = -(-K // kr), -(-N // nr)
    padded = np.zeros((k1 * kr, n1 * nr), dtype=b.dtype)
    padded[:K, :N] = b
    return np.ascontiguousarray(padded.reshape(k1, kr, n1, nr).transpose(2, 0, 1, 3))
