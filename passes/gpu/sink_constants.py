"""euler-gpu-sink-constants: constants live in the kernels' module, not copied per call.

Runs in the CUDA pipeline's `gpu` stage, once every linalg op is a
`gpu.launch`, before `gpu-kernel-outlining`. `euler-gpu-device-buffers`
gives each constant (`memref.get_global`) a device buffer filled by a
`gpu.memcpy` from the host on every call. Where every reader of that buffer
is a kernel, the copy goes: each kernel reads the constant itself through a
`memref.get_global` inside its body, and outlining moves the
`memref.global` into the `gpu.module`, so the data sits in device memory
from the moment the module loads (an initialized `.global` array in the
PTX). A buffer that some host op reads keeps its copy.
"""

from __future__ import annotations

from mlir import ir

NAME = "euler-gpu-sink-constants"
SUMMARY = "Read constants inside the kernels (device globals) instead of copying them per call"

# Bytes the device global's start is aligned to: the kernels' 16-byte vector
# accesses (runtime/cuda.py aligns argument buffers the same way).
ALIGNMENT = 16


def run(module):
    symbols = {op.operation.attributes["sym_name"].value: op.operation
               for op in module.regions[0].blocks[0].operations
               if op.operation.name == "memref.global"}
    for fn in module.regions[0].blocks[0].operations:
        fn = fn.operation
        if fn.name != "func.func" or not len(fn.regions[0].blocks):
            continue
        for op in list(fn.regions[0].blocks[0].operations):
            op = op.operation
            if op.name == "gpu.memcpy" and not len(op.results):  # synchronous, before gpu-async-region
                _sink(op, symbols)


def _sink(copy, symbols):
    dst, src = copy.operands[len(copy.operands) - 2], copy.operands[len(copy.operands) - 1]
    # `.operation`: a get_global's op view has its own `name`, the symbol.
    if isinstance(src.owner, ir.Block) or src.owner.operation.name != "memref.get_global":
        return
    if isinstance(dst.owner, ir.Block) or dst.owner.operation.name != "gpu.alloc":
        return
    get_global = src.owner.operation
    global_ = symbols.get(ir.FlatSymbolRefAttr(get_global.attributes["name"]).value)
    if global_ is None or "constant" not in global_.attributes:
        return  # a mutable global: each call must see its current value
    uses, deallocs = [], []
    for use in dst.uses:
        user = use.owner.operation
        if user == copy:
            continue
        if user.name == "gpu.dealloc":
            deallocs.append(user)
            continue
        launch = _enclosing_launch(user)
        if launch is None:
            return  # read on the host (or by a host op): keep the copy
        uses.append((user, use.operand_number, launch))
    launches = {}
    for user, index, launch in uses:
        if launch not in launches:
            body = launch.regions[0].blocks[0]
            with ir.InsertionPoint(body.operations[0]), get_global.location:
                launches[launch] = get_global.clone().results[0]
        user.operands[index] = launches[launch]
    alignment = ir.IntegerType.get_signless(64)
    if "alignment" not in global_.attributes or \
            ir.IntegerAttr(global_.attributes["alignment"]).value < ALIGNMENT:
        global_.attributes["alignment"] = ir.IntegerAttr.get(alignment, ALIGNMENT)
    copy.erase()
    for op in deallocs:
        op.erase()
    dst.owner.operation.erase()


def _enclosing_launch(op):
    while op is not None and op.name != "gpu.launch":
        op = op.parent
        if op is not None and op.name == "func.func":
            return None
    return op
