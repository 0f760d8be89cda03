"""Tile-size heuristics for the CPU pipeline: the one place that picks them.

The passes that tile (`euler-schedule-matmul`, ...) ask here and accept a
per-call override from `Options.tile_sizes`, so an experiment never needs a
code change. The numbers come from measurements on a 2-core AVX-512 machine
(see the shared notes): an 8x32 f32 register tile holds the accumulator in
16 zmm registers, and a k-step of 4 beats 1 and 8.
"""

from __future__ import annotations

import dataclasses

# Bytes of one vector register: 64 with AVX-512, the JIT's host target.
VECTOR_BYTES = 64
# Matmuls of fewer multiply-adds than this (256^3 and below) run on one thread.
MIN_PARALLEL_MACS = 1 << 25


@dataclasses.dataclass(frozen=True)
class MatmulTiles:
    """How one (batch) matmul C[M,N] += A[M,K] @ B[K,N] is tiled.

    mr x nr is the register tile (C accumulator), kr the k-step of the
    micro-kernel; mc x nc x kc the cache tile, in elements. A is packed into
    mr-row panels and B into nr-column panels, K padded with zeros to whole
    k-steps; rows and columns left over are peeled by the schedule. `parallel` names the dimension ("m" or
    "n") split over `threads` workers."""

    mc: int
    nc: int
    kc: int
    mr: int
    nr: int
    kr: int
    parallel: str = "m"
    threads: int = 1


def _ceil(a, b):
    return -(-a // b)


def matmul_tiles(M, N, K, dtype="f32", threads=1, override=None, batch=1) -> MatmulTiles:
    """Tiles for `batch` matmuls of M x K by K x N in `dtype`, on `threads` cores.

    `override` is a tuple (mc, nc, kc) or (mc, nc, kc, mr, nr, kr), in
    elements, e.g. from `euler.compile(..., tile_sizes={"matmul": (...)})`."""
    bytes_ = {"f64": 8, "f32": 4, "f16": 2, "bf16": 2}.get(dtype, 4)
    lanes = VECTOR_BYTES // bytes_
    # Two vector registers wide, 8 rows: 16 accumulators + 2 B + 1 A broadcast
    # of the 32 registers (16x32 spills).
    mr, nr, kr = 8, 2 * lanes, 4
    # Cache tile: a kc x nc block of B (256 KiB f32) stays in L2 while mc
    # rows of A stream past it, one kc x mr panel (16 KiB) in L1 at a time;
    # packed B is swept once per mc rows, so mc is the larger. Measured at
    # 2048^3 / 77x4096x1024 against (128, 256, 512): 0.97 / 0.95 of numpy
    # instead of 0.94 / 0.76-0.85.
    mc, nc, kc = 256, 128, 512
    if override is not None:
        override = tuple(int(v) for v in override)
        if len(override) not in (3, 6) or min(override) <= 0:
            raise ValueError("matmul tile sizes are (mc, nc, kc) or (mc, nc, kc, mr, nr, kr), "
                             f"all positive; got {override}")
        mc, nc, kc = override[:3]
        if len(override) == 6:
            mr, nr, kr = override[3:]
    # No bigger register tile than the problem (remainders are peeled).
    mr, nr = min(mr, M), min(nr, N)
    # Cache tiles are whole register tiles, spread evenly so that the last
    # one is not a sliver: ceil(K/kc) blocks of (nearly) equal size.
    mc = _balanced(M, mc, mr)
    nc = _balanced(N, nc, nr)
    kc = _balanced(K, kc, kr)
    # Split the dimension with more register tiles over the threads: thin-M
    # (inference) matmuls still use every core.
    parallel = "m" if _ceil(M, mr) >= _ceil(N, nr) else "n"
    # Waking the async runtime's workers costs tens of microseconds per
    # parallel loop (two: the packs, merged, and the kernel).
    if batch * M * N * K < MIN_PARALLEL_MACS:
        threads = 1
    return MatmulTiles(mc, nc, kc, mr, nr, kr, parallel, max(1, threads))


def _balanced(size, tile, unit):
    """`tile` rounded to whole `unit`s and evened out over `size`."""
    tile = max(unit, tile // unit * unit)
    blocks = _ceil(size, tile)
    return _ceil(_ceil(size, blocks), unit) * unit


# --- non-matmul work: fusion tiles and vector widths (euler-tile-and-fuse,
# euler-vectorize) -------------------------------------------------------------

# A fused group's tile (its slice of every member's output) should sit in L2
# with room to spare, so the producers' tiles are still there for the consumer.
FUSION_TILE_BYTES = 256 * 1024
# Below this many output elements a group is not split over threads: waking the
# async runtime's workers costs more than the work.
MIN_PARALLEL_ELEMENTS = 1 << 15


def fusion_tile(size, bytes_per_index, threads=1, override=None) -> int:
    """Tile size along the one dimension a fused group is tiled on.

    `size` is the dimension's extent, `bytes_per_index` the bytes all members
    of the group write per index along it. The tile divides `size` (static
    shapes vectorize; remainders don't), fits FUSION_TILE_BYTES when it can,
    and leaves at least two tiles per thread so that threads balance.
    `override` (an int, e.g. `tile_sizes={"fusion": 8}`) wins, clamped to a
    divisor of `size`."""
    if override is not None:
        target = int(override)
    else:
        target = max(1, FUSION_TILE_BYTES // max(1, bytes_per_index))
        if threads > 1:
            target = min(target, max(1, size // (2 * threads)))
    return _largest_divisor_at_most(size, max(1, target))


def vector_width(size, dtype="f32", override=None) -> int:
    """Elements per vector along an innermost dimension of `size`: up to four
    registers (fewer live registers than 32 even for the polynomial exp),
    dividing `size`; 0 when no width of at least half a register divides it."""
    lanes = VECTOR_BYTES // {"f64": 8, "f32": 4, "f16": 2, "bf16": 2}.get(dtype, 4)
    target = int(override) if override is not None else 4 * lanes
    width = _largest_divisor_at_most(size, target)
    if width == size and size <= target:
        return size
    return width if width >= lanes // 2 else 0


def _largest_divisor_at_most(n, limit):
    for d in range(min(n, limit), 0, -1):
        if n % d == 0:
            return d
    return 1
