"""euler-profile-kernels: time every kernel call of the public functions.

Runs at the end of the `tiled` stage when `profile=True` (EULER_PROFILE=1),
after `euler-dedup-kernels` has outlined each kernel into a function
`@__euler_kernel_N`. Each call of a kernel from a public function is wrapped
in two calls of `@__euler_profile_now() -> i64` (nanoseconds of a monotonic
clock, which the target's runtime defines: `runtime/profile.py` on the CPU),
and the difference and a call count are added to the kernel's row of the
counters `@__euler_profile_counters : memref<rows x 2 x i64>`, a declaration
the runtime links to an array it reads from Python. One more row per public
function times the whole call, so that the host code's own cost (allocations,
copies) is the total less its kernels.

What row holds what goes into the module attribute `euler.profile`: one
dictionary per row, the kernel's (or public function's) name, its ops (named
linalg ops by name, generics by their iterators and payload) and the source
lines it came from. Nothing of this is emitted when profiling is off.
"""

from __future__ import annotations

from mlir import ir
from mlir.dialects import arith, func, memref

from ...errors import format_location
from .dedup_kernels import PREFIX

NAME = "euler-profile-kernels"
SUMMARY = "Time each kernel call into counters the runtime reads (profile=True)"

CLOCK = "__euler_profile_now"
COUNTERS = "__euler_profile_counters"
ATTRIBUTE = "euler.profile"

# Ops that say nothing of what a kernel computes.
_PLUMBING = {"linalg.yield", "linalg.index", "linalg.fill"}
# Payload ops listed per generic, at most: the rest of an expanded exp or
# tanh polynomial is more of the same.
_PAYLOAD_OPS = 6


def run(module):
    with module.context, ir.Location.unknown():
        top = module.regions[0].blocks[0]
        functions = [op.operation for op in top.operations if op.operation.name == "func.func"]
        kernels = {_name(f): f for f in functions if _name(f).startswith(PREFIX)}
        public = [f for f in functions
                  if "sym_visibility" not in f.attributes and len(f.regions[0].blocks)]
        rows = {}  # kernel or public function name -> its row
        for name in sorted(kernels, key=lambda n: int(n[len(PREFIX):])):
            rows[name] = len(rows)
        for fn in public:
            rows["@" + _name(fn)] = len(rows)
        if not public:
            return
        i64 = ir.IntegerType.get_signless(64)
        counters_type = ir.MemRefType.get([len(rows), 2], i64)
        with ir.InsertionPoint.at_block_begin(top):
            func.FuncOp(CLOCK, ([], [i64]), visibility="private")
            memref.GlobalOp(COUNTERS, ir.TypeAttr.get(counters_type))
        for fn in public:
            _instrument(fn, rows, counters_type)
        module.operation.attributes[ATTRIBUTE] = ir.ArrayAttr.get([
            ir.DictAttr.get({"name": ir.StringAttr.get(name),
                             "ops": ir.StringAttr.get(_describe(kernels.get(name))),
                             "source": ir.StringAttr.get(_sources(kernels.get(name)))})
            for name in rows])


def _name(fn):
    return ir.StringAttr(fn.attributes["sym_name"]).value


def _instrument(fn, rows, counters_type):
    block = fn.regions[0].blocks[0]
    i64 = counters_type.element_type
    with ir.InsertionPoint.at_block_begin(block):
        counters = memref.get_global(counters_type, COUNTERS)
        index = {v: arith.constant(ir.IndexType.get(), v) for v in range(max(rows.values()) + 1)}
        one = arith.constant(i64, 1)
        start = func.call([i64], ir.FlatSymbolRefAttr.get(CLOCK), [])

    def add(row, begin, before):
        with ir.InsertionPoint(before):
            end = func.call([i64], ir.FlatSymbolRefAttr.get(CLOCK), [])
            for column, amount in ((0, arith.subi(end, begin)), (1, one)):
                at = [index[row], index[0] if column == 0 else index[1]]
                total = memref.load(counters, at)
                memref.store(arith.addi(total, amount), counters, at)

    ops = [op.operation for op in block.operations]
    for op, after in zip(ops, ops[1:] + [None]):
        if op.name == "func.call":
            callee = ir.FlatSymbolRefAttr(op.attributes["callee"]).value
            if callee in rows and callee.startswith(PREFIX):
                with ir.InsertionPoint(op):
                    begin = func.call([i64], ir.FlatSymbolRefAttr.get(CLOCK), [])
                add(rows[callee], begin, after)  # a call is never the terminator
        elif op.name == "func.return":
            add(rows["@" + _name(fn)], start, op)


def _describe(kernel) -> str:
    """The kernel's ops, e.g. 'matmul; generic(parallel x2: addf, exp, divf)'."""
    if kernel is None:
        return "(whole call)"
    parts = []

    def visit(op):
        if _computes(op):
            part = _describe_op(op)
            if not parts or parts[-1] != part:  # a peeled matmul's blocks: one
                parts.append(part)
            return ir.WalkResult.SKIP
        return ir.WalkResult.ADVANCE

    kernel.walk(visit, ir.WalkOrder.PRE_ORDER)
    ftype = ir.FunctionType(ir.TypeAttr(kernel.attributes["function_type"]).value)
    shapes = ", ".join(_shape(t) for t in ftype.inputs) + " -> " + ", ".join(
        _shape(t) for t in ftype.results)
    return ("; ".join(parts) or "(no linalg op)") + f" [{shapes}]"


def _computes(op) -> bool:
    # A matmul the schedule has turned into vector.contracts already (-O3).
    return (op.name.startswith("linalg.") and op.name not in _PLUMBING
            or op.name == "vector.contract")


def _shape(t) -> str:
    if isinstance(t, ir.ShapedType) and ir.ShapedType(t).has_rank:
        return "x".join(map(str, ir.ShapedType(t).shape)) or "scalar"
    return str(t)


def _describe_op(op) -> str:
    if op.name == "vector.contract":
        return "matmul (scheduled)"
    name = op.name[len("linalg."):]
    if name != "generic":
        return name
    iterators = [str(a).split("<")[-1].rstrip(">") for a in op.attributes["iterator_types"]]
    loops = ", ".join(f"{k} x{iterators.count(k)}" for k in ("parallel", "reduction")
                      if iterators.count(k))
    payload = []
    for inner in op.regions[0].blocks[0].operations:
        short = inner.operation.name.split(".")[-1]
        if inner.operation.name not in _PLUMBING and short not in payload \
                and not short.startswith("constant"):
            payload.append(short)
    more = ", ..." if len(payload) > _PAYLOAD_OPS else ""
    return f"generic({loops}: {', '.join(payload[:_PAYLOAD_OPS])}{more})"


def _sources(kernel) -> str:
    """The distinct source locations of the kernel's ops, in order."""
    if kernel is None:
        return ""
    seen = []

    def visit(op):
        if _computes(op):
            where = format_location(op.location)
            if where != "<unknown>" and where not in seen:
                seen.append(where)
        return ir.WalkResult.ADVANCE

    kernel.walk(visit)
    return ", ".join(seen)
