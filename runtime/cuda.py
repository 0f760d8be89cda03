"""What the JIT needs to run CUDA-target modules: the runtime library, and a
check that an NVIDIA GPU and its driver are there.

Lowered CUDA modules call MLIR's CUDA runtime wrappers (`mgpuMemAlloc`,
`mgpuLaunchKernel`, ...), which live in `libmlir_cuda_runtime.so` and load
the driver, `libcuda.so.1`. Only that library is loaded: the CUDA pipeline
leaves no host calls into the C runner utils.
"""

from __future__ import annotations

import ctypes
import functools

from ..errors import CompileError

# For `jit.Engine(runtime_libs=...)`; in MLIR's lib directory.
RUNTIME_LIBS = ("libmlir_cuda_runtime.so",)


@functools.lru_cache(maxsize=None)
def unavailable_reason():
    """None when a CUDA driver with at least one GPU is present, else why not."""
    try:
        driver = ctypes.CDLL("libcuda.so.1")
    except OSError:
        return "no CUDA driver (libcuda.so.1 cannot be loaded)"
    if driver.cuInit(0) != 0:
        return "the CUDA driver failed to initialize (cuInit)"
    count = ctypes.c_int(0)
    if driver.cuDeviceGetCount(ctypes.byref(count)) != 0 or count.value == 0:
        return "no CUDA GPU found"
    return None


def available() -> bool:
    """Whether compiled CUDA modules can run here."""
    return unavailable_reason() is None


def require():
    """Raise a CompileError saying why CUDA code cannot run here, if it cannot."""
    reason = unavailable_reason()
    if reason is not None:
        raise CompileError(f"<options>: error: target 'cuda' cannot run here: {reason}; "
                           "emit='ptx' (--emit=ptx) generates the kernels without a GPU")
