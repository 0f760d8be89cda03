"""The CUDA pipeline: euler -> linalg -> gpu-tiled -> bufferized -> gpu -> nvvm -> ptx -> llvm.

The same story as the CPU's (`pipelines/cpu.py`), with a GPU at the end:

  gpu-tiled   (-O2) elementwise fusion, then the CPU's fusion groups
              (`euler-tile-and-fuse`'s grouping), each row group planned as
              one kernel: rows on blocks, 16-byte vectors on threads; (every
              level) the other long sums split into blocks, as on the CPU;
  bufferized  one-shot bufferization on the host; results become
              caller-allocated out-params, which are device buffers;
  gpu         every buffer on the device; matmuls read their operands
              through the transposes that made them (torch's weight.T,
              attention's heads); matmul groups get the matmul
              schedule, planned groups one kernel each
              (`euler-gpu-lower-groups`), everything else one kernel per
              linalg op (one thread per output element); constants that
              only kernels read become device globals; kernels outlined;
              host ops chained on one stream (`gpu-async-region`);
  nvvm, ptx   kernels to NVVM, then PTX text for `chip` (`gpu.binary`);
  llvm        host code to LLVM, calling MLIR's CUDA runtime.

The function's arguments and results are device pointers: the runtime
(`runtime/cuda.py`) passes the caller's device arrays as they are. The
`ptx` stage needs no GPU, driver or CUDA toolkit, so it is tested on any
machine; the CUDA driver compiles the PTX when the module loads.
"""

from mlir import ir

from .. import passes
from ..options import Options
from ..passes.gpu.form_groups import GROUP as GPU_GROUP
from ..passes.gpu.schedule_matmul import wgmma_chip
from . import cpu

# Without a GPU to ask (`Options.chip` unset): Hopper (H100/H200). PTX ISA
# 8.0 is the first with sm_90, and reads as well on older chips.
CHIP = "sm_90"
PTX_FEATURES = "+ptx80"
# Chips that need a newer PTX ISA than 8.0 (LLVM aborts the process, not the
# pass, on a version too old for the chip).
_PTX_FOR_CHIP = {"sm_100": "+ptx86", "sm_101": "+ptx86", "sm_103": "+ptx88",
                 "sm_110": "+ptx90", "sm_120": "+ptx87", "sm_121": "+ptx88"}
THREADS_PER_BLOCK = 256


def linalg(pm, opts: Options):
    cpu.linalg(pm, opts)


def gpu_tiled(pm, opts: Options):
    if opts.opt_level >= 2:
        # Fewer kernels, and no intermediate buffers between elementwise ops.
        pm.add("linalg-fuse-elementwise-ops,canonicalize,cse")
        # That fusion moves reshapes of a matmul's operands and result into it
        # (attention's heads): matmuls again, for the tensor cores.
        passes.add(pm, "euler-collapse-contractions")
        # Convolutions likewise: an im2col gather and a matmul.
        passes.add(pm, "euler-gpu-conv-to-matmul")
        pm.add("canonicalize,cse")
        # Fusion groups as on the CPU; row groups planned as one kernel each.
        passes.add(pm, "euler-gpu-form-groups", tiles=opts.tile_sizes.get("gpu_row"),
                   columns=opts.tile_sizes.get("gpu_column"), chip=opts.chip or CHIP)
    # Every level, as on the CPU: the sums left to one thread per output
    # element (column sums, rows too long for one block) summed in blocks,
    # which is both accurate and more parallel. Planned rows are trees already.
    passes.add(pm, "euler-split-reductions", block=opts.tile_sizes.get("reduction"),
               skip_marked=GPU_GROUP, reductions_innermost=True)


def bufferized(pm, opts: Options):
    passes.add(pm, "euler-distinct-results")  # see pipelines/cpu.py
    # A zero fill per matmul, folded into it, not one copied for each.
    passes.add(pm, "euler-clone-fills")
    pm.add("one-shot-bufferize{bufferize-function-boundaries "
           "function-boundary-type-conversion=identity-layout-map}")
    pm.add("canonicalize")
    pm.add("buffer-results-to-out-params{hoist-static-allocs=true modify-public-functions=true}")
    pm.add("canonicalize,cse")


def gpu(pm, opts: Options):
    passes.add(pm, "euler-gpu-device-buffers")
    if opts.opt_level >= 2:
        # Matmuls read their operands through the transposes that made them
        # (torch's weight.T, attention's heads): no copy kernels.
        passes.add(pm, "euler-gpu-fold-transposes", allow_tf32=opts.allow_tf32)
        # Matmul groups: tensor-core kernels, first, so that they see the
        # matmuls whole.
        passes.add(pm, "euler-gpu-schedule-matmul", tiles=opts.tile_sizes.get("matmul"),
                   allow_tf32=opts.allow_tf32, chip=opts.chip or CHIP,
                   wgmma=opts.tile_sizes.get("wgmma"), split=opts.tile_sizes.get("split_k"))
        # Planned row groups (euler-gpu-form-groups): one kernel each.
        passes.add(pm, "euler-gpu-lower-groups")
    # The rest: one kernel per linalg op, one thread per output element.
    pm.add("func.func(convert-linalg-to-parallel-loops),canonicalize")
    passes.add(pm, "euler-gpu-tile-parallel-loops", threads=THREADS_PER_BLOCK)
    pm.add("func.func(gpu-map-parallel-loops{mapping-policy=innermost-first}),"
           "func.func(convert-parallel-loops-to-gpu)")
    # Constants read by kernels only: device globals, not copied per call.
    passes.add(pm, "euler-gpu-sink-constants")
    # Constants and index math into the kernels rather than kernel arguments.
    pm.add("func.func(gpu-launch-sink-index-computations),gpu-kernel-outlining")
    # Synchronous gpu ops -> async ones chained by tokens, one wait at the end.
    pm.add("func.func(gpu-async-region),canonicalize,cse")


def nvvm(pm, opts: Options):
    chip = opts.chip or CHIP
    features = _PTX_FOR_CHIP.get(chip.rstrip("af"), PTX_FEATURES)
    if opts.opt_level >= 2 and wgmma_chip(chip) and opts.tile_sizes.get("wgmma") is not False:
        # The matmul kernels' wgmma is sm_90a's (Hopper's own PTX target).
        chip = "sm_90a"
    pm.add(f"nvvm-attach-target{{chip={chip} features={features} O=3}}")
    # convert-nvgpu-to-nvvm before the loops become branches: it converts the
    # wgmma accumulators that loops carry. convert-nvvm-to-llvm: the mbarrier
    # waits and TMA copies are inline PTX.
    pm.add("gpu.module(lower-affine,convert-nvgpu-to-nvvm,convert-scf-to-cf,convert-gpu-to-nvvm,"
           "convert-nvvm-to-llvm,canonicalize,cse,reconcile-unrealized-casts)")


def ptx(pm, opts: Options):
    # format=isa: PTX text, serialized by LLVM's NVPTX backend in process.
    pm.add("gpu-module-to-binary{format=isa}")


def llvm(pm, opts: Options):
    passes.add(pm, "euler-mangle-symbols")
    pm.add("lower-affine,convert-scf-to-cf,expand-strided-metadata,lower-affine")
    # convert-nvgpu-to-nvvm: the host's TMA descriptors (a CUDA runtime call).
    pm.add("convert-nvgpu-to-nvvm,convert-func-to-llvm,convert-arith-to-llvm,"
           "convert-index-to-llvm,gpu-to-llvm")
    pm.add("finalize-memref-to-llvm,convert-cf-to-llvm,canonicalize,cse,"
           "reconcile-unrealized-casts")


STAGES = [
    ("euler", cpu.euler),
    ("linalg", linalg),
    ("gpu-tiled", gpu_tiled),
    ("bufferized", bufferized),
    ("gpu", gpu),
    ("nvvm", nvvm),
    ("ptx", ptx),
    ("llvm", llvm),
]


def ptx_of(module) -> dict:
    """The PTX of every kernel module in `module` (an `ir.Module` or IR text
    of the `ptx` stage or later), as {gpu.binary symbol: PTX text}."""
    from mlir.dialects import gpu as gpu_dialect
    if not isinstance(module, ir.Module):
        with ir.Context():
            return ptx_of(ir.Module.parse(module))
    found = {}
    for op in module.body.operations:
        op = op.operation
        if op.name != "gpu.binary":
            continue
        for obj in op.attributes["objects"]:
            found[op.attributes["sym_name"].value] = (
                gpu_dialect.ObjectAttr(obj).object.decode().rstrip("\0"))
    return found
