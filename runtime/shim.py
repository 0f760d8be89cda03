"""Runtime functions written in LLVM-dialect IR, compiled once per process.

Compiled code calls a few functions that no library ships in the form it
needs (OpenMP's entry points over libgomp, `runtime/openmp.py`; the
profiler's clock, `runtime/profile.py`). Each is defined in a small module
that the JIT compiles once; `symbols` gives the raw addresses of its
functions, which every `jit.Engine` then registers under their names.
"""

from __future__ import annotations

import ctypes

from mlir import ir
from mlir.execution_engine import ExecutionEngine

_keep = []  # the engines holding the code: it lives as long as the process


def symbols(text: str, names) -> dict:
    """{name: address} of the functions `names` of the LLVM-dialect module
    `text`. The engine's lookup finds only packed wrappers, so a function
    that stores the raw addresses into an array is added and called."""
    stores = []
    for i, name in enumerate(names):
        stores += [f"    %a{i} = llvm.mlir.addressof @{name} : !llvm.ptr",
                   f"    %p{i} = llvm.getelementptr %out[{i}] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr",
                   f"    llvm.store %a{i}, %p{i} : !llvm.ptr, !llvm.ptr"]
    table_fn = ("  llvm.func @euler_shim_symbols(%out: !llvm.ptr) {\n" + "\n".join(stores)
                + "\n    llvm.return\n  }\n}")
    text = text.rstrip()
    assert text.endswith("}"), "a shim is one `module { ... }`"
    with ir.Context():
        engine = ExecutionEngine(ir.Module.parse(text[:-1] + table_fn), opt_level=3)
        engine.initialize()
        table = (ctypes.c_void_p * len(names))()
        out = ctypes.c_void_p(ctypes.addressof(table))
        args = (ctypes.c_void_p * 1)(ctypes.addressof(out))
        ctypes.CFUNCTYPE(None, ctypes.c_void_p)(engine.raw_lookup("euler_shim_symbols"))(args)
    _keep.append(engine)
    return {name: ctypes.c_void_p(table[i]) for i, name in enumerate(names)}
