"""JIT execution of LLVM-dialect modules through MLIR's ExecutionEngine.

The pipeline turns every function result into a caller-allocated out-param
(`buffer-results-to-out-params`), so a call here checks the numpy arguments
against the euler-level signature, allocates the outputs as numpy arrays and
passes a pointer to each (the CPU pipeline's bare-pointer convention), or a
memref descriptor for each where the function has a C interface instead.
Nothing returned by compiled code is owned by it.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import functools
import math
import os
import time

import numpy as np
from mlir import ir
from mlir.execution_engine import ExecutionEngine

from ..dialects import ops
from ..dialects.shapes import DTYPE_BYTES, MAX_TENSOR_BYTES, ShapeError, TensorType
from ..errors import CompileError, InputError, InternalError, format_diagnostic
from ..passes.transforms.mangle_symbols import symbol_name
from . import openmp, profile

_LIB_DIR = os.path.join(os.path.dirname(ir.__file__), "lib")
# memrefCopy and friends (-O3's parallel loops call runtime/openmp.py).
RUNTIME_LIBS = ("libmlir_c_runner_utils.so", "libmlir_runner_utils.so")


@functools.lru_cache(maxsize=None)
def _load_runtime_libs(names=RUNTIME_LIBS):
    # Loaded once into the process, where the JIT finds their symbols, rather
    # than through ExecutionEngine(shared_libs=...): an engine that loaded a
    # runtime with state (MLIR's async runtime) tore it down when freed,
    # crashing the next engine.
    for name in names:
        ctypes.CDLL(os.path.join(_LIB_DIR, name), mode=ctypes.RTLD_GLOBAL)


@functools.lru_cache(maxsize=None)
def _keep_freed_blocks():
    # Compiled code mallocs its scratch buffers (packed matmul operands) on
    # every call, and glibc gives blocks above its mmap threshold back to the
    # kernel on free: each call page-faults them in again (measured: 512^3
    # GEMM 0.75 -> 0.99 of numpy, 1024^3 0.88 -> 1.05). Keep blocks up to
    # 64 MiB in the heap, and up to 512 MiB of free heap untrimmed.
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return  # not glibc
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    mallopt(M_MMAP_THRESHOLD, 64 << 20)
    mallopt(M_TRIM_THRESHOLD, 512 << 20)


# Freed engines wait here a moment before their code is unmapped: after a
# parallel call returns, a worker thread can still be executing the last
# instructions of a task inside that code (seen with MLIR's async runtime: 2
# crashes in 5 runs when freeing at once, none with a 0.2 s delay).
_GRACE_S = 1.0
_retired = collections.deque()


def _retire(ee):
    now = time.monotonic()
    _retired.append((now, ee))
    while _retired and now - _retired[0][0] > _GRACE_S:
        _retired.popleft()


def _uses_openmp(module: ir.Module) -> bool:
    found = []

    def visit(op):
        if op.name == "omp.parallel":
            found.append(op)
            return ir.WalkResult.INTERRUPT
        return ir.WalkResult.ADVANCE

    with module.context:
        module.operation.walk(visit)
    return bool(found)


def _llvm_arity(module: ir.Module) -> dict:
    """{name: argument count} of the public `llvm.func`s whose arguments are
    all pointers (bare-pointer memrefs), for `Engine._entry_point`."""
    arity = {}
    with module.context:
        for op in module.body.operations:
            op = op.operation
            if op.name != "llvm.func" or "sym_visibility" in op.attributes or not len(op.regions[0].blocks):
                continue
            args = op.regions[0].blocks[0].arguments
            if all(str(a.type) == "!llvm.ptr" for a in args):
                arity[ir.StringAttr(op.attributes["sym_name"]).value] = len(args)
    return arity


def prepare_abi(module: ir.Module) -> dict:
    """Mark public functions for the C interface and their arguments read-only
    (bufferization must never write into the caller's arrays). Returns each
    public function's signature as ([arg TensorType], [result TensorType])."""
    signatures = {}
    with module.context:
        for op in module.body.operations:
            op = op.operation
            if op.name != "func.func" or "sym_visibility" in op.attributes:
                continue
            ftype = op.attributes["function_type"].value
            name = op.attributes["sym_name"].value
            try:
                signatures[name] = ([_abi_type(t) for t in ftype.inputs],
                                    [_abi_type(t) for t in ftype.results])
            except ShapeError as err:
                raise CompileError(format_diagnostic(op.location, f"@{name}: {err}")) from None
            op.attributes["llvm.emit_c_interface"] = ir.UnitAttr.get()
            if len(ftype.inputs):
                op.attributes["arg_attrs"] = ir.ArrayAttr.get(
                    [ir.DictAttr.get({"bufferization.writable": ir.BoolAttr.get(False)})
                     for _ in ftype.inputs])
    return signatures


def _abi_type(t: ir.Type) -> TensorType:
    # Memrefs appear when compiling from an already-bufferized stage: such a
    # function writes its results into arguments the caller passes.
    if isinstance(t, ir.MemRefType) and t.has_static_shape and t.layout.value == ir.AffineMap.get_identity(t.rank):
        return TensorType(tuple(t.shape), str(t.element_type))
    return ops.tensor_type(t)


class Engine:
    """An ExecutionEngine over one lowered module. `runtime_libs` names the
    MLIR runtime libraries its code calls (the CUDA target's are in
    `runtime/cuda.py`, with its own `Engine` for calls on device arrays)."""

    def __init__(self, module: ir.Module, functions=(), opt_level: int = 3,
                 runtime_libs=RUNTIME_LIBS, symbols=None, weights_outside=True):
        self._entry, self._bare = {}, {}
        self._arity = _llvm_arity(module)
        _load_runtime_libs(tuple(runtime_libs))
        _keep_freed_blocks()
        if _uses_openmp(module):
            symbols = {**openmp.symbols(), **(symbols or {})}
        # profile=True: the counters the code adds to, read by `profile()`.
        self.counters = profile.Counters(module) if profile.present(module) else None
        if self.counters is not None:
            symbols = {**self.counters.symbols(), **(symbols or {})}
        try:
            # `weights_outside`: large constants are numpy arrays the code
            # reads in place (see _weights_outside); the CUDA target's host
            # code keeps them in (untried there).
            with _weights_outside(module, weights_outside) as weights:
                self._ee = ExecutionEngine(module, opt_level=opt_level)
            self._weights = weights  # the code reads them for as long as it lives
            # {name: address}: definitions the JIT takes ahead of the runtime
            # libraries' (the CUDA target's stream and allocator hooks).
            for name, address in {**(symbols or {}),
                                  **{n: ctypes.c_void_p(a.ctypes.data)
                                     for n, a in weights.items()}}.items():
                self._ee.raw_register_runtime(name, address)
            self._ee.initialize()
            # Code is generated lazily on first lookup: do it now, so that it
            # counts as compile time rather than as the first call's run time.
            for name in functions:
                signature = functions[name] if isinstance(functions, dict) else None
                self._entry_point(name, signature and len(signature[0]) + len(signature[1]))
        except Exception as exc:
            raise InternalError(f"JIT compilation failed: {exc}") from None

    def __del__(self):
        ee = getattr(self, "_ee", None)
        # At interpreter exit the module's globals may already be gone.
        if ee is not None and _retire is not None:
            _retire(ee)

    def call(self, name: str, signature, args, out=None):
        """Call `name` on numpy `args`; return the tuple of numpy results.
        `out`, if given, is a sequence of preallocated result arrays."""
        arg_types, result_types = signature
        if len(args) != len(arg_types):
            raise InputError(f"@{name} takes {len(arg_types)} arguments, got {len(args)}")
        inputs = [_check_arg(name, i, a, t) for i, (a, t) in enumerate(zip(args, arg_types))]
        if out is None:
            results = [_allocate(t) for t in result_types]
        else:
            results = [_check_out(name, i, a, t) for i, (a, t) in enumerate(zip(out, result_types))]
        arrays = inputs + results
        entry = self._entry_point(name, len(arrays))
        # A packed wrapper takes an array of pointers to its arguments: to
        # each array's data (bare pointers), or to a memref descriptor of it.
        if self._bare.get(name):
            holders = [ctypes.c_void_p(a.ctypes.data) for a in arrays]
        else:
            descriptors = [_descriptor(a) for a in arrays]
            holders = [ctypes.c_void_p(ctypes.addressof(d)) for d in descriptors]
        packed = (ctypes.c_void_p * len(holders))(*[ctypes.addressof(h) for h in holders])
        entry(packed)
        return tuple(results)

    def _entry_point(self, name, arrays=None):
        """The packed wrapper of `name`: of its C interface, under the
        mangled name (or the plain one, for input that was already LLVM IR);
        else of the function itself, if it takes one pointer per array
        (`arrays` of them: the bare-pointer convention)."""
        if name not in self._entry:
            address = (self._ee.raw_lookup("_mlir_ciface_" + symbol_name(name))
                       or self._ee.raw_lookup("_mlir_ciface_" + name))
            self._bare[name] = False
            if not address:
                plain = next((n for n in (symbol_name(name), name) if n in self._arity), None)
                if plain is not None and arrays in (None, self._arity[plain]):
                    address = self._ee.raw_lookup(plain)
                    self._bare[name] = bool(address)
            if not address:
                raise InputError(f"no compiled function @{name}")
            self._entry[name] = ctypes.CFUNCTYPE(None, ctypes.c_void_p)(address)
        return self._entry[name]


# Constant globals from this size up are kept out of the JIT's module.
WEIGHT_BYTES = 1 << 16


@contextlib.contextmanager
def _weights_outside(module, enabled=True):
    """Yields {global name: numpy copy of its bytes} for the module's large
    constant byte arrays (euler-flatten-constant-globals' form of weights),
    which are declarations, defined nowhere, until the block exits: the JIT
    then links them to the copies. LLVM would otherwise translate, emit and
    link every byte of them (a 12-layer GPT-2 has 38 MB, 0.15 s of its JIT);
    the code reads them through pointers either way. The module is restored
    on exit: it is the caller's, and printed it must carry its weights."""
    moved = []
    weights = {}
    if enabled:
        for op in module.body.operations:
            op = op.operation
            value = op.attributes["value"] if "value" in op.attributes else None
            if (op.name != "llvm.mlir.global" or "constant" not in op.attributes
                    or not isinstance(value, ir.DenseElementsAttr) or value.is_splat
                    or ir.ShapedType(value.type).element_type != ir.IntegerType.get_signless(
                        8, op.context)
                    or math.prod(ir.ShapedType(value.type).shape) < WEIGHT_BYTES):
                continue
            name = ir.StringAttr(op.attributes["sym_name"]).value
            align = ir.IntegerAttr(op.attributes["alignment"]).value \
                if "alignment" in op.attributes else 1
            weights[name] = _aligned_copy(np.array(value), align)
            moved.append((op, value, op.attributes["linkage"]))
            del op.attributes["value"]
            op.attributes["linkage"] = ir.Attribute.parse("#llvm.linkage<external>", op.context)
    try:
        yield weights
    finally:
        for op, value, linkage in moved:
            op.attributes["value"] = value
            op.attributes["linkage"] = linkage


def _aligned_copy(data: np.ndarray, align: int) -> np.ndarray:
    """A copy of the bytes `data` whose first byte's address is a multiple of `align`."""
    raw = np.empty(data.nbytes + align, dtype=np.uint8)
    start = -raw.ctypes.data % align
    copy = raw[start:start + data.nbytes]
    copy[:] = data.view(np.uint8).reshape(-1)
    return copy


@functools.lru_cache(maxsize=None)
def _descriptor_class(rank):
    # One ctypes struct per rank, built once: the layout of MLIR's
    # StridedMemRefType<T, rank> (the element type only matters to pointers).
    fields = [("allocated", ctypes.c_void_p), ("aligned", ctypes.c_void_p),
              ("offset", ctypes.c_longlong)]
    if rank:
        fields += [("shape", ctypes.c_longlong * rank), ("strides", ctypes.c_longlong * rank)]
    return type(f"MemRef{rank}D", (ctypes.Structure,), {"_fields_": fields})


def _descriptor(array: np.ndarray):
    d = _descriptor_class(array.ndim)()
    d.allocated = d.aligned = array.ctypes.data
    if array.ndim:
        d.shape[:] = array.shape
        d.strides[:] = [s // array.itemsize for s in array.strides]
    return d


def _check_out(func, index, value, expected: TensorType) -> np.ndarray:
    if (not isinstance(value, np.ndarray) or not value.flags.c_contiguous
            or not value.flags.writeable):
        raise InputError(f"@{func} output {index}: expected a writable C-contiguous numpy array")
    if value.dtype != np.dtype(ops.NUMPY_DTYPES[expected.dtype]) or value.shape != expected.shape:
        raise InputError(f"@{func} output {index}: expected {expected}, got "
                         f"{value.dtype} {value.shape}")
    return value


def _check_arg(func, index, value, expected: TensorType) -> np.ndarray:
    if not isinstance(value, np.ndarray):
        if np.isscalar(value) or isinstance(value, (list, tuple)):
            value = np.asarray(value)
        else:
            raise InputError(f"@{func} argument {index}: expected a numpy array, "
                             f"got {type(value).__name__}")
    if expected.dtype not in ops.NUMPY_DTYPES:
        raise InputError(f"@{func} argument {index}: {expected.dtype} arguments cannot be "
                         "passed from numpy")
    want = np.dtype(ops.NUMPY_DTYPES[expected.dtype])
    if value.dtype != want:
        raise InputError(f"@{func} argument {index}: expected dtype {want} ({expected}), "
                         f"got {value.dtype}")
    if tuple(value.shape) != tuple(expected.shape):
        raise InputError(f"@{func} argument {index}: expected shape {tuple(expected.shape)} "
                         f"({expected}), got {tuple(value.shape)}")
    # Strided or misaligned views would be misread through a dense descriptor.
    return np.ascontiguousarray(value)


def _allocate(t: TensorType) -> np.ndarray:
    nbytes = math.prod(t.shape) * DTYPE_BYTES[t.dtype]
    if nbytes > MAX_TENSOR_BYTES:
        raise InputError(f"result {t} is too large to allocate ({nbytes} bytes)")
    return np.empty(t.shape, dtype=ops.NUMPY_DTYPES[t.dtype])
