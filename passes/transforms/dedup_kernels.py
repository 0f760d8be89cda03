"""euler-dedup-kernels: outline every kernel into a function, one per distinct kernel.

Runs at the end of the `tiled` stage (-O2 and up), once fusion, tiling and
the matmul schedule have fixed what each kernel is. A model of N identical
layers has N copies of every kernel; everything after this point
(vectorization, bufferization, lowering, and above all LLVM's code
generation, most of the compile time) would otherwise pay N times. As
Inductor and IREE do, kernels are keyed by their IR and each distinct one is
compiled once, called from every place it occurs. At -O3 it also runs before
`euler-schedule-matmul` on the matmuls alone (`ops=`), so that each distinct
matmul is scheduled once, in a function of its own.

A kernel is an op with regions at the top level of a public function (a
tiled loop nest, an `scf.forall`, an untiled `linalg` op), together with the
kernels only it reads (a matmul's fill and packs) and the `insert_slice`
that alone reads it (a peeled matmul block then updates its tensor in
place). It becomes a private `noinline` function `@__euler_kernel_N` taking
the values it reads from outside. Scalars, splat constants, `tensor.empty`,
fills (as `linalg.fill` or as a generic broadcasting a scalar) and the view
ops (slices and reshapes) between it and its operands are cloned in rather
than passed: kernels then differ by weights and
activations only, and take whole tensors, which bufferize to identity-layout
memrefs with no copy at the call. Non-splat constants (weights) are
arguments, so layers with different weights share code.

The key is the kernel function's printed IR without locations (after a
canonicalization and a fixed order of its constants), used whole as a
dictionary key: equal text means equal code, with no collision to rule out.
"""

from __future__ import annotations

import itertools
import re

from mlir import ir
from mlir.dialects import func

from .. import transform_script

NAME = "euler-dedup-kernels"
SUMMARY = "Outline each kernel into a private function, one per distinct kernel IR"

PREFIX = "__euler_kernel_"
_TEMP = "__euler_outlined_"  # until the kernels are numbered in program order
# The function's own name, the first symbol in its printed form.
_SELF = re.compile(r"@[\w$.-]+")

# Ops cloned into a kernel instead of passed to it: they cost (next to)
# nothing to repeat, and passing them would make layers' kernels differ (CSE
# leaves one fill for all the layers' reductions, say).
_CLONED = {"tensor.empty", "ub.poison", "tensor.extract_slice", "tensor.expand_shape",
           "tensor.collapse_shape", "linalg.fill",
           # B of a matmul, packed already (euler-conv-to-matmul): the
           # schedule reads the packed tensor, and the unpack is dropped.
           "linalg.unpack"}


def run(module, ops=""):
    """`ops` (comma-separated op names): outline only these ops, with no
    other kernel merged into theirs (for dedup before a schedule of them)."""
    only = tuple(o for o in ops.split(",") if o) if isinstance(ops, str) else tuple(ops)
    with module.context:
        top = module.regions[0].blocks[0]
        table = ir.SymbolTable(module)
        outlined, ids = [], itertools.count()
        for fn in [op.operation for op in top.operations]:
            if (fn.name == "func.func" and "sym_visibility" not in fn.attributes
                    and len(fn.regions[0].blocks)):
                outlined += _outline(fn, table, ids, only)
        if not outlined:
            return
        # Equal text before the cleanup is equal text after it: merging those
        # first leaves the cleanup one copy of each kernel to fold, not one
        # per layer (it was half of this pass on a 12-layer GPT-2).
        kernels = _merge([(kernel, [call]) for kernel, call in outlined])
        # Folding left undone in the whole function would make copies of one
        # kernel print differently (euler-schedule-matmul folds each matmul's
        # pack slices into its transfers when it schedules the next matmul).
        transform_script.apply(module, transform_script.sequence(_CLEANUP))
        kernels = _merge(kernels)
        # Numbered in program order, now that they are final.
        numbers = (f"{PREFIX}{i}" for i in itertools.count())
        for kernel, calls in kernels:
            name = next(n for n in numbers if n not in table)
            kernel.attributes["sym_name"] = ir.StringAttr.get(name)
            for call in calls:
                call.attributes["callee"] = ir.FlatSymbolRefAttr.get(name)


def _merge(kernels):
    """[(kernel, its calls)] with one kernel per printed IR, the first of
    each (program order); the calls of the others call it, and they are erased."""
    kept = {}  # printed kernel IR, name left out -> [kernel, calls]
    for kernel, calls in kernels:
        _sort_constants(kernel)
        # Local scope: printing a nested op otherwise walks the whole module.
        text = kernel.get_asm(use_local_scope=True)
        first = kept.setdefault(_SELF.sub("", text, count=1), [kernel, []])
        first[1] += calls
        if first[0] != kernel:
            for call in calls:
                call.attributes["callee"] = first[0].attributes["sym_name"]
            kernel.erase()
    return [tuple(k) for k in kept.values()]


def _sort_constants(kernel):
    """Constants first, in one order: canonicalization hoists them in an
    order that depends on what the rest of the function held."""
    block = kernel.regions[0].blocks[0]
    constants = [op.operation for op in block.operations
                 if op.operation.name in ("arith.constant", "ub.poison")]
    anchor = next(op.operation for op in block.operations
                  if op.operation.name not in ("arith.constant", "ub.poison"))
    for op in sorted(constants, key=_constant_key):
        op.move_before(anchor)


def _constant_key(op):
    value = op.attributes["value"] if "value" in op.attributes else op.results[0].type
    return op.name, str(value)


def _outline(fn, table, ids, only):
    """Moves each kernel of `fn` into a function of its own: [(func, call)]."""
    block = fn.regions[0].blocks[0]
    # Consumers first, so that producers read by one kernel only (a fill, the
    # packs of a matmul) go into it instead of becoming kernels of their own.
    roots = [op.operation for op in reversed(block.operations) if len(op.operation.regions)
             and (not only or op.operation.name in only)]
    outlined, clonable = [], {}
    for root in roots:
        if root in clonable:
            continue  # in a consumer's kernel already
        body = [root] + ([] if only else _insert_of(root, fn))
        cloned, args = _inputs(body, fn, merge=not only)
        clonable.update(dict.fromkeys(cloned))
        results = list(body[-1].results)
        name = next(n for n in (f"{_TEMP}{i}" for i in ids) if n not in table)
        # Before `fn`, each before the last one made: the kernels read in
        # program order, and buffer-results-to-out-params turns their results
        # into out-params before it looks at `fn`'s (which it hoists only
        # where they are allocations by then).
        where = ir.InsertionPoint(outlined[-1][0] if outlined else fn)
        with where, root.location:
            kernel = func.FuncOp(name, ([v.type for v in args], [r.type for r in results]))
            kernel.attributes["sym_visibility"] = ir.StringAttr.get("private")
            # Or LLVM inlines every copy back into the caller, and compiles
            # it once per call site again (4 layers: 22 s of JIT, 8.5 s so).
            # (`no_inline` would not survive convert-func-to-llvm; this does.)
            kernel.attributes["passthrough"] = ir.ArrayAttr.get([ir.StringAttr.get("noinline")])
        table.insert(kernel.operation)
        entry = kernel.add_entry_block()
        mapping = dict(zip(args, entry.arguments))
        with ir.InsertionPoint(entry):
            for op in cloned:
                copy = op.clone()
                for old, new in zip(op.results, copy.results):
                    mapping[old] = new
        with ir.InsertionPoint(body[-1]), root.location:
            call = func.CallOp([r.type for r in results], kernel.attributes["sym_name"].value,
                               args)
        for old, new in zip(results, call.results):
            old.replace_all_uses_with(new)
        ret = _append_return(entry, results)
        for op in body:
            op.move_before(ret)
        _remap(kernel.operation, mapping)
        outlined.append((kernel.operation, call.operation))
    # The originals of cloned ops are dead now where only kernels used them.
    for op in reversed([o.operation for o in block.operations]):
        if op in clonable and not any(True for r in op.results for _ in r.uses):
            op.erase()
    return outlined[::-1]


_CLEANUP = [
    '%f = transform.structured.match ops{["func.func"]} in %root'
    " : (!transform.any_op) -> !transform.any_op",
    "transform.apply_patterns to %f {"
    " transform.apply_patterns.tensor.fold_tensor_subset_ops_into_vector_transfers"
    " transform.apply_patterns.canonicalization } : !transform.any_op",
    "transform.apply_cse to %f : !transform.any_op",
]


def _insert_of(root, fn):
    """[the tensor.insert_slice that alone reads `root`'s one result], or []:
    a kernel writing a slice of a tensor (a peeled matmul block) updates the
    tensor in place, where returning the slice would copy it in the caller."""
    if len(root.results) != 1:
        return []
    users = [getattr(u.owner, "operation", u.owner) for u in root.results[0].uses]
    if (len(users) == 1 and users[0].name == "tensor.insert_slice" and users[0].parent == fn
            and users[0].operands[0] == root.results[0]):
        return users
    return []


def _append_return(entry, results):
    with ir.InsertionPoint(entry):
        return func.ReturnOp(results).operation


def _defining_op(value):
    """The op defining `value`, or None (a block argument)."""
    if isinstance(value, ir.BlockArgument):
        return None
    return value.owner.operation


def _top_level(value, fn):
    if isinstance(value, ir.BlockArgument):
        return value.owner == fn.regions[0].blocks[0]
    return value.owner.operation.parent == fn


def _captured(ops, fn):
    """Values defined at `fn`'s top level, outside `ops`, that `ops` or their
    bodies read, in first-use order."""
    seen, order = {r for op in ops for r in op.results}, []

    def visit(op):
        for v in op.operands:
            if v not in seen and _top_level(v, fn):
                seen.add(v)
                order.append(v)
        return ir.WalkResult.ADVANCE

    for op in ops:
        op.walk(visit)
    return order


def _inputs(body, fn, merge=True):
    """(ops to clone into the kernel of the ops `body`, in an order defining each before
    its users; the kernel's arguments). Both follow first use, so that equal
    kernels come out as equal text wherever their operands were defined."""
    cloned, args = [], []
    inside = set(body)
    decided = {}  # op -> whether it is cloned; once passed, always passed

    def need(v):
        op = _defining_op(v)
        if op is not None and op not in decided:
            decided[op] = _clonable(op, inside, fn, merge)
            if decided[op]:
                inside.add(op)
                for w in _captured([op], fn):
                    need(w)
                cloned.append(op)
        if (op is None or not decided[op]) and v not in args:
            args.append(v)

    for v in _captured(body, fn):
        need(v)
    return cloned, args


def _clonable(op, inside, fn, merge):
    """Whether `op` goes into the kernel of the ops `inside`, rather than
    being passed as a value."""
    if op.name in _CLONED or _is_fill(op):
        return True
    if op.name == "arith.constant":
        value = op.attributes["value"]
        return not isinstance(value, ir.DenseElementsAttr) or value.is_splat
    # Work read by this kernel alone is part of it; work read elsewhere too
    # is done once, where it is.
    return merge and len(op.regions) > 0 and _read_inside(op, inside, fn)


def _is_fill(op):
    """Whether `op` is a `linalg.generic` that only broadcasts scalars (a
    fill, in the form linalg-fuse-elementwise-ops leaves fills in). CSE
    shares one such op among all the reductions of one shape; as a kernel
    of its own, each of those reductions would get a copy of its buffer."""
    if op.name != "linalg.generic":
        return False
    inputs = ir.DenseI32ArrayAttr(op.attributes["operandSegmentSizes"])[0]
    if any(isinstance(v.type, ir.ShapedType) for v in list(op.operands)[:inputs]):
        return False
    ops = list(op.regions[0].blocks[0].operations)
    return (len(ops) == 1 and ops[0].operation.name == "linalg.yield"
            and all(isinstance(v, ir.BlockArgument) and v.arg_number < inputs
                    for v in ops[0].operation.operands))


def _read_inside(op, inside, fn):
    """Whether only the ops `inside` read `op`'s results, through views
    (which are cloned, so an outside reader of a view reads `op` too)."""
    for r in op.results:
        for u in r.uses:
            user = _top(getattr(u.owner, "operation", u.owner), fn)
            if user not in inside or (user.name in _CLONED and not _read_inside(user, inside, fn)):
                return False
    return True


def _top(op, fn):
    """The op at `fn`'s top level that is or holds `op`."""
    while op.parent != fn:
        op = op.parent
    return op


def _remap(kernel, mapping):
    def visit(op):
        for i, v in enumerate(op.operands):
            new = mapping.get(v)
            if new is not None:
                op.operands[i] = new
        return ir.WalkResult.ADVANCE

    kernel.walk(visit)
