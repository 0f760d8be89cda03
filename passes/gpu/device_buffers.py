"""euler-gpu-device-buffers: move a bufferized function's memory to the GPU.

Runs at the start of the CUDA pipeline's `gpu` stage, on host-bufferized IR
whose results are out-params (`buffer-results-to-out-params`). Every buffer
the function computes on becomes a device buffer, so that the linalg ops
after it can be turned into kernels as they stand:

  - the function's memref arguments (inputs and out-params) already are
    device buffers: the runtime (`runtime/cuda.py`) passes the pointers of
    the caller's device arrays, or of device copies of numpy arrays;
  - `memref.alloc` becomes `gpu.alloc`, and constants (`memref.get_global`)
    are copied to a device buffer where they are read;
  - `memref.copy` becomes `linalg.copy`, a kernel like any other (the
    runtime's memrefCopy would dereference device pointers on the host);
  - every device buffer is freed before the return; `memref.dealloc`s go.

The gpu ops made here are synchronous; `gpu-async-region` later chains them
on one stream.
"""

from mlir import ir
from mlir.dialects import gpu, linalg

from .. import PassFailure

NAME = "euler-gpu-device-buffers"
SUMMARY = "Allocate a function's buffers on the GPU, with copies in and out at its boundary"


def run(module):
    for op in module.regions[0].blocks[0].operations:
        op = op.operation
        if op.name == "func.func" and len(op.regions[0].blocks):
            _offload(op)


def _offload(func):
    if len(func.regions[0].blocks) != 1:
        func.location.emit_error(f"'{func.name}' op {NAME} expects a single-block function")
        raise PassFailure()
    entry = func.regions[0].blocks[0]
    ret = entry.operations[len(entry.operations) - 1]
    device = []
    for op in list(entry.operations):
        op = op.operation
        if op.name == "memref.alloc":
            with ir.InsertionPoint(op), op.location:
                buf = gpu.AllocOp(op.results[0].type, None, [], list(op.operands), []).memref
            op.results[0].replace_all_uses_with(buf)
            op.erase()
            device.append(buf)
        elif op.name == "memref.get_global":
            host = op.results[0]
            with ir.InsertionPoint.after(op), op.location:
                buf = gpu.AllocOp(host.type, None, [], [], []).memref
                copy = gpu.MemcpyOp(None, [], buf, host)
            host.replace_all_uses_except(buf, copy.operation)
            device.append(buf)
        elif op.name == "memref.copy":
            with ir.InsertionPoint(op), op.location:
                linalg.copy(op.operands[0], outs=[op.operands[1]])
            op.erase()
        elif op.name == "memref.dealloc":
            op.erase()
        elif op.name == "memref.alloca":
            op.location.emit_error(f"'memref.alloca' op {NAME}: host stack buffers "
                                   "are not supported")
            raise PassFailure()
    with ir.InsertionPoint(ret), ret.location:
        for buf in device:
            gpu.DeallocOp(None, [], buf)
