"""The runtime of -O3's parallel loops: OpenMP's entry points over GCC's libgomp.

The CPU pipeline lowers each `scf.forall` to an `omp.parallel` loop
(`convert-scf-to-openmp`), which LLVM's OpenMPIRBuilder outlines into calls
of LLVM's OpenMP runtime (`__kmpc_fork_call`, `__kmpc_for_static_init_8u`,
...). That runtime (libomp) ships with neither MLIR's wheels nor PyTorch's;
GCC's libgomp ships with both GCC and PyTorch. The few entry points the
outlined code calls are defined here over libgomp's `GOMP_parallel`, in
LLVM-dialect IR that the JIT compiles once per process; `symbols()` gives
their addresses to every `jit.Engine`.

Why not MLIR's async runtime, which needs nothing outside MLIR: its workers
sleep on a condition variable as soon as they are idle, and waking a sleeping
core of a virtual machine costs a round trip to the hypervisor. On the 2-core
KVM Xeon (AVX-512) of 2026-12-02, benchmarks/parallel_dispatch.py: a 2-thread
kernel cost 100-140 us more than half of its 1-thread time, and two threads
lost up to 256K elements of a fused GELU; libgomp's workers spin a while
before they sleep (GOMP_SPINCOUNT), as PyTorch's eager kernels rely on. In a
process with PyTorch, torch's libgomp (same soname) is the one loaded, so both
share one pool of threads instead of two fighting over the cores.
"""

from __future__ import annotations

import ctypes
import functools

from ..errors import InternalError
from . import shim

LIBGOMP = "libgomp.so.1"

# What the outlined code calls.
ENTRY_POINTS = ("__kmpc_global_thread_num", "__kmpc_push_num_threads", "__kmpc_fork_call",
                "__kmpc_for_static_init_8u", "__kmpc_for_static_fini", "__kmpc_barrier")

# libgomp numbers its threads 0..n-1 in each team, which is all the outlined
# code asks of a thread id (it hands it back to the calls below). The thread
# count of the next fork is a global, not per thread: a race between two
# Python threads could only change a team's size, and the static schedule
# reads the size of the team it runs in.
_SHIM = """
module {
  llvm.func @GOMP_parallel(!llvm.ptr, !llvm.ptr, i32, i32)
  llvm.func @GOMP_barrier()
  llvm.func @omp_get_thread_num() -> i32
  llvm.func @omp_get_num_threads() -> i32
  llvm.mlir.global internal @euler_next_threads(0 : i32) : i32

  llvm.func @__kmpc_global_thread_num(%ident: !llvm.ptr) -> i32 {
    %t = llvm.call @omp_get_thread_num() : () -> i32
    llvm.return %t : i32
  }
  llvm.func @__kmpc_push_num_threads(%ident: !llvm.ptr, %gtid: i32, %n: i32) {
    %g = llvm.mlir.addressof @euler_next_threads : !llvm.ptr
    llvm.store %n, %g : i32, !llvm.ptr
    llvm.return
  }
  // Run by every thread of the team: data is {microtask, its argument}.
  llvm.func @euler_omp_task(%data: !llvm.ptr) {
    %one = llvm.mlir.constant(1 : i32) : i32
    %zero = llvm.mlir.constant(0 : i32) : i32
    %fn = llvm.load %data : !llvm.ptr -> !llvm.ptr
    %argp = llvm.getelementptr %data[1] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
    %arg = llvm.load %argp : !llvm.ptr -> !llvm.ptr
    %tid = llvm.call @omp_get_thread_num() : () -> i32
    %tp = llvm.alloca %one x i32 : (i32) -> !llvm.ptr
    %zp = llvm.alloca %one x i32 : (i32) -> !llvm.ptr
    llvm.store %tid, %tp : i32, !llvm.ptr
    llvm.store %zero, %zp : i32, !llvm.ptr
    llvm.call %fn(%tp, %zp, %arg) : !llvm.ptr, (!llvm.ptr, !llvm.ptr, !llvm.ptr) -> ()
    llvm.return
  }
  // OpenMPIRBuilder passes the captured values as one struct: argc is 0 or 1.
  llvm.func @__kmpc_fork_call(%ident: !llvm.ptr, %argc: i32, %fn: !llvm.ptr, ...) {
    %one = llvm.mlir.constant(1 : i32) : i32
    %zero = llvm.mlir.constant(0 : i32) : i32
    %null = llvm.mlir.zero : !llvm.ptr
    %va = llvm.alloca %one x !llvm.array<32 x i8> {alignment = 16 : i64} : (i32) -> !llvm.ptr
    %has = llvm.icmp "sgt" %argc, %zero : i32
    llvm.cond_br %has, ^read, ^go(%null : !llvm.ptr)
  ^read:
    llvm.intr.vastart %va : !llvm.ptr
    %a = llvm.va_arg %va : (!llvm.ptr) -> !llvm.ptr
    llvm.intr.vaend %va : !llvm.ptr
    llvm.br ^go(%a : !llvm.ptr)
  ^go(%arg: !llvm.ptr):
    %data = llvm.alloca %one x !llvm.struct<(ptr, ptr)> : (i32) -> !llvm.ptr
    llvm.store %fn, %data : !llvm.ptr, !llvm.ptr
    %argp = llvm.getelementptr %data[1] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
    llvm.store %arg, %argp : !llvm.ptr, !llvm.ptr
    %g = llvm.mlir.addressof @euler_next_threads : !llvm.ptr
    %n = llvm.load %g : !llvm.ptr -> i32
    %task = llvm.mlir.addressof @euler_omp_task : !llvm.ptr
    llvm.call @GOMP_parallel(%task, %data, %n, %zero) : (!llvm.ptr, !llvm.ptr, i32, i32) -> ()
    llvm.return
  }
  // The unchunked static schedule (the only one convert-scf-to-openmp asks
  // for) of the inclusive range [*lower, *upper] by incr: contiguous blocks,
  // the first trip % n threads one iteration more; a thread past the trip
  // count gets an empty range (upper = lower - incr).
  llvm.func @__kmpc_for_static_init_8u(%ident: !llvm.ptr, %gtid: i32, %sched: i32,
                                       %plast: !llvm.ptr, %plower: !llvm.ptr, %pupper: !llvm.ptr,
                                       %pstride: !llvm.ptr, %incr: i64, %chunk: i64) {
    %c0 = llvm.mlir.constant(0 : i64) : i64
    %c1 = llvm.mlir.constant(1 : i64) : i64
    %lo = llvm.load %plower : !llvm.ptr -> i64
    %hi = llvm.load %pupper : !llvm.ptr -> i64
    %tid32 = llvm.call @omp_get_thread_num() : () -> i32
    %nth32 = llvm.call @omp_get_num_threads() : () -> i32
    %tid = llvm.zext %tid32 : i32 to i64
    %nth = llvm.zext %nth32 : i32 to i64
    %span = llvm.sub %hi, %lo : i64
    %q = llvm.udiv %span, %incr : i64
    %trip = llvm.add %q, %c1 : i64
    %small = llvm.udiv %trip, %nth : i64
    %extra = llvm.urem %trip, %nth : i64
    %lt = llvm.icmp "ult" %tid, %extra : i64
    %more = llvm.select %lt, %c1, %c0 : i1, i64
    %count = llvm.add %small, %more : i64
    %firsts = llvm.mul %tid, %small : i64
    %extras = llvm.select %lt, %tid, %extra : i1, i64
    %before = llvm.add %firsts, %extras : i64
    %off = llvm.mul %before, %incr : i64
    %mylo = llvm.add %lo, %off : i64
    %len = llvm.mul %count, %incr : i64
    %end = llvm.add %mylo, %len : i64
    %myhi = llvm.sub %end, %incr : i64
    llvm.store %mylo, %plower : i64, !llvm.ptr
    llvm.store %myhi, %pupper : i64, !llvm.ptr
    %stride = llvm.mul %trip, %incr : i64
    llvm.store %stride, %pstride : i64, !llvm.ptr
    %nonempty = llvm.icmp "ne" %count, %c0 : i64
    %next = llvm.add %before, %count : i64
    %atend = llvm.icmp "eq" %next, %trip : i64
    %last1 = llvm.and %nonempty, %atend : i1
    %last = llvm.zext %last1 : i1 to i32
    llvm.store %last, %plast : i32, !llvm.ptr
    llvm.return
  }
  llvm.func @__kmpc_for_static_fini(%ident: !llvm.ptr, %gtid: i32) {
    llvm.return
  }
  llvm.func @__kmpc_barrier(%ident: !llvm.ptr, %gtid: i32) {
    llvm.call @GOMP_barrier() : () -> ()
    llvm.return
  }
}
"""


@functools.lru_cache(maxsize=None)
def available() -> bool:
    """Whether libgomp loads (into the process, where the JIT finds it)."""
    try:
        ctypes.CDLL(LIBGOMP, mode=ctypes.RTLD_GLOBAL)
    except OSError:
        return False
    return True


@functools.lru_cache(maxsize=None)
def symbols() -> dict:
    """{entry point: address} for `ExecutionEngine.raw_register_runtime`. The
    engine that holds their code lives as long as the process."""
    if not available():
        raise InternalError(f"parallel loops need GCC's OpenMP runtime ({LIBGOMP}, package "
                            "libgomp1 on Debian/Ubuntu), which did not load: install it, or "
                            "compile with num_threads=1 (EULER_NUM_THREADS=1)")
    return shim.symbols(_SHIM, ENTRY_POINTS)


