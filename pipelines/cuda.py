"""The CUDA pipeline: euler -> linalg -> bufferized -> gpu -> nvvm -> ptx -> llvm.

The program is bufferized on the host as for the CPU (results become
caller-allocated out-params), then moved to the GPU as a whole: inputs are
copied to device buffers once at entry, results copied back once at the
return, and every linalg op becomes one kernel (one thread per output
element, blocks of up to 256 threads over the innermost dimensions). The
host side is a chain of async gpu ops on one stream (`gpu-async-region`),
lowered to calls into MLIR's CUDA runtime (`libmlir_cuda_runtime.so`).

The `ptx` stage embeds each kernel module as PTX text (`gpu.binary`); it
needs no GPU, driver or CUDA toolkit, so it is tested on any machine. The
CUDA driver compiles the PTX for the GPU when the module loads.
"""

from mlir import ir

from .. import passes
from ..options import Options
from . import cpu

# PTX for Hopper (H100/H200); PTX ISA 8.0 is the first with sm_90.
CHIP = "sm_90"
PTX_FEATURES = "+ptx80"
THREADS_PER_BLOCK = 256


def linalg(pm, opts: Options):
    cpu.linalg(pm, opts)
    if opts.opt_level >= 2:
        # Fewer kernels, and no intermediate buffers between elementwise ops.
        pm.add("linalg-fuse-elementwise-ops,canonicalize,cse")


def bufferized(pm, opts: Options):
    passes.add(pm, "euler-distinct-results")  # see pipelines/cpu.py
    pm.add("one-shot-bufferize{bufferize-function-boundaries "
           "function-boundary-type-conversion=identity-layout-map}")
    pm.add("canonicalize")
    pm.add("buffer-results-to-out-params{hoist-static-allocs=true modify-public-functions=true}")
    pm.add("canonicalize,cse")


def gpu(pm, opts: Options):
    # Device buffers for the whole function, then one kernel per loop nest.
    passes.add(pm, "euler-gpu-device-buffers")
    if opts.opt_level >= 2:
        passes.add(pm, "euler-gpu-schedule-matmul", tiles=opts.tile_sizes.get("matmul"))
    pm.add("func.func(convert-linalg-to-parallel-loops),canonicalize")
    passes.add(pm, "euler-gpu-tile-parallel-loops", threads=THREADS_PER_BLOCK)
    pm.add("func.func(gpu-map-parallel-loops{mapping-policy=innermost-first}),"
           "func.func(convert-parallel-loops-to-gpu)")
    # Constants and index math into the kernels rather than kernel arguments.
    pm.add("func.func(gpu-launch-sink-index-computations),gpu-kernel-outlining")
    # Synchronous gpu ops -> async ones chained by tokens, one wait at the end.
    pm.add("func.func(gpu-async-region),canonicalize,cse")


def nvvm(pm, opts: Options):
    pm.add(f"nvvm-attach-target{{chip={CHIP} features={PTX_FEATURES} O=3}}")
    pm.add("gpu.module(lower-affine,convert-scf-to-cf,convert-nvgpu-to-nvvm,convert-gpu-to-nvvm,"
           "canonicalize,cse,reconcile-unrealized-casts)")


def ptx(pm, opts: Options):
    # format=isa: PTX text, serialized by LLVM's NVPTX backend in process.
    pm.add("gpu-module-to-binary{format=isa}")


def llvm(pm, opts: Options):
    passes.add(pm, "euler-mangle-symbols")
    pm.add("lower-affine,convert-scf-to-cf,expand-strided-metadata,lower-affine")
    pm.add("convert-func-to-llvm,convert-arith-to-llvm,convert-index-to-llvm,gpu-to-llvm")
    pm.add("finalize-memref-to-llvm,convert-cf-to-llvm,canonicalize,cse,"
           "reconcile-unrealized-casts")


STAGES = [
    ("euler", cpu.euler),
    ("linalg", linalg),
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
