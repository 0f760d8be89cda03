"""euler-gpu-lower-groups: each planned fusion group becomes one GPU kernel.

Runs in the CUDA pipeline's `gpu` stage, after bufferization and
`euler-gpu-device-buffers`, on the groups `euler-gpu-form-groups` tagged and
planned (`euler.gpu_group`, `euler.gpu_schedule`). Each group's linalg
generics are replaced by one `gpu.launch`:

  * blocks of `threads` x `rows_per_block` threads, one row per y index; a
    thread takes `chunks` 16-byte vectors of its row, `threads` vectors
    apart, so that each warp load is contiguous and 128-bit
    (`vector.load` with 16-byte alignment: `ld.global.v4.f32`; a row that
    only reductions read streams past the caches, `ld.global.cs.v4`);
  * everything a member computes stays in registers: an input is loaded
    once and reused by every pass over the row (softmax reads x once, for
    its max, its sum and its output), an intermediate is never written; a
    row longer than registers hold (`row_tiles` > 1) is looped over in
    tiles by each pass instead, which loads its tiles again;
  * a reduction over the row combines each thread's elements, then the
    warp's by `gpu.shuffle xor`, then the warps' through shared memory and
    one more shuffle round, so every thread holds the row's result;
    reductions that do not depend on each other (layer_norm's sum of x - m
    and of its square) share their shuffle rounds and their one barrier, and
    every reduction has its own shared-memory slots, so that no barrier has
    to wait for the previous one's readers;
  * a row split over the blocks of a thread block cluster (`cluster` > 1,
    sm_90) stays in their registers too: each block reduces its part as
    above, then the blocks exchange their totals through distributed shared
    memory (`mapa`, `ld.shared::cluster`) after a cluster barrier, and
    combine them in the same order, so that every block holds the same
    row value; a last cluster barrier keeps each block's shared memory alive
    until the others have read it;
  * only the group's outputs (buffers used outside it) are stored.

Groups this pass cannot take (a buffer both read and written, a view
aliasing an output) keep their ops, for the loop-nest path that follows.
The intermediates' buffers, no longer used, are removed.
"""

from __future__ import annotations

import contextlib
import math

from mlir import ir
from mlir.dialects import arith, gpu, llvm, memref, scf, vector

from .. import MEMREF_VIEWS, clone_body, root_buffer
from .form_groups import (COMBINERS, GROUP, SCHEDULE, combiner, kind, maps, num_inputs,
                              row_group)

NAME = "euler-gpu-lower-groups"
SUMMARY = "Lower each planned fusion group to one GPU kernel (row-wise, vectorized, warp reductions)"

_WORKGROUP = "#gpu.address_space<workgroup>"
# A row a reduction reads once is loaded with the cache-streaming operator
# (evict first in L1 and L2, CUDA's __ldcs; Inductor's evict_first), so that
# it does not push out of L2 the lines others have written or will read. On
# the H200 (benchmarks/cuda.py's timing, L2 full of dirty lines): sum/max of
# 4096 x 8192 rows 0.0405 -> 0.0370 ms (0.91 -> 1.00 x torch.compile). Groups
# that write whole rows lose by it (softmax 4096 x 8192 0.068 -> 0.071 ms,
# layer_norm 0.070 -> 0.072, bias+gelu+residual 0.053 -> 0.054), so they
# keep plain loads. None: plain loads everywhere.
STREAM_LOAD = "ld.global.cs.v4.b32 {$0, $1, $2, $3}, [$4];"
# A short row that one warp takes is loaded past L1 (no line allocated:
# nothing rereads it). H200, 4096 x 1024 layer_norm, one run of
# benchmarks/row_variants.py: 0.0124 -> 0.0120 ms (1.05 -> 1.09 x
# torch.compile); softmax within noise. None: vector.load.
WARP_ROW_LOAD = "ld.global.L1::no_allocate.v4.f32 {$0, $1, $2, $3}, [$4];"
# Chunks whose outputs are computed, and their loads issued, before a
# chunk's stores: neither LLVM nor ptxas knows that a store does not alias a
# later load, so layer_norm's gamma and beta loads each waited for the
# previous chunk's store, and its last pass over the row was a chain of L2
# round trips. H200, layer_norm 4096 x 32768 (8 chunks a thread, one
# 1024-thread block a multiprocessor): 0 -> 1 chunk ahead 0.297 -> 0.293 ms;
# 2, 3 and 7 the same; 4096 x 4096 to 16384 unchanged. More costs registers
# (4096 x 1024: 7 ahead, 80 registers a thread, 0.0120 -> 0.0125 ms).
STORE_AHEAD = 1
# A full member's division by a row value (a softmax's x / sum) is one
# exact reciprocal per row and a multiply per element (at most one more
# rounding, 1 ulp), not an IEEE division per element (div.rn.f32 is about ten
# instructions and a branch, as many as the exp). False: divisions as written.
RECIPROCAL = True
# Thread block clusters (PTX ISA 7.8, sm_90): the barrier of all the
# cluster's threads (release/acquire: the shared-memory stores before it are
# seen by the other blocks' loads after it), split into its two halves;
# another block's copy of a shared-memory address, and a load from it.
CLUSTER_ARRIVE = "barrier.cluster.arrive.aligned;"
CLUSTER_WAIT = "barrier.cluster.wait.aligned;"
CLUSTER_MAP = "mapa.shared::cluster.u64 $0, $1, $2;"
CLUSTER_LOAD = "ld.shared::cluster.{type} $0, [$1];"


class _Unsupported(Exception):
    pass


def run(module):
    for fn in [op.operation for op in module.regions[0].blocks[0].operations
               if op.operation.name == "func.func" and len(op.operation.regions[0].blocks)]:
        groups = {}
        for op in fn.regions[0].blocks[0].operations:
            op = op.operation
            if GROUP in op.attributes:
                groups.setdefault(op.attributes[GROUP].value, []).append(op)
        for ops in groups.values():
            root = next(op for op in ops if SCHEDULE in op.attributes)
            kernel = _ColumnKernel if "column" in root.attributes[SCHEDULE] else _Kernel
            try:
                kernel(ops, fn.regions[0].blocks[0]).build()
            except _Unsupported:
                pass
    _strip(module)


def _strip(module):
    def visit(op):
        for name in (GROUP, SCHEDULE):
            if name in op.attributes:
                del op.attributes[name]
        return ir.WalkResult.ADVANCE
    module.walk(visit)


def _written_operands(op):
    """The memrefs `op` may write (all it touches, for ops not known here)."""
    memrefs = [v for v in op.operands if isinstance(v.type, ir.MemRefType)]
    if len(op.regions):  # a kernel or loop: whatever its body touches
        def visit(inner):
            memrefs.extend(v for v in inner.operands if isinstance(v.type, ir.MemRefType))
            return ir.WalkResult.ADVANCE
        op.walk(visit)
        return memrefs
    if op.name.startswith("linalg.") and "operandSegmentSizes" in op.attributes:
        return list(op.operands)[num_inputs(op):]
    if op.name in ("memref.copy", "gpu.memcpy"):
        return memrefs[:1] if op.name == "gpu.memcpy" else memrefs[1:]
    if op.name in MEMREF_VIEWS or op.name in ("gpu.alloc", "gpu.dealloc", "memref.get_global"):
        return []
    return memrefs


def _index(v):
    return arith.constant(ir.IndexType.get(), v)


def _acc_type(op):
    """A reduction's compute type, as text (its shared-memory region's key)."""
    return str(_compute_type(op.operands[len(op.operands) - 1].type.element_type))


def _asm(text):
    """A PTX statement with no operands that orders memory (a barrier)."""
    llvm.inline_asm(None, [], text, "~{memory}", has_side_effects=True)


def _address(buf, indices):
    """The address of `buf[indices]` (32-bit elements), as an LLVM pointer."""
    strides, offset = buf.type.get_strides_and_offset()
    linear = _index(offset)
    for i, stride in zip(indices, strides):
        linear = arith.addi(linear, arith.muli(i, _index(stride)) if stride != 1 else i)
    base = memref.extract_aligned_pointer_as_index(buf)
    address = arith.addi(base, arith.muli(linear, _index(4)))
    i64 = ir.IntegerType.get_signless(64)
    return llvm.inttoptr(llvm.PointerType.get(), arith.index_cast(i64, address))


def _register(etype):
    return "f" if isinstance(etype, ir.FloatType) else "r"


def _asm_load(buf, indices, text=STREAM_LOAD):
    """A 16-byte load of 4 x 32 bits written as PTX `text` (`STREAM_LOAD`:
    evict-first, so that data read once does not push out of L2 what others
    will read or have written; NVPTX ignores `nontemporal`, so the PTX is
    written here)."""
    etype = buf.type.element_type
    struct = llvm.StructType.get_literal([etype] * 4)
    result = llvm.inline_asm(struct, [_address(buf, indices)], text,
                             ",".join([f"={_register(etype)}"] * 4 + ["l"]))
    return [llvm.extractvalue(etype, result, [i]) for i in range(4)]


def _cluster_load(buf, slot, rank):
    """Element `slot` (an index) of block `rank`'s (an i32) copy of workgroup
    buffer `buf` (32-bit elements), through distributed shared memory."""
    i64 = ir.IntegerType.get_signless(64)
    base = memref.extract_aligned_pointer_as_index(buf)
    local = arith.index_cast(i64, arith.addi(base, arith.muli(slot, _index(4))))
    remote = llvm.inline_asm(i64, [local, rank], CLUSTER_MAP, "=l,l,r")
    etype = buf.type.element_type
    floating = isinstance(etype, ir.FloatType)
    # Volatile: not moved above the cluster barrier, which it does not depend on.
    return llvm.inline_asm(etype, [remote], CLUSTER_LOAD.format(type="f32" if floating else "b32"),
                           ("=f" if floating else "=r") + ",l", has_side_effects=True)


def _compute_type(etype):
    """The type a reduction of `etype` values combines in: 16-bit floats in
    f32 (warp shuffles move 32 bits; a sum rounds to 16 bits once, at the end)."""
    return ir.F32Type.get() if isinstance(etype, (ir.F16Type, ir.BF16Type)) else etype


def _neutral(comb):
    """The neutral element of combiner `comb` (COMBINERS), as a constant of
    its compute type."""
    etype = _compute_type(comb.results[0].type)
    neutral = COMBINERS[comb.name]
    return arith.constant(etype, float(neutral) if isinstance(etype, ir.FloatType)
                          else int(neutral))


def _combine(comb, a, b):
    """`comb`'s operation on `a` and `b`, in their type."""
    if a.type == comb.results[0].type:
        new = comb.clone()
        new.operands[0], new.operands[1] = a, b
        return new.results[0]
    return ir.Operation.create(comb.name, results=[a.type], operands=[a, b],
                               attributes={n: comb.attributes[n] for n in comb.attributes}).results[0]


def _tree(comb, values):
    """The combine of `values` as a tree, not a chain: independent combines
    overlap in the pipeline, and rounding errors grow with the depth."""
    while len(values) > 1:
        pairs = [_combine(comb, a, b) for a, b in zip(values[::2], values[1::2])]
        values = pairs + (values[-1:] if len(values) % 2 else [])
    return values[0]


def _launch_skeleton(before, grid, block, cluster, shared):
    """A gpu.launch of `grid` x `block` (x sizes) in clusters of `cluster`
    blocks along x, with workgroup buffers `shared` ([(elements, type)]),
    placed before op `before`. A gpu.launch with workgroup buffers has no
    Python builder: one is parsed and moved in place."""
    attrs = ", ".join(f"%s{i} : memref<{size}x{t}, {_WORKGROUP}>"
                      for i, (size, t) in enumerate(shared))
    clusters = ("clusters(%cx, %cy, %cz) in (%csx = %a, %csy = %b, %csz = %c) "
                if cluster > 1 else "")
    text = ("func.func @f(%a: index, %b: index, %c: index, %d: index, %e: index, %g: index) {\n"
            f"  gpu.launch {clusters}blocks(%bx, %by, %bz) in (%gx = %a, %gy = %b, %gz = %c) "
            "threads(%tx, %ty, %tz) in (%sx = %d, %sy = %e, %sz = %g) "
            + (f"workgroup({attrs}) " if attrs else "") + "{\n    gpu.terminator\n  }\n"
            "  return\n}")
    skeleton = ir.Module.parse(text)
    launch = skeleton.body.operations[0].regions[0].blocks[0].operations[0]
    launch.move_before(before)
    with ir.InsertionPoint(launch), before.location:
        sizes = (grid, 1, 1, block[0], block[1], 1)
        if cluster > 1:  # operands: grid, block, then cluster sizes
            sizes += (cluster, 1, 1)
        for i, size in enumerate(sizes):
            launch.operands[i] = _index(size)
    return launch


def _placement_ok(ops, root, block, reads, outputs):
    """Whether the group `ops` (in program order) can be one kernel where its
    root is: nothing between a member that reads a buffer (`reads`: (member,
    buffer) pairs) and the root writes it (a buffer reused in place), and
    nothing between the first member that writes an output (`outputs`:
    buffers) and the root uses it. Counted from each reader and writer, not
    from the first member: a group's fills can sit far ahead of it, before
    another group's kernel that writes what this one reads (the encoder's
    second layer_norm after the first); what runs before, such as the matmul
    that wrote a buffer, still runs before the kernel."""
    members = set(ops)
    position = {o.operation: n for n, o in enumerate(block.operations)}
    ordered = [o.operation for o in block.operations]
    first_read = {}
    for op, value in reads:
        buf = root_buffer(value)
        first_read[buf] = min(first_read.get(buf, math.inf), position[op])
    for op in ordered[min(first_read.values(), default=0):position[root]]:
        if op not in members and any(first_read.get(root_buffer(v), math.inf) < position[op]
                                     for v in _written_operands(op)):
            return False
    for buf in outputs:
        first_write = min(position[m] for m in ops if m.operands[len(m.operands) - 1] == buf)
        for use in buf.uses:
            user = use.owner
            while user not in position and user.parent is not None:
                user = user.parent  # a use inside another kernel
            if user not in members and user.name != "gpu.dealloc" and \
                    first_write < position.get(user, -1) < position[root]:
                return False
    return True


def _erase_group(ops, internal):
    """Erase a group's ops, now in its kernel, and the buffers only they used."""
    for op in reversed(ops):
        op.erase()
    for buf in internal:
        for use in list(buf.uses):
            use.owner.erase()
        buf.owner.erase()


class _Kernel:
    """One group (`ops`, in program order, the root last) and the kernel built from it."""

    def __init__(self, ops, block):
        self.ops = ops
        self.root = next(op for op in ops if SCHEDULE in op.attributes)
        s = self.root.attributes[SCHEDULE]
        self.threads, self.rows_per_block, self.vec, self.chunks, self.col_tiles = (
            ir.IntegerAttr(s[n]).value for n in
            ("threads", "rows_per_block", "vector", "chunks", "col_tiles"))
        # Rows too long for registers: each pass over the row loops over
        # `row_tiles` tiles of threads x chunks vectors, loading them again.
        self.row_tiles = ir.IntegerAttr(s["row_tiles"]).value if "row_tiles" in s else 1
        # A row over the `cluster` blocks of a cluster (its col_tiles).
        self.cluster = ir.IntegerAttr(s["cluster"]).value if "cluster" in s else 1
        # Who wrote each buffer last, as each member reads it: bufferization
        # may reuse one buffer for a fill and the reduction into it.
        writer, self.producer = {}, {}
        members = set(ops)
        for op in ops:
            for i, value in enumerate(op.operands):
                self.producer[(op, i)] = writer.get(value)
            writer[op.operands[len(op.operands) - 1]] = op
        self.shape = row_group(ops, lambda value, reader: (
            self.producer.get((reader, list(reader.operands).index(value))), None))
        if self.shape is None:
            raise _Unsupported()
        self.rank = len(self.shape)
        self.kinds = {op: kind(op, self.rank) for op in ops}
        # Outputs: buffers some op outside the group uses (deallocs aside).
        self.outputs, self.internal = [], []
        external_inputs = set()
        for buf, op in writer.items():
            users = [u.owner for u in buf.uses]
            if all(u in members or u.name == "gpu.dealloc" for u in users) \
                    and not isinstance(buf.owner, ir.Block) and buf.owner.name == "gpu.alloc":
                self.internal.append(buf)
            else:
                self.outputs.append((op, buf))
        reads = []  # (member, operand index, buffer) of what the kernel loads
        for op in ops:
            # A reduction reads its own output buffer as its start value,
            # each row's element before any thread writes it (see _reduce).
            for i, value in enumerate(list(op.operands)[:num_inputs(op)]):
                if self.producer[(op, i)] is None and isinstance(value.type, ir.MemRefType):
                    external_inputs.add(root_buffer(value))
                    reads.append((op, i, value))
        # The kernel runs where the root was (a buffer may be reused in place).
        if not _placement_ok(ops, self.root, block, [(op, value) for op, _, value in reads],
                             [buf for _, buf in self.outputs]):
            raise _Unsupported()
        for op, buf in self.outputs:
            if root_buffer(buf) in external_inputs and not self._in_place(op, buf, reads):
                raise _Unsupported()  # written while other threads may read it
        self.memo = {}

    def _in_place(self, writer, buf, reads):
        """Whether full-size output `buf` may overwrite an input (bufferization
        reuses a matmul's result for its bias add and softmax, say): each of
        its elements read only by the thread that writes it, as the same
        element, before it writes it. Reductions read the whole row, but
        before the shuffles or the barrier that precede every store;
        `_store_full` computes a chunk's every output before storing any."""
        if self.kinds[writer] != "full":
            return False
        out_map = maps(writer)[len(writer.operands) - 1]
        for op, i, value in reads:
            if root_buffer(value) != root_buffer(buf):
                continue
            if value != buf or self.kinds[op] not in ("full", "reduce") or maps(op)[i] != out_map:
                return False
        return True

    # --- the kernel ---------------------------------------------------------------

    def build(self):
        rows = 1
        for s in self.shape[:-1]:
            rows *= s
        grid = rows // self.rows_per_block * self.col_tiles
        batches = self._batches()
        # Shared memory: per element type, one region of rows x warps slots
        # for each reduction of that type that crosses warps, and in a
        # cluster one slot each for the block's total.
        smem_types, self.slot = [], {}
        for op in (op for batch in batches for op in batch):
            t = _acc_type(op)
            if t not in smem_types:
                smem_types.append(t)
            self.slot[op] = sum(1 for o in self.slot if _acc_type(o) == t)
        launch = self._launch(grid, smem_types)
        body = launch.regions[0].blocks[0]
        args = list(body.arguments)
        self.bx, self.tx, self.ty = args[0], args[3], args[4]
        shared = args[18 if self.cluster > 1 else 12:]
        self.smem = dict(zip(smem_types, shared)) if self.threads > 32 else {}
        if self.cluster > 1:
            self.csmem = dict(zip(smem_types, shared[len(self.smem):]))
        with ir.InsertionPoint(body.operations[0]), self.root.location:
            self._indices()
            for n, batch in enumerate(batches):
                self._reduce(batch, last=n == len(batches) - 1)
            full = [(op, buf) for op, buf in self.outputs if self.kinds[op] == "full"]
            for op, buf in self.outputs:
                if self.kinds[op] != "full":
                    self._store(op, buf)
            with self._row_tiles(0, self.row_tiles, []) if self.row_tiles > 1 else contextlib.nullcontext():
                self._store_full(full)
            if self.cluster > 1 and batches:
                # The other half of the barrier the last exchange arrived at:
                # no block leaves (its shared memory with it) before every
                # block of the cluster has read it.
                _asm(CLUSTER_WAIT)
        _erase_group(self.ops, self.internal)

    def _batches(self):
        """The group's reductions in rounds: each reads only results of earlier
        rounds, so the reductions of one round can share their block steps."""
        level = {}

        def depth(op, seen=()):
            # 1 + the deepest reduction `op` reads (through any members).
            if op in seen:
                return 0
            found = 0
            for i in range(len(op.operands)):
                producer = self.producer[(op, i)]
                if producer is None or producer is op:
                    continue
                if self.kinds[producer] == "reduce":
                    found = max(found, level[producer] + 1)
                else:
                    found = max(found, depth(producer, seen + (op,)))
            return found
        for op in self.ops:
            if self.kinds[op] == "reduce":
                level[op] = depth(op)
        batches = [[] for _ in range(max(level.values(), default=-1) + 1)]
        for op, n in level.items():
            batches[n].append(op)
        return batches

    def _launch(self, grid, smem_types):
        n = self.rows_per_block * (self.threads // 32)
        count = {t: 0 for t in smem_types}
        for op in self.slot:
            count[_acc_type(op)] += 1
        shared = [(n * count[t], t) for t in smem_types] if self.threads > 32 else []
        if self.cluster > 1:  # the blocks' totals, one slot a reduction
            shared += [(count[t], t) for t in smem_types]
        return _launch_skeleton(self.root, grid, (self.threads, self.rows_per_block),
                                self.cluster, shared)

    def _indices(self):
        T, C = self.threads, self.chunks
        if self.col_tiles > 1:
            tiles = _index(self.col_tiles)
            row_block, tile = arith.divui(self.bx, tiles), arith.remui(self.bx, tiles)
        else:
            row_block, tile = self.bx, None
        self.tile = tile  # in a cluster: the block's rank
        row = self.ty
        if self.rows_per_block > 1:
            row = arith.addi(arith.muli(row_block, _index(self.rows_per_block)), self.ty)
        else:
            row = row_block
        self.row_ivs = []
        inner = 1
        for size in reversed(self.shape[:-1]):
            iv = arith.divui(row, _index(inner)) if inner > 1 else row
            self.row_ivs.insert(0, arith.remui(iv, _index(size)))
            inner *= size
        self.nvec = -(-self.shape[-1] // self.vec)
        self.lane = arith.remui(self.tx, _index(32))
        base = self.tx
        if tile is not None:
            base = arith.addi(arith.muli(tile, _index(T * C)), self.tx)
        self._columns(base, (self.col_tiles - 1) * T * C)

    def _columns(self, base, start):
        """Vector index of chunk k from `base`, clamped so that every load is
        in bounds; `valid[k]` is None where every thread's chunk k lies in the
        row (`start`: the first vector of the last tile)."""
        T, C = self.threads, self.chunks
        self.cols, self.valid = [], []
        last = _index(self.nvec - 1)
        for k in range(C):
            j = arith.addi(base, _index(k * T)) if k else base
            if start + (k + 1) * T > self.nvec:
                self.valid.append(arith.cmpi(arith.CmpIPredicate.ult, j, _index(self.nvec)))
                j = arith.minui(j, last)
            else:
                self.valid.append(None)
            self.cols.append(j)

    @contextlib.contextmanager
    def _row_tiles(self, lower, upper, iter_args):
        """An scf.for over row tiles lower..upper (index values or ints), its
        body the insertion point, the columns those of its tile and the values
        built inside it forgotten after it (they are the tile's). Yields the
        loop; the caller yields its iter_args' next values."""
        lower, upper = (_index(v) if isinstance(v, int) else v for v in (lower, upper))
        loop = scf.ForOp(lower, upper, _index(1), iter_args)
        saved, cols, valid = self.memo, self.cols, self.valid
        # What does not depend on the columns stays: row values, row-invariant loads.
        self.memo = {k: v for k, v in saved.items()
                     if not (k[0] in ("col", "vload") or (k[0] == "load" and k[3] is not None)
                             or (len(k) == 3 and k[0] not in ("col",) and k[1] is not None))}
        with ir.InsertionPoint(loop.body):
            span = self.threads * self.chunks
            base = arith.addi(arith.muli(loop.induction_variable, _index(span)), self.tx)
            self._columns(base, 0 if self.nvec % span == 0 else self.nvec + 1)
            yield loop
            if not iter_args:
                scf.YieldOp([])
        self.memo, self.cols, self.valid = saved, cols, valid

    # --- values -------------------------------------------------------------------

    def _col(self, k, lane):
        key = ("col", k, lane)
        if key not in self.memo:
            j = self.cols[k]
            c = arith.muli(j, _index(self.vec)) if self.vec > 1 else j
            self.memo[key] = arith.addi(c, _index(lane)) if lane else c
        return self.memo[key]

    def value(self, op, k=None, lane=None):
        """The value `op` computes at chunk k, lane `lane` (full members) or for the row."""
        key = (op, k, lane) if self.kinds[op] == "full" else (op,)
        if key not in self.memo:
            if self.kinds[op] == "reduce":
                raise AssertionError("reductions are computed in program order")
            self.memo[key] = self._body(op, k, lane)
        return self.memo[key]

    def _operand(self, op, i, k, lane):
        value, amap = op.operands[i], maps(op)[i]
        if not isinstance(value.type, ir.ShapedType):
            return value  # a scalar operand, from outside the kernel
        producer = self.producer[(op, i)]
        if producer is not None:
            if self.kinds[producer] == "reduce":
                return self.memo[(producer,)]  # built in program order, before its readers
            return self.value(producer, k, lane)
        return self._load(value, amap, k, lane)

    def _load(self, buf, amap, k, lane):
        dims = [e.position if isinstance(e, ir.AffineDimExpr) else None for e in amap.results]
        col_dim = self.rank - 1
        uses_col = k is not None and col_dim in dims
        key = ("load", buf, str(amap), k if uses_col else None, lane if uses_col else None)
        if key in self.memo:
            return self.memo[key]
        if uses_col and self._vectorizable(buf, dims):
            vkey = ("vload", buf, str(amap), k)
            if vkey not in self.memo:
                indices = self._indices_of(amap, k, 0)
                text = self._load_ptx(buf, dims)
                if text is not None:
                    self.memo[vkey] = _asm_load(buf, indices, text)
                else:
                    vtype = ir.VectorType.get([self.vec], buf.type.element_type)
                    vec = vector.LoadOp(vtype, buf, indices, alignment=self._alignment(buf)).result
                    self.memo[vkey] = [vector.extract(vec, [], [i]) for i in range(self.vec)]
            self.memo[key] = self.memo[vkey][lane]
        else:
            self.memo[key] = memref.load(buf, self._indices_of(amap, k, lane))
        return self.memo[key]

    def _load_ptx(self, buf, dims):
        """The PTX of a 16-byte load of `buf`, or None for vector.load."""
        if self.vec != 4 or getattr(buf.type.element_type, "width", 0) != 32:
            return None
        every_row = all(d in dims for d in range(self.rank - 1))
        if all(self.kinds[op] != "full" for op, _ in self.outputs):
            # A group that writes only per-row values (see STREAM_LOAD); a
            # buffer read once: every row dimension indexes it (not a
            # broadcast operand, which every row rereads from L2).
            return STREAM_LOAD if every_row else None
        return WARP_ROW_LOAD if every_row and self.threads == 32 else None

    def _indices_of(self, amap, k, lane):
        out = []
        for e in amap.results:
            if isinstance(e, ir.AffineConstantExpr):
                out.append(_index(e.value))
            elif e.position == self.rank - 1:
                out.append(self._col(k, lane))
            else:
                out.append(self.row_ivs[e.position])
        return out

    def _alignment(self, buf):
        bits = getattr(buf.type.element_type, "width", 32)
        return self.vec * bits // 8

    def _vectorizable(self, buf, dims):
        """16-byte loads and stores need the column innermost, contiguous, and
        every vector's first element aligned (the runtime aligns base pointers)."""
        if self.vec == 1 or dims[-1] != self.rank - 1 or dims.count(self.rank - 1) != 1:
            return False
        strides, offset = buf.type.get_strides_and_offset()
        dyn = ir.ShapedType.get_dynamic_stride_or_offset()
        if strides[-1] != 1 or offset == dyn or offset % self.vec:
            return False
        return all(s != dyn and s % self.vec == 0 for s in strides[:-1])

    def _body(self, op, k, lane, skip=None):
        body = op.regions[0].blocks[0]
        mapping = {}
        n_in = num_inputs(op)
        # The body's values that are the same for the whole row (from operands
        # without the column dimension: a softmax's sum), for RECIPROCAL.
        per_row = set()
        for i, arg in enumerate(list(body.arguments)[:n_in]):
            if len(list(arg.uses)):
                mapping[arg] = self._operand(op, i, k, lane)
                if self.rank - 1 not in [e.position for e in maps(op)[i].results
                                         if isinstance(e, ir.AffineDimExpr)]:
                    per_row.add(arg)
        inside = {o.operation.results[0] for o in body.operations if len(o.operation.results)}
        for inner in body.operations:
            inner = inner.operation
            if inner.name == "linalg.index" and \
                    ir.IntegerAttr(inner.attributes["dim"]).value != self.rank - 1:
                per_row.add(inner.results[0])

        def index(d):
            if d == self.rank - 1:
                return self._col(k, lane)
            return self.row_ivs[d]

        def rewrite(inner, mapping):
            operands = list(inner.operands)
            if all(v in per_row or v not in inside and not isinstance(v, ir.BlockArgument)
                   for v in operands) and not len(inner.regions):
                per_row.update(inner.results)
            if (RECIPROCAL and inner.name == "arith.divf" and k is not None
                    and operands[1] in per_row and operands[0] not in per_row):
                return arith.mulf(mapping.get(operands[0], operands[0]),
                                  self._reciprocal(mapping.get(operands[1], operands[1])))
            return None
        yielded = clone_body(op, mapping, index, skip, rewrite)
        return yielded[0] if skip is None else mapping

    def _reciprocal(self, value):
        """1 / `value`, once per row value (see RECIPROCAL)."""
        key = ("reciprocal", value)
        if key not in self.memo:
            one = arith.constant(value.type, 1.0)
            self.memo[key] = arith.divf(one, value)
        return self.memo[key]

    # --- reductions ---------------------------------------------------------------

    def _reduce(self, batch, last=False):
        """The reductions of one round (see `_batches`), their block steps
        shared (`last`: the kernel's last round)."""
        combs, partials, inits = [], [], []
        # The start values first: before this round's barrier, so that no
        # thread reads one after the row's first thread wrote the result there.
        for op in batch:
            inits.append(self._operand(op, len(op.operands) - 1, None, None))
        neutrals = []
        for op in batch:
            comb = combiner(op)
            neutrals.append(_neutral(comb))
            combs.append(comb)
        if self.row_tiles == 1:
            partials = self._partials(batch, combs, neutrals)
        else:
            # Each thread's tiles in two nested loops of about sqrt(tiles)
            # steps: two short chains, not one long one (the rounding error
            # of a chain grows with its length, see euler-split-reductions).
            group = max(1, math.isqrt(self.row_tiles - 1) + 1)
            outer = scf.ForOp(_index(0), _index(-(-self.row_tiles // group)), _index(1), neutrals)
            with ir.InsertionPoint(outer.body):
                first = arith.muli(outer.induction_variable, _index(group))
                end = arith.minui(arith.addi(first, _index(group)), _index(self.row_tiles))
                with self._row_tiles(first, end, neutrals) as inner:
                    tile = self._partials(batch, combs, neutrals)
                    scf.YieldOp([_combine(c, a, t) for c, a, t in
                                 zip(combs, inner.inner_iter_args, tile)])
                scf.YieldOp([_combine(c, a, t) for c, a, t in
                             zip(combs, outer.inner_iter_args, inner.results)])
            partials = list(outer.results)
        totals = self._block_reduce(batch, combs, partials)
        if self.cluster > 1:
            totals = self._cluster_reduce(batch, combs, totals, last)
        for op, comb, total, init in zip(batch, combs, totals, inits):
            if total.type != init.type:  # computed wider (_compute_type)
                total = arith.truncf(init.type, _combine(comb, total,
                                                         arith.extf(total.type, init)))
                self.memo[(op,)] = total
            else:
                self.memo[(op,)] = _combine(comb, total, init)

    def _partials(self, batch, combs, neutrals):
        """Each reduction's combine of this thread's elements of the current
        columns (masked where out of the row)."""
        partials = []
        for op, comb, neutral in zip(batch, combs, neutrals):
            body = op.regions[0].blocks[0]
            acc = body.arguments[len(body.arguments) - 1]
            elem_of = comb.operands[1] if comb.operands[0] == acc else comb.operands[0]
            elems = []
            for k in range(self.chunks):
                for lane in range(self.vec):
                    mapping = self._body(op, k, lane, skip=comb)
                    e = mapping.get(elem_of, elem_of)
                    if e.type != neutral.type:
                        e = arith.extf(neutral.type, e)
                    if self.valid[k] is not None:
                        e = arith.select(self.valid[k], e, neutral)
                    elems.append(e)
            partials.append(_tree(comb, elems))
        return partials

    def _shuffle_xor(self, combs, values, offsets):
        i32 = ir.IntegerType.get_signless(32)
        width = arith.constant(i32, 32)
        for off in offsets:
            # All values' shuffles of a round first: they overlap in flight.
            shuffled = [gpu.ShuffleOp(v, arith.constant(i32, off), width,
                                      gpu.ShuffleMode.XOR).results[0] for v in values]
            values = [_combine(c, v, s) for c, v, s in zip(combs, values, shuffled)]
        return values

    def _block_reduce(self, batch, combs, values):
        values = self._shuffle_xor(combs, values, [16, 8, 4, 2, 1])
        warps = self.threads // 32
        if warps == 1:
            return values
        n = self.rows_per_block * warps
        warp = arith.divui(self.tx, _index(32))
        mine = arith.remui(self.lane, _index(warps))
        row = arith.muli(self.ty, _index(warps)) if self.rows_per_block > 1 else None
        first = arith.cmpi(arith.CmpIPredicate.eq, self.lane, _index(0))
        guard = scf.IfOp(first)
        with ir.InsertionPoint(guard.then_block):
            for op, v in zip(batch, values):
                memref.store(v, self._smem(op), [self._slot(op, n, row, warp)])
            scf.YieldOp([])
        # One barrier: each reduction's slots are its own, written once.
        gpu.BarrierOp()
        values = [memref.load(self._smem(op), [self._slot(op, n, row, mine)]) for op in batch]
        offsets = []
        o = warps // 2
        while o:
            offsets.append(o)
            o //= 2
        return self._shuffle_xor(combs, values, offsets)

    def _cluster_reduce(self, batch, combs, totals, last):
        """Combine the cluster's block totals (each thread holds its block's):
        each block's first thread stores its own, and after the cluster barrier
        lane l of every warp loads block l % cluster's, so that the xor
        rounds combine the blocks' totals in one order in every block."""
        first = arith.cmpi(arith.CmpIPredicate.eq, self.tx, _index(0))
        guard = scf.IfOp(first)
        with ir.InsertionPoint(guard.then_block):
            for op, v in zip(batch, totals):
                memref.store(v, self.csmem[_acc_type(op)], [_index(self.slot[op])])
            scf.YieldOp([])
        _asm(CLUSTER_ARRIVE)
        _asm(CLUSTER_WAIT)
        rank = arith.index_cast(ir.IntegerType.get_signless(32),
                                arith.remui(self.lane, _index(self.cluster)))
        values = [_cluster_load(self.csmem[_acc_type(op)], _index(self.slot[op]), rank)
                  for op in batch]
        if last:
            # Arrive as soon as this block has read the others' totals; the
            # wait is at the kernel's end (see build).
            _asm(CLUSTER_ARRIVE)
        offsets, o = [], self.cluster // 2
        while o:
            offsets.append(o)
            o //= 2
        return self._shuffle_xor(combs, values, offsets)

    def _smem(self, op):
        return self.smem[_acc_type(op)]

    def _slot(self, op, n, row, warp):
        base = self.slot[op] * n
        index = arith.addi(row, warp) if row is not None else warp
        return arith.addi(index, _index(base)) if base else index

    # --- stores ---------------------------------------------------------------------

    def _store(self, op, buf):
        amap = maps(op)[len(op.operands) - 1]
        dims = [e.position for e in amap.results]
        if self.kinds[op] != "full":
            # One thread per row writes the row's value (in a cluster, block 0's:
            # every block holds the same).
            first = arith.cmpi(arith.CmpIPredicate.eq, self.tx, _index(0))
            if self.cluster > 1:
                first = arith.andi(first, arith.cmpi(arith.CmpIPredicate.eq, self.tile,
                                                     _index(0)))
            # A reduction's value is built; a row member's maybe not yet (an
            # output no member reads, such as a mean used after the group).
            value = self.memo[(op,)] if self.kinds[op] == "reduce" else self.value(op)
            guard = scf.IfOp(first)
            with ir.InsertionPoint(guard.then_block):
                memref.store(value, buf, [self.row_ivs[d] for d in dims])
                scf.YieldOp([])
            return
        raise AssertionError("full outputs are stored by _store_full")

    def _store_full(self, outputs):
        """Chunk by chunk, every output's values of the chunk before any of its
        stores: an output may overwrite an input in place (see __init__), each
        thread its own elements, after it has read them. The values of the
        next STORE_AHEAD chunks too (see there)."""
        values, computed = {}, 0
        for k in range(self.chunks):
            while computed < min(self.chunks, k + 1 + STORE_AHEAD):
                values[computed] = [[self.value(op, computed, lane) for lane in range(self.vec)]
                                    for op, _ in outputs]
                computed += 1
            for (op, buf), chunk in zip(outputs, values.pop(k)):
                self._store_chunk(op, buf, k, chunk)

    def _store_chunk(self, op, buf, k, values):
        amap = maps(op)[len(op.operands) - 1]
        dims = [e.position for e in amap.results]
        ip = None
        if self.valid[k] is not None:
            guard = scf.IfOp(self.valid[k])
            ip = ir.InsertionPoint(guard.then_block)
            ip.__enter__()
        if self._vectorizable(buf, dims):
            vtype = ir.VectorType.get([self.vec], buf.type.element_type)
            vec = vector.from_elements(vtype, values)
            vector.StoreOp(vec, buf, self._indices_of(amap, k, 0),
                           alignment=self._alignment(buf))
        else:
            for lane, v in enumerate(values):
                memref.store(v, buf, self._indices_of(amap, k, lane))
        if ip is not None:
            scf.YieldOp([])
            ip.__exit__(None, None, None)


class _ColumnKernel:
    """A column group (`euler-gpu-form-groups`): a reduction over the rows of
    R x C operands into C values, the elementwise ops that produce what it
    reads (computed in registers, never stored), and maybe the fill of its
    start value.

    Blocks of 32 x `warps` threads: a thread takes one `vector`-wide group
    of columns (a warp reads 32 contiguous vectors of a row), and the warps
    take consecutive rows, `unroll` rows each per step (that many 16-byte
    loads in flight, combined as a tree), in two nested loops of about
    sqrt(steps) (two short chains, not one long one: see
    euler-split-reductions). The warps' sums meet in shared memory; in a
    cluster, each block sums ceil(R / cluster) rows and block 0 combines the
    blocks' sums, read through distributed shared memory in rank order.
    Deterministic: no atomics."""

    def __init__(self, ops, block):
        self.ops = ops
        self.root = next(op for op in ops if SCHEDULE in op.attributes)
        s = self.root.attributes[SCHEDULE]
        self.warps, self.vec, self.unroll, self.cluster = (
            ir.IntegerAttr(s[n]).value for n in ("warps", "vector", "unroll", "cluster"))
        self.out = self.root.operands[len(self.root.operands) - 1]
        self.fill = None
        # Who wrote each buffer a member reads, as it reads it (a member in
        # program order before it, else None: loaded).
        writer, self.producer = {}, {}
        for op in ops:
            for i, value in enumerate(list(op.operands)[:num_inputs(op)]):
                self.producer[(op, i)] = writer.get(value)
            out = op.operands[len(op.operands) - 1]
            writer[out] = op
            if op is not self.root and out == self.out:
                self.fill = op
        # The producers' buffers are the kernel's own: used by members alone.
        self.internal = [buf for buf, op in writer.items() if buf != self.out]
        for buf in self.internal:
            if isinstance(buf.owner, ir.Block) or buf.owner.name != "gpu.alloc" or any(
                    u.owner not in ops and u.owner.name != "gpu.dealloc" for u in buf.uses):
                raise _Unsupported()
        reads = [(op, v) for op in ops for i, v in enumerate(list(op.operands)[:num_inputs(op)])
                 if self.producer[(op, i)] is None and isinstance(v.type, ir.MemRefType)]
        inputs = {root_buffer(v) for _, v in reads}
        if root_buffer(self.out) in inputs or not _placement_ok(ops, self.root, block, reads,
                                                                 [self.out]):
            raise _Unsupported()
        shaped = [v for v in list(self.root.operands)[:num_inputs(self.root)]
                  if isinstance(v.type, ir.MemRefType)]
        self.rows, self.cols = shaped[0].type.shape

    def build(self):
        W, V, U, S = self.warps, self.vec, self.unroll, self.cluster
        nvec = -(-self.cols // V)
        col_blocks = -(-nvec // 32)
        etype = self.out.type.element_type
        t = str(etype)
        shared = [(W * 32 * V, t)] + ([(32 * V, t)] if S > 1 else [])
        launch = _launch_skeleton(self.root, col_blocks * S, (32, W), S, shared)
        body = launch.regions[0].blocks[0]
        args = list(body.arguments)
        bx, tx, ty = args[0], args[3], args[4]
        smem = args[18 if S > 1 else 12:]
        comb = combiner(self.root)
        acc_arg = self.root.regions[0].blocks[0].arguments[-1]
        elem_of = comb.operands[1] if comb.operands[0] == acc_arg else comb.operands[0]
        with ir.InsertionPoint(body.operations[0]), self.root.location:
            if S > 1:
                col_block, rank = arith.divui(bx, _index(S)), arith.remui(bx, _index(S))
            else:
                col_block, rank = bx, None
            j = arith.addi(arith.muli(col_block, _index(32)), tx)
            valid = None
            if nvec % 32:
                valid = arith.cmpi(arith.CmpIPredicate.ult, j, _index(nvec))
                j = arith.minui(j, _index(nvec - 1))
            col = arith.muli(j, _index(V)) if V > 1 else j
            # This block's rows, and each step's U x W of them.
            per_block = -(-self.rows // S)
            first = arith.muli(rank, _index(per_block)) if rank is not None else _index(0)
            end = self.rows if S == 1 else None
            if S > 1:
                end = arith.minui(arith.addi(first, _index(per_block)), _index(self.rows))
            steps = -(-per_block // (U * W))
            ragged = S * steps * U * W != self.rows
            neutral = _neutral(comb)
            zero = [neutral] * V

            def step(index):
                """The combine of this thread's rows of step `index`, per lane."""
                base = arith.addi(first, arith.addi(arith.muli(index, _index(U * W)), ty))
                lanes = [[] for _ in range(V)]
                for u in range(U):
                    row = arith.addi(base, _index(u * W)) if u else base
                    inside = None
                    if ragged:
                        bound = end if not isinstance(end, int) else _index(end)
                        inside = arith.cmpi(arith.CmpIPredicate.ult, row, bound)
                        row = arith.minui(row, _index(self.rows - 1))
                    for lane, e in enumerate(self._elements(row, col, comb, elem_of)):
                        if inside is not None:
                            e = arith.select(inside, e, neutral)
                        lanes[lane].append(e)
                return [_tree(comb, es) for es in lanes]

            group = max(1, math.isqrt(steps - 1) + 1) if steps > 1 else 1
            outer = scf.ForOp(_index(0), _index(-(-steps // group)), _index(1), zero)
            with ir.InsertionPoint(outer.body):
                lo = arith.muli(outer.induction_variable, _index(group))
                hi = arith.minui(arith.addi(lo, _index(group)), _index(steps))
                inner = scf.ForOp(lo, hi, _index(1), zero)
                with ir.InsertionPoint(inner.body):
                    got = step(inner.induction_variable)
                    scf.YieldOp([_combine(comb, a, g) for a, g in zip(inner.inner_iter_args, got)])
                scf.YieldOp([_combine(comb, a, g) for a, g in
                             zip(outer.inner_iter_args, inner.results)])
            acc = list(outer.results)
            # The warps' sums, through shared memory: warp 0 combines them.
            slot = arith.muli(arith.addi(arith.muli(ty, _index(32)), tx), _index(V))
            for lane, a in enumerate(acc):
                memref.store(a, smem[0], [arith.addi(slot, _index(lane)) if lane else slot])
            gpu.BarrierOp()
            warp0 = arith.cmpi(arith.CmpIPredicate.eq, ty, _index(0))
            guard = scf.IfOp(warp0)
            with ir.InsertionPoint(guard.then_block):
                mine = arith.muli(tx, _index(V))
                totals = []
                for lane in range(V):
                    values = [memref.load(smem[0], [arith.addi(mine, _index(w * 32 * V + lane))])
                              for w in range(W)]
                    totals.append(_tree(comb, values))
                if S == 1:
                    self._store(totals, col, valid, comb)
                else:
                    for lane, v in enumerate(totals):
                        memref.store(v, smem[1], [arith.addi(mine, _index(lane)) if lane else mine])
                scf.YieldOp([])
            if S > 1:
                _asm(CLUSTER_ARRIVE)
                _asm(CLUSTER_WAIT)
                last = arith.andi(warp0, arith.cmpi(arith.CmpIPredicate.eq, rank, _index(0)))
                guard = scf.IfOp(last)
                with ir.InsertionPoint(guard.then_block):
                    i32 = ir.IntegerType.get_signless(32)
                    totals = []
                    for lane in range(V):
                        slot = arith.addi(arith.muli(tx, _index(V)), _index(lane))
                        totals.append(_tree(comb, [_cluster_load(smem[1], slot,
                                                                 arith.constant(i32, r))
                                                   for r in range(S)]))
                    self._store(totals, col, valid, comb)
                    scf.YieldOp([])
                # No block leaves (its shared memory with it) before block 0 has read it.
                _asm(CLUSTER_ARRIVE)
                _asm(CLUSTER_WAIT)
        _erase_group(self.ops, self.internal)

    def _elements(self, row, col, comb, elem_of):
        """The reduction body's element (before the combine) at `row`, for each
        of the thread's V columns from `col`."""
        self.values, self.loads = {}, {}
        self.row, self.col = row, col
        return [self._value(self.root, lane, (comb, elem_of)) for lane in range(self.vec)]

    def _value(self, op, lane, reduction=None):
        """Member `op`'s value at this row and column `col + lane` (the
        reduction's element before its combine, `reduction` = (combine, element))."""
        key = (op, lane)
        if key in self.values:
            return self.values[key]
        body = op.regions[0].blocks[0]
        mapping = {}
        for i, value in enumerate(list(op.operands)[:num_inputs(op)]):
            arg = body.arguments[i]
            if not len(list(arg.uses)):
                continue
            producer = self.producer[(op, i)]
            if producer is not None:
                mapping[arg] = self._value(producer, lane)
            elif isinstance(value.type, ir.MemRefType):
                mapping[arg] = self._load(value, maps(op)[i], lane)
            else:
                mapping[arg] = value
        column = arith.addi(self.col, _index(lane)) if lane else self.col
        index = lambda d: self.row if d == 0 else column  # noqa: E731
        if reduction is not None:
            comb, elem_of = reduction
            clone_body(op, mapping, index, skip=comb)
            result = mapping.get(elem_of, elem_of)
        else:
            (result,) = clone_body(op, mapping, index)
        self.values[key] = result
        return result

    def _load(self, buf, amap, lane):
        """`buf` (read through `amap`: (d0, d1), (d1), (d0) or constants) at
        this row and column `col + lane`; a row's vector at once where the
        columns are contiguous (streaming where the group reads it once)."""
        V = self.vec
        dims = [e.position if isinstance(e, ir.AffineDimExpr) else None for e in amap.results]
        key = (buf, str(amap))
        if dims and dims[-1] == 1 and dims.count(1) == 1 and V > 1 and _contiguous(buf, V):
            if key not in self.loads:
                indices = [self.row if d == 0 else self.col if d == 1 else _index(e.value)
                           for d, e in zip(dims, amap.results)]
                if STREAM_LOAD is not None and V == 4 and 0 in dims and \
                        getattr(buf.type.element_type, "width", 0) == 32:
                    self.loads[key] = _asm_load(buf, indices)  # read once
                else:
                    vtype = ir.VectorType.get([V], buf.type.element_type)
                    vec = vector.LoadOp(vtype, buf, indices,
                                        alignment=_vector_alignment(buf, V)).result
                    self.loads[key] = [vector.extract(vec, [], [k]) for k in range(V)]
            return self.loads[key][lane]
        column = arith.addi(self.col, _index(lane)) if lane else self.col
        return memref.load(buf, [self.row if d == 0 else column if d == 1 else _index(e.value)
                                 for d, e in zip(dims, amap.results)])

    def _store(self, totals, col, valid, comb):
        """out[col + lane] = combine(totals[lane], start value), where the columns are."""
        V = self.vec
        if self.fill is not None:  # the start value is the fill's
            mapping = {a: v for a, v in zip(self.fill.regions[0].blocks[0].arguments,
                                             self.fill.operands)}
            (start,) = clone_body(self.fill, mapping, lambda d: col)
            starts = [start] * V
        else:
            starts = [memref.load(self.out, [arith.addi(col, _index(lane)) if lane else col])
                      for lane in range(V)]
        values = [_combine(comb, t, s) for t, s in zip(totals, starts)]
        ip = None
        if valid is not None:
            guard = scf.IfOp(valid)
            ip = ir.InsertionPoint(guard.then_block)
            ip.__enter__()
        if V > 1 and _contiguous(self.out, V):
            vtype = ir.VectorType.get([V], self.out.type.element_type)
            vector.StoreOp(vector.from_elements(vtype, values), self.out, [col],
                           alignment=_vector_alignment(self.out, V))
        else:
            for lane, v in enumerate(values):
                memref.store(v, self.out, [arith.addi(col, _index(lane)) if lane else col])
        if ip is not None:
            scf.YieldOp([])
            ip.__exit__(None, None, None)


def _vector_alignment(buf, vec):
    """The alignment of `vec` elements of `buf` at a multiple of `vec`: their
    size, up to the 16 bytes the runtime aligns base pointers to (8 f16 to
    8 f32 columns: 16, not 32)."""
    return min(16, vec * getattr(buf.type.element_type, "width", 32) // 8)


def _contiguous(buf, vec):
    """Whether `buf`'s rows are contiguous and every `vec`-vector of them aligned."""
    strides, offset = buf.type.get_strides_and_offset()
    dyn = ir.ShapedType.get_dynamic_stride_or_offset()
    if strides[-1] != 1 or offset == dyn or offset % vec:
        return False
    return all(s != dyn and s % vec == 0 for s in strides[:-1])
