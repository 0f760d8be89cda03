"""The CPU pipeline: euler -> linalg -> tiled -> vectorized -> bufferized -> loops -> llvm.

Each stage is one function that appends passes to a fresh PassManager; the
driver (`pipelines/driver.py`) runs them in order, records the IR after each
and can stop after any of them. What a stage does depends on the opt level:

  -O0  naive loops
  -O1  + graph-level passes on the euler dialect
  -O2  + elementwise fusion, tiling with producer-consumer fusion
  -O3  + vectorization, packing and threads
"""

from .. import passes
from ..options import Options


def euler(pm, opts: Options):
    # Shape rules first: everything after may assume well-typed euler IR.
    passes.add(pm, "euler-verify")
    if opts.opt_level >= 1:
        # Simplify first so that folding sees fewer, larger constant chains,
        # and again after, for the identities folding exposes (x * folded 1).
        passes.add(pm, "euler-simplify")
        passes.add(pm, "euler-fold-constants")
        passes.add(pm, "euler-simplify")
        passes.add(pm, "euler-cse")
        passes.add(pm, "euler-dce")


def linalg(pm, opts: Options):
    passes.add(pm, "convert-euler-to-linalg")
    pm.add("canonicalize")


_MATMULS = "linalg.matmul,linalg.batch_matmul"


def tiled(pm, opts: Options):
    if opts.opt_level >= 2:
        # Before tiling, so every tile copy shares one polynomial.
        passes.add(pm, "euler-expand-math")
    if opts.opt_level >= 3:
        # Convolutions become matmuls over an im2col patch matrix, for the
        # matmul schedule below.
        passes.add(pm, "euler-conv-to-matmul", num_threads=opts.num_threads,
                   tiles=opts.tile_sizes.get("matmul"))
        # Depthwise convs, which have no matmul in them, as vector loops.
        passes.add(pm, "euler-vectorize-depthwise")
        # Constant weights in the schedule's packed layout of B, once, here:
        # the schedule would pack them again on every call.
        passes.add(pm, "euler-pack-constant-weights", num_threads=opts.num_threads,
                   tiles=opts.tile_sizes.get("matmul"))
        # Each distinct matmul once: the schedule's patterns act on the
        # whole function around a matmul, which grew with the model.
        passes.add(pm, "euler-dedup-kernels", ops=_MATMULS)
        # Packed, cache- and register-tiled, threaded and vectorized matmuls.
        # First: linalg-fuse-elementwise-ops would push reshapes of a matmul's
        # result into it, turning it into a 4-D generic no schedule knows.
        passes.add(pm, "euler-schedule-matmul", tiles=opts.tile_sizes.get("matmul"),
                   num_threads=opts.num_threads)
    if opts.opt_level >= 2:
        pm.add("linalg-fuse-elementwise-ops,canonicalize,cse")
        # At -O3 the matmuls are scheduled already; skip also keeps any the
        # schedule declined (dynamic shapes, integers) out of fusion groups.
        passes.add(pm, "euler-tile-and-fuse", parallel=opts.opt_level >= 3,
                   num_threads=opts.num_threads, tile=opts.tile_sizes.get("fusion"),
                   skip=_MATMULS if opts.opt_level >= 3 else "")
        pm.add("canonicalize,cse")
    # Every level: long float sums become cascades of short ones, so that
    # "naive loops" never means a sum off by percents. Last: inside the fused
    # tiles, where the blocks' reshapes are local views and break no group.
    passes.add(pm, "euler-split-reductions", block=opts.tile_sizes.get("reduction"))
    if opts.opt_level >= 2:
        # Last: what each kernel is is settled now, and every later stage
        # (LLVM most of all) then compiles each distinct kernel once.
        passes.add(pm, "euler-dedup-kernels")
    if opts.profile:
        # Once the kernels are functions, and while their linalg ops still
        # say what each computes.
        passes.add(pm, "euler-profile-kernels")


def vectorized(pm, opts: Options):
    if opts.opt_level >= 3:
        # Elementwise ops and row reductions (matmuls are vectorized already).
        passes.add(pm, "euler-vectorize", width=opts.tile_sizes.get("vector"))


def bufferized(pm, opts: Options):
    passes.add(pm, "euler-distinct-results")  # upstream out-params crash on `return %0, %0`
    pm.add("one-shot-bufferize{bufferize-function-boundaries "
           "function-boundary-type-conversion=identity-layout-map}")
    # Results become caller-allocated out-params: the JIT wrapper allocates
    # them as numpy arrays, so no buffer crosses the ABI with ownership.
    # Canonicalize first: a result still routed through loop results is not
    # recognized as an alloc, and would be computed aside and then copied.
    pm.add("canonicalize")
    # A kernel updating a tensor in place returns its argument's buffer
    # (euler-dedup-kernels): the caller has it already, and as an out-param
    # it would be copied. The kernels' results go first, so that the public
    # functions return allocations, which become their out-params uncopied.
    pm.add("drop-equivalent-buffer-results")
    pm.add("buffer-results-to-out-params{hoist-static-allocs=true}")
    pm.add("buffer-results-to-out-params{hoist-static-allocs=true modify-public-functions=true}")
    pm.add("buffer-deallocation-pipeline")
    pm.add("canonicalize,cse")
    if opts.opt_level >= 3:
        # Needs buffers: hoists each matmul's accumulator into registers.
        # Views of C's writers folded into their accesses, as hoisting needs
        # (as a pass: the same patterns in the transform script looped).
        pm.add("func.func(fold-memref-alias-ops)")
        passes.add(pm, "euler-lower-matmul-microkernel")


def loops(pm, opts: Options):
    if opts.opt_level >= 3:
        # Before the loops: the copies become linalg.copy loop nests.
        passes.add(pm, "euler-lower-strided-copies")
    pm.add("func.func(convert-linalg-to-loops)")
    if opts.opt_level >= 3 and opts.num_threads > 1:
        # scf.forall -> an OpenMP parallel loop over the threads of libgomp,
        # whose workers spin a while before they sleep (runtime/openmp.py).
        pm.add(f"scf-forall-to-parallel,convert-scf-to-openmp{{num-threads={opts.num_threads}}}")
    pm.add("lower-affine,canonicalize")
    # LLVM would fully unroll nests of short loops into blocks its schedulers
    # take seconds over (quadratic in a block's length).
    passes.add(pm, "euler-limit-unroll")


def llvm(pm, opts: Options):
    # Before convert-math-to-libm, so a user @exp cannot capture libm calls.
    passes.add(pm, "euler-mangle-symbols")
    pm.add("convert-vector-to-scf,convert-scf-to-cf,convert-vector-to-llvm{reassociate-fp-reductions=true}")
    # math.erf etc. have no LLVM intrinsic: libm calls.
    pm.add("convert-math-to-llvm,convert-math-to-libm,expand-strided-metadata,lower-affine")
    # Memrefs cross calls as one pointer each where all signatures allow it,
    # not as descriptors packed and unpacked at every kernel call. Before
    # convert-openmp-to-llvm, which converts functions too.
    passes.add(pm, "euler-bare-pointer-calls")
    # The rest (memref, arith, index, func, cf, ub) in one conversion: one
    # walk over the module instead of six, 0.3 s of MobileNetV2's 1.6 s here.
    pm.add("convert-openmp-to-llvm,convert-to-llvm,reconcile-unrealized-casts")
    # Weights as byte arrays, which LLVM emits in one piece, not element by element.
    passes.add(pm, "euler-flatten-constant-globals")


# The stages in order; opt levels decide what each one does.
STAGES = [
    ("euler", euler),
    ("linalg", linalg),
    ("tiled", tiled),
    ("vectorized", vectorized),
    ("bufferized", bufferized),
    ("loops", loops),
    ("llvm", llvm),
]
