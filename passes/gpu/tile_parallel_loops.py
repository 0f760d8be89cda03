"""euler-gpu-tile-parallel-loops: shape each top-level loop nest into a GPU grid.

Runs in the CUDA pipeline's `gpu` stage, after `convert-linalg-to-parallel-
loops` and before `gpu-map-parallel-loops{mapping-policy=innermost-first}`,
which maps an outer `scf.parallel` to blocks and the one nested in it to
threads. Each top-level `scf.parallel` (one linalg op) is split here into
a grid loop and a block loop of up to `threads` threads: one thread per
output element, the innermost (contiguous) dimension on thread x so that
loads coalesce, a 2-D block for matmuls and other 2-D outputs. A guard
covers extents that are not a multiple of the block.

Inside each thread, a reduction loop that loads and stores the same
element on every iteration (the accumulator of a matmul or a reduce)
carries the value in a register instead (`scf.for` iter_args).

A reduction over leading dimensions lowers to `scf.for { scf.parallel }`:
the two are interchanged (legal, the parallel iterations are independent),
so the parallel dimensions become the grid. Memory accesses still outside
any `scf.parallel` (a reduction to a scalar, a 0-d op) are wrapped in a
one-iteration loop: a single-thread kernel, slow but correct, since the host
cannot touch device memory.
"""

from mlir import ir
from mlir.dialects import arith, memref, scf

from .. import PassFailure

NAME = "euler-gpu-tile-parallel-loops"
SUMMARY = "Tile top-level scf.parallel loops into GPU blocks and threads"

# Ops that may stay on the host: they build descriptors and device buffers
# but never touch device memory.
_HOST_OPS = {
    "arith.constant", "func.return", "memref.get_global", "memref.alloc",
    "memref.subview", "memref.expand_shape", "memref.collapse_shape", "memref.cast",
    "memref.reinterpret_cast", "memref.extract_strided_metadata", "memref.transpose",
    # The TMA descriptors of euler-gpu-schedule-matmul's sm_90 kernels.
    "nvgpu.tma.create.descriptor", "builtin.unrealized_conversion_cast", "llvm.ptrtoint",
}

# Thread tiles are powers of two; z is the smallest dimension of a block.
_MAX_BLOCK = (1024, 1024, 64)


def run(module, threads=256):
    funcs = [op.operation for op in module.regions[0].blocks[0].operations
             if op.operation.name == "func.func" and len(op.operation.regions[0].blocks)]
    for func in funcs:
        body = func.regions[0].blocks[0]
        for op in list(body.operations):
            if op.operation.name == "scf.for":
                _hoist_parallel(op.operation)
        for group in _device_groups(body):
            _wrap_single_thread(group)
        for op in list(body.operations):
            if op.operation.name == "scf.parallel":
                _tile(op.operation, threads)
        loops = []
        func.walk(lambda op: loops.append(op) or ir.WalkResult.ADVANCE)
        for op in loops:
            if op.name == "scf.for" and not len(op.results):
                _promote_accumulator(op)


def _body(loop):
    return loop.regions[0].blocks[0]


def _hoist_parallel(loop):
    """for { parallel { body } } -> parallel { for { body } }, innermost first."""
    ops = [o.operation for o in _body(loop).operations]
    if len(ops) != 2:
        return
    if ops[0].name == "scf.for":
        _hoist_parallel(ops[0])
        ops = [o.operation for o in _body(loop).operations]
    par = ops[0]
    if par.name != "scf.parallel" or len(par.results):
        return
    if any(not isinstance(v.owner, ir.Block) and _inside(v.owner, loop) for v in par.operands):
        return
    par.move_before(loop)
    inner = _body(par)
    with ir.InsertionPoint(inner.operations[0]), loop.location:
        new = scf.ForOp(loop.operands[0], loop.operands[1], loop.operands[2])
        with ir.InsertionPoint(_body(new)):
            yield_ = scf.YieldOp([])
    _body(loop).arguments[0].replace_all_uses_with(new.induction_variable)
    for op in list(inner.operations)[1:-1]:
        op.operation.move_before(yield_)
    loop.erase()


def _device_groups(block):
    """Maximal runs of top-level ops that need the device."""
    groups, current = [], []
    for op in block.operations:
        op = op.operation
        if op.name in _HOST_OPS or op.name.startswith("gpu.") or op.name == "scf.parallel":
            if current:
                groups.append(current)
            current = []
        else:
            current.append(op)
    if current:
        groups.append(current)
    return groups


def _wrap_single_thread(ops):
    inside = {op for op in ops}
    for op in ops:
        for result in op.results:
            for use in result.uses:
                if use.owner not in inside:
                    op.location.emit_error(f"'{op.name}' op {NAME}: a value computed on "
                                           "the device is used on the host")
                    raise PassFailure()
    with ir.InsertionPoint(ops[0]), ops[0].location:
        zero = arith.constant(ir.IndexType.get(), 0)
        one = arith.constant(ir.IndexType.get(), 1)
        loop = _parallel([zero], [one], [one])
    terminator = _body(loop).operations[0]
    for op in ops:
        op.move_before(terminator)


def _parallel(lbs, ubs, steps):
    loop = scf.ParallelOp([], lbs, ubs, steps, [])
    index = ir.IndexType.get()
    block = loop.regions[0].blocks.append(*[index] * len(lbs))
    with ir.InsertionPoint(block):
        scf.ReduceOp([], 0)
    return loop


def _constant(value):
    owner = value.owner
    if isinstance(owner, ir.Block) or owner.name != "arith.constant":
        return None
    return ir.IntegerAttr(owner.attributes["value"]).value


def block_shape(extents, threads=256):
    """Threads per dimension of a block for a loop nest of `extents`:
    innermost dimension first, each a power of two no larger than needed."""
    tiles, budget = [1] * len(extents), threads
    for level, dim in enumerate(reversed(range(len(extents)))):
        if level == len(_MAX_BLOCK) or budget == 1:
            break
        t = 1
        while t < extents[dim] and t * 2 <= min(budget, _MAX_BLOCK[level]):
            t *= 2
        tiles[dim] = t
        budget //= t
    return tiles


def _tile(loop, threads):
    n = len(loop.regions[0].blocks[0].arguments)
    lbs, ubs, steps = (list(loop.operands[i * n:(i + 1) * n]) for i in range(3))
    bounds = [(_constant(lb), _constant(ub), _constant(st)) for lb, ub, st in zip(lbs, ubs, steps)]
    if len(loop.results) or any(None in b for b in bounds):
        # Reductions or dynamic bounds: gpu-map-parallel-loops maps it as is.
        return
    extents = [max(0, -(-(ub - lb) // st)) for lb, ub, st in bounds]
    tiles = block_shape(extents, threads)
    tiled = [d for d in range(n) if tiles[d] > 1]
    if not tiled:
        return  # a single element: one thread
    index = ir.IndexType.get()
    with ir.InsertionPoint(loop), loop.location:
        grid_steps = [arith.constant(index, st * t) for (_, _, st), t in zip(bounds, tiles)]
        zero = arith.constant(index, 0)
        one = arith.constant(index, 1)
        sizes = [arith.constant(index, tiles[d]) for d in tiled]
        grid = _parallel(lbs, ubs, grid_steps)
    with ir.InsertionPoint(_body(grid).operations[0]), loop.location:
        block = _parallel([zero] * len(tiled), sizes, [one] * len(tiled))
    ivs = list(_body(grid).arguments)
    with ir.InsertionPoint(_body(block).operations[0]), loop.location:
        inbounds = None
        for k, d in enumerate(tiled):
            offset = _body(block).arguments[k]
            if bounds[d][2] != 1:
                offset = arith.muli(offset, steps[d])
            ivs[d] = arith.addi(_body(grid).arguments[d], offset)
            if extents[d] % tiles[d]:
                check = arith.cmpi(arith.CmpIPredicate.slt, ivs[d], ubs[d])
                inbounds = check if inbounds is None else arith.andi(inbounds, check)
        if inbounds is not None:
            guard = scf.IfOp(inbounds)
            with ir.InsertionPoint(guard.then_block):
                dest = scf.YieldOp([])
        else:
            dest = _body(block).operations[len(_body(block).operations) - 1]
    old = loop.regions[0].blocks[0]
    for arg, iv in zip(old.arguments, ivs):
        arg.replace_all_uses_with(iv)
    for op in list(old.operations)[:-1]:
        op.operation.move_before(dest)
    loop.erase()


def _promote_accumulator(loop):
    """`for k { ..x = load C[i]..; store y, C[i] }` with C[i] invariant and C
    touched nowhere else in the loop becomes a load before the loop, an
    iter_arg and a store after it."""
    body = _body(loop)
    ops = [op.operation for op in body.operations][:-1]
    stores = [op for op in ops if op.name == "memref.store"]
    if len(stores) != 1:
        return
    store = stores[0]
    buf, idx = store.operands[1], list(store.operands[2:])
    loads = [op for op in ops if op.name == "memref.load" and op.operands[0] == buf]
    if len(loads) != 1 or list(loads[0].operands[1:]) != idx:
        return
    load = loads[0]
    if ops.index(load) > ops.index(store):
        return
    for v in [buf] + idx:
        owner = v.owner
        if owner == body or (not isinstance(owner, ir.Block) and _inside(owner, loop)):
            return
    # Any other use of the buffer inside the loop (nested, say) might alias C[i].
    users = []
    loop.walk(lambda o: (users.append(o) if o not in (load, store)
                         and any(v == buf for v in o.operands) else None)
              or ir.WalkResult.ADVANCE)
    if users:
        return
    with ir.InsertionPoint(loop), loop.location:
        init = memref.LoadOp(buf, idx)
        new = scf.ForOp(loop.operands[0], loop.operands[1], loop.operands[2], [init.result])
    body.arguments[0].replace_all_uses_with(new.induction_variable)
    load.results[0].replace_all_uses_with(new.inner_iter_args[0])
    with ir.InsertionPoint(_body(new)), loop.location:
        yield_ = scf.YieldOp([store.operands[0]])
    for op in ops:
        if op not in (load, store):
            op.move_before(yield_)
    with ir.InsertionPoint.after(new.operation), loop.location:
        memref.StoreOp(new.results[0], buf, idx)
    loop.erase()


def _inside(op, ancestor) -> bool:
    while op is not None:
        if op == ancestor:
            return True
        op = op.parent
    return False
