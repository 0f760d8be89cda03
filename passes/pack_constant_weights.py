"""euler-pack-constant-weights: constant B operands of matmuls packed at
compile time (-O3, `tiled` stage, before `euler-schedule-matmul`).

The schedule packs B into nr-column panels of kr-deep k-steps on every
call. When B is a constant (a linear layer's weight frozen into the code),
that pack is the same every time: it is done here once, in numpy, and B
becomes a `linalg.unpack` of the packed constant marked
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

from ..dialects.ops import elements_to_numpy
from ..dialects.shapes import ShapeError
from ..pipelines.heuristics import matmul_tiles
from . import OptionError, ops_named
from .schedule_matmul import ZERO_PADDED, _problem, _schedulable

NAME = "euler-pack-constant-weights"
SUMMARY = "Pack constant matmul B operands into the schedule's panel layout at compile time"


def run(module, num_threads=1, tiles=None):
    """`num_threads` and `tiles` must be the ones `euler-schedule-matmul` gets."""
    with module.context:
        for op in ops_named(module, "linalg.matmul"):
            b = op.operands[1]
            if not _schedulable(op) or not isinstance(b, ir.OpResult) \
                    or b.owner.name != "arith.constant":
                continue  # batch matmuls' B are activations; only constants pack here
            value = b.owner.attributes["value"]
            if not isinstance(value, ir.DenseElementsAttr) or value.is_splat:
                continue  # dense_resource blobs cannot be read; a splat costs no pack
            try:
                weights = elements_to_numpy(value)
            except ShapeError:
                continue  # an element type numpy has not: packed per call
            _, M, N, K = _problem(op)
            etype = b.type.element_type
            try:
                t = matmul_tiles(M, N, K, dtype=str(etype), threads=num_threads,
                                 override=tiles)
            except ValueError as exc:  # the `tiles` option's
                op.location.emit_error(f"'{op.name}' op {exc}")
                raise OptionError() from None
            packed = pack(weights, t.kr, t.nr)
            with ir.InsertionPoint(op), op.location:
                ptype = ir.RankedTensorType.get(list(packed.shape), etype)
                source = arith.constant(ptype, ir.DenseElementsAttr.get(packed, type=ptype))
                rhs = linalg.unpack(source, tensor.empty([K, N], etype), inner_dims_pos=[0, 1],
                                    inner_tiles=[t.kr, t.nr], outer_dims_perm=[1, 0])
                rhs.owner.attributes[ZERO_PADDED] = ir.UnitAttr.get()
            op.operands[1] = rhs
            if not any(True for _ in b.uses):
                b.owner.erase()


def pack(b, kr, nr):
    """B[K, N] as [ceil(N/nr), ceil(K/kr), kr, nr] panels, zero-padded:
    packed[n1, k1, k0, n0] = B[k1*kr + k0, n1*nr + n0], linalg.pack's
    layout for outer_dims_perm = [1, 0], inner_dims_pos = [0, 1]."""
    K, N = b.shape
    k1, n1 = -(-K // kr), -(-N // nr)
    padded = np.zeros((k1 * kr, n1 * nr), dtype=b.dtype)
    padded[:K, :N] = b
    return np.ascontiguousarray(padded.reshape(k1, kr, n1, nr).transpose(2, 0, 1, 3))
