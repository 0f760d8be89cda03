"""euler-gpu-schedule-matmul: one kernel for each linalg.matmul and
linalg.batch_matmul on the GPU (CUDA pipeline, `gpu` stage).

Runs after `euler-gpu-device-buffers` (operands are device buffers) and
before the loop-nest lowering of the other linalg ops. Each matmul
C[M,N] += A[M,K] @ B[K,N] (static shapes, unit innermost strides, or for
exact f32 a B whose K stride is 1 instead: a linear layer's N x K weight,
`euler-gpu-fold-transposes`; a batch is the grid's z) becomes one
`gpu.launch`:

  * a block computes a BM x BN tile of C; blocks are ordered in groups of
    tile rows so that the ones running together share operands in L2;
  * A and B tiles of BK columns (rows) are staged through shared memory in a
    ring of `stages` buffers filled by `cp.async` (`nvgpu.device_async_copy`),
    stages - 1 tiles ahead of the tile being multiplied, so that global loads
    overlap the arithmetic; a transposed B's tiles are loaded into registers
    instead and stored transposed after the multiplication of the tile
    before them;
  * shared memory is XOR-swizzled in 16-byte chunks, so that the 8 rows one
    `ldmatrix` phase reads (and the rows `cp.async` writes) fall in distinct
    banks;
  * the arithmetic, by element type:
      - f16/bf16: warps of WM x WN, fragments from `nvgpu.ldmatrix` (B
        transposed on the way, since it is K x N in memory), `mma.sync`
        m16n8k16 into f32 accumulators held in registers over the K loop;
      - f32 with `allow_tf32`: the same with m16n8k8 TF32 tensor cores;
      - f32 otherwise (exact, like PyTorch's default): each thread a tm x tn
        register tile, one FMA per element and k;
  * ragged shapes are predicated: copies of rows or columns outside the
    operands zero-fill (cp.async with a source size of 0), and the epilogue
    stores only what lies inside C;
  * a `linalg.fill` of zero into C just before the matmul is folded into the
    kernel (the accumulators start at zero); any other C is read once in the
    epilogue and added, as linalg.matmul's semantics ask;
  * the elementwise `linalg.generic` right after the matmul that reads C (the
    rounding of f16 results, a bias, an activation, a residual) runs in the
    epilogue, on the accumulators: C is never written;
  * exact-f32 matmuls with too few outputs to fill the GPU and a long K
    (`gpu_matmul_split`) run as a batch over slices of K into partial
    products, which one generic adds, with the epilogue, afterwards.

On sm_90 (`chip`), f16/bf16 matmuls whose rows TMA can address get Hopper's
own kernel instead (`_wgmma_kernel_text`): TMA copies completing on
mbarriers fill the ring of 128-byte-swizzled stages, and warpgroups multiply
from shared memory with wgmma (`nvgpu.warpgroup.mma`), f32 accumulators in
registers; TMA zero-fills outside A and B, the epilogue (the same fusion) is
predicated. The host builds the two TMA descriptors before the launch.
Measured on the H200 (benchmarks/cuda.py --gemm f16 bf16 --compare-mma,
kernel time, vs torch.matmul): f16 4096^3 664 TFLOP/s = 0.88 of cuBLAS
(mma.sync 0.54), 8192^3 0.94, 2048^3 0.83, 1024^3 0.81, 77x4096x4096 0.73
(mma.sync 0.29); bf16 the same within 0.01.

The kernel is written as MLIR text from the tile sizes, parsed, and moved in
place of the matmul. Tile sizes come from `pipelines/heuristics.gpu_matmul_tiles`,
overridable with the `tiles` option (`tile_sizes={"matmul": ...}`).
Matmuls it cannot take (f64 or integer operands, mixed element types,
strided innermost dimensions) are left to the generic loop-nest lowering.
"""

from __future__ import annotations

import itertools

from mlir import ir

from ...pipelines.heuristics import gpu_matmul_split, gpu_matmul_tiles
from .. import OptionError, clone_body, ops_named, root_buffer

NAME = "euler-gpu-schedule-matmul"
SUMMARY = ("Tensor-core kernels for linalg matmuls: mma.sync with cp.async pipelines, "
           "wgmma with TMA + mbarrier pipelines on sm_90")

_BYTES = {"f16": 2, "bf16": 2, "f32": 4}
_SMEM = "#gpu.address_space<workgroup>"
_DEFAULT_MAPS = {
    "linalg.matmul": ["affine_map<(d0, d1, d2) -> (d0, d2)>",
                      "affine_map<(d0, d1, d2) -> (d2, d1)>",
                      "affine_map<(d0, d1, d2) -> (d0, d1)>"],
    "linalg.batch_matmul": ["affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>",
                            "affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>",
                            "affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>"],
}


def run(module, tiles=None, allow_tf32=False, chip=None, wgmma=None, split=None):
    """Replace every eligible matmul in `module` by a kernel of its own.
    `tiles` overrides the heuristic's (see `gpu_matmul_tiles`), `split` its
    slices of K (`gpu_matmul_split`); `allow_tf32` lets f32 matmuls use the
    tensor cores' TF32 mode. On `chip` sm_90, 16-bit matmuls get the TMA +
    wgmma kernel unless `wgmma` is false."""
    ids = itertools.count()
    for op in ops_named(module, "linalg.matmul", "linalg.batch_matmul"):
        problem = _problem(op)
        if problem is None:
            continue
        try:
            t = gpu_matmul_tiles(problem["M"], problem["N"], problem["K"], problem["dtype"],
                                 override=tiles, batch=problem["batch"], allow_tf32=allow_tf32,
                                 wgmma=_wgmma_eligible(problem, chip, wgmma))
            slices = gpu_matmul_split(problem["M"], problem["N"], problem["K"], t,
                                      batch=problem["batch"], override=split)
        except ValueError as exc:  # the `tiles` option's
            op.location.emit_error(f"'{op.name}' op {NAME}: {exc}")
            raise OptionError() from exc
        if problem["transposed_b"] and not reads_transposed_b(problem["dtype"], allow_tf32):
            continue  # the loop nests read any layout
        fill = _zero_fill_of(op)
        epilogue = _epilogue_of(op, fill)
        if slices > 1 and fill is not None and not problem["batched"]:
            # One kernel over the K slices as a batch, writing partial
            # products that the reduction (with the epilogue) adds.
            with ir.InsertionPoint(op), op.location:
                op = _split_k(op, problem, slices, fill, epilogue)
            fill, epilogue = _zero_fill_of(op), None
            problem = _problem(op)
            t = gpu_matmul_tiles(problem["M"], problem["N"], problem["K"], problem["dtype"],
                                 override=tiles, batch=slices, allow_tf32=allow_tf32)
        c = op.operands[2]
        launch = _replace(op, problem, t, zero_init=fill is not None, kernel_id=next(ids))
        if fill is not None:
            fill.erase()
        if epilogue is not None:
            generic, allocations = epilogue
            for a in allocations:  # the epilogue's output, before the kernel writes it
                a.move_before(launch)
            _fuse_epilogue(launch, c, generic)


def _split_k(op, p, slices, fill, epilogue):
    """Replace matmul `op` (C zero-filled by `fill`) by a batch_matmul over
    `slices` slices of K into a new zero-filled buffer of partial products
    P[slice, M, N], and a generic that adds them (in slice order: the same
    sum on every run) into C or, with the `epilogue` generic, applies the
    epilogue to the sum instead of to C. Erases `op` and `fill`; returns the
    batch_matmul."""
    from mlir.dialects import arith, gpu, linalg, memref
    a, b, c = op.operands
    M, N, K = p["M"], p["N"], p["K"]
    kc = K // slices
    (strides_a, offset_a), (strides_b, offset_b) = p["layouts"]
    elem = ir.MemRefType(a.type).element_type

    def view(v, shape, strides, offset):
        t = ir.MemRefType.get(shape, elem, layout=ir.StridedLayoutAttr.get(offset, strides))
        return memref.reinterpret_cast(t, v, [], [], [], [offset], shape, strides)
    a_s = view(a, [slices, M, kc], [kc, strides_a[0], 1], offset_a)
    b_s = view(b, [slices, kc, N], [kc * strides_b[0], strides_b[0], strides_b[1]], offset_b)
    out_t = ir.MemRefType(c.type).element_type
    partial = gpu.AllocOp(ir.MemRefType.get([slices, M, N], out_t), None, [], [], []).memref
    # Zero-filled, as C was: the kernel folds the fill.
    linalg.fill(fill.operands[0], outs=[partial])
    product = linalg.batch_matmul(a_s, b_s, outs=[partial])
    slice_maps = [ir.AffineMap.get(2, 0, [ir.AffineConstantExpr.get(i), ir.AffineDimExpr.get(0),
                                          ir.AffineDimExpr.get(1)]) for i in range(slices)]
    parallel = ir.Attribute.parse("#linalg.iterator_type<parallel>")
    target, ins, maps, args = None, [partial] * slices, list(slice_maps), [out_t] * slices
    if epilogue is not None:
        generic = epilogue[0]
        old_maps = [ir.AffineMapAttr(m).value
                    for m in ir.ArrayAttr(generic.attributes["indexing_maps"])]
        operands = list(generic.operands)
        read = next(i for i, v in enumerate(operands[:-1]) if _is_or_views(v, c))
        if operands[read] == c and old_maps[read] == ir.AffineMap.get_identity(2):
            target = generic
    if target is None:  # the sum into C; an epilogue stays a kernel of its own
        outs, out_maps, rest = [c], [ir.AffineMap.get_identity(2)], []
    else:
        keep = [i for i in range(len(operands)) if i != read]
        ins += [operands[i] for i in keep[:-1]]
        maps += [old_maps[i] for i in keep[:-1]]
        outs, out_maps = [operands[-1]], [old_maps[-1]]
        body_args = list(target.regions[0].blocks[0].arguments)
        rest = [body_args[i] for i in keep]
        args += [v.type for v in rest[:-1]]
    args.append(ir.MemRefType(outs[0].type).element_type)
    with ir.InsertionPoint(target) if target is not None else ir.InsertionPoint(op):
        add = linalg.GenericOp([], ins, outs, ir.ArrayAttr.get([ir.AffineMapAttr.get(m)
                                                               for m in maps + out_maps]),
                               ir.ArrayAttr.get([parallel] * 2))
        block = add.regions[0].blocks.append(*args)
        with ir.InsertionPoint(block):
            total = block.arguments[0]
            for i in range(1, slices):
                total = arith.addf(total, block.arguments[i])
            if target is None:
                linalg.YieldOp([total])
            else:
                mapping = {body_args[read]: total}
                mapping.update(zip(rest, list(block.arguments)[slices:]))
                linalg.YieldOp(clone_body(target, mapping))
        gpu.DeallocOp(None, [], partial)
    op.erase()
    fill.erase()
    if target is not None:
        target.erase()
    _erase_if_dead(c)
    return product


# Ops that only make buffers (or views of them) and may move up to the
# matmul when they sit between it and its epilogue (the epilogue's output).
_ALLOCATIONS = ("memref.alloc", "gpu.alloc", "memref.collapse_shape", "memref.expand_shape",
                "memref.reinterpret_cast", "arith.constant")


def default_maps(op):
    """Whether matmul `op` has linalg's default indexing maps (no transposed
    or broadcast operands), the only ones its kernels read."""
    if "indexing_maps" not in op.attributes:
        return True
    maps = [str(m) for m in ir.ArrayAttr(op.attributes["indexing_maps"])]
    return maps == _DEFAULT_MAPS[op.name]


def _problem(op):
    """Shapes and element type of `op`, or None when this pass cannot take it."""
    if not default_maps(op):
        return None
    if len(op.operands) != 3 or len(op.results):
        return None  # on tensors: not bufferized yet
    types = [v.type for v in op.operands]
    if not all(isinstance(t, ir.MemRefType) and t.has_static_shape for t in types):
        return None
    a, b, c = (ir.MemRefType(t) for t in types)
    if str(a.element_type) != str(b.element_type) or str(a.element_type) not in _BYTES:
        return None  # f64 and integer matmuls: the generic lowering
    if str(a.element_type) == "f32" and str(c.element_type) != "f32":
        return None
    layouts = []
    for n, t in enumerate((a, b, c)):
        strides, offset = t.get_strides_and_offset()
        if t.memory_space is not None or (strides[-1] != 1 and (n != 1 or strides[-2] != 1)):
            return None
        layouts.append((list(strides), offset))
    batch = op.name == "linalg.batch_matmul"
    *bs, M, K = a.shape
    N = b.shape[-1]
    if min(bs + [M, N, K]) == 0:
        return None  # nothing to compute, or only C's fill: the generic lowering
    # B with K contiguous instead of N (a linear layer's N x K weight read
    # through its transpose, euler-gpu-fold-transposes): the kernel reads
    # it as the N x K view it is (`_transposed_view`).
    transposed = layouts[1][0][-1] != 1
    types = [str(t) for t in (a, _transposed_type(b) if transposed else b, c)]
    return {"batch": bs[0] if batch else 1, "M": M, "N": N, "K": K,
            "dtype": str(a.element_type), "out": str(c.element_type),
            "types": types, "batched": batch, "transposed_b": transposed,
            "shapes": [list(a.shape), list(b.shape)], "layouts": layouts[:2]}


def reads_transposed_b(dtype, allow_tf32=False):
    """Whether matmuls of `dtype` operands read a B whose K dimension is
    contiguous: only the exact-f32 kernel, which transposes B's tiles on
    their way into shared memory (the tensor-core kernels' fragments want
    N contiguous there, and their copies cannot transpose)."""
    return dtype == "f32" and not allow_tf32


def _transposed_type(t):
    """The N x K view of K x N memref type `t` (its last two dimensions swapped)."""
    strides, offset = t.get_strides_and_offset()
    shape = list(t.shape)
    shape[-2:], strides[-2:] = shape[-2:][::-1], strides[-2:][::-1]
    return ir.MemRefType.get(shape, t.element_type,
                             layout=ir.StridedLayoutAttr.get(offset, strides))


def _transposed_view(b):
    """B as its N x K view (`_transposed_type`), built before the matmul."""
    from mlir.dialects import memref
    t = _transposed_type(ir.MemRefType(b.type))
    strides, offset = t.get_strides_and_offset()
    return memref.reinterpret_cast(t, b, [], [], [], [offset], list(t.shape), strides)


def _zero_fill_of(op):
    """The `linalg.fill` of 0 into `op`'s C before it, if there is one with
    nothing between the two that touches C (the classifier's factor,
    euler-collapse-contractions', between its C's fill and its matmul)."""
    prev = op.operation
    block_ops = list(prev.block.operations) if hasattr(prev, "block") else []
    ops = [o.operation for o in block_ops]
    i = ops.index(prev)
    c = op.operands[2]
    for cand in reversed(ops[:i]):
        if cand.name != "linalg.fill" or cand.operands[1] != c:
            if _touches(cand, c):
                return None
            continue
        value = cand.operands[0].owner
        if isinstance(value, ir.Block) or value.name != "arith.constant":
            return None
        attr = value.attributes["value"]
        return cand if isinstance(attr, ir.FloatAttr) and attr.value == 0.0 else None
    return None


def _touches(op, buf):
    """Whether `op` or an op nested in it uses `buf` or a view of its buffer."""
    root, found = root_buffer(buf), []

    def visit(o):
        if any(isinstance(v.type, ir.MemRefType) and root_buffer(v) == root for v in o.operands):
            found.append(o)
            return ir.WalkResult.INTERRUPT
        return ir.WalkResult.ADVANCE
    op.walk(visit)
    return bool(found)


def _replace(op, problem, tiles, zero_init, kernel_id):
    generate = _wgmma_kernel_text if tiles.math == "wgmma" else _kernel_text
    text = generate(problem, tiles, zero_init, kernel_id)
    try:
        parsed = ir.Module.parse(text, op.context)
    except Exception as exc:  # a bug in the generator, not in the user's program
        raise RuntimeError(f"{NAME}: generated kernel does not parse: {exc}\n{text}") from exc
    func = parsed.body.operations[0]
    body = func.regions[0].blocks[0]
    operands = list(op.operands)
    if problem["transposed_b"]:
        with ir.InsertionPoint(op), op.location:
            operands[1] = _transposed_view(operands[1])
    for arg, value in zip(body.arguments, operands):
        arg.replace_all_uses_with(value)
    moved = [o.operation for o in body.operations][:-1]  # all but func.return
    for inner in moved:
        inner.move_before(op)
    op.erase()
    return moved[-1]  # the gpu.launch


# --- epilogue fusion -------------------------------------------------------------

def _epilogue_of(op, fill):
    """The elementwise `linalg.generic` right after `op` that reads its C, when
    it can run in the matmul's epilogue instead of as a kernel of its own: C
    read once through the identity map, every other operand through a
    projection (a bias, a residual), no regions in its body, and C used by
    nothing else unless the generic writes C in place. Then C is written
    once, with the generic's result, or (not in place) never. As (generic,
    the allocations between the two, to move before the kernel)."""
    ops = [o.operation for o in op.operation.block.operations]
    i = ops.index(op.operation)
    j, made = i + 1, set()
    while j < len(ops) and ops[j].name in _ALLOCATIONS and not any(
            isinstance(v.owner, ir.Operation) and v.owner == op.operation for v in ops[j].operands):
        made.add(ops[j])
        j += 1
    if j >= len(ops) or ops[j].name != "linalg.generic":
        return None
    generic, c = ops[j], op.operands[2]
    maps = [ir.AffineMapAttr(m).value for m in ir.ArrayAttr(generic.attributes["indexing_maps"])]
    iters = [str(a) for a in ir.ArrayAttr(generic.attributes["iterator_types"])]
    n_out = len(generic.results) or 1
    ins, outs = list(generic.operands)[:-n_out], list(generic.operands)[-n_out:]
    if len(generic.results) or len(outs) != 1 or any("parallel" not in t for t in iters):
        return None
    reads = [v for v in ins if _is_or_views(v, c)]
    if len(reads) != 1 or not isinstance(reads[0].type, ir.MemRefType) \
            or len(iters) != ir.MemRefType(reads[0].type).rank:
        return None
    rank = len(iters)
    in_place = outs[0] == c  # C = f(C, ...): the epilogue writes C itself
    for v, m in zip(ins + outs, maps):
        dims = [ir.AffineDimExpr(e).position if isinstance(e, ir.AffineDimExpr) else None
                for e in m.results]
        if v == outs[0]:
            if dims != list(range(rank)):
                return None
        elif v == reads[0]:
            # C (or a view that splits its dimensions, the heads) read
            # through a permutation that keeps the last dimension last (the
            # heads' transpose): each store of a run of C's columns is a
            # run of the output's last dimension.
            if sorted(dims) != list(range(rank)) or dims[-1] != rank - 1 or (
                    dims != list(range(rank)) and in_place):
                return None
        elif not all(isinstance(e, (ir.AffineDimExpr, ir.AffineConstantExpr)) for e in m.results):
            return None
        if not isinstance(v.type, ir.MemRefType):
            return None
    body = generic.regions[0].blocks[0]
    # Each body op is cloned into the kernel as it stands (linalg.index
    # becomes the element's index): no regions.
    if any(len(o.operation.regions) for o in body.operations):
        return None
    allowed = {op.operation, generic} | ({fill} if fill is not None else set())
    frees = ("gpu.dealloc", "memref.dealloc")
    # Views of C count as C: the uses of the view the generic reads too.
    uses = [u.owner for u in c.uses]
    views = [o for o in uses if o.name in _VIEWS]
    uses += [u.owner for v in views for u in v.results[0].uses]
    if not in_place and any(u not in allowed and u.name not in frees and u not in views
                            and not _overwritten_before(c, u, op.operation, generic, ops)
                            for u in uses):
        return None
    return generic, [o for o in ops[i + 1:j] if o in made]


_VIEWS = ("memref.expand_shape",)


def _is_or_views(v, c):
    """Whether `v` is buffer `c` or a view of it (a memref.expand_shape's)."""
    owner = v.owner
    return v == c or (not isinstance(owner, ir.Block) and owner.name in _VIEWS
                      and owner.operands[0] == c)


def _overwritten_before(c, user, matmul, generic, ops):
    """Whether `user` of C runs before `matmul`, or after `generic` with C
    written whole in between (or by `user`): bufferization reuses one f32
    buffer for the encoder's projections, each filling it again, so none
    reads the matmul's C the epilogue no longer writes."""
    position = {o: n for n, o in enumerate(ops)}

    def at(o):
        while o not in position and o.parent is not None:
            o = o.parent
        return position.get(o, -1)
    if 0 <= at(user) < position[matmul]:
        return True
    later = sorted(((at(u.owner), u.owner) for u in c.uses if at(u.owner) > position[generic]),
                   key=lambda t: t[0])
    for pos, o in later:
        if writes_whole(o, c):
            return at(user) >= pos
        if o.name != "gpu.dealloc":
            return False
    return False


def writes_whole(op, c):
    """Whether `op` writes every element of `c` without reading it: a fill,
    or an elementwise generic into `c` that leaves its old values unread."""
    if op.name == "linalg.fill":
        return op.operands[1] == c
    if op.name != "linalg.generic" or len(op.results) or list(op.operands)[-1] != c \
            or any(v == c for v in list(op.operands)[:-1]):
        return False
    iters = [str(a) for a in ir.ArrayAttr(op.attributes["iterator_types"])]
    out_map = ir.AffineMapAttr(list(ir.ArrayAttr(op.attributes["indexing_maps"]))[-1]).value
    block = op.regions[0].blocks[0]
    return (all("parallel" in t for t in iters) and len(out_map.results) == len(iters)
            and out_map == ir.AffineMap.get_identity(len(iters))
            and not list(block.arguments[len(block.arguments) - 1].uses))


def _fuse_epilogue(launch, c, generic):
    """Rewrite the kernel's stores into C as the generic's body, storing into
    the generic's output instead; erase the generic, and C if it is now only
    allocated and freed."""
    maps = [ir.AffineMapAttr(m).value for m in ir.ArrayAttr(generic.attributes["indexing_maps"])]
    operands = list(generic.operands)
    out = operands[-1]
    body = generic.regions[0].blocks[0]
    stores = []
    launch.walk(lambda o: (stores.append(o) if o.name in ("vector.store", "memref.store")
                           and o.operands[1] == c else None) or ir.WalkResult.ADVANCE)
    for store in stores:
        _epilogue_at(store, c, operands, maps, body, out)
        store.erase()
    generic.erase()
    _erase_if_dead(c)


def _erase_if_dead(c):
    """Erase the views of buffer `c` that nothing reads, and `c` itself if it
    is then only allocated and freed."""
    for use in list(c.uses):
        if use.owner.name in _VIEWS and not list(use.owner.results[0].uses):
            use.owner.erase()
    owner = c.owner
    if not isinstance(owner, ir.Block) and owner.name == "gpu.alloc" and all(
            u.owner.name == "gpu.dealloc" for u in c.uses):
        for u in list(c.uses):
            u.owner.erase()
        owner.erase()


def _iteration_index(indices, read, m):
    """The generic's iteration index at C's element `indices`, C read as
    `read` (C, or a view splitting its dimensions) through permutation `m`."""
    from mlir.dialects import arith
    index_t = ir.IndexType.get()
    at = list(indices)
    if read.owner is not None and not isinstance(read.owner, ir.Block) \
            and read.owner.name in _VIEWS:
        shape = ir.MemRefType(read.type).shape
        at = []
        for x, group in zip(indices, ir.ArrayAttr(read.owner.attributes["reassociation"])):
            group = [ir.IntegerAttr(d).value for d in group]
            for t, d in enumerate(group):
                inner = 1
                for d2 in group[t + 1:]:
                    inner *= shape[d2]
                digit = arith.divui(x, arith.constant(index_t, inner)) if inner > 1 else x
                if t:
                    digit = arith.remui(digit, arith.constant(index_t, shape[d]))
                at.append(digit)
    it = [None] * len(at)
    for r, e in enumerate(m.results):
        it[ir.AffineDimExpr(e).position] = at[r]
    return it


def _epilogue_at(store, c, operands, maps, body, out):
    """The generic's body on each element the kernel's `store` writes into C."""
    from mlir.dialects import arith, memref, vector
    value, indices = store.operands[0], list(store.operands[2:])
    index_t = ir.IndexType.get()
    lanes = ir.VectorType(value.type).shape[0] if isinstance(value.type, ir.VectorType) else 1
    results = []
    with ir.InsertionPoint(store), store.location:
        read = next(v for v in operands[:-1] if _is_or_views(v, c))
        m_read = maps[operands.index(read)]
        first = _iteration_index(indices, read, m_read)
        # A view whose rows are shorter than a store's run (a convolution's
        # output rows of 14 pixels in runs of 4 columns): the run crosses
        # into the next row, so each lane finds its own place, and stores it.
        straddles = lanes > 1 and ir.MemRefType(read.type).shape[-1] % lanes != 0
        places = []
        for e in range(lanes):
            # The permutation keeps C's last dimension last: lane e is e
            # further along it.
            at = list(first)
            if straddles and e:
                at = _iteration_index(indices[:-1] + [arith.addi(
                    indices[-1], arith.constant(index_t, e))], read, m_read)
            elif e:
                at[-1] = arith.addi(at[-1], arith.constant(index_t, e))
            places.append(at)
            mapping = []
            for arg, operand, m in zip(body.arguments, operands, maps):
                if not len(list(arg.uses)):
                    continue
                if operand == read:
                    elem = vector.extract(value, [], [e]) if lanes > 1 else value
                else:
                    idx = [at[ir.AffineDimExpr(x).position] if isinstance(x, ir.AffineDimExpr)
                           else arith.constant(index_t, ir.AffineConstantExpr(x).value)
                           for x in m.results]
                    elem = memref.load(operand, idx)
                mapping.append((arg, elem))
            yielded = None
            for op in body.operations:
                op = op.operation
                if op.name == "linalg.yield":
                    yielded = op.operands[0]
                    break
                if op.name == "linalg.index":
                    mapping.append((op.results[0], at[ir.IntegerAttr(op.attributes["dim"]).value]))
                    continue
                clone = op.clone()
                for i, v in enumerate(clone.operands):
                    for old, new in mapping:
                        if v == old:
                            clone.operands[i] = new
                            break
                for old, new in zip(op.results, clone.results):
                    mapping.append((old, new))
            result = next((new for old, new in mapping if old == yielded), yielded)
            results.append(result)
        if straddles:
            for result, at in zip(results, places):
                memref.store(result, out, at)
        elif lanes > 1:
            elem = ir.MemRefType(out.type).element_type
            vt = ir.VectorType.get([lanes], elem)
            align = store.attributes["alignment"].value * elem.width // ir.VectorType(
                value.type).element_type.width
            vector.store(vector.from_elements(vt, results), out, first, alignment=align)
        else:
            memref.store(results[0], out, first)


class _Text:
    """Builds the kernel's MLIR text, folding index arithmetic on constants."""

    def __init__(self):
        self.lines = []
        self.indent = 0
        self._ids = itertools.count()
        self._consts = {}

    def emit(self, line):
        self.lines.append("  " * self.indent + line)

    def fresh(self, prefix="v"):
        return f"%{prefix}{next(self._ids)}"

    def op(self, expr):
        name = self.fresh()
        self.emit(f"{name} = {expr}")
        return name

    def const(self, value, type_="index"):
        key = (value, type_)
        if key not in self._consts:
            # Constants are emitted where first used; they are defined at the
            # top of the launch body or of the function, so they dominate.
            name = f"%c{value}_{type_}".replace("-", "m")
            self._consts[key] = name
            self.const_lines.append(f"{name} = arith.constant {value} : {type_}")
        return self._consts[key]

    def idx(self, v):
        return self.const(v) if isinstance(v, int) else v

    def add(self, a, b):
        if isinstance(a, int) and isinstance(b, int):
            return a + b
        if a == 0:
            return b
        if b == 0:
            return a
        return self.op(f"arith.addi {self.idx(a)}, {self.idx(b)} : index")

    def mul(self, a, b):
        if isinstance(a, int) and isinstance(b, int):
            return a * b
        if a == 1:
            return b
        if b == 1:
            return a
        if a == 0 or b == 0:
            return 0
        return self.op(f"arith.muli {self.idx(a)}, {self.idx(b)} : index")

    def div(self, a, b):  # b a power of two, a >= 0
        if isinstance(a, int):
            return a // b
        if b == 1:
            return a
        return self.op(f"arith.shrui {self.idx(a)}, {self.idx(b.bit_length() - 1)} : index")

    def rem(self, a, b):  # b a power of two, a >= 0
        if isinstance(a, int):
            return a % b
        return self.op(f"arith.andi {self.idx(a)}, {self.idx(b - 1)} : index")

    def xor(self, a, b):
        if isinstance(a, int) and isinstance(b, int):
            return a ^ b
        if b == 0:
            return a
        if a == 0:
            return b
        return self.op(f"arith.xori {self.idx(a)}, {self.idx(b)} : index")

    def lt(self, a, b):
        return self.op(f"arith.cmpi ult, {self.idx(a)}, {self.idx(b)} : index")

    def select(self, cond, a, b, type_="index"):
        return self.op(f"arith.select {cond}, {a}, {b} : {type_}")


def _swizzle(tx, row, chunk, chunks_per_row):
    """Physical 16-byte chunk of logical `chunk` in `row`: XOR with the row's
    position among the rows that share one 128-byte bank line, so that 8
    consecutive rows at one logical chunk hit 8 distinct bank groups."""
    groups = min(chunks_per_row, 8)
    rows_per_line = 8 // groups
    if groups == 1:
        return chunk
    return tx.xor(chunk, tx.rem(tx.div(row, rows_per_line), groups))


def _block_origin(tx, t, tiles_m, tiles_n):
    """Row and column of C where block %bx's tile starts. Blocks go in
    groups of `group_m` tile rows, column by column within a group: the
    blocks running at once share A rows and B columns in L2."""
    group = min(t.group_m, tiles_m)
    per_group = group * tiles_n
    gid = tx.op(f"arith.divui %bx, {tx.idx(per_group)} : index")
    first = tx.mul(gid, group)
    rows_left = tx.op(f"arith.subi {tx.idx(tiles_m)}, {first} : index")
    size = tx.op(f"arith.minui {rows_left}, {tx.idx(group)} : index")
    in_group = tx.op(f"arith.remui %bx, {tx.idx(per_group)} : index")
    tile_m = tx.add(first, tx.op(f"arith.remui {in_group}, {size} : index"))
    tile_n = tx.op(f"arith.divui {in_group}, {size} : index")
    return tx.mul(tile_m, t.bm), tx.mul(tile_n, t.bn)


def _kernel_text(p, t, zero_init, kernel_id):
    """The kernel for problem `p` and tiles `t`, as a func whose body is the
    launch; its arguments stand for A, B and C."""
    tx = _Text()
    tx.const_lines = []
    dt = p["dtype"]
    M, N, K = p["M"], p["N"], p["K"]
    BM, BN, BK, S = t.bm, t.bn, t.bk, t.stages
    threads = t.threads
    elem_bytes = _BYTES[dt]
    chunk = 16 // elem_bytes  # elements per 16-byte chunk
    ktiles = -(-K // BK)
    tiles_m, tiles_n = -(-M // BM), -(-N // BN)
    grid = (tiles_m * tiles_n, 1, p["batch"])
    ta, tb, tc = p["types"]
    sa = f"memref<{S}x{BM}x{BK}x{dt}, {_SMEM}>"
    sb = f"memref<{S}x{BK}x{BN}x{dt}, {_SMEM}>"
    smem_bytes = S * (BM * BK + BK * BN) * elem_bytes
    # The widest copy (16, 8 or 4 bytes) that keeps every copy inside one row
    # and aligned: it must divide the row length.
    # Strides and offsets too: a view's rows (euler-gpu-fold-transposes')
    # need not start 16 bytes apart.
    widths = (chunk, chunk // 2, chunk // 4, 1)
    transposed = p["transposed_b"]
    (strides_a, offset_a), (strides_b, offset_b) = p["layouts"]
    if transposed:  # B's N x K view: its rows are N's
        strides_b = strides_b[:-2] + strides_b[-2:][::-1]
    width_a = _copy_width(widths, K, strides_a, offset_a)
    width_b = _copy_width(widths, K if transposed else N, strides_b, offset_b)
    batch_idx = ["%bz"] if p["batched"] else []
    k = {"tx": tx, "t": t, "p": p, "sa": sa, "sb": sb, "chunk": chunk, "tc": tc,
         "zero_init": zero_init, "batch_idx": batch_idx}

    # --- per-thread constants, outside the K loop ----------------------------------
    tx.indent = 2
    tid = "%tx"
    k["tid"] = tid
    m0, n0 = _block_origin(tx, t, tiles_m, tiles_n)
    k["m0"], k["n0"] = m0, n0

    def copy_plan(rows, cols, width):
        """Per copy of one tile by this thread: its row and (swizzled) column
        in the stage, and its column in the tile; the block's global offsets
        are added by the callers."""
        per_row = cols // width
        total = rows * per_row
        plans = []
        for i in range(-(-total // threads)):
            ident = tx.add(tid, i * threads)
            if (i + 1) * threads > total:
                # Fewer copies than threads: the extra threads repeat the last
                # copy (same bytes to the same place), so no thread branches.
                ident = tx.op(f"arith.minui {ident}, {tx.idx(total - 1)} : index")
            r = tx.div(ident, per_row)
            col = tx.mul(tx.rem(ident, per_row), width)
            sc = tx.add(tx.mul(_swizzle(tx, r, tx.div(col, chunk), cols // chunk), chunk),
                        tx.rem(col, chunk))
            plans.append({"r": r, "col": col, "sc": sc})
        return plans

    plan_a = copy_plan(BM, BK, width_a)
    # A transposed B's tile is copied as A's is, rows of N (`_transposed_b_copies`).
    plan_b = copy_plan(BN, BK, width_b) if transposed else copy_plan(BK, BN, width_b)
    for pl in plan_a:  # the global row of A is fixed for the block
        pl["grow"] = tx.add(m0, pl["r"])
        pl["grow_ok"] = tx.lt(pl["grow"], M) if M % BM else None
        pl["grow_c"] = (tx.op(f"arith.minui {pl['grow']}, {tx.idx(M - 1)} : index")
                        if M % BM else pl["grow"])
    for pl in plan_b:  # the global column of B is fixed for the block
        pl["gcol"] = tx.add(n0, pl["r"] if transposed else pl["col"])
        pl["gcol_ok"] = tx.lt(pl["gcol"], N) if N % BN else None
        pl["gcol_c"] = (tx.select(pl["gcol_ok"], pl["gcol"], tx.idx(0))
                        if N % BN else pl["gcol"])
    math = _MATH[t.math]
    state = math.setup(k)

    setup = tx.lines
    tx.lines = []

    def load_tile(k0, stage, bounded):
        """Copies of the A and B tiles at K offset `k0` into `stage`; with
        `bounded`, copies past K zero-fill (the last tile of a ragged K, and
        the tiles past the end that the pipeline's tail issues). Returns the
        cp.async tokens, and a function that emits the shared-memory stores
        of a transposed B's tile (loaded into registers here), for the
        caller to call once the loads have had time to land."""
        tokens = []
        for pl in plan_a:
            gcol = tx.add(k0, pl["col"])
            conds = [pl["grow_ok"]] if pl["grow_ok"] else []
            if bounded:
                conds.append(tx.lt(gcol, K))
            tokens.append(_async_copy(tx, "%A", batch_idx + [pl["grow_c"]], gcol, "%sA",
                                      [stage, pl["r"], pl["sc"]], width_a, conds, ta, sa,
                                      elem_bytes, col_of_k=True))
        if transposed:
            return ([t for t in tokens if t],
                    _transposed_b_copies(k, plan_b, k0, stage, width_b, bounded))
        for pl in plan_b:
            grow = tx.add(k0, pl["r"])
            conds = [pl["gcol_ok"]] if pl["gcol_ok"] else []
            if bounded:
                conds.append(tx.lt(grow, K))
            tokens.append(_async_copy(tx, "%B", batch_idx, (grow, pl["gcol_c"]), "%sB",
                                      [stage, pl["r"], pl["sc"]], width_b, conds, tb, sb,
                                      elem_bytes, col_of_k=False))
        return [t for t in tokens if t], lambda: None

    def commit(name, tokens):
        # A group holds the tile's cp.asyncs; with none (both operands copied
        # by plain loads) there is nothing to wait for.
        if tokens:
            tx.emit(f"{name} = nvgpu.device_async_create_group {', '.join(tokens)}")
        return bool(tokens)

    # --- prologue: the first stages - 1 tiles in flight ------------------------------
    tx.indent = 2
    asynchronous = False
    for s_ in range(S - 1):
        tokens, store_b = load_tile(s_ * BK, s_, bounded=bool(K % BK) or s_ >= ktiles)
        asynchronous = commit(f"%tok{s_}", tokens)
        store_b()
    prologue = tx.lines
    tx.lines = []

    # --- the K loop -----------------------------------------------------------------
    accs = math.accumulators(k)  # [(key, type)], in iter_args order
    tx.indent = 3
    if asynchronous:
        # Tile kt has landed once at most stages - 2 younger groups are pending.
        tx.emit(f"nvgpu.device_async_wait %tok{S - 2} {{numGroups = {S - 2} : i32}}")
    # Tile kt is visible to every thread, and every thread is done with the
    # stage the next load overwrites (read in iteration kt - 1).
    tx.emit("gpu.barrier")
    nxt = tx.add("%kt", S - 1)
    lstage = tx.rem(nxt, S) if S & (S - 1) == 0 else tx.op(
        f"arith.remui {nxt}, {tx.idx(S)} : index")
    tokens, store_b = load_tile(tx.mul(nxt, BK), lstage, bounded=True)
    commit("%tokl", tokens)
    stage = tx.rem("%kt", S) if S & (S - 1) == 0 else tx.op(
        f"arith.remui %kt, {tx.idx(S)} : index")
    values = {key: f"%acc{i}" for i, (key, _) in enumerate(accs)}
    values = math.compute(k, state, stage, values)
    # After this tile's arithmetic, which the next tile's B loads overlapped;
    # the stage they fill was last read in iteration kt - 1.
    store_b()
    tx.emit(f"scf.yield {', '.join(values[key] for key, _ in accs)} : "
            f"{', '.join(ty for _, ty in accs)}")
    loop_body = tx.lines
    tx.lines = []

    # --- epilogue: accumulators to C ------------------------------------------------
    tx.indent = 2
    if asynchronous:
        # Only the zero-filling copies of the tail can still be in flight.
        tx.emit(f"nvgpu.device_async_wait %tok{S - 2} {{numGroups = 0 : i32}}")
    math.epilogue(k, state, {key: f"%res#{i}" for i, (key, _) in enumerate(accs)})

    epilogue = tx.lines
    offsets = [tx.idx(0), tx.idx(S * BM * BK * elem_bytes), tx.idx(ktiles), tx.idx(1)]
    consts = tx.const_lines

    inits = ", ".join(f"%acc{i} = %zero{i}" for i in range(len(accs)))
    lines = [f"func.func @euler_gpu_matmul_{kernel_id}(%A: {ta}, %B: {tb}, %C: {tc}) {{"]
    lines += [f"  %gx = arith.constant {grid[0]} : index",
              f"  %gy = arith.constant {grid[1]} : index",
              f"  %gz = arith.constant {grid[2]} : index",
              f"  %nthreads = arith.constant {threads} : index",
              "  %one = arith.constant 1 : index",
              f"  %smem_bytes = arith.constant {smem_bytes} : i32",
              "  gpu.launch blocks(%bx, %by, %bz) in (%gsx = %gx, %gsy = %gy, %gsz = %gz) "
              "threads(%tx, %ty, %tz) in (%bsx = %nthreads, %bsy = %one, %bsz = %one) "
              "dynamic_shared_memory_size %smem_bytes {"]
    lines += ["    " + c for c in consts]
    lines += [f"    %zero{i} = arith.constant dense<0.0> : {ty}" for i, (_, ty) in enumerate(accs)]
    lines += [f"    %zfrag = ub.poison : vector<2x2x{dt}>",
              "    %zpair = ub.poison : vector<2x2xf32>",
              f"    %smem = gpu.dynamic_shared_memory : memref<?xi8, {_SMEM}>",
              f"    %sA = memref.view %smem[{offsets[0]}][] : memref<?xi8, {_SMEM}> to {sa}",
              f"    %sB = memref.view %smem[{offsets[1]}][] : "
              f"memref<?xi8, {_SMEM}> to {sb}"]
    lines += setup + prologue
    return _close(lines, f"    %res:{len(accs)} = scf.for %kt = {offsets[0]} to {offsets[2]} "
                  f"step {offsets[3]} iter_args({inits}) -> "
                  f"({', '.join(ty for _, ty in accs)}) {{", loop_body, epilogue)


def _close(lines, loop, body, epilogue):
    """The kernel's text: `lines` (the function and launch up to the K
    loop), the loop, the epilogue and the closing of the launch."""
    return "\n".join(lines + [loop] + body + ["    }"] + epilogue
                     + ["    gpu.terminator", "  }", "  return", "}"])


# --- sm_90: TMA + mbarriers + wgmma ---------------------------------------------------

# Bytes of one TMA box row and of one wgmma swizzle atom's row: 128-byte
# swizzling, the widest, whose pattern repeats every 8 rows (1 KiB).
_SWIZZLE_ROW = 128
_SWIZZLE_SPAN = 1024
# Warps of a warpgroup, the unit that issues one wgmma; its rows of C.
_WARPGROUP = 128
_WARPGROUP_M = 64


def wgmma_chip(chip):
    """Whether `chip` runs wgmma (sm_90a's warpgroup tensor-core instructions)."""
    return chip is not None and chip.rstrip("a") == "sm_90"


def _wgmma_eligible(p, chip, wgmma):
    """Whether problem `p` takes the TMA + wgmma kernel on `chip`: 16-bit
    operands, rows TMA can address (a multiple of 16 bytes apart, from an
    unshifted base), and, for a batch, whole K tiles (the batch is folded
    into B's rows). Thin M too: measured on the H200 at M = 1 and 16 (x 4096
    x 4096, f16), wgmma's 64 x 64 tiles 0.77 and 0.80 of cuBLAS against
    mma.sync's 0.64 and 0.65 (B streams through TMA better)."""
    if wgmma is False or not wgmma_chip(chip) or p["dtype"] not in ("f16", "bf16"):
        return False
    if p["K"] % 8 or p["N"] % 8 or (p["batched"] and p["K"] % 64):
        return False
    for shape, (strides, offset) in zip(p["shapes"], p["layouts"]):
        if offset != 0 or any(s * 2 % 16 for s in strides[:-1]):
            return False
        if p["batched"] and list(strides) != _row_major(shape):
            return False
    return True


def _wgmma_kernel_text(p, t, zero_init, kernel_id):
    """The sm_90 kernel for problem `p` and tiles `t` (bm = 64 x warpgroups,
    bk = 64, bn a multiple of 64 up to 256).

    One thread issues TMA copies of the A tile (bm x 64) and of B's tile as
    bn / 64 boxes of 64 x 64 into a ring of `stages` shared-memory buffers,
    128-byte swizzled, each completing on its mbarrier; each warpgroup
    multiplies its 64 rows of A by all of B's tile with wgmma (B read
    MN-major from shared memory), f32 accumulators in registers. A
    warpgroup keeps one wgmma group in flight while it issues the next, so
    the tensor cores never wait on an issue; a buffer is refilled once
    every warpgroup's group that read it has completed."""
    tx = _Text()
    tx.const_lines = []
    dt = p["dtype"]
    M, N, K = p["M"], p["N"], p["K"]
    BM, BN, BK, S = t.bm, t.bn, t.bk, t.stages
    ta, tb, tc = p["types"]
    ktiles = -(-K // BK)
    tiles_m, tiles_n = -(-M // BM), -(-N // BN)
    a_bytes, b_box_bytes = BM * BK * 2, BK * _SWIZZLE_ROW
    stage_bytes = a_bytes + (BN // 64) * b_box_bytes
    # Slack to round the dynamic shared memory's base up to the swizzle span.
    smem_bytes = S * stage_bytes + _SWIZZLE_SPAN
    batch_idx = ["%bz"] if p["batched"] else []
    k = {"tx": tx, "t": t, "p": p, "tc": tc, "zero_init": zero_init, "batch_idx": batch_idx}

    def view(shape):
        return f"memref<{'x'.join(map(str, shape))}x{dt}, {_SMEM}>"

    def tensormap(box):
        return (f"!nvgpu.tensormap.descriptor<tensor = {view(box)}, swizzle = swizzle_128b, "
                f"l2promo = l2promo_256b, oob = zero, interleave = none>")

    tm_a, tm_b = tensormap((BM, BK)), tensormap((BK, 64))
    mbar_t = f"!nvgpu.mbarrier.group<memorySpace = {_SMEM}, num_barriers = {S}>"
    acc_t = f"!nvgpu.warpgroup.accumulator<fragmented = vector<{_WARPGROUP_M}x{BN}xf32>>"
    acc_llvm = f"!llvm.struct<(struct<({', '.join(['f32'] * (BN // 2))})>)>"
    wa_t = f"!nvgpu.warpgroup.descriptor<tensor = {view((_WARPGROUP_M, BK))}>"
    wb_t = f"!nvgpu.warpgroup.descriptor<tensor = {view((BK, BN))}>"

    # --- host: the tensor maps of A and B (2-D; a batch folded into the rows)
    host = []
    for name, ty, rows, cols, box, tm in (("A", ta, M, K, (BM, BK), tm_a),
                                          ("B", tb, K, N, (BK, 64), tm_b)):
        flat = f"memref<{p['batch'] * rows}x{cols}x{dt}>"
        src = f"%{name}"
        if p["batched"]:
            host.append(f"  %flat{name} = memref.collapse_shape %{name} [[0, 1], [2]] : "
                        f"{ty} into {flat}")
            src, ty = f"%flat{name}", flat
        host += [f"  %u{name} = memref.cast {src} : {ty} to memref<*x{dt}>",
                 f"  %box{name}0 = arith.constant {box[0]} : index",
                 f"  %box{name}1 = arith.constant {box[1]} : index",
                 f"  %tm{name} = nvgpu.tma.create.descriptor %u{name} box[%box{name}0, "
                 f"%box{name}1] : memref<*x{dt}> -> {tm}",
                 # Kernel arguments of tensor-map type do not lower: the kernel
                 # gets the map's address as an integer (a cast pair would fold).
                 f"  %ptm{name}p = builtin.unrealized_conversion_cast %tm{name} : {tm} "
                 "to !llvm.ptr",
                 f"  %ptm{name} = llvm.ptrtoint %ptm{name}p : !llvm.ptr to i64"]

    # --- kernel: setup
    tx.indent = 2
    lines = []
    tx.lines = lines
    smem_t = f"memref<?xi8, {_SMEM}>"
    for name, tm in (("A", tm_a), ("B", tm_b)):
        ptr = tx.op(f"llvm.inttoptr %ptm{name} : i64 to !llvm.ptr")
        tx.emit(f"%d{name} = builtin.unrealized_conversion_cast {ptr} : !llvm.ptr to {tm}")
    tx.emit(f"%smem = gpu.dynamic_shared_memory : {smem_t}")
    base = tx.op(f"memref.extract_aligned_pointer_as_index %smem : {smem_t} -> index")
    # TMA's and wgmma's swizzles both follow address bits, from a 1 KiB boundary.
    pad = tx.rem(tx.op(f"arith.subi {tx.idx(_SWIZZLE_SPAN)}, "
                       f"{tx.rem(base, _SWIZZLE_SPAN)} : index"), _SWIZZLE_SPAN)
    tx.emit(f"%mbar = nvgpu.mbarrier.create -> {mbar_t}")
    lead = tx.op(f"arith.cmpi eq, %tx, {tx.idx(0)} : index")
    tx.emit(f"scf.if {lead} {{")
    for s_ in range(S):
        tx.emit(f"  nvgpu.mbarrier.init %mbar[{tx.idx(s_)}], {tx.idx(1)} : {mbar_t}")
    tx.emit(f"  nvgpu.tma.prefetch.descriptor %dA : {tm_a}")
    tx.emit(f"  nvgpu.tma.prefetch.descriptor %dB : {tm_b}")
    tx.emit("}")
    tx.emit("gpu.barrier")
    m0, n0 = _block_origin(tx, t, tiles_m, tiles_n)
    k["m0"], k["n0"] = m0, n0
    a_row = tx.add(tx.mul("%bz", M), m0) if p["batched"] else m0
    b_row = tx.mul("%bz", K) if p["batched"] else 0
    warpgroup = tx.div("%tx", _WARPGROUP)
    tx_count = tx.idx(stage_bytes)

    def stage_base(slot):
        return tx.add(pad, tx.mul(slot, stage_bytes))

    def load(k0, slot, pred):
        """The TMA copies of K tile `k0` into buffer `slot`, by `pred`'s thread."""
        at = stage_base(slot)
        tx.emit(f"nvgpu.mbarrier.arrive.expect_tx %mbar[{tx.idx(slot)}], {tx_count}, "
                f"predicate = {pred} : {mbar_t}")
        dst = tx.op(f"memref.view %smem[{tx.idx(at)}][] : {smem_t} to {view((BM, BK))}")
        tx.emit(f"nvgpu.tma.async.load %dA[{tx.idx(k0)}, {tx.idx(a_row)}], "
                f"%mbar[{tx.idx(slot)}] to {dst}, predicate = {pred} : {tm_a}, {mbar_t} "
                f"-> {view((BM, BK))}")
        for j in range(BN // 64):
            off = tx.add(at, a_bytes + j * b_box_bytes)
            dst = tx.op(f"memref.view %smem[{tx.idx(off)}][] : {smem_t} to {view((BK, 64))}")
            tx.emit(f"nvgpu.tma.async.load %dB[{tx.idx(tx.add(n0, 64 * j))}, "
                    f"{tx.idx(tx.add(b_row, k0))}], %mbar[{tx.idx(slot)}] to {dst}, "
                    f"predicate = {pred} : {tm_b}, {mbar_t} -> {view((BK, 64))}")

    # The prologue: the first stages - 1 tiles in flight.
    for s_ in range(min(S - 1, ktiles)):
        load(s_ * BK, s_, lead)
    setup = lines

    # --- the K loop
    tx.lines = body = []
    tx.indent = 3
    stage = tx.rem("%kt", S) if S & (S - 1) == 0 else tx.op(
        f"arith.remui %kt, {tx.idx(S)} : index")
    tx.emit(f"nvgpu.mbarrier.try_wait.parity %mbar[{stage}], %phase, {tx.idx(10000000)} : "
            f"{mbar_t}")
    at = stage_base(stage)
    va = tx.op(f"memref.view %smem[{tx.idx(tx.add(at, tx.mul(warpgroup, _WARPGROUP_M * BK * 2)))}]"
               f"[] : {smem_t} to {view((_WARPGROUP_M, BK))}")
    vb = tx.op(f"memref.view %smem[{tx.idx(tx.add(at, a_bytes))}][] : {smem_t} to "
               f"{view((BK, BN))}")
    da = tx.op(f"nvgpu.warpgroup.generate.descriptor {va}, %dA : {view((_WARPGROUP_M, BK))}, "
               f"{tm_a} -> {wa_t}")
    db = tx.op(f"nvgpu.warpgroup.generate.descriptor {vb}, %dB : {view((BK, BN))}, {tm_b} "
               f"-> {wb_t}")
    acc = tx.op(f"nvgpu.warpgroup.mma {da}, {db}, %acc {{transposeB, waitGroup = 1}} : "
                f"{wa_t}, {wb_t}, {acc_t} -> {acc_t}")
    # This warpgroup's previous group has completed; once every warpgroup's
    # has, tile kt - 1's buffer is free for tile kt + stages - 1.
    tx.emit("gpu.barrier")
    if ktiles > S - 1:  # else the prologue loaded every tile
        # (A predicate that folds to a constant would print as invalid PTX.)
        nxt = tx.add("%kt", S - 1)
        more = tx.op(f"arith.cmpi ult, {nxt}, {tx.idx(ktiles)} : index")
        pred = tx.op(f"arith.andi {lead}, {more} : i1")
        nslot = tx.rem(nxt, S) if S & (S - 1) == 0 else tx.op(
            f"arith.remui {nxt}, {tx.idx(S)} : index")
        load(tx.mul(nxt, BK), nslot, pred)
    last = tx.op(f"arith.cmpi eq, {stage}, {tx.idx(S - 1)} : index")
    phase = tx.op(f"arith.xori %phase, {last} : i1")
    tx.emit(f"scf.yield {acc}, {phase} : {acc_t}, i1")

    # --- epilogue: accumulators to C (the mma.sync fragment layout, per warp
    # of the warpgroup: rows lane / 4 (+ 8), columns 2 (lane % 4) (+ 1) of
    # each 8 columns)
    tx.lines = epilogue = []
    tx.indent = 2
    tx.emit("nvvm.wgmma.wait.group.sync.aligned 0")
    regs = tx.op(f"builtin.unrealized_conversion_cast %res#0 : {acc_t} to {acc_llvm}")
    lane = tx.rem("%tx", 32)
    warp = tx.rem(tx.div("%tx", 32), 4)
    row0 = tx.add(tx.add(m0, tx.mul(warpgroup, _WARPGROUP_M)),
                  tx.add(tx.mul(warp, 16), tx.div(lane, 4)))
    col0 = tx.add(n0, tx.mul(tx.rem(lane, 4), 2))
    for h in range(2):
        row = tx.add(row0, 8 * h)
        row_ok = tx.lt(row, M) if M % BM else None
        for j in range(BN // 8):
            e = [tx.op(f"llvm.extractvalue {regs}[0, {4 * j + 2 * h + i}] : {acc_llvm}")
                 for i in range(2)]
            pair = tx.op(f"vector.from_elements {e[0]}, {e[1]} : vector<2xf32>")
            _store_run(k, pair, 2, row, tx.add(col0, 8 * j), row_ok)

    bounds = f"{tx.idx(0)} to {tx.idx(ktiles)} step {tx.idx(1)}"
    consts = tx.const_lines
    lines = [f"func.func @euler_gpu_matmul_{kernel_id}(%A: {ta}, %B: {tb}, %C: {tc}) {{"]
    lines += host
    lines += [f"  %gx = arith.constant {tiles_m * tiles_n} : index",
              f"  %gz = arith.constant {p['batch']} : index",
              f"  %nthreads = arith.constant {_WARPGROUP * (BM // _WARPGROUP_M)} : index",
              "  %one = arith.constant 1 : index",
              f"  %smem_bytes = arith.constant {smem_bytes} : i32",
              "  gpu.launch blocks(%bx, %by, %bz) in (%gsx = %gx, %gsy = %one, %gsz = %gz) "
              "threads(%tx, %ty, %tz) in (%bsx = %nthreads, %bsy = %one, %bsz = %one) "
              "dynamic_shared_memory_size %smem_bytes {"]
    lines += ["    " + c for c in consts]
    lines += ["    %false = arith.constant false",
              f"    %acc0 = nvgpu.warpgroup.mma.init.accumulator -> {acc_t}"]
    lines += setup
    return _close(lines, f"    %res:2 = scf.for %kt = {bounds} iter_args(%acc = %acc0, "
                  f"%phase = %false) -> ({acc_t}, i1) {{", body, epilogue)


def _row_major(shape):
    strides, size = [], 1
    for d in reversed(shape):
        strides.insert(0, size)
        size *= d
    return strides


class _TensorCores:
    """Warp tiles of mma.sync: m16n8k16 for f16/bf16, m16n8k8 for tf32. A
    fragments by ldmatrix; B by ldmatrix.trans (16-bit) or two scalar
    shared loads per fragment (tf32: ldmatrix cannot transpose 32-bit)."""

    ACC = "vector<2x2xf32>"

    @staticmethod
    def accumulators(k):
        t = k["t"]
        return [((mt, nt), _TensorCores.ACC)
                for mt in range(t.wm // 16) for nt in range(t.wn // 8)]

    @staticmethod
    def setup(k):
        tx, t, chunk = k["tx"], k["t"], k["chunk"]
        kstep = 8 if t.math == "tf32" else 16
        warps_n = t.bn // t.wn
        warp = tx.div(k["tid"], 32)
        lane = tx.rem(k["tid"], 32)
        wm = tx.div(warp, warps_n) if warps_n > 1 else warp
        wn = tx.rem(warp, warps_n) if warps_n > 1 else 0
        lrow, lhalf = tx.rem(lane, 16), tx.div(lane, 16)
        # ldmatrix x4 of A: lanes 0-15 address rows 0-15 of the first 16 bytes
        # of the k-step, lanes 16-31 the same rows 16 bytes on.
        a_addr = {}
        for mt in range(t.wm // 16):
            r = tx.add(tx.add(tx.mul(wm, t.wm), mt * 16), lrow)
            for kk in range(t.bk // kstep):
                c = tx.mul(_swizzle(tx, r, tx.add(lhalf, kk * 2), t.bk // chunk), chunk)
                a_addr[mt, kk] = (r, c)
        b_addr = {}
        if t.math == "tf32":
            # b0 = B[k + lane % 4][n + lane / 4], b1 four rows down.
            quad, group = tx.rem(lane, 4), tx.div(lane, 4)
            for kk in range(t.bk // kstep):
                for nt in range(t.wn // 8):
                    n = tx.add(tx.add(tx.mul(wn, t.wn), nt * 8), group)
                    for h in range(2):
                        r = tx.add(quad, kk * 8 + 4 * h)
                        c = tx.add(tx.mul(_swizzle(tx, r, tx.div(n, chunk), t.bn // chunk),
                                          chunk), tx.rem(n, chunk))
                        b_addr[nt, kk, h] = (r, c)
        else:
            # ldmatrix x4 trans of B: rows k of two n8 tiles, transposed.
            for kk in range(t.bk // kstep):
                r = tx.add(lrow, kk * 16)
                for np_ in range(t.wn // 16):
                    ch = tx.add(tx.div(tx.add(tx.mul(wn, t.wn), np_ * 16), chunk), lhalf)
                    b_addr[np_, kk] = (r, tx.mul(_swizzle(tx, r, ch, t.bn // chunk), chunk))
        return {"wm": wm, "wn": wn, "lane": lane, "a": a_addr, "b": b_addr, "kstep": kstep}

    @staticmethod
    def compute(k, s, stage, accs):
        tx, t, dt, sa, sb = k["tx"], k["t"], k["p"]["dtype"], k["sa"], k["sb"]
        MT, NT = t.wm // 16, t.wn // 8

        def ix(*parts):
            return ", ".join(tx.idx(v) for v in parts)

        for kk in range(t.bk // s["kstep"]):
            af, bf = {}, {}
            if t.math == "tf32":
                for mt in range(MT):
                    r, c = s["a"][mt, kk]
                    af[mt] = tx.op(f"nvgpu.ldmatrix %sA[{ix(stage, r, c)}] {{numTiles = 4 : i32, "
                                   f"transpose = false}} : {sa} -> vector<4x1xf32>")
                for nt in range(NT):
                    regs = [tx.op(f"memref.load %sB[{ix(stage, *s['b'][nt, kk, h])}] : {sb}")
                            for h in range(2)]
                    bf[nt] = tx.op(f"vector.from_elements {regs[0]}, {regs[1]} : vector<2x1xf32>")
                for mt in range(MT):
                    for nt in range(NT):
                        accs[mt, nt] = tx.op(
                            f"nvgpu.mma.sync({af[mt]}, {bf[nt]}, {accs[mt, nt]}) "
                            f"{{mmaShape = [16, 8, 8], tf32Enabled}} : (vector<4x1xf32>, "
                            f"vector<2x1xf32>, {_TensorCores.ACC}) -> {_TensorCores.ACC}")
                continue
            for mt in range(MT):
                r, c = s["a"][mt, kk]
                af[mt] = tx.op(f"nvgpu.ldmatrix %sA[{ix(stage, r, c)}] {{numTiles = 4 : i32, "
                               f"transpose = false}} : {sa} -> vector<4x2x{dt}>")
            for np_ in range(NT // 2):
                r, c = s["b"][np_, kk]
                both = tx.op(f"nvgpu.ldmatrix %sB[{ix(stage, r, c)}] {{numTiles = 4 : i32, "
                             f"transpose = true}} : {sb} -> vector<4x2x{dt}>")
                # Rows 0-1 are the first n8 tile's fragment, rows 2-3 the second's.
                for half in range(2):
                    bf[2 * np_ + half] = [
                        tx.op(f"vector.extract {both}[{2 * half + row}] : vector<2x{dt}> "
                              f"from vector<4x2x{dt}>") for row in range(2)]
            for mt in range(MT):
                for nt in range(NT):
                    accs[mt, nt] = _mma(tx, dt, af[mt], bf[nt], accs[mt, nt])
        return accs

    @staticmethod
    def epilogue(k, s, results):
        # c0, c1: row lane / 4, columns 2 (lane % 4) + {0, 1}; c2, c3: 8 rows down.
        tx, t, p = k["tx"], k["t"], k["p"]
        qrow = tx.div(s["lane"], 4)
        qcol = tx.mul(tx.rem(s["lane"], 4), 2)
        for mt in range(t.wm // 16):
            for h in range(2):
                row = tx.add(tx.add(k["m0"], tx.add(tx.mul(s["wm"], t.wm), mt * 16 + 8 * h)),
                             qrow)
                row_ok = tx.lt(row, p["M"]) if p["M"] % t.bm else None
                for nt in range(t.wn // 8):
                    col = tx.add(tx.add(k["n0"], tx.mul(s["wn"], t.wn)), tx.add(qcol, nt * 8))
                    pair = tx.op(f"vector.extract {results[mt, nt]}[{h}] : vector<2xf32> "
                                 f"from {_TensorCores.ACC}")
                    _store_run(k, pair, 2, row, col, row_ok)


class _RegisterTiles:
    """Exact f32: each thread a tm x tn tile of C in registers, rows tm
    consecutive rows, columns tn / 4 runs of 4 spread a warp's width apart
    (so a warp's B loads are 16-byte vectors side by side), one FMA per
    element and k."""

    @staticmethod
    def accumulators(k):
        t = k["t"]
        return [((i, g), "vector<4xf32>") for i in range(t.tm) for g in range(t.tn // 4)]

    @staticmethod
    def setup(k):
        tx, t, chunk = k["tx"], k["t"], k["chunk"]
        threads_n = t.bn // t.tn
        ty, tcol = tx.div(k["tid"], threads_n), tx.rem(k["tid"], threads_n)
        rows = [tx.add(tx.mul(ty, t.tm), i) for i in range(t.tm)]
        cols = [tx.add(tx.mul(tcol, 4), g * threads_n * 4) for g in range(t.tn // 4)]
        # Each row's XOR of the swizzle, applied to each k's chunk in the loop.
        a_xor = [_swizzle(tx, r, 0, t.bk // chunk) for r in rows]
        return {"rows": rows, "cols": cols, "a_xor": a_xor}

    @staticmethod
    def compute(k, s, stage, accs):
        tx, t, sa, sb, chunk = k["tx"], k["t"], k["sa"], k["sb"], k["chunk"]
        for kk in range(t.bk):
            a = []
            for i, r in enumerate(s["rows"]):
                c = tx.add(tx.mul(tx.xor(s["a_xor"][i], kk // chunk), chunk), kk % chunk)
                v = tx.op(f"memref.load %sA[{tx.idx(stage)}, {tx.idx(r)}, {tx.idx(c)}] : {sa}")
                a.append(tx.op(f"vector.broadcast {v} : f32 to vector<4xf32>"))
            b = []
            for col in s["cols"]:
                c = tx.mul(_swizzle(tx, kk, tx.div(col, chunk), t.bn // chunk), chunk)
                b.append(tx.op(f"vector.load %sB[{tx.idx(stage)}, {tx.idx(kk)}, {tx.idx(c)}] "
                               f"{{alignment = 16 : i64}} : {sb}, vector<4xf32>"))
            for i in range(t.tm):
                for g in range(t.tn // 4):
                    accs[i, g] = tx.op(f"vector.fma {a[i]}, {b[g]}, {accs[i, g]} : vector<4xf32>")
        return accs

    @staticmethod
    def epilogue(k, s, results):
        tx, t, p = k["tx"], k["t"], k["p"]
        for i, r in enumerate(s["rows"]):
            row = tx.add(k["m0"], r)
            row_ok = tx.lt(row, p["M"]) if p["M"] % t.bm else None
            for g, col in enumerate(s["cols"]):
                _store_run(k, results[i, g], 4, row, tx.add(k["n0"], col), row_ok)


_MATH = {"mma": _TensorCores, "tf32": _TensorCores, "ffma": _RegisterTiles}


def _copy_width(widths, extent, strides, offset):
    """The widest of `widths` (elements) whose copies stay inside one row of
    `extent` elements and aligned, in an operand of `strides` and `offset`."""
    return next(w for w in widths if w and extent % w == 0 and offset % w == 0
                and all(s % w == 0 for s in strides[:-1]))


def _transposed_b_copies(k, plan, k0, stage, width, bounded):
    """Loads of a transposed B's tile at K offset `k0` (its N x K view, rows
    of N, `width` elements of K a load, zero past N and, `bounded`, past K)
    into registers; returns the function that stores them into `stage` of
    the K x N shared tile, transposed, which cp.async cannot do. A warp's
    loads cover whole rows' runs of K (as A's copies do), its stores
    distinct banks but for pairs."""
    tx, p, t, chunk = k["tx"], k["p"], k["t"], k["chunk"]
    dt, tb, sb = p["dtype"], p["types"][1], k["sb"]
    vt = f"vector<{width}x{dt}>"
    zero = f"%zb{width}"
    if f"{zero} = arith.constant dense<0.0> : {vt}" not in tx.const_lines:
        tx.const_lines.append(f"{zero} = arith.constant dense<0.0> : {vt}")
    loads = []
    for pl in plan:
        gk = tx.add(k0, pl["col"])
        conds = [pl["gcol_ok"]] if pl["gcol_ok"] else []
        if bounded:
            conds.append(tx.lt(gk, p["K"]))
        ok = _all(tx, conds) if conds else None
        if ok:
            gk = tx.select(ok, tx.idx(gk), tx.idx(0))
        idx = ", ".join(tx.idx(v) for v in k["batch_idx"] + [pl["gcol_c"], gk])
        align = f" {{alignment = {width * _BYTES[dt]} : i64}}" if width > 1 else ""
        v = tx.op(f"vector.load %B[{idx}]{align} : {tb}, {vt}")
        if ok:
            v = tx.select(ok, v, zero, vt)
        loads.append((v, pl))

    def store():
        for v, pl in loads:
            n = pl["r"]
            for j in range(width):
                kk = tx.add(pl["col"], j)
                col = tx.add(tx.mul(_swizzle(tx, kk, tx.div(n, chunk), t.bn // chunk), chunk),
                             tx.rem(n, chunk))
                e = tx.op(f"vector.extract {v}[{j}] : {dt} from {vt}")
                tx.emit(f"memref.store {e}, %sB[{tx.idx(stage)}, {tx.idx(kk)}, {tx.idx(col)}] "
                        f": {sb}")
    return store


def _async_copy(tx, src, lead, gidx, dst, didx, width, conds, src_t, dst_t, elem_bytes,
                col_of_k):
    """One cp.async of `width` elements, zero-filled where `conds` fail (its
    address clamped into the operand); its token, or None for a plain load."""
    if col_of_k:
        row, col = lead[-1], gidx
        lead = lead[:-1]
        if conds:
            col = tx.select(_all(tx, conds), tx.idx(col), tx.idx(0))
        src_idx = lead + [row, col]
    else:
        row, col = gidx
        if conds:
            row = tx.select(_all(tx, conds), tx.idx(row), tx.idx(0))
        src_idx = lead + [row, col]
    sidx = ", ".join(tx.idx(v) for v in src_idx)
    didx_s = ", ".join(tx.idx(v) for v in didx)
    if width * elem_bytes >= 4:
        count = ""
        if conds:
            n = tx.select(_all(tx, conds), tx.idx(width), tx.idx(0))
            count = f", {n}"
        # Whole 16-byte chunks skip L1 (cp.async.cg): each is read once per block.
        hint = " {bypassL1}" if width * elem_bytes == 16 else ""
        return tx.op(f"nvgpu.device_async_copy {src}[{sidx}], {dst}[{didx_s}], {width}{count}"
                     f"{hint} : {src_t} to {dst_t}")
    else:
        # An odd row length of 2-byte elements: rows are not 4-byte aligned,
        # and cp.async copies 4 bytes at least: plain loads.
        elem = dst_t.split("x")[-1].split(",")[0]
        v = tx.op(f"memref.load {src}[{sidx}] : {src_t}")
        if conds:
            zero = tx.op(f"arith.constant 0.0 : {elem}")
            v = tx.select(_all(tx, conds), v, zero, elem)
        tx.emit(f"memref.store {v}, {dst}[{didx_s}] : {dst_t}")
        return None


def _mma(tx, dt, a, b_rows, acc):
    """acc += a (vector<4x2xdt>, 16 x 16) @ b (two rows of vector<2xdt>, 16 x 8)
    on the tensor cores; acc is a vector<2x2xf32>."""
    acc_t = "vector<2x2xf32>"
    if dt == "f16":
        b = "%zfrag"
        for row, reg in enumerate(b_rows):
            b = tx.op(f"vector.insert {reg}, {b} [{row}] : vector<2xf16> into vector<2x2xf16>")
        return tx.op(f"nvgpu.mma.sync({a}, {b}, {acc}) {{mmaShape = [16, 8, 16]}} : "
                     f"(vector<4x2xf16>, vector<2x2xf16>, {acc_t}) -> {acc_t}")
    # nvgpu.mma.sync does not lower bf16 operands: the NVVM op, on the same
    # registers seen as i32 pairs.
    regs = []
    for i, row in enumerate([None] * 4 + b_rows):
        if i < 4:
            row = tx.op(f"vector.extract {a}[{i}] : vector<2x{dt}> from vector<4x2x{dt}>")
        pair = tx.op(f"vector.bitcast {row} : vector<2x{dt}> to vector<1xi32>")
        regs.append(tx.op(f"vector.extract {pair}[0] : i32 from vector<1xi32>"))
    c = [tx.op(f"vector.extract {acc}[{h}, {e}] : f32 from {acc_t}")
         for h in range(2) for e in range(2)]
    struct = "!llvm.struct<(f32, f32, f32, f32)>"
    d = tx.op(f"nvvm.mma.sync A[{', '.join(regs[:4])}] B[{', '.join(regs[4:])}] "
              f"C[{', '.join(c)}] {{layoutA = #nvvm.mma_layout<row>, "
              f"layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<{dt}>, "
              f"multiplicandBPtxType = #nvvm.mma_type<{dt}>, "
              f"shape = #nvvm.shape<m = 16, n = 8, k = 16>}} : (i32, i32, f32) -> {struct}")
    out = "%zpair"
    for h in range(2):
        e = [tx.op(f"llvm.extractvalue {d}[{2 * h + i}] : {struct}") for i in range(2)]
        pair = tx.op(f"vector.from_elements {e[0]}, {e[1]} : vector<2xf32>")
        out = tx.op(f"vector.insert {pair}, {out} [{h}] : vector<2xf32> into {acc_t}")
    return out


def _all(tx, conds):
    acc = conds[0]
    for c in conds[1:]:
        acc = tx.op(f"arith.andi {acc}, {c} : i1")
    return acc


def _store_run(k, vec, lanes, row, col, row_ok):
    """Store `lanes` accumulator elements (row, col ...) into C (a
    vector<lanes x f32>), adding C's value unless it was zero-filled, only
    those inside C when the tile is ragged."""
    tx, p, tc = k["tx"], k["p"], k["tc"]
    out, N = p["out"], p["N"]
    batch_idx, zero_init = k["batch_idx"], k["zero_init"]
    idx = ", ".join(tx.idx(v) for v in batch_idx + [row, col])
    conds = [c for c in (row_ok,) if c]
    col_ok = tx.lt(col, N) if N % k["t"].bn else None
    ft, vt = f"vector<{lanes}xf32>", f"vector<{lanes}x{out}>"
    if N % lanes == 0:
        if col_ok:
            conds.append(col_ok)
        if conds:
            tx.emit(f"scf.if {_all(tx, conds)} {{")
            tx.indent += 1
        value = vec
        if not zero_init:
            old = tx.op(f"vector.load %C[{idx}] : {tc}, {vt}")
            if out != "f32":
                old = tx.op(f"arith.extf {old} : {vt} to {ft}")
            value = tx.op(f"arith.addf {value}, {old} : {ft}")
        if out != "f32":
            value = tx.op(f"arith.truncf {value} : {ft} to {vt}")
        # Aligned to the run (N and col are multiples of it): one store, not
        # one per element.
        tx.emit(f"vector.store {value}, %C[{idx}] {{alignment = {lanes * _BYTES[out]} : i64}} "
                f": {tc}, {vt}")
        if conds:
            tx.indent -= 1
            tx.emit("}")
        return
    # N not a multiple of the run: element by element, each with its guard.
    for e in range(lanes):
        c = tx.add(col, e)
        tx.emit(f"scf.if {_all(tx, conds + [tx.lt(c, N)])} {{")
        tx.indent += 1
        value = tx.op(f"vector.extract {vec}[{e}] : f32 from {ft}")
        eidx = ", ".join(tx.idx(v) for v in batch_idx + [row, c])
        if not zero_init:
            old = tx.op(f"memref.load %C[{eidx}] : {tc}")
            if out != "f32":
                old = tx.op(f"arith.extf {old} : {out} to f32")
            value = tx.op(f"arith.addf {value}, {old} : f32")
        if out != "f32":
            value = tx.op(f"arith.truncf {value} : f32 to {out}")
        tx.emit(f"memref.store {value}, %C[{eidx}] : {tc}")
        tx.indent -= 1
        tx.emit("}")
