"""JIT execution of LLVM-dialect modules through MLIR's ExecutionEngine.

The pipeline turns every function result into a caller-allocated out-param
(`buffer-results-to-out-params`), so a call here checks the numpy arguments
against the euler-level signature, allocates the outputs as numpy arrays and
passes memref descriptors for both. Nothing returned by compiled code is
owned by it.
"""

from __future__ import annotations

import ctypes
import math
import os

import numpy as np
from mlir import ir
from mlir.execution_engine import ExecutionEngine
from mlir.runtime import get_ranked_memref_descriptor

from ..dialects import ops
from ..dialects.shapes import DTYPE_BYTES, MAX_TENSOR_BYTES, TensorType
from ..errors import InputError, InternalError

_LIB_DIR = os.path.join(os.path.dirname(ir.__file__), "lib")
# memrefCopy and friends, and the async runtime for -O3 parallel loops.
SHARED_LIBS = [os.path.join(_LIB_DIR, name) for name in
               ("libmlir_c_runner_utils.so", "libmlir_runner_utils.so", "libmlir_async_runtime.so")]

# Engines that loaded the async runtime must outlive each other: destroying
# one and creating another crashed (see the shared notes). Keep them all.
_engines = []


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
            signatures[name] = ([ops.tensor_type(t) for t in ftype.inputs],
                                [ops.tensor_type(t) for t in ftype.results])
            op.attributes["llvm.emit_c_interface"] = ir.UnitAttr.get()
            if len(ftype.inputs):
                op.attributes["arg_attrs"] = ir.ArrayAttr.get(
                    [ir.DictAttr.get({"bufferization.writable": ir.BoolAttr.get(False)})
                     for _ in ftype.inputs])
    return signatures


class Engine:
    """An ExecutionEngine over one lowered module."""

    def __init__(self, module: ir.Module, functions=(), opt_level: int = 3):
        try:
            self._ee = ExecutionEngine(module, opt_level=opt_level, shared_libs=SHARED_LIBS)
            self._ee.initialize()
            # Code is generated lazily on first lookup: do it now, so that it
            # counts as compile time rather than as the first call's run time.
            for name in functions:
                self._ee.raw_lookup("_mlir_ciface_" + name)
        except Exception as exc:
            raise InternalError(f"JIT compilation failed: {exc}") from None
        _engines.append(self._ee)

    def call(self, name: str, signature, args):
        """Call `name` on numpy `args`; return the tuple of numpy results."""
        arg_types, result_types = signature
        if len(args) != len(arg_types):
            raise InputError(f"@{name} takes {len(arg_types)} arguments, got {len(args)}")
        inputs = [_check_arg(name, i, a, t) for i, (a, t) in enumerate(zip(args, arg_types))]
        results = [_allocate(t) for t in result_types]
        pointers = [ctypes.pointer(ctypes.pointer(get_ranked_memref_descriptor(a)))
                    for a in inputs + results]
        self._ee.invoke(name, *pointers)
        return tuple(results)


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
