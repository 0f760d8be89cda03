"""euler-bare-pointer-calls: functions take and pass memrefs as bare pointers.

Runs in the CPU pipeline's `llvm` stage, before the rest of the conversion to
the LLVM dialect. With MLIR's default convention every memref argument is a
descriptor (two pointers, an offset, sizes and strides) that each caller
builds and each callee takes apart; at the calls of euler-dedup-kernels'
kernels that glue was three quarters of a 12-layer GPT-2's LLVM IR, and much
of its JIT time. Where every memref in every function signature has a static
shape and an identity layout (the kernels take whole tensors, and the public
functions' arguments are caller-allocated arrays), one pointer says all:
this runs `convert-func-to-llvm{use-bare-ptr-memref-call-conv=1}` on the
module. Otherwise it changes nothing and the functions keep descriptors
(`convert-to-llvm` after it): the convention must be one for a function
and all its callers, so it is the whole module's or none of it.
"""

from mlir import ir, passmanager

NAME = "euler-bare-pointer-calls"
SUMMARY = "Lower functions with bare-pointer memref arguments where every signature allows it"


def run(module):
    with module.context:
        for op in module.regions[0].blocks[0].operations:
            if op.operation.name == "func.func" and not _bare_signature(op.operation):
                return
        pm = passmanager.PassManager.parse(
            "builtin.module(convert-func-to-llvm{use-bare-ptr-memref-call-conv=1})")
        pm.run(module)


def _bare_signature(fn) -> bool:
    ftype = ir.FunctionType(ir.TypeAttr(fn.attributes["function_type"]).value)
    if any(isinstance(t, ir.MemRefType) for t in ftype.results):
        return False  # a returned pointer would lose the buffer's allocation
    return all(_bare(t) for t in ftype.inputs)


def _bare(t) -> bool:
    if isinstance(t, ir.UnrankedMemRefType):
        return False
    if not isinstance(t, ir.MemRefType):
        return True  # scalars, pointers
    # Zero-size dimensions: MLIR's check of the strides rejects some of them.
    return (t.has_static_shape and all(d > 0 for d in t.shape)
            and t.layout.value == ir.AffineMap.get_identity(t.rank))
