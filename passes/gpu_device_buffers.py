"""euler-gpu-device-buffers: move a bufferized function's memory to the GPU.

Runs at the start of the CUDA pipeline's `gpu` stage, on host-bufferized IR
whose results are out-params (`buffer-results-to-out-params`). Every buffer
the function computes on becomes a device buffer, so that the linalg ops
after it can be turned into kernels as they stand:

  - arguments the function never writes (the euler inputs) are copied to
    the device once, at entry; the ones it writes (the out-params, which
    it never reads before writing) are copied back once, before the return;
  - `memref.alloc` becomes `gpu.alloc`, and constants (`memref.get_global`)
    are copied to a device buffer where they are read;
  - `memref.copy` becomes `linalg.copy`, a kernel like any other (the
    runtime's memrefCopy would dereference device pointers on the host);
  - every device buffer is freed before the return; `memref.dealloc`s go.

The gpu ops made here are synchronous; `gpu-async-region` later chains them
on one stream, so the host waits once, at the return.
"""

from mlir import ir
from mlir.dialects import gpu, linalg

from . import PassFailure

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
    public = "sym_visibility" not in func.attributes
    device, copy_out = [], []
    with ir.InsertionPoint.at_block_begin(entry):
        # Private functions receive device buffers from their callers.
        for arg in (entry.arguments if public else ()):
            if not isinstance(arg.type, ir.MemRefType):
                continue
            buf = gpu.AllocOp(arg.type, None, [], [], []).memref
            arg.replace_all_uses_with(buf)
            device.append(buf)
            if _written(buf):
                copy_out.append((arg, buf))
            else:
                gpu.MemcpyOp(None, [], buf, arg)
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
        for host, buf in copy_out:
            gpu.MemcpyOp(None, [], host, buf)
        for buf in device:
            gpu.DeallocOp(None, [], buf)


# Ops whose result is a view of their first operand's memory.
_VIEWS = {"memref.subview", "memref.expand_shape", "memref.collapse_shape", "memref.cast",
          "memref.reinterpret_cast", "memref.transpose"}


def _written(buf) -> bool:
    """Whether anything writes `buf`, directly or through a view of it."""
    for use in buf.uses:
        op = use.owner
        if op.name in _VIEWS and use.operand_number == 0:
            if _written(op.results[0]):
                return True
        elif op.name.startswith("linalg."):
            if use.operand_number >= _num_inputs(op):
                return True
        elif (op.name, use.operand_number) in (("memref.copy", 1), ("memref.store", 1)):
            return True
    return False


def _num_inputs(op) -> int:
    # Destination-passing style: the outputs are the last operands.
    if "operandSegmentSizes" in op.attributes:
        return op.attributes["operandSegmentSizes"][0]
    if op.name == "linalg.reduce":  # as many inits as inputs
        return len(op.operands) // 2
    return len(op.operands) - 1  # transpose, broadcast, map: one init
