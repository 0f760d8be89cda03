"""The CPU side of `profile=True`: the clock profiled code calls, and its counters.

`euler-profile-kernels` wraps each kernel call in calls of
`__euler_profile_now` and adds up nanoseconds and calls in the declared
global `__euler_profile_counters`. Here the clock is clock_gettime's
monotonic clock (a vDSO call, some 20 ns, no system call), and the counters
are a numpy array that the JIT links the declaration to, so that Python
reads and resets them in place.
"""

from __future__ import annotations

import ctypes
import dataclasses
import functools
import os

import numpy as np
from mlir import ir

from ..passes.transforms import profile_kernels
from . import shim

# timespec is {i64 seconds, i64 nanoseconds} on every 64-bit Linux;
# CLOCK_MONOTONIC is 1.
_CLOCK = """
module {
  llvm.func @clock_gettime(i32, !llvm.ptr) -> i32
  llvm.func @%NAME%() -> i64 {
    %one = llvm.mlir.constant(1 : i32) : i32
    %giga = llvm.mlir.constant(1000000000 : i64) : i64
    %ts = llvm.alloca %one x !llvm.struct<(i64, i64)> : (i32) -> !llvm.ptr
    %rc = llvm.call @clock_gettime(%one, %ts) : (i32, !llvm.ptr) -> i32
    %s = llvm.load %ts : !llvm.ptr -> i64
    %nsp = llvm.getelementptr %ts[0, 1] : (!llvm.ptr) -> !llvm.ptr, !llvm.struct<(i64, i64)>
    %ns = llvm.load %nsp : !llvm.ptr -> i64
    %sns = llvm.mul %s, %giga : i64
    %t = llvm.add %sns, %ns : i64
    llvm.return %t : i64
  }
}
"""


@functools.lru_cache(maxsize=None)
def clock_symbols() -> dict:
    """{clock's name: address}, for `ExecutionEngine.raw_register_runtime`."""
    return shim.symbols(_CLOCK.replace("%NAME%", profile_kernels.CLOCK),
                        (profile_kernels.CLOCK,))


@dataclasses.dataclass
class KernelTime:
    """One row of a profile: a kernel (or a whole public function, `@name`)."""
    name: str
    ops: str       # what it computes, e.g. "matmul; generic(parallel x2: addf, maximumf)"
    source: str    # the source lines its ops came from
    calls: int
    seconds: float


def table(rows, top=None) -> str:
    """`rows` (`CompiledModule.profile()`) as a markdown table, with each
    kernel's share of the public functions' total."""
    total = sum(r.seconds for r in rows if r.name.startswith("@")) or 1.0
    lines = ["| kernel | calls | ms | us/call | % | ops | source |", "|---|---:|---:|---:|---:|---|---|"]
    for r in rows[:top]:
        lines.append(f"| {r.name} | {r.calls} | {r.seconds * 1e3:.3f} | "
                     f"{r.seconds * 1e6 / max(r.calls, 1):.1f} | {100 * r.seconds / total:.1f} | "
                     f"{r.ops} | {_short(r.source)} |")
    return "\n".join(lines)


def _short(source: str) -> str:
    # modeling_bert.py:350:9 says enough in a table; the rows keep the paths.
    return ", ".join(os.path.basename(s) for s in source.split(", ")) if source else ""


class Counters:
    """The counters of one compiled module, with what each row is."""

    def __init__(self, module: ir.Module):
        attr = module.operation.attributes[profile_kernels.ATTRIBUTE]
        self.rows = [{k: ir.StringAttr(ir.DictAttr(d)[k]).value for k in ("name", "ops", "source")}
                     for d in attr]
        self.array = np.zeros((len(self.rows), 2), dtype=np.int64)

    def symbols(self) -> dict:
        """{symbol: address} of the counters and the clock, for the engine."""
        return {profile_kernels.COUNTERS: ctypes.c_void_p(self.array.ctypes.data),
                **clock_symbols()}

    def read(self) -> list:
        """A `KernelTime` per row, in row order (kernels, then public functions)."""
        return [KernelTime(r["name"], r["ops"], r["source"], int(calls), float(ns) * 1e-9)
                for r, (ns, calls) in zip(self.rows, self.array)]

    def reset(self):
        self.array[:] = 0


def present(module: ir.Module) -> bool:
    """Whether `module` was compiled with profile=True."""
    return profile_kernels.ATTRIBUTE in module.operation.attributes
