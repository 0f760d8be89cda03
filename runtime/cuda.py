"""Running CUDA-target modules: the GPU check, the chip, and calls on device arrays.

Lowered CUDA modules call MLIR's CUDA runtime wrappers (`mgpuLaunchKernel`,
`mgpuMemAlloc`, ...) in `libmlir_cuda_runtime.so`, which loads the driver,
`libcuda.so.1`. Only that library is loaded: the CUDA pipeline leaves no
host calls into the C runner utils.

A compiled function's arguments and results are device pointers
(`euler-gpu-device-buffers`). `Engine.call` passes them:

  * torch CUDA tensors and other objects with `__cuda_array_interface__`
    (CuPy arrays) go in without a copy: their pointer is put straight into
    the memref descriptor. Results are allocated in the caller's framework
    (torch in, torch out; CuPy in, CuPy out), or written into `out=`.
  * numpy arrays are copied to the device once, and the results back once.

Streams: the host code's stream (`gpu-async-region`'s one chain) is the
caller's current stream, `torch.cuda.current_stream()` or CuPy's current
stream: a call only enqueues work, ordered after what the caller enqueued
before it and before what it enqueues after, and returns at once, as a
torch op does. Calls on numpy arrays run on the default stream and wait
for their results. Temporaries come from torch's caching allocator when
torch is using the GPU in this process, else from `cuMemAlloc`.

CUDA graphs: a device call whose pointers (arguments and results) repeat
those of an earlier call is captured, the second time, into a CUDA graph of
its whole kernel sequence (with temporaries of its own, kept with the
graph), and replayed from then on with one `cuGraphLaunch` on the caller's
stream, as torch.compile's mode="reduce-overhead" does: no per-kernel
launches, allocations or Python callbacks per call. `Engine(graphs=False)`
(`euler.compile(..., cuda_graphs=False)`, `EULER_CUDA_GRAPHS=0`) turns it off.
"""

from __future__ import annotations

import collections
import ctypes
import functools
import sys

import numpy as np

from ..dialects import ops
from ..errors import CompileError, InputError, InternalError
from . import jit

# For `jit.Engine(runtime_libs=...)`; in MLIR's lib directory.
RUNTIME_LIBS = ("libmlir_cuda_runtime.so",)

# Base pointers are aligned to this for the kernels' 16-byte vector accesses.
ALIGNMENT = 16
# LLVM's level for the host code, which only allocates and launches (the
# kernels are optimized in the `ptx` stage): -O0 halves its JIT time, which
# is most of what a cached compile costs.
HOST_OPT_LEVEL = 0
# Graphs kept per compiled module (each holds its temporaries), least
# recently replayed dropped first; and how many pointer sets are remembered
# while waiting for a repeat.
GRAPHS_KEPT = 4
POINTER_SETS_SEEN = 64


@functools.lru_cache(maxsize=None)
def _driver():
    try:
        driver = ctypes.CDLL("libcuda.so.1")
    except OSError:
        return None
    return driver


@functools.lru_cache(maxsize=None)
def unavailable_reason():
    """None when a CUDA driver with at least one GPU is present, else why not."""
    driver = _driver()
    if driver is None:
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


@functools.lru_cache(maxsize=None)
def device_chip(device=0):
    """The chip of GPU `device`, e.g. "sm_90", or None without one."""
    if not available():
        return None
    driver, major, minor = _driver(), ctypes.c_int(), ctypes.c_int()
    # CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR / _MINOR
    if (driver.cuDeviceGetAttribute(ctypes.byref(major), 75, device)
            or driver.cuDeviceGetAttribute(ctypes.byref(minor), 76, device)):
        return None
    return f"sm_{major.value}{minor.value}"


# --- the runtime hooks: the caller's stream, the caller's allocator ---------------

_STREAM_CREATE = ctypes.CFUNCTYPE(ctypes.c_void_p)
_STREAM_OP = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
_MEM_ALLOC = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_uint64, ctypes.c_void_p, ctypes.c_bool)
_MEM_FREE = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)
_TENSOR_MAP = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p, *[ctypes.c_int64] * 5,
                               ctypes.POINTER(ctypes.c_int64))
# Bytes of each CUtensorMapDataType, by its value.
_TENSOR_MAP_BYTES = (1, 2, 4, 4, 8, 8, 2, 4, 8, 2, 4, 4, 4)


class _Runtime:
    """MLIR's CUDA runtime, with the entry points the host code uses for
    streams and memory redirected here (`symbols`, registered in the JIT
    ahead of the library's own)."""

    def __init__(self):
        require()  # cuInit, before any other driver call
        jit._load_runtime_libs(RUNTIME_LIBS)
        # Memory and copies outside compiled code go through the driver, in
        # the primary context (the one MLIR's runtime and torch use): MLIR's
        # mgpuMemcpy assumes a current context, which this thread may lack.
        driver = _driver()
        self._mem_alloc, self._mem_free = driver.cuMemAlloc_v2, driver.cuMemFree_v2
        self._mem_alloc.argtypes = [ctypes.POINTER(ctypes.c_uint64), ctypes.c_size_t]
        self._mem_free.argtypes = [ctypes.c_uint64]
        self._context = ctypes.c_void_p()
        if driver.cuDevicePrimaryCtxRetain(ctypes.byref(self._context), 0):
            raise InternalError("cuDevicePrimaryCtxRetain failed")
        self._set_context = driver.cuCtxSetCurrent
        self._set_context.argtypes = [ctypes.c_void_p]
        self._htod, self._dtoh = driver.cuMemcpyHtoD_v2, driver.cuMemcpyDtoH_v2
        self._htod.argtypes = [ctypes.c_uint64, ctypes.c_void_p, ctypes.c_size_t]
        self._dtoh.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_size_t]
        self.stream = None        # the stream of the call in progress
        self.streams_taken = 0    # how often compiled code asked for a stream (tests)
        self._torch_blocks = set()
        # While a call is captured into a graph: the temporaries it allocates,
        # which the graph keeps (its frees are dropped).
        self._captured = None
        self._capture_stream = None
        self._callbacks = [
            ("mgpuStreamCreate", _STREAM_CREATE(self._stream_create)),
            ("mgpuStreamDestroy", _STREAM_OP(lambda stream: None)),
            # Ordered on the caller's stream: nothing to wait for here.
            ("mgpuStreamSynchronize", _STREAM_OP(lambda stream: None)),
            ("mgpuMemAlloc", _MEM_ALLOC(self._alloc)),
            ("mgpuMemFree", _MEM_FREE(self._free)),
            ("mgpuTensorMapEncodeTiledMemref", _TENSOR_MAP(self._tensor_map)),
        ]
        self._tensor_maps = {}
        self.symbols = {name: ctypes.cast(cb, ctypes.c_void_p) for name, cb in self._callbacks}

    def to_device(self, dst, src, nbytes):
        self._check(self._set_context(self._context), "cuCtxSetCurrent")
        self._check(self._htod(dst, src, nbytes), "cuMemcpyHtoD")

    def to_host(self, dst, src, nbytes):
        """Synchronous: after the work before it on the default stream."""
        self._check(self._set_context(self._context), "cuCtxSetCurrent")
        self._check(self._dtoh(dst, src, nbytes), "cuMemcpyDtoH")

    @staticmethod
    def _check(status, what):
        if status:
            raise InternalError(f"{what} failed with CUDA error {status}")

    def _stream_create(self):
        self.streams_taken += 1
        return self.stream

    @staticmethod
    def _torch_cuda():
        torch = sys.modules.get("torch")
        return torch if torch is not None and torch.cuda.is_initialized() else None

    def alloc(self, nbytes, stream=None):
        torch = self._torch_cuda()
        if torch is not None and self._captured is None:
            ptr = torch.cuda.caching_allocator_alloc(max(1, nbytes), stream=stream or 0)
            self._torch_blocks.add(ptr)
            return ptr
        self._check(self._set_context(self._context), "cuCtxSetCurrent")
        ptr = ctypes.c_uint64()
        self._check(self._mem_alloc(ctypes.byref(ptr), max(1, nbytes)), "cuMemAlloc")
        if self._captured is not None:
            self._captured.append(ptr.value)
        return ptr.value

    def free(self, ptr, stream=None):
        if self._captured is not None and ptr in self._captured:
            return  # the graph's, freed with it
        if ptr in self._torch_blocks:
            self._torch_blocks.discard(ptr)
            self._torch_cuda().cuda.caching_allocator_delete(ptr)
        else:
            self._check(self._set_context(self._context), "cuCtxSetCurrent")
            self._check(self._mem_free(ptr), "cuMemFree")

    def _tensor_map(self, rank, memref, dtype, interleave, swizzle, l2promo, oob, box):
        """The device address of a TMA descriptor of `memref` (a ranked memref
        descriptor) in `box`es. MLIR's runtime allocates and copies one
        synchronously on every call, which stalls the caller's stream; the
        same operand gets the same map, so one copy per distinct operand
        (and box) is made, once, and kept."""
        words = ctypes.cast(memref, ctypes.POINTER(ctypes.c_int64))
        sizes, strides = words[3:3 + rank], words[3 + rank:3 + 2 * rank]
        key = (words[1], tuple(sizes), tuple(strides), dtype, interleave, swizzle, l2promo, oob,
               tuple(box[:rank]))
        if key not in self._tensor_maps:
            u64, u32 = ctypes.c_uint64, ctypes.c_uint32
            tensor_map = (ctypes.c_uint64 * 16)()  # CUtensorMap: 128 bytes
            step = _TENSOR_MAP_BYTES[dtype]
            status = _driver().cuTensorMapEncodeTiled(
                tensor_map, ctypes.c_int(dtype), u32(rank), ctypes.c_void_p(words[1]),
                (u64 * rank)(*reversed(sizes)), (u64 * rank)(*[s * step for s in strides[::-1][1:]]),
                (u32 * rank)(*box[:rank][::-1]), (u32 * rank)(*[1] * rank), ctypes.c_int(interleave),
                ctypes.c_int(swizzle), ctypes.c_int(l2promo), ctypes.c_int(oob))
            self._check(status, "cuTensorMapEncodeTiled")
            self._check(self._set_context(self._context), "cuCtxSetCurrent")
            ptr = ctypes.c_uint64()
            self._check(self._mem_alloc(ctypes.byref(ptr), ctypes.sizeof(tensor_map)), "cuMemAlloc")
            self.to_device(ptr.value, ctypes.addressof(tensor_map), ctypes.sizeof(tensor_map))
            self._tensor_maps[key] = ptr.value
        return self._tensor_maps[key]

    def capture(self, run):
        """A CUDA graph of what `run()` enqueues on `self.stream`, as
        (graph exec, graph, temporaries); nothing runs. Captured on a stream
        of its own (the caller's may be the legacy default stream, which
        cannot be captured), in relaxed mode, which allows the temporaries'
        cuMemAlloc and the TMA descriptors' copies meanwhile."""
        driver = _driver()
        self._check(self._set_context(self._context), "cuCtxSetCurrent")
        if self._capture_stream is None:
            stream = ctypes.c_void_p()
            self._check(driver.cuStreamCreate(ctypes.byref(stream), 1), "cuStreamCreate")
            self._capture_stream = stream  # CU_STREAM_NON_BLOCKING
        stream = self._capture_stream
        # CU_STREAM_CAPTURE_MODE_RELAXED
        self._check(driver.cuStreamBeginCapture_v2(stream, 2), "cuStreamBeginCapture")
        self._captured, self.stream, graph = [], stream.value, ctypes.c_void_p()
        captured = self._captured
        try:
            run()
        finally:
            self._captured, self.stream = None, None
            status = driver.cuStreamEndCapture(stream, ctypes.byref(graph))
        try:
            self._check(status, "cuStreamEndCapture")
            exec_ = ctypes.c_void_p()
            self._check(driver.cuGraphInstantiateWithFlags(ctypes.byref(exec_), graph,
                                                           ctypes.c_ulonglong(0)),
                        "cuGraphInstantiate")
        except BaseException:
            self.release(None, graph, captured)
            raise
        return exec_, graph, captured

    def replay(self, exec_, stream):
        self._check(self._set_context(self._context), "cuCtxSetCurrent")
        self._check(_driver().cuGraphLaunch(exec_, ctypes.c_void_p(stream)), "cuGraphLaunch")

    def release(self, exec_, graph, temporaries):
        """Free a graph and its temporaries, after the work enqueued so far."""
        driver = _driver()
        self._check(self._set_context(self._context), "cuCtxSetCurrent")
        self._check(driver.cuCtxSynchronize(), "cuCtxSynchronize")
        if exec_:
            driver.cuGraphExecDestroy(exec_)
        if graph:
            driver.cuGraphDestroy(graph)
        for ptr in temporaries:
            self._check(self._mem_free(ptr), "cuMemFree")

    def _alloc(self, nbytes, stream, host_shared):
        return self.alloc(nbytes, stream)

    def _free(self, ptr, stream):
        self.free(ptr, stream)


@functools.lru_cache(maxsize=None)
def runtime() -> _Runtime:
    return _Runtime()


# --- calls -------------------------------------------------------------------------

class Engine(jit.Engine):
    """A CUDA-target module, called on device arrays or numpy arrays."""

    def __init__(self, module, functions=(), opt_level=HOST_OPT_LEVEL, graphs=True):
        super().__init__(module, functions, opt_level, runtime_libs=RUNTIME_LIBS,
                         symbols=runtime().symbols, weights_outside=False)
        self.graphs = graphs
        self.graph_error = None  # why capturing failed, if it did (then graphs are off)
        self._graphs = collections.OrderedDict()  # (name, pointers) -> graph
        self._seen = set()  # pointer sets called once, waiting for a repeat

    def call(self, name, signature, args, out=None):
        """Call `name`; see the module docstring for what `args` and `out` may be."""
        arg_types, result_types = signature
        if len(args) != len(arg_types):
            raise InputError(f"@{name} takes {len(arg_types)} arguments, got {len(args)}")
        frameworks = {_framework(a) for a in args} | {_framework(a) for a in (out or ())}
        device = frameworks - {"numpy"}
        if len(device) > 1 or (device and "numpy" in frameworks and args):
            raise InputError(f"@{name}: arguments mix numpy and device arrays "
                             f"({', '.join(sorted(frameworks))}); pass one kind")
        if device:
            return self._call_device(name, device.pop(), arg_types, result_types, args, out)
        return self._call_numpy(name, arg_types, result_types, args, out)

    def _call_device(self, name, framework, arg_types, result_types, args, out):
        keep = []  # copies made for alignment or contiguity live until the call is enqueued
        inputs = [_device_arg(name, i, a, t, keep) for i, (a, t) in enumerate(zip(args, arg_types))]
        stream = _current_stream(framework, args)
        if out is None:
            results = [_empty(framework, t, args) for t in result_types]
        else:
            if len(out) != len(result_types):
                raise InputError(f"@{name} has {len(result_types)} results, got {len(out)} outputs")
            results = list(out)
        outputs = [_device_arg(name, i, r, t, None, output=True)
                   for i, (r, t) in enumerate(zip(results, result_types))]
        if self.graphs and not keep:
            self._launch_graph(name, inputs + outputs, stream)
        else:
            self._launch(name, inputs + outputs, stream)
        return tuple(results)

    def _launch_graph(self, name, pointers, stream):
        """`_launch`, through a CUDA graph once these pointers repeat (see the
        module docstring)."""
        key = (name, tuple(ptr for ptr, _ in pointers))
        graph = self._graphs.get(key)
        if graph is None:
            if key not in self._seen:
                if len(self._seen) >= POINTER_SETS_SEEN:
                    self._seen.clear()
                self._seen.add(key)
                return self._launch(name, pointers, stream)
            rt = runtime()
            try:
                graph = rt.capture(lambda: self._launch(name, pointers, rt.stream,
                                                        keep_stream=True))
            except InternalError as exc:
                # Run as before, without graphs (the reason kept for reports).
                self.graphs, self.graph_error = False, str(exc)
                return self._launch(name, pointers, stream)
            self._seen.discard(key)
            self._graphs[key] = graph
            if len(self._graphs) > GRAPHS_KEPT:
                runtime().release(*self._graphs.popitem(last=False)[1])
        self._graphs.move_to_end(key)
        runtime().replay(graph[0], stream or 0)

    def _call_numpy(self, name, arg_types, result_types, args, out):
        rt = runtime()
        inputs = [jit._check_arg(name, i, a, t) for i, (a, t) in enumerate(zip(args, arg_types))]
        if out is None:
            results = [jit._allocate(t) for t in result_types]
        else:
            results = [jit._check_out(name, i, a, t) for i, (a, t) in enumerate(zip(out, result_types))]
        buffers = []
        try:
            for a in inputs + results:
                buffers.append(rt.alloc(a.nbytes))
            for a, ptr in zip(inputs, buffers):
                rt.to_device(ptr, a.ctypes.data, a.nbytes)
            self._launch(name, [(ptr, a.shape) for a, ptr in zip(inputs + results, buffers)], None)
            for a, ptr in zip(results, buffers[len(inputs):]):
                rt.to_host(a.ctypes.data, ptr, a.nbytes)
        finally:
            for ptr in buffers:
                rt.free(ptr)
        return tuple(results)

    def _launch(self, name, pointers, stream, keep_stream=False):
        descriptors = []
        for ptr, shape in pointers:
            d = jit._descriptor_class(len(shape))()
            d.allocated = d.aligned = ptr
            if shape:
                d.shape[:] = shape
                strides, step = [], 1
                for s in reversed(shape):
                    strides.insert(0, step)
                    step *= s
                d.strides[:] = strides
            descriptors.append(d)
        holders = [ctypes.c_void_p(ctypes.addressof(d)) for d in descriptors]
        packed = (ctypes.c_void_p * len(holders))(*[ctypes.addressof(h) for h in holders])
        rt = runtime()
        if keep_stream:  # a capture's: set and reset by `_Runtime.capture`
            return self._entry_point(name)(packed)
        rt.stream = stream
        try:
            self._entry_point(name)(packed)
        finally:
            rt.stream = None


def _framework(a) -> str:
    module = type(a).__module__.split(".")[0]
    if module == "torch" and getattr(a, "is_cuda", False):
        return "torch"
    if hasattr(a, "__cuda_array_interface__"):
        return "cupy" if module == "cupy" else "cuda_array_interface"
    return "numpy"


def _current_stream(framework, args):
    if framework == "torch":
        import torch
        device = next(a.device for a in args if isinstance(a, torch.Tensor))
        return torch.cuda.current_stream(device).cuda_stream or None
    if framework == "cupy":
        import cupy
        return cupy.cuda.get_current_stream().ptr or None
    return None


def _empty(framework, t, args):
    if framework == "torch":
        import torch
        device = next(a.device for a in args if isinstance(a, torch.Tensor))
        return torch.empty(t.shape, dtype=_torch_dtype(t.dtype), device=device)
    if framework == "cupy":
        import cupy
        return cupy.empty(t.shape, dtype=np.dtype(ops.NUMPY_DTYPES[t.dtype]))
    raise InputError("results for device arrays other than torch tensors and CuPy arrays "
                     "need out=")


@functools.lru_cache(maxsize=None)
def _torch_dtype(name):
    """torch's dtype for euler's element type `name` (bf16 has no numpy twin)."""
    import torch
    if name == "bf16":
        return torch.bfloat16
    return torch.from_numpy(np.empty(0, ops.NUMPY_DTYPES[name])).dtype


def _device_arg(func, index, a, expected, keep, output=False):
    """(pointer, shape) of a device array `a` checked against `expected`."""
    what = "output" if output else "argument"
    if _framework(a) == "torch":
        if a.dtype != _torch_dtype(expected.dtype) or tuple(a.shape) != tuple(expected.shape):
            raise InputError(f"@{func} {what} {index}: expected {expected}, got "
                             f"{a.dtype} {tuple(a.shape)}")
        if not a.is_contiguous() or a.data_ptr() % ALIGNMENT:
            if output:
                raise InputError(f"@{func} output {index}: expected a contiguous tensor "
                                 f"aligned to {ALIGNMENT} bytes")
            a = a.contiguous() if not a.is_contiguous() else a.clone()
            keep.append(a)
        return a.data_ptr(), tuple(a.shape)
    if expected.dtype not in ops.NUMPY_DTYPES:
        raise InputError(f"@{func} {what} {index}: {expected.dtype} arrays must be torch tensors")
    want = np.dtype(ops.NUMPY_DTYPES[expected.dtype])
    iface = a.__cuda_array_interface__
    shape, dtype = tuple(iface["shape"]), np.dtype(iface["typestr"])
    if dtype != want or shape != tuple(expected.shape):
        raise InputError(f"@{func} {what} {index}: expected {expected}, got {dtype} {shape}")
    ptr = iface["data"][0]
    contiguous = iface.get("strides") is None or tuple(iface["strides"]) == tuple(
        np.empty(shape, dtype).strides)
    if not contiguous or ptr % ALIGNMENT:
        if output or not hasattr(a, "copy"):
            raise InputError(f"@{func} {what} {index}: expected a C-contiguous device array "
                             f"aligned to {ALIGNMENT} bytes")
        a = a.copy()
        keep.append(a)
        ptr = a.__cuda_array_interface__["data"][0]
    return ptr, shape
