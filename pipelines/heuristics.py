"""Tile-size heuristics for the CPU and CUDA pipelines: the one place that picks them.

The passes that tile (`euler-schedule-matmul`, ...) ask here and accept a
per-call override from `Options.tile_sizes`, so an experiment never needs a
code change. CPU tiles follow the vector unit of the machine the JIT
compiles for (MLIR's ExecutionEngine targets the host CPU): its register
width and count, read from the CPU's flags (`host_vector_unit`). The numbers
come from measurements on 2-core machines (see the shared notes): with
AVX-512 an 8x32 f32 register tile holds the accumulator in 16 of the 32 zmm
registers and a k-step of 4 beats 1 and 8; with AVX2 a 6x16 tile (12 of 16
ymm registers) runs 1.8-2.5x faster than that 8x32 one, which spills.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import platform
import warnings

from ..options import cpu_from_env

# (bytes of one vector register, number of them) of each vector unit.
VECTOR_UNITS = {"avx512": (64, 32), "avx2": (32, 16), "sse": (16, 16), "neon": (16, 32)}


@functools.lru_cache(maxsize=None)
def host_vector_unit() -> str:
    """The vector unit the JIT's code runs on: $EULER_CPU if set, else the
    host's, from /proc/cpuinfo's flags on x86 (avx512f, avx2 + fma)."""
    unit = cpu_from_env()
    if unit in VECTOR_UNITS:
        return unit
    if unit is not None:
        warnings.warn(f"EULER_CPU={unit!r} is none of {', '.join(VECTOR_UNITS)}: "
                      "planning for the host's vector unit", stacklevel=2)
    machine = platform.machine().lower()
    if machine in ("aarch64", "arm64"):
        return "neon"
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.split(":", 1)[1].split() for line in f
                          if line.startswith("flags")), [])
    except OSError:
        flags = []  # not Linux: assume the common case below
    if "avx512f" in flags:
        return "avx512"
    if ("avx2" in flags and "fma" in flags) or not flags:
        return "avx2"
    return "sse"


VECTOR_BYTES, VECTOR_REGISTERS = VECTOR_UNITS[host_vector_unit()]


def host_description() -> str:
    """The CPU's model and the vector unit these heuristics plan for, for the
    headers of benchmark tables (the machine changes between runs)."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f
                          if line.startswith("model name")), model)
    except OSError:
        pass
    return (f"{model}, {os.cpu_count()} cores; tiles planned for {host_vector_unit()} "
            f"({VECTOR_REGISTERS} x {VECTOR_BYTES}-byte vector registers)")

# --- threads: when a parallel loop pays for itself (euler-schedule-matmul,
# euler-tile-and-fuse, euler-conv-to-matmul) ----------------------------------

# An scf.forall costs about this much however little it does: handing the
# team its work (runtime/openmp.py: libgomp's workers spin a while before
# they sleep) and waiting at the end for the last thread.
# benchmarks/parallel_dispatch.py on the 2-core KVM Xeon (AVX-512) of
# 2026-12-02: t2 - t1/2 = 7-14 us from 256 to 1M elements of a fused GELU;
# two threads lost up to 4K elements (1.11x slower) and won from 16K (0.88x;
# 0.59x at 256K). MLIR's async runtime, before, cost 100-160 us there (its
# workers sleep at once, and waking a core of a VM is slow) and 61-63 us on
# a 2-core AMD Zen 3 box.
DISPATCH_S = 10e-6
# One core's throughput the work estimates assume: multiply-adds of the packed
# f32 matmul micro-kernel (an estimate, not measured here), and arith/math ops
# of vectorized elementwise code, one op on one element (the same benchmark:
# 256K elements of its 53-op body in 0.67 ms on one thread, 21e9 ops/s; the
# estimate then puts the break-even between 64K and 256K, as measured).
MACS_PER_S = 30e9
OPS_PER_S = 20e9
# Elements a pack (or im2col) copies per second on one core: a strided
# gather into panels. perf of ResNet-18's 64-channel 3x3 conv (0b6d4f9): B's
# pack of 576 x 3136 elements, 28% of a 115M-MAC kernel, ~0.6 ns an element.
PACK_ELEMENTS_PER_S = 2e9


def parallel_threads(seconds, threads) -> int:
    """Workers for a parallel loop estimated to take `seconds` on one thread:
    `threads` where splitting saves at least twice the dispatch cost, else 1
    (two threads must never be slower than one)."""
    if threads > 1 and seconds * (1 - 1 / threads) >= 2 * DISPATCH_S:
        return threads
    return 1


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
    # Two vector registers wide; rows to fill the registers but for 2 of B and
    # 1 broadcast of A: 6 of 16 (12 accumulators, BLIS's AVX2 kernel), and
    # 8 of 32 (16 accumulators; 16 rows spilled). AVX2, 1 thread, against
    # 8x32: 128x256x256 2.3x faster, 64x3136x576 1.8x, 256x196x2304 2.4x.
    # (One vector wide where two would leave a ragged remainder.)
    mr, nr, kr = min(8, (VECTOR_REGISTERS - 3) // 2), _register_columns(N, lanes), 4
    # Cache tile: a kc x nc block of B (256 KiB f32) stays in L2 while mc
    # rows of A stream past it, one kc x mr panel (16 KiB) in L1 at a time;
    # packed B is swept once per mc rows, so mc is the larger. Measured at
    # 2048^3 / 77x4096x1024 against (128, 256, 512): 0.97 / 0.95 of numpy
    # instead of 0.94 / 0.76-0.85.
    mc, nc, kc = 256, 128, 512
    if override is not None:
        override = _tile_override(override, "matmul tile sizes are (mc, nc, kc) or "
                                  "(mc, nc, kc, mr, nr, kr)")
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
    # Two parallel loops: the packs (merged) and the kernel.
    threads = parallel_threads(batch * M * N * K / MACS_PER_S / 2, threads)
    return MatmulTiles(mc, nc, kc, mr, nr, kr, parallel, max(1, threads))


# Cost per column of C of a register tile one vector wide, and of a
# remainder (or a whole N) between one and two vectors wide, against the
# two-vector tile's: the micro-kernel of a width that is not a whole number
# of vectors is slow (17 of 49 columns took most of the time). AVX-512 Xeon
# of 2026-12-02, 1 thread, f32 3x3 convs as matmuls (M = 512 filters, K =
# 4608, N = 7x7 pixels; K = 2304, N = 14x14), nr 32 -> 16: N = 49 8.45 ->
# 3.34 ms (at stride 2 from 14x14: 4.39 -> 1.60), N = 196 (6 x 32 + 4) 2.00
# -> 2.56. A 512x1024 @ 1024xN constant: N = 20 1.92 -> 0.65 ms, 24 2.42 ->
# 0.51, 56 2.68 -> 0.74; 40 (32 + 8) 0.79 -> 0.91.
_ONE_VECTOR_COST, _RAGGED_COST = 1.3, 7.0


def _register_columns(N, lanes) -> int:
    """Register-tile columns for a matmul N wide: two vectors, or one where
    two would leave a ragged remainder (wider than one vector) that costs
    more than the narrower tiles."""
    def cost(nr):
        rest = N % nr
        return ((N - rest) * (1.0 if nr == 2 * lanes else _ONE_VECTOR_COST)
                + rest * (_RAGGED_COST if rest > lanes else _ONE_VECTOR_COST))
    return min((2 * lanes, lanes), key=cost)


def _tile_override(override, what):
    """`override` as a tuple of 3 or 6 positive ints, else a ValueError
    saying `what` they should be."""
    override = tuple(int(v) for v in override)
    if len(override) not in (3, 6) or min(override) <= 0:
        raise ValueError(f"{what}, all positive; got {override}")
    return override


def _balanced(size, tile, unit):
    """`tile` rounded to whole `unit`s and evened out over `size`."""
    tile = max(unit, tile // unit * unit)
    blocks = _ceil(size, tile)
    return _ceil(_ceil(size, blocks), unit) * unit


# --- matmuls on the GPU (euler-gpu-schedule-matmul) ----------------------------

# Blocks to keep an H100/H200 (132 multiprocessors) busy; fewer output tiles
# than this shrink the block tile before the GPU idles.
GPU_MULTIPROCESSORS = 132
# Shared memory one block may take (sm_90 opt-in limit: 227 KiB).
GPU_SMEM_BYTES = 227 * 1024


@dataclasses.dataclass(frozen=True)
class GpuMatmulTiles:
    """How one (batch) matmul is tiled on the GPU: a block computes bm x bn
    of C, stepping K by bk with `stages` shared-memory buffers in flight.
    `math` is "mma" (f16/bf16 tensor cores), "tf32" (f32 on tensor cores) or
    "ffma" (exact f32). For the tensor cores each warp computes wm x wn
    (16 x 8 mma tiles); for "ffma" each thread computes tm x tn."""

    bm: int
    bn: int
    bk: int
    wm: int
    wn: int
    stages: int
    # Blocks are launched in groups of this many tile rows (L2 reuse).
    group_m: int = 8
    math: str = "mma"
    tm: int = 8
    tn: int = 8
    # K cut into this many slices, each a batch of its own whose partial
    # products a reduction adds (gpu_matmul_split).
    split: int = 1

    @property
    def threads(self):
        if self.math == "wgmma":
            return 128 * (self.bm // self.wm)
        if self.math == "ffma":
            return (self.bm // self.tm) * (self.bn // self.tn)
        return 32 * (self.bm // self.wm) * (self.bn // self.wn)


# Exact-f32 block tiles (bm, bn) with their thread tiles (tm, tn), largest
# first: 256 threads down to 128 and 64, 64 accumulators a thread down to 8.
_FFMA_TILES = ((128, 128, 8, 8), (64, 128, 4, 8), (64, 64, 4, 4), (32, 64, 4, 4),
               (32, 32, 2, 4), (16, 32, 2, 4))


def gpu_matmul_tiles(M, N, K, dtype="f16", override=None, batch=1,
                     allow_tf32=False, wgmma=False) -> GpuMatmulTiles:
    """Tiles for `batch` matmuls of M x K by K x N in `dtype`; `wgmma` for
    sm_90's TMA + wgmma kernel (16-bit operands).

    `override` is (bm, bn, bk) or (bm, bn, bk, wm, wn, stages) -- for exact
    f32, (bm, bn, bk, tm, tn, stages) -- e.g. from
    `euler.compile(..., target="cuda", tile_sizes={"matmul": (...)})`."""
    bytes_ = {"f32": 4, "f16": 2, "bf16": 2}.get(dtype, 2)
    if wgmma:
        return _wgmma_tiles(M, N, batch, override)
    math = "mma" if bytes_ == 2 else ("tf32" if allow_tf32 else "ffma")
    tm = tn = 8
    if math == "mma":
        # 128 x 128 x 32 with four 64 x 64 warps (128 f32 accumulators a
        # thread) and 4 stages: 64 KiB of shared memory, two blocks per
        # multiprocessor. Measured on the H200 at 4096^3 f16 against
        # 128x128x64/3 stages (the same) and 128x256x32 with 8 warps (-10%).
        bm, bn, bk, wm, wn, stages = 128, 128, 32, 64, 64, 4
    elif math == "tf32":
        # The same warps on 4-byte elements: 3 stages of 32 KiB.
        bm, bn, bk, wm, wn, stages = 128, 128, 32, 64, 64, 3
    else:
        # 256 threads of 8 x 8 (64 accumulators and 16 operands a thread);
        # 3 stages of 16 KiB. Fewer output tiles than multiprocessors (the
        # encoder's 128 x 512 projections: 4 blocks on 132 multiprocessors,
        # each looping over all of K) take the largest smaller tile that
        # still gives (nearly) every multiprocessor a block.
        bm, bn, bk, wm, wn, stages = 128, 128, 16, 64, 64, 3
        for bm, bn, tm, tn in _FFMA_TILES:
            if batch * _ceil(M, bm) * _ceil(N, bn) >= 0.9 * GPU_MULTIPROCESSORS:
                break
    if M <= 64:
        # Thin M (inference): a block as tall as M, narrower and deeper in K
        # so that enough blocks stream B with enough bytes in flight.
        bm = max(16, 1 << (M - 1).bit_length())
        if math == "ffma":
            tm = max(1, bm // 16)
        else:
            wm, bk = bm if bm <= 64 else 64, 64 if math == "mma" else 32
            bn = 128
            while bn > 32 and batch * _ceil(N, bn) < GPU_MULTIPROCESSORS:
                bn //= 2
            wn = 32
    if override is not None:
        override = _tile_override(override, "GPU matmul tile sizes are (bm, bn, bk) or "
                                  "(bm, bn, bk, wm, wn, stages)")
        bm, bn, bk = override[:3]
        wm, wn = min(wm, bm), min(wn, bn)
        if len(override) == 6:
            if math == "ffma":
                tm, tn, stages = override[3:]
            else:
                wm, wn, stages = override[3:]
    t = GpuMatmulTiles(bm, bn, bk, wm, wn, stages, math=math, tm=tm, tn=tn)
    pow2 = lambda v: v & (v - 1) == 0  # noqa: E731
    if math == "ffma":
        ok = (tn % 4 == 0 and bm % tm == 0 and bn % tn == 0
              and all(pow2(v) for v in (bm, bn, bk, tm, tn)))
        what = "thread tiles must divide the block tile, tn a multiple of 4"
    else:
        kstep = 8 if math == "tf32" else 16
        ok = (wm % 16 == 0 and wn % 16 == 0 and bk % kstep == 0 and bm % wm == 0
              and bn % wn == 0 and all(pow2(v) for v in (bm, bn, bk, wm, wn)))
        what = (f"warp tiles must be multiples of 16 dividing the block tile, bk a multiple "
                f"of {kstep}")
    if not ok or stages < 2:
        raise ValueError(f"GPU matmul tiles {t}: {what}, all powers of two, stages >= 2")
    if t.threads > 1024:
        raise ValueError(f"GPU matmul tiles {t}: {t.threads} threads, more than 1024")
    if stages * (bm + bn) * bk * bytes_ > GPU_SMEM_BYTES:
        raise ValueError(f"GPU matmul tiles {t}: the shared-memory stages take more than "
                         f"{GPU_SMEM_BYTES} bytes")
    return t


# The shortest slice of K that split-K gives a matmul of very few tiles.
GPU_SPLIT_MIN_K = 64


def gpu_matmul_split(M, N, K, t, batch=1, override=None) -> int:
    """Slices of K for an exact-f32 matmul `t` leaves with too few blocks to
    fill the GPU: with so few outputs that only tiles of fewer than 128
    threads give every multiprocessor a block (the encoder's 128 x 512
    projections: 16 x 32 tiles of 64 threads, each summing all of K), K is cut
    into slices of at least 512, as many as keep 32 x 64 tiles of the sliced
    problem within two blocks a multiprocessor; cuBLAS splits these too.
    (Shorter slices cost more in the reduction's traffic and launch than
    they save.)
    `override` (`tile_sizes={"split_k": n}`) forces n, 1 turns it off."""
    if override is not None:
        split = int(override)
        if split < 1 or K % split or (K // split) % 16:
            raise ValueError(f"split_k {override}: K = {K} must split into slices of a "
                             "multiple of 16")
        return split
    if t.math != "ffma" or batch > 1:
        return 1
    tiles = _ceil(M, t.bm) * _ceil(N, t.bn)
    if tiles * 4 <= GPU_MULTIPROCESSORS:
        # Fewer tiles than a quarter of the multiprocessors, whatever their
        # threads (thin M: the MLP's 64 x 1024 layers, 32 tiles; the small
        # CNN's classifier, 8 x 10 x 4096, one): slices of at least
        # GPU_SPLIT_MIN_K, up to two blocks a multiprocessor and 32 slices.
        # H200, benchmarks/cuda.py --gemm f32 --split N (whole call, the
        # slices' sum included, us) for N = 1/2/4/8/16/32: 8x10x4096
        # 78.0/41.7/23.7/14.7/9.9/7.6 (cuBLAS 11.6), 64x10x1024
        # 27.9/17.4/11.3/8.4/7.0/6.5 (10.0), 64x1024x1024
        # 31.3/19.1/15.5/11.5/11.5/12.8 (13.8), 64x1024x512
        # 17.7/12.2/10.6/8.8/9.5/10.5 (10.8): this picks 32, 16, 8, 8.
        split = 1
        while (2 * split <= 32 and K % (2 * split) == 0 and (K // (2 * split)) % 16 == 0
               and K // (2 * split) >= GPU_SPLIT_MIN_K
               and tiles * 2 * split <= 2 * GPU_MULTIPROCESSORS):
            split *= 2
        return split
    if t.threads >= 128:
        return 1
    split = 1
    while (split < 8 and K % (2 * split) == 0 and K // (2 * split) >= 512
           and _ceil(M, 32) * _ceil(N, 64) * 2 * split <= 2 * GPU_MULTIPROCESSORS):
        split *= 2
    return split


def _wgmma_tiles(M, N, batch, override):
    """sm_90: a warpgroup per 64 rows of the block tile, bk = 64 (one
    128-byte swizzle row of 16-bit elements). The largest of 128 x 256,
    128 x 128, 64 x 128, 64 x 64 that still gives (nearly) every
    multiprocessor a block; the largest tile alone on a multiprocessor with 4
    stages, the smaller ones two to a multiprocessor (one's epilogue overlaps
    the other's loop).
    Measured on the H200, f16 4096^3: 128 x 256 with 4 stages 0.89 of cuBLAS,
    3 stages the same, 128 x 128 with 3 stages 0.86 and with 6 0.79, 256 x 128
    0.79; at 1024^3, 64 x 128 0.78 against 128 x 128's 0.61."""
    for bm, bn in ((128, 256), (128, 128), (64, 128), (64, 64)):
        if batch * _ceil(M, bm) * _ceil(N, bn) >= 0.9 * GPU_MULTIPROCESSORS:
            break
    bk, stages = 64, None
    if override is not None:
        override = _tile_override(override, "GPU matmul tile sizes are (bm, bn, bk) or "
                                  "(bm, bn, bk, wm, wn, stages)")
        bm, bn, bk = override[:3]
        if len(override) == 6:
            stages = override[5]
    stage_bytes = (bm + bn) * bk * 2
    if stages is None:
        per_sm = 1 if bm * bn > 128 * 128 else 2
        stages = min(6, (GPU_SMEM_BYTES // per_sm - 1024) // stage_bytes)
    t = GpuMatmulTiles(bm, bn, bk, 64, bn, stages, math="wgmma")
    if bk != 64 or bm % 64 or not 64 <= bm <= 256 or bn % 64 or not 64 <= bn <= 256:
        raise ValueError(f"GPU matmul tiles {t}: wgmma tiles are bm of 64 to 256 rows "
                         f"(a warpgroup each 64), bn a multiple of 64 up to 256, bk 64")
    if stages < 2 or stages * stage_bytes + 1024 > GPU_SMEM_BYTES:
        raise ValueError(f"GPU matmul tiles {t}: stages >= 2 whose shared memory fits in "
                         f"{GPU_SMEM_BYTES} bytes")
    return t


# --- non-matmul work: fusion tiles and vector widths (euler-tile-and-fuse,
# euler-vectorize) -------------------------------------------------------------

# A fused group's tile (its slice of every member's output) should sit in L2
# with room to spare, so the producers' tiles are still there for the consumer.
FUSION_TILE_BYTES = 256 * 1024


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


FILL_VECTOR = 4096


def vectorize_fill(columns) -> bool:
    """Whether a matmul's zero fill of C is written a row per vector store.
    Longer rows are left to LLVM (a memset): a whole row as one vector
    (vector<44748xf32> for a transposed conv's im2col matmul) aborted LLVM's
    instruction selection with too many operands for one SelectionDAG node."""
    return columns <= FILL_VECTOR


def _largest_divisor_at_most(n, limit):
    for d in range(min(n, limit), 0, -1):
        if n % d == 0:
            return d
    return 1


# --- reductions (euler-split-reductions) ----------------------------------------

# Terms one accumulator may sum before the sum is split into blocks (rows of
# up to this many columns stay one loop). Each block's partial sum, and each
# sum of partials, is at most this long, so the f32 rounding error stays near
# a pairwise sum's bound log2(n) * u * sum|x|: over 4M-term rows and 1M-term
# columns of values in [100, 101], at most 0.14 of it at 256 terms, 0.28 at
# 512, 0.52 at 1024 and 0.9 at 4096 (unsplit: 10^4 times over). Measured at
# -O3, splitting rows at 256 cost nothing (softmax, layer_norm, 1k-32k wide).
REDUCTION_BLOCK = 256


def reduction_block(override=None) -> int:
    """Terms per accumulator of a blocked sum (`tile_sizes={"reduction": n}`)."""
    block = int(override) if override is not None else REDUCTION_BLOCK
    if block < 2:
        raise ValueError(f"the reduction block must be at least 2 terms, got {block}")
    return block


# --- fused groups on the GPU (euler-gpu-form-groups) ----------------------------

# Bytes one thread loads at once: ld.global.v4.f32, the widest load there is.
GPU_VECTOR_BYTES = 16
# Vectors a thread keeps per row: the row lives in registers between the passes
# of a softmax or layer_norm (16 x 4 f32 = 64 registers), so it is read once.
GPU_MAX_CHUNKS = 16
# Vectors a thread handles when it may choose: enough loads in flight to cover
# memory latency, few enough threads per row to keep block reductions cheap.
GPU_CHUNKS = 4
# Threads of a block, at least (several short rows share one).
GPU_MIN_BLOCK = 256
# Threads a block for a group with reductions that writes whole rows
# (softmax, layer_norm), unless a thread would then keep more than
# GPU_WARP_CHUNKS vectors of the row: the row stays in registers between
# passes, and 1024-thread blocks leave 64 registers a thread. H200,
# benchmarks/cuda.py timing (kernel_time), ms:
#   layer_norm 4096 x 16384: 1024 x 4 0.150, 512 x 8 0.136;
#   layer_norm 4096 x 32768: 1024 x 8 0.303 (58 registers), 512 x 16 0.380
#     (93 registers: one block of 16 warps a multiprocessor);
#   rows over a cluster of 8, 512 x 131072: 1024 x 4 layer_norm 0.267 (ptxas
#     spills), softmax 0.172; 512 x 8 0.187 and 0.162.
# A 32768-column f32 row, which one 1024-thread block holds at 8 vectors a
# thread, stays in that block: splitting it over a cluster costs more than
# the one block a multiprocessor of this shape. H200, 4096 x 32768,
# benchmarks/row_variants.py --plan rows (ms, threads x vectors x cluster):
#   layer_norm 1024 x 8 0.286; 512 x 8 x 2 0.359, 256 x 8 x 4 0.303,
#     512 x 4 x 4 0.345, 1024 x 4 x 2 0.400, 1024 x 2 x 4 0.460,
#     256 x 4 x 8 0.380, 1024 x 1 x 8 1.089 (torch.compile 0.283-0.285);
#   softmax 1024 x 8 0.263; 512 x 8 x 2 0.282, 1024 x 4 x 2 0.289,
#     256 x 8 x 4 0.303, 512 x 4 x 4 0.312.
GPU_ROW_THREADS = 512
# Vectors a thread takes in a group of reductions alone (a row sum), which
# keeps nothing in registers: more threads, fewer vectors each. H200, 4096 x
# 8192 sum/max rows, 512 x 4 -> 1024 x 2: 0.0373 -> 0.0357 ms.
GPU_REDUCE_CHUNKS = 2
# Vectors a thread keeps when one warp takes a row with reductions: a warp
# combines by shuffles alone, with no shared-memory step and no barrier,
# which pays for twice the chunks. H200, 4096 x 1024 (256 vectors a row),
# one warp x 8 chunks against two x 4: layer_norm 0.0140 -> 0.0123 ms (0.95
# -> 1.08 x torch.compile), softmax 0.0123 -> 0.0124 (benchmarks/cuda.py timing).
GPU_WARP_CHUNKS = 8
# Rows, at least, for a group whose rows do not fit in registers to be one
# kernel of a block a row (half the multiprocessors of an H100/H200); fewer
# long rows take the loop-nest path, where euler-split-reductions spreads
# each row's sums over many threads.
GPU_MIN_LONG_ROWS = 64
# Blocks of a thread-block cluster (sm_90 and later) that may share a row a
# block's registers cannot hold: the row stays in the cluster's registers,
# read once, and the blocks combine their reductions through distributed
# shared memory. 8 is the largest cluster every sm_90 launch allows.
GPU_MAX_CLUSTER = 8


@dataclasses.dataclass(frozen=True)
class GpuRowSchedule:
    """How one fused group over rows of `cols` elements runs on the GPU: a
    block of `threads` x `rows_per_block` threads takes `rows_per_block`
    rows (or, for groups without reductions, `col_tiles` blocks split a
    row); each thread handles `chunks` vectors of `vector` elements, strided
    by `threads` vectors so that a warp's loads are contiguous."""

    threads: int
    rows_per_block: int
    vector: int
    chunks: int
    col_tiles: int = 1
    # Rows longer than registers hold (groups with reductions): each pass
    # over the row loops over this many tiles of threads x chunks vectors.
    row_tiles: int = 1
    # Or (sm_90 on): the row is split over the `cluster` blocks of a thread
    # block cluster (col_tiles == cluster), which combine their reductions.
    cluster: int = 1


def gpu_row_schedule(rows, cols, elem_bytes=4, reduces=True, override=None, clusters=False,
                     stores_rows=True):
    """The schedule of a group over `rows` rows of `cols` elements, or None
    for a few rows too long for registers (`reduces`: the group has row
    reductions, so a row cannot be split over blocks unless `clusters`: the
    chip has thread block clusters, whose blocks can combine them;
    `stores_rows`: it writes whole rows, not only per-row values).

    `override` is (threads, rows_per_block[, cluster]), e.g. from
    `tile_sizes={"gpu_row": (256, 1)}`, or (1024, 1, 8): each row over a
    cluster of 8 blocks of 1024 threads."""
    vector = GPU_VECTOR_BYTES // elem_bytes
    while vector > 1 and cols % vector:
        vector //= 2
    nvec = _ceil(cols, vector)
    col_tiles, cluster = 1, 1
    if override is not None:
        threads, rows_per_block, *rest = (int(v) for v in override)
        cluster = rest[0] if rest else 1
        if threads % 32 or not 32 <= threads <= 1024 or rows_per_block < 1 \
                or threads * rows_per_block > 1024 or len(rest) > 1 \
                or cluster not in (1, 2, 4, 8) or (cluster > 1 and rows_per_block > 1):
            raise ValueError("GPU row tiles are (threads, rows_per_block[, cluster]): threads a "
                             "multiple of 32 up to 1024, at most 1024 in all, a cluster of 1, "
                             f"2, 4 or 8 blocks (with one row a block); got {override}")
        if cluster > 1 and not (reduces and clusters):
            cluster = 1  # nothing to combine across blocks, or no clusters on this chip
    else:
        threads = 32
        per_thread = GPU_REDUCE_CHUNKS if reduces and not stores_rows else GPU_CHUNKS
        rows_kept = reduces and stores_rows
        if 32 * (GPU_WARP_CHUNKS if reduces else GPU_CHUNKS) < nvec:
            while threads < 1024 and threads * per_thread < nvec and not (
                    rows_kept and threads >= GPU_ROW_THREADS
                    and threads * GPU_WARP_CHUNKS >= nvec):
                threads *= 2
        rows_per_block = max(1, GPU_MIN_BLOCK // threads)
        if reduces and clusters and _ceil(nvec, threads) > GPU_MAX_CHUNKS:
            # The fewest blocks whose registers hold the row: GPU_ROW_THREADS
            # threads of at most GPU_WARP_CHUNKS vectors where the row is
            # kept, GPU_CHUNKS where only reductions read it.
            if rows_kept:
                threads = GPU_ROW_THREADS
            most = GPU_WARP_CHUNKS if rows_kept else GPU_CHUNKS
            while cluster < GPU_MAX_CLUSTER and _ceil(nvec, threads * cluster) > most:
                cluster *= 2
    if cluster > 1:
        rows_per_block = 1
        chunks = _ceil(nvec, threads * cluster)
        col_tiles = cluster
        if chunks > GPU_MAX_CHUNKS or (override is None and rows * cluster < GPU_MIN_LONG_ROWS):
            cluster, col_tiles = 1, 1  # too long even for a cluster, or too few rows
    if cluster == 1:
        chunks = _ceil(nvec, threads)
    if chunks > GPU_CHUNKS and not reduces:
        # Nothing ties a row to one block: split it.
        chunks = GPU_CHUNKS
        col_tiles = _ceil(nvec, threads * chunks)
    row_tiles = 1
    if chunks > GPU_MAX_CHUNKS:
        if rows < GPU_MIN_LONG_ROWS:
            return None  # a block a row would leave most of the chip idle
        # The row does not fit in registers: every pass over it loops over
        # tiles, loading them again (from L2 where the row still is).
        chunks = GPU_CHUNKS
        row_tiles = _ceil(nvec, threads * chunks)
        rows_per_block = 1
    while rows % rows_per_block:
        rows_per_block //= 2
    return GpuRowSchedule(threads, max(1, rows_per_block), vector, chunks, col_tiles, row_tiles,
                          cluster)


# --- column reductions on the GPU (euler-gpu-form-groups) -------------------------

# A column reduction's block: 32 threads across the columns, each a 16-byte
# vector of them (a warp reads 512 contiguous bytes of a row), and this many
# warps down the rows, combined through shared memory.
GPU_COLUMN_WARPS = 8
# Rows a thread loads before it combines them: that many 16-byte loads in
# flight per thread, and a tree of them, not a chain.
GPU_COLUMN_UNROLL = 8
# Blocks, at least, that a column reduction should give the chip (about two
# per multiprocessor of an H100/H200); a cluster's blocks split the rows to
# reach it, and fewer blocks than a multiprocessor each keep the loop nest.
# H200, 4096 x 8192 column sum (64 blocks of columns), kernel_time: clusters
# of 8 0.0401 ms, of 4 0.0390, of 2 0.0393 (torch.compile 0.0425).
GPU_COLUMN_BLOCKS = 256
GPU_MIN_COLUMN_BLOCKS = 132


@dataclasses.dataclass(frozen=True)
class GpuColumnSchedule:
    """How a reduction over the rows of a `rows` x `cols` operand runs on the
    GPU: blocks of 32 x `warps` threads each take 32 `vector`-wide columns,
    a warp a row at a time, `unroll` rows per step; the `cluster` blocks of
    a cluster split the rows and combine their sums."""

    warps: int
    vector: int
    unroll: int
    cluster: int = 1


def gpu_column_schedule(rows, cols, elem_bytes=4, clusters=False, override=None):
    """The schedule of a column reduction, or None where its columns are too
    few to give the chip work (the loop nest splits the rows instead).
    `override`: (warps, cluster), from `tile_sizes={"gpu_column": (8, 4)}`."""
    vector = GPU_VECTOR_BYTES // elem_bytes
    while vector > 1 and cols % vector:
        vector //= 2
    col_blocks = _ceil(_ceil(cols, vector), 32)
    if override is not None:
        warps, cluster = (int(v) for v in override)
        if not 1 <= warps <= 32 or cluster not in (1, 2, 4, 8):
            raise ValueError("GPU column tiles are (warps, cluster): 1 to 32 warps, a cluster "
                             f"of 1, 2, 4 or 8 blocks; got {override}")
        return GpuColumnSchedule(warps, vector, GPU_COLUMN_UNROLL, cluster if clusters else 1)
    warps, cluster = GPU_COLUMN_WARPS, 1
    while clusters and cluster < GPU_MAX_CLUSTER and col_blocks * cluster < GPU_COLUMN_BLOCKS \
            and rows >= 2 * cluster * warps * GPU_COLUMN_UNROLL:
        cluster *= 2
    if col_blocks * cluster < GPU_MIN_COLUMN_BLOCKS:
        return None
    return GpuColumnSchedule(warps, vector, GPU_COLUMN_UNROLL, cluster)
