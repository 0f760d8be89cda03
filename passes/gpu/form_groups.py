"""euler-gpu-form-groups: find the CUDA pipeline's fusion groups, and plan each one's kernel.

Runs in the `gpu-tiled` stage, on linalg on tensors after
`linalg-fuse-elementwise-ops`. The groups are the CPU's: the named ops are
generalized and grouped by `euler-tile-and-fuse`'s `fusion_groups` (a chain
of ops whose intermediates are used nowhere else: an elementwise chain, a
softmax, a layer_norm, a reduction with its producers and consumers). Every
group that is a *row group* becomes one kernel, planned here and built after
bufferization by `euler-gpu-lower-groups`:

  * all members iterate over the same rows (every dimension but the last)
    and either over the row's columns too ("full" members: elementwise ops
    and the reductions' inputs), or only over rows (a reduction over the
    last dimension, or elementwise math on per-row values such as a mean);
  * each row (or `rows_per_block` of them) goes to one block of threads,
    its columns in 16-byte vectors over the block's threads
    (`pipelines/heuristics.gpu_row_schedule`); on chips with thread block
    clusters (sm_90 on), a row longer than one block's registers hold goes
    to the `cluster` blocks of a cluster, which combine their reductions.

A reduction over the rows of a 2-d operand (a column sum) is a *column
group*, one kernel too: 16-byte vectors of columns across a warp, warps and
the blocks of a cluster down the rows (`heuristics.gpu_column_schedule`).

Members are tagged `euler.gpu_group = "gN"`, and the group's root (its last
op) carries the plan as `euler.gpu_schedule`, so the stage dump shows what
each kernel will be. Other groups (matmuls and their epilogues,
convolutions) stay untagged, for the matmul schedule and the loop-nest
path. Named matmuls are not generalized: `euler-gpu-schedule-matmul`
matches them by name.
"""

from __future__ import annotations

import contextlib
import math

from mlir import ir

from ...pipelines.heuristics import gpu_column_schedule, gpu_row_schedule
from .. import OptionError
from ..linalg.tile_and_fuse import fusion_groups, generalize

NAME = "euler-gpu-form-groups"
SUMMARY = "Group linalg ops into fused GPU kernels and plan their blocks and threads"

GROUP = "euler.gpu_group"
SCHEDULE = "euler.gpu_schedule"

_MATMULS = ("linalg.matmul", "linalg.batch_matmul")

# Combiners of a reduction body, with their neutral element ("float": value
# for floats, else for integers). 32-bit types, and 16-bit floats in row
# groups, which combine them in f32: warp shuffles move 32 bits.
COMBINERS = {
    "arith.addf": 0.0, "arith.mulf": 1.0, "arith.maximumf": -math.inf,
    "arith.minimumf": math.inf, "arith.maxnumf": -math.inf, "arith.minnumf": math.inf,
    "arith.addi": 0, "arith.muli": 1, "arith.maxsi": -(1 << 31), "arith.minsi": (1 << 31) - 1,
    "arith.maxui": 0, "arith.minui": -1, "arith.ori": 0, "arith.andi": -1, "arith.xori": 0,
}


def run(module, tiles=None, chip=None, columns=None):
    """`tiles`: (threads, rows_per_block[, cluster]) for every row group,
    `columns`: (warps, cluster) for every column group; `chip`: the target
    (sm_90 and later split long rows and tall columns over clusters)."""
    clusters = cluster_chip(chip)
    with module.context:
        generalize(module, skip=_MATMULS)
        index = 0
        for fn in [op for op in module.regions[0].blocks[0].operations
                   if op.operation.name == "func.func"]:
            _fill_per_use(fn)
            block = [op.operation for op in fn.regions[0].blocks[0].operations]

            def position(op, block=block):
                # By equality: equal ir.Operations do not always hash alike.
                return next(n for n, o in enumerate(block) if o == op.operation)
            for members in fusion_groups(fn):
                ops = [o.op for o, _ in members]
                # The root's init is the loop's result on the CPU; here its
                # fill is one more member (a reduction's start value).
                init = ops[0].operands[len(ops[0].operands) - 1].owner
                if (not isinstance(init, ir.Block) and init.name == "linalg.generic"
                        and _is_fill(init) and len(list(init.results[0].uses)) == 1):
                    ops.append(init)
                plan = _column_plan(ops, columns, clusters)
                if plan is not None:
                    for op in ops:
                        op.attributes[GROUP] = ir.StringAttr.get(f"g{index}")
                    ops[0].attributes[SCHEDULE] = plan
                    index += 1
                    continue
                shape = _row_shape(ops)
                # Else a matmul (a contraction generic) with its bias, residual
                # and layer_norm, say: the longest runs of members that are row
                # groups are still one kernel each; the rest take other paths.
                runs = [(ops, shape)] if shape is not None else _row_runs(ops, position)
                for run, shape in runs:
                    plan = _plan(run, shape, tiles, clusters)
                    if plan is None:
                        continue
                    for op in run:
                        op.attributes[GROUP] = ir.StringAttr.get(f"g{index}")
                    # The root: the last in program order (where the kernel goes).
                    max(run, key=position).attributes[SCHEDULE] = plan
                    index += 1


def _row_shape(ops):
    by_result = {o.results[0]: o for o in ops}
    return row_group(ops, lambda value, reader: (by_result.get(value), None))


def _row_runs(ops, position):
    """[(members, shape)]: in each stretch of `ops` between contractions (in
    program order), the longest run of members that is a row group, with
    the fills only it reads."""
    order = sorted(ops, key=position)
    fills = [op for op in order if _is_fill(op)]
    # A run spans no contraction: its kernel, placed at its last member,
    # would run after the contraction that reads its first.
    pieces = [[]]
    for op in order:
        if _contraction(op):
            pieces.append([])
        elif not _is_fill(op):
            pieces[-1].append(op)
    found = []
    for piece in pieces:
        for length in range(len(piece), 0, -1):
            runs = [piece[start:start + length] for start in range(len(piece) - length + 1)]
            for run in runs:
                if len(run) == len(ops):
                    continue  # the whole group, which is no row group
                run = run + [f for f in fills if all(u.owner.operation in run
                                                     for u in f.results[0].uses)]
                shape = _row_shape(run)
                if shape is not None:
                    found.append((run, shape))
                    break
            else:
                continue
            break
    return found


def _contraction(op):
    """A reduction over the row that reads an operand shared by all rows along
    the reduced dimension (a matmul's weights): a kernel of a row a block
    would reread it for every row; such ops stay with the matmul paths."""
    rank = len(iterators(op))
    if kind(op, rank) != "reduce":
        return False
    for value, amap in list(zip(op.operands, maps(op)))[:num_inputs(op)]:
        dims = [e.position for e in amap.results if isinstance(e, ir.AffineDimExpr)]
        if isinstance(value.type, ir.ShapedType) and rank - 1 in dims and \
                not all(d in dims for d in range(rank - 1)):
            return True
    return False


def _is_fill(op):
    return num_inputs(op) == len([v for v in op.operands if not isinstance(v.type, ir.ShapedType)])


def _fill_per_use(fn):
    """A fill read by several ops (the zero init of layer_norm's sums) is cloned
    for each: bufferization would otherwise copy one filled buffer into each
    reduction's, outside the group."""
    for op in list(fn.regions[0].blocks[0].operations):
        op = op.operation
        if op.name != "linalg.generic" or len(op.results) != 1 or not _is_fill(op):
            continue
        uses = list(op.results[0].uses)
        for use in uses[1:]:
            clone = op.clone(ip=ir.InsertionPoint(op))
            use.owner.operands[use.operand_number] = clone.results[0]


def cluster_chip(chip):
    """Whether `chip` launches thread block clusters (sm_90 and later)."""
    digits = "".join(c for c in (chip or "")[3:] if c.isdigit())
    return bool(chip) and chip.startswith("sm_") and digits != "" and int(digits) >= 90


def _plan(ops, shape, tiles, clusters=False):
    rows, cols = math.prod(shape[:-1]), shape[-1]
    reduces = any(kind(op, len(shape)) != "full" for op in ops)
    # The vector follows what the kernel loads and stores, not the f32 its
    # 16-bit rows compute in (intermediates stay in registers): an f16
    # layer_norm loads 8 halves, 16 bytes, a thread at once, not 4. H200,
    # benchmarks/cuda.py (3 rounds, two runs), x torch.compile: layer_norm
    # 4096 x 1024 f16 0.98-0.99 -> 1.00-1.02, bf16 0.99 -> 0.99-1.01, within
    # the noise between runs; the longer 16-bit rows gain up to 0.03.
    def member(op):  # by equality: equal ir.Operations do not always hash alike
        return not isinstance(op, ir.Block) and any(op == m for m in ops)
    loaded = [v for op in ops for v in list(op.operands)[:num_inputs(op)]
              if not member(v.owner)]
    stored = [r for op in ops for r in op.results if any(not member(u.owner) for u in r.uses)]
    widths = [_bits(v.type.element_type) for v in loaded + stored
              if isinstance(v.type, ir.ShapedType)] or [32]
    stores_rows = any(kind(op, len(shape)) == "full" for op in ops)
    with _user_option(ops[0]):
        s = gpu_row_schedule(rows, cols, max(1, max(widths) // 8), reduces, tiles, clusters,
                             stores_rows)
    if s is None:
        return None
    i64 = ir.IntegerType.get_signless(64)
    names = ["threads", "rows_per_block", "vector", "chunks", "col_tiles"]
    if s.row_tiles > 1:  # rows longer than registers hold, looped over
        names.append("row_tiles")
    if s.cluster > 1:  # or split over a cluster's blocks
        names.append("cluster")
    return ir.DictAttr.get({name: ir.IntegerAttr.get(i64, getattr(s, name)) for name in names})


def _bits(t):
    return getattr(t, "width", 32)


@contextlib.contextmanager
def _user_option(op):
    """A bad `tiles` / `columns` option is the user's error, located at `op`."""
    try:
        yield
    except ValueError as exc:  # from the heuristics' check of an override
        op.location.emit_error(f"'{op.name}' op {NAME}: {exc}")
        raise OptionError() from exc


def _column_plan(ops, override, clusters):
    """The plan of a column group (`ops`: a reduction, the elementwise ops
    that produce its operands, maybe its fill), or None."""
    reductions = [op for op in ops if not _is_fill(op) and kind(op, 2) != "full"]
    if len(reductions) != 1 or not is_column_reduction(reductions[0]) or \
            ops[0] != reductions[0]:
        return None
    op = reductions[0]
    shape = list(op.operands[0].type.shape) if isinstance(op.operands[0].type, ir.ShapedType) \
        else None
    for member in ops:
        if kind(member, 2) == "full" and not _is_fill(member) and (
                _ranges(member) != shape or any(
                    len(o.operation.regions) for o in member.regions[0].blocks[0].operations)):
            return None
    rows, cols = op.operands[0].type.shape
    widths = [_bits(v.type.element_type) for v in list(op.operands)[:num_inputs(op)]]
    with _user_option(op):
        s = gpu_column_schedule(rows, cols, max(1, max(widths) // 8), clusters, override)
    if s is None:
        return None
    i64 = ir.IntegerType.get_signless(64)
    values = {"column": 1, "warps": s.warps, "vector": s.vector, "unroll": s.unroll,
              "cluster": s.cluster}
    return ir.DictAttr.get({k: ir.IntegerAttr.get(i64, v) for k, v in values.items()})


def is_column_reduction(op):
    """A reduction over dim 0 of 2-d operands read whole (`(d0, d1)`) into a
    row of their columns (`(d1)`), its body `combine(f(inputs), acc)`."""
    if iterators(op) != ["reduction", "parallel"] or combiner(op) is None \
            or _bits(combiner(op).results[0].type) != 32:
        return False  # the column kernel combines in the element type
    n_in = num_inputs(op)
    amaps = maps(op)
    for value, amap in zip(list(op.operands)[:n_in], amaps):
        if not isinstance(value.type, ir.ShapedType):
            continue
        if [getattr(e, "position", None) for e in amap.results] != [0, 1]:
            return False
    out = [getattr(e, "position", None) for e in amaps[-1].results]
    shaped = [v for v in list(op.operands)[:n_in] if isinstance(v.type, ir.ShapedType)]
    return (out == [1] and bool(shaped) and all(v.type.has_static_shape for v in shaped)
            and not any(len(o.operation.regions) for o in op.regions[0].blocks[0].operations))


# --- the shape of a row group (shared with euler-gpu-lower-groups) ----------------

def maps(op):
    return [m.value for m in op.attributes["indexing_maps"]]


def iterators(op):
    return [str(a).split("<")[-1].rstrip(">") for a in op.attributes["iterator_types"]]


def num_inputs(op):
    return op.attributes["operandSegmentSizes"][0]


def kind(op, rank):
    """'full', 'row' or 'reduce' for a member of a row group of `rank` dims, else None."""
    its, out = iterators(op), maps(op)[-1]
    dims = [e.position if isinstance(e, ir.AffineDimExpr) else None for e in out.results]
    if its == ["parallel"] * rank and dims == list(range(rank)):
        return "full"
    if its == ["parallel"] * (rank - 1) and dims == list(range(rank - 1)):
        return "row"
    if its == ["parallel"] * (rank - 1) + ["reduction"] and dims == list(range(rank - 1)):
        return "reduce"
    return None


def combiner(op):
    """The op combining a reduction body's accumulator with its element, if the
    body is `elem = f(inputs); yield combine(elem, acc)`, else None."""
    body = op.regions[0].blocks[0]
    acc = body.arguments[len(body.arguments) - 1]
    uses = list(acc.uses)
    if len(uses) != 1:
        return None
    comb = uses[0].owner
    ops = [o.operation for o in body.operations]
    yield_ = ops[-1]
    if (comb.name not in COMBINERS or len(yield_.operands) != 1
            or yield_.operands[0] != comb.results[0] or not (
                _bits(acc.type) == 32 or isinstance(acc.type, (ir.F16Type, ir.BF16Type)))):
        return None
    return comb


def row_group(ops, producer_of):
    """The iteration shape (rows..., cols) shared by `ops` if they form a row
    group, else None. `producer_of(value, reader)` gives the member whose
    result `value` is (None for values from outside the group)."""
    rank = max(len(iterators(op)) for op in ops)
    if rank < 1:
        return None
    shape = None
    for op in ops:
        k = kind(op, rank)
        if k is None or any(len(b.operations) and any(len(o.operation.regions)
                            for o in b.operations) for b in op.regions[0].blocks):
            return None
        if k == "reduce" and combiner(op) is None:
            return None
        body = op.regions[0].blocks[0]
        if k != "reduce" and len(list(body.arguments[len(body.arguments) - 1].uses)):
            return None  # reads its own output
        ranges = _ranges(op)
        if None in ranges:
            return None
        if k in ("full", "reduce"):
            shape = shape or ranges
            if ranges != shape:
                return None
    if shape is None:
        return None
    for op in ops:
        k = kind(op, rank)
        if k == "row" and _ranges(op) != shape[:-1]:
            return None
        n_in = num_inputs(op)
        for i, (value, amap) in enumerate(zip(op.operands, maps(op))):
            producer, _ = producer_of(value, op) if i < n_in or k == "reduce" else (None, None)
            results = [e.position if isinstance(e, ir.AffineDimExpr) else -1
                       for e in amap.results]
            if producer is None:
                if not all(isinstance(e, (ir.AffineDimExpr, ir.AffineConstantExpr))
                           for e in amap.results):
                    return None
                continue
            pk = kind(producer, rank)
            if pk == "full" and (k == "row" or results != list(range(rank))):
                return None
            if pk in ("row", "reduce") and results != list(range(rank - 1)):
                return None
    return shape


def _ranges(op):
    its = iterators(op)
    ranges = [None] * len(its)
    for value, amap in zip(op.operands, maps(op)):
        if not isinstance(value.type, ir.ShapedType):
            continue
        for size, expr in zip(value.type.shape, amap.results):
            if isinstance(expr, ir.AffineDimExpr):
                ranges[expr.position] = size
    return ranges
