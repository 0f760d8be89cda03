"""euler-gpu-fold-transposes: matmuls read their operands through the transposes that made them.

Runs in the CUDA pipeline's `gpu` stage, after `euler-gpu-device-buffers`
and just before `euler-gpu-schedule-matmul`. A matmul operand that is (a
reshape of) a buffer written by a permuting copy -- a `linalg.generic` whose
body only yields its input, read through a permutation -- is read through a
strided view of the copy's source instead (`memref.reinterpret_cast`), and
the copy goes: one kernel and a round trip through memory fewer per call.
These copies are torch's `weight.T` in every linear layer (the weights are
arguments on the device, so they cannot be transposed once at compile time)
and attention's head permutes.

A view is used where the matmul kernel reads it as it reads a row-major
operand: the innermost stride 1 (any other strides). B whose K dimension is
the contiguous one (a linear layer's N x K weight) is taken too when the
matmul is exact f32, whose kernel transposes B tiles on their way into
shared memory (`euler-gpu-schedule-matmul`); the tensor-core kernels keep
the copy. A reshape of the permuted buffer that no strided view expresses
(dimensions merged that the permutation separated) keeps the copy too.

The copy's buffer must hold nothing else the matmul's readers need: nothing
between the copy and the matmul touches it, and after the matmul it is
freed or written whole again (bufferization reuses buffers), and nothing
between the two writes the copy's source.
"""

from __future__ import annotations

from mlir import ir
from mlir.dialects import memref

from .. import ops_named, root_buffer
from .schedule_matmul import default_maps, reads_transposed_b, writes_whole

NAME = "euler-gpu-fold-transposes"
SUMMARY = "Matmuls read their operands through the transposes that produce them"

_RESHAPES = ("memref.collapse_shape", "memref.expand_shape")
_ALLOCS = ("gpu.alloc", "memref.alloc")
_FREES = ("gpu.dealloc", "memref.dealloc")


def run(module, allow_tf32=False):
    """`allow_tf32`: f32 matmuls run on TF32 tensor cores, whose kernel
    does not read a transposed B."""
    for op in ops_named(module, "linalg.matmul", "linalg.batch_matmul"):
        if not default_maps(op) or len(op.results):
            continue  # transposed maps, or not bufferized: not the matmul kernel's
        elem = str(ir.MemRefType(op.operands[0].type).element_type)
        for index in (0, 1):
            _fold(op, index, transposed_ok=index == 1 and reads_transposed_b(elem, allow_tf32))


def _fold(op, index, transposed_ok):
    operand = op.operands[index]
    found = _permuted_copy(op, operand)
    if found is None:
        return
    copy, buf, source, shape, strides = found
    if strides[-1] != 1 and not (transposed_ok and strides[-2] == 1):
        return
    offset = ir.MemRefType(source.type).get_strides_and_offset()[1]
    elem = ir.MemRefType(operand.type).element_type
    view_t = ir.MemRefType.get(shape, elem, layout=ir.StridedLayoutAttr.get(offset, strides))
    # In the copy's place: between a matmul and its zero fill, it would hide
    # the fill from euler-gpu-schedule-matmul.
    with ir.InsertionPoint(copy), op.location:
        view = memref.reinterpret_cast(view_t, source, [], [], [], [offset], shape, strides)
    op.operands[index] = view
    copy.erase()
    _erase_unused(buf)


def _permuted_copy(op, operand):
    """(copy, its buffer, its source, and `operand`'s shape and strides as a
    view of the source) if `operand` is (a reshape of) a buffer that a
    permuting copy wrote whole for `op` alone, else None."""
    reader = []  # the reshapes from the operand back to the buffer
    value = operand
    while _owner_named(value, _RESHAPES):
        reader.append(value.owner)
        value = value.owner.operands[0]
    buf = value
    if not _owner_named(buf, _ALLOCS) or not ir.MemRefType(buf.type).has_static_shape:
        return None
    block = op.operation.block
    ops = [o.operation for o in block.operations]
    position = {o: n for n, o in enumerate(ops)}
    users = _users(buf)
    # The copy: the last writer of the buffer before the matmul.
    copies = [u for u in users if _is_permuting_copy(u) and _is_or_reshapes(u.operands[1], buf)
              and u in position and position[u] < position[op.operation]]
    if not copies:
        return None
    copy = max(copies, key=lambda u: position[u])
    for user in users:
        if user in (copy, op.operation) or user.name in _FREES:
            continue
        at = _top_level(user, position)
        if position[copy] < at < position[op.operation]:
            return None  # read or written between the two
        if at > position[op.operation] and not _written_whole_first(buf, op, position):
            return None  # a later reader of what the copy wrote
    source = copy.operands[0]
    if not _unwritten_between(source, ops[position[copy] + 1:position[op.operation]]):
        return None
    src_t = ir.MemRefType(source.type)
    src_strides, src_offset = src_t.get_strides_and_offset()
    if not src_t.has_static_shape or any(src_t.is_dynamic_stride_or_offset(v)
                                         for v in src_strides + [src_offset]):
        return None
    amap = ir.AffineMapAttr(copy.attributes["indexing_maps"][0]).value
    # out[d] = src[map(d)]: output dimension d walks the source dimension
    # that map's result d_i names.
    out = copy.operands[1]
    shape = list(ir.MemRefType(out.type).shape)
    strides = [0] * len(shape)
    for i, expr in enumerate(amap.results):
        strides[ir.AffineDimExpr(expr).position] = src_strides[i]
    # Back from the copy's output (a reshape of the buffer) to the buffer...
    value = out
    while value != buf:
        reshape = value.owner
        shape, strides = _reshaped(reshape, shape, strides, inverse=True)
        if shape is None:
            return None
        value = reshape.operands[0]
    # ... and on to the operand.
    for reshape in reversed(reader):
        shape, strides = _reshaped(reshape, shape, strides, inverse=False)
        if shape is None:
            return None
    return copy, buf, source, shape, strides


def _is_permuting_copy(op):
    if op.name != "linalg.generic" or len(op.operands) != 2 or len(op.results):
        return False
    if any("parallel" not in str(t) for t in ir.ArrayAttr(op.attributes["iterator_types"])):
        return False
    in_map, out_map = (ir.AffineMapAttr(m).value for m in op.attributes["indexing_maps"])
    rank = len(ir.MemRefType(op.operands[1].type).shape)
    if out_map != ir.AffineMap.get_identity(rank) or not in_map.is_permutation:
        return False
    body = [o.operation for o in op.regions[0].blocks[0].operations]
    return (len(body) == 1 and body[0].name == "linalg.yield"
            and body[0].operands[0] == op.regions[0].blocks[0].arguments[0])


def _reshaped(reshape, shape, strides, inverse):
    """The shape and strides of the view `shape`/`strides` after `reshape`
    (a collapse_shape or expand_shape; `inverse`: undone, from its result to
    its source), or (None, None) when no strided view expresses it."""
    groups = [[ir.IntegerAttr(d).value for d in ir.ArrayAttr(g)]
              for g in ir.ArrayAttr(reshape.attributes["reassociation"])]
    expands = reshape.name == "memref.expand_shape"
    if expands == inverse:  # a collapse of the dimensions of each group
        new_shape, new_strides = [], []
        for g in groups:
            dims = [d for d in g if shape[d] != 1]  # a unit dimension's stride is free
            for outer, inner in zip(dims, dims[1:]):
                if strides[outer] != strides[inner] * shape[inner]:
                    return None, None
            size = 1
            for d in g:
                size *= shape[d]
            new_shape.append(size)
            new_strides.append(strides[dims[-1]] if dims else 1)
        return new_shape, new_strides
    # An expand: each dimension into its group's sizes, the innermost keeping its stride.
    wide = list(ir.MemRefType((reshape.results[0] if expands else reshape.operands[0]).type).shape)
    new_strides = [0] * len(wide)
    for dim, g in enumerate(groups):
        stride = strides[dim]
        for d in reversed(g):
            new_strides[d] = stride
            stride *= wide[d]
    return wide, new_strides


def _aliases(buf):
    """`buf` and every reshape of it, transitively."""
    found, todo = [], [buf]
    while todo:
        v = todo.pop()
        found.append(v)
        todo += [u.owner.results[0] for u in v.uses if u.owner.name in _RESHAPES]
    return found


def _users(buf):
    """The ops using `buf` or a reshape of it, reshapes aside."""
    return [u.owner.operation for alias in _aliases(buf) for u in alias.uses
            if u.owner.name not in _RESHAPES]


def _is_or_reshapes(value, buf):
    while value != buf and _owner_named(value, _RESHAPES):
        value = value.owner.operands[0]
    return value == buf


def _unwritten_between(source, ops):
    """Whether no op in `ops` (or nested in them) may write `source`'s buffer."""
    root = root_buffer(source)
    safe = True

    def visit(o):
        nonlocal safe
        for k, v in enumerate(o.operands):
            if not isinstance(v.type, ir.MemRefType) or root_buffer(v) != root:
                continue
            reads = (o.name in ("memref.load", "vector.load")
                     or o.name in _RESHAPES + ("memref.reinterpret_cast", "memref.subview")
                     or (o.name == "nvgpu.device_async_copy" and k == 0)
                     or (o.name.startswith("linalg.") and "operandSegmentSizes" in o.attributes
                         and k < o.attributes["operandSegmentSizes"][0]))
            if not reads:
                safe = False
        return ir.WalkResult.ADVANCE
    for o in ops:
        o.walk(visit)
    return safe


def _written_whole_first(buf, matmul, position):
    """Whether the first op after `matmul` that uses `buf`, if any, frees it
    or writes all of it without reading it (bufferization's reuse of it)."""
    later = sorted((o for o in _users(buf) if _top_level(o, position) > position[matmul.operation]),
                   key=lambda o: _top_level(o, position))
    return not later or later[0].name in _FREES or writes_whole(later[0], buf)


def _top_level(op, position):
    while op not in position and op.parent is not None:
        op = op.parent
    return position.get(op, -1)


def _owner_named(value, names):
    owner = value.owner
    return not isinstance(owner, ir.Block) and owner.name in names


def _erase_unused(buf):
    """Erase the reshapes of `buf` that nothing reads, then `buf` and its
    frees if nothing else uses it."""
    while True:
        dead = [a for a in _aliases(buf)[1:] if not list(a.uses)]
        if not dead:
            break
        dead[0].owner.erase()
    if all(u.owner.name in _FREES for u in buf.uses):
        for u in list(buf.uses):
            u.owner.erase()
        buf.owner.erase()
