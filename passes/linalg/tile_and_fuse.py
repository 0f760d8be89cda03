"""euler-tile-and-fuse: tile each chain of linalg ops as one loop nest.

Runs at -O2 and -O3 in the `tiled` stage, after upstream
`linalg-fuse-elementwise-ops` has merged elementwise chains into single
generics. What remains are chains the upstream pass cannot merge: a matmul
and its bias+activation epilogue, the reductions and maps of softmax and
layer_norm rows. Each chain ("group") is tiled along one dimension with
`scf.forall`, and every producer is fused into the consumer's tile, so no
intermediate tensor is materialized at full size: the whole group runs tile
by tile, its temporaries sized by one tile (see `fusion_tile` in
`pipelines/heuristics.py`).

Grouping, with the named ops generalized first (so every op has explicit
indexing maps): walking backwards, each op not yet grouped is a root; a
producer joins its consumers' group when all its users are in the group and
its tile is a true slice of it (the tiled dimension appears in the
consumer's indexing map of it). A producer that only broadcasts along the
tiled dimension would be recomputed for every tile, so it stays out and
becomes a root of its own.

The loop is an `scf.forall` when the group is large enough to pay for the
async runtime's workers (`parallel`, at -O3); otherwise it becomes an
`scf.for`. `skip` names ops left alone (at -O3 the matmuls, which
`euler-schedule-matmul` owns). The transform script is built here and
interpreted from Python; it never enters the payload IR.
"""

from __future__ import annotations

import math

from mlir import ir

from ...pipelines import heuristics
from ...pipelines.heuristics import fusion_tile
from .. import transform_script

NAME = "euler-tile-and-fuse"
SUMMARY = "Tile chains of linalg ops along one dimension and fuse producers into the tiles"

TAG = "euler.fuse"

# Named ops that become generics first: their maps are implicit otherwise.
_GENERALIZE = ("linalg.fill", "linalg.reduce", "linalg.map", "linalg.transpose",
               "linalg.broadcast", "linalg.matmul", "linalg.batch_matmul",
               "linalg.conv_2d_nchw_fchw", "linalg.conv_2d_ngchw_gfchw",
               "linalg.pooling_nchw_max", "linalg.pooling_nchw_sum")


def run(module, num_threads=1, parallel=False, skip=(), tile=None):
    """`parallel`: threads may run tiles; `skip`: op names left alone
    (comma-separated); `tile`: overrides the tile size of every group."""
    skip = tuple(s for s in (skip.split(",") if isinstance(skip, str) else skip) if s)
    with module.context:
        generalize(module, skip)
        groups = []
        for fn in _functions(module):
            groups += fusion_groups(fn)
        scripts = [_tag_and_script(i, g, num_threads, parallel, tile)
                   for i, g in enumerate(groups)]
        for script in scripts:
            if script is not None:
                transform_script.apply(module, script)
        _strip_tags(module)
        if any(scripts):
            # Fusing a producer once per use leaves identical tiles (CSE merges
            # them) and the untiled originals dead (canonicalization drops them).
            transform_script.apply(module, transform_script.sequence(_CLEANUP))


# --- analysis ---------------------------------------------------------------------

class _Op:
    """A linalg.generic with its maps and loop ranges, as Python values."""

    def __init__(self, op):
        self.op = op
        self.maps = [m.value for m in op.attributes["indexing_maps"]]
        self.iterators = [str(a).split("<")[-1].rstrip(">")
                          for a in op.attributes["iterator_types"]]
        self.inputs = list(op.operands)[:len(self.maps) - len(op.results)]
        self.inits = list(op.operands)[len(self.inputs):]
        self.ranges = [None] * len(self.iterators)
        for value, amap in zip(self.inputs + self.inits, self.maps):
            if not isinstance(value.type, ir.ShapedType):
                continue
            for size, expr in zip(value.type.shape, amap.results):
                if isinstance(expr, ir.AffineDimExpr):
                    self.ranges[expr.position] = size


def _functions(module):
    return [op for op in module.regions[0].blocks[0].operations
            if op.operation.name == "func.func"]


def fusion_groups(fn):
    """The fusion groups of `fn`'s top-level block, each a list of (member _Op,
    tiled loop dim), root first. Shared with the CUDA pipeline
    (`euler-gpu-form-groups`), so both targets fuse the same chains."""
    block = fn.regions[0].blocks[0]
    ops = [_Op(op.operation) for op in block.operations
           if op.operation.name == "linalg.generic" and len(op.operation.results) == 1
           and _static(op.operation)]
    by_value = {}
    for position, o in enumerate(ops):
        o.position = position
        by_value[o.op.results[0]] = o
    grouped = set()
    groups = []
    for root in reversed(ops):
        # A fill alone gains nothing from a loop; it joins its consumer's group.
        if id(root) in grouped or not any(isinstance(v.type, ir.ShapedType)
                                          for v in root.inputs):
            continue
        dim = _root_dim(root)
        if dim is None:
            continue
        members = {id(root): (root, dim)}
        changed = True
        while changed:
            changed = False
            for consumer, cdim in list(members.values()):
                # The root's init is the loop's own result: nothing to fuse into.
                operands = consumer.inputs + ([] if consumer is root else consumer.inits)
                for value, amap in zip(operands, consumer.maps):
                    producer = by_value.get(value)
                    if producer is None or id(producer) in members or id(producer) in grouped:
                        continue
                    pdim = _producer_dim(producer, amap, cdim)
                    if pdim is None or not _users_within(producer, members):
                        continue
                    members[id(producer)] = (producer, pdim)
                    changed = True
        grouped.update(members)
        groups.append(list(members.values()))
    return groups


def _static(op):
    return all(isinstance(v.type, ir.RankedTensorType) and v.type.has_static_shape
               for v in op.operands if isinstance(v.type, ir.ShapedType))


def _root_dim(root):
    """The outermost parallel loop dim of `root`'s output with extent > 1."""
    for expr in root.maps[-1].results:
        if isinstance(expr, ir.AffineDimExpr):
            d = expr.position
            if root.iterators[d] == "parallel" and (root.ranges[d] or 0) > 1:
                return d
    return None


def _producer_dim(producer, consumer_map, cdim):
    """The producer's loop dim that the consumer's tile along `cdim` slices, or None."""
    out_map = producer.maps[-1]
    for position, expr in enumerate(consumer_map.results):
        if isinstance(expr, ir.AffineDimExpr) and expr.position == cdim:
            pexpr = out_map.results[position]
            if isinstance(pexpr, ir.AffineDimExpr):
                return pexpr.position
    return None


def _users_within(producer, members):
    for use in producer.op.results[0].uses:
        owner = use.owner
        owner = owner.operation if hasattr(owner, "operation") else owner
        if not any(o.op == owner for o, _ in members.values()):
            return False
    return True


# --- transformation -----------------------------------------------------------------

def _tag_and_script(index, members, num_threads, parallel, tile_override):
    root, dim = members[0]
    extent = root.ranges[dim]
    bytes_per_index = 0
    for o, d in members:
        out = o.op.results[0].type
        bytes_per_index += math.prod(out.shape) // max(1, o.ranges[d]) * _elem_bytes(out)
    # The work: every member's output, times the ops computing each element.
    ops = sum(math.prod(o.op.results[0].type.shape)
              * max(1, len(o.op.regions[0].blocks[0].operations)) for o, _ in members)
    threaded = parallel and heuristics.parallel_threads(ops / heuristics.OPS_PER_S,
                                                        num_threads) > 1
    tile = fusion_tile(extent, bytes_per_index, num_threads if threaded else 1, tile_override)
    if tile >= extent:
        return None
    for k, (o, _) in enumerate(members):
        o.op.attributes[TAG] = ir.StringAttr.get(f"g{index}_{k}")
    sizes = ", ".join(str(tile if d == dim else 0) for d in range(len(root.iterators)))
    tiling = "tile_using_forall" if threaded else "tile_using_for"
    lines = [
        _match("r", f"g{index}_0"),
        f"%tiled, %loop0 = transform.structured.{tiling} %r tile_sizes [{sizes}]"
        " : (!transform.any_op) -> (!transform.any_op, !transform.any_op)",
    ]
    # Producers in reverse program order: each one's consumers are fused already.
    order = sorted(range(1, len(members)), key=lambda k: members[k][0].position, reverse=True)
    loop = "%loop0"
    for n, k in enumerate(order, start=1):
        lines.append(_match(f"p{n}", f"g{index}_{k}"))
        lines.append(f"%f{n}, %loop{n} = transform.structured.fuse_into_containing_op %p{n} "
                     f"into {loop} : (!transform.any_op, !transform.any_op) -> "
                     "(!transform.any_op, !transform.any_op)")
        loop = f"%loop{n}"
        # A producer is fused once per use in the loop, so without CSE a chain
        # of multi-use producers (layer_norm rows, residuals) is cloned
        # exponentially often; and fuse_into_containing_op prints the whole
        # loop into a diagnostic on every call, even on success: the encoder
        # layer took 26 s here, 0.1 s with the copies merged as they appear.
        lines.append(f"transform.apply_cse to {loop} : !transform.any_op")
    return transform_script.sequence(lines)


def _elem_bytes(t):
    width = getattr(t.element_type, "width", 32)
    return max(1, width // 8)


def _match(name, tag):
    return (f'%{name} = transform.structured.match attributes {{{TAG} = "{tag}"}} in %root'
            " : (!transform.any_op) -> !transform.any_op")


_CLEANUP = [
    '%f = transform.structured.match ops{["func.func"]} in %root'
    " : (!transform.any_op) -> !transform.any_op",
    "transform.apply_patterns to %f { transform.apply_patterns.canonicalization }"
    " : !transform.any_op",
    "transform.apply_cse to %f : !transform.any_op",
]


def generalize(module, skip=()):
    """Named ops -> linalg.generic, except `skip` ops and the fills of their
    inits (the matmul schedule packs those itself)."""
    found = []

    def visit(op):
        if op.name in _GENERALIZE and op.name not in skip:
            found.append(op)
        return ir.WalkResult.ADVANCE

    module.walk(visit)
    tagged = False
    for op in found:
        users = [getattr(u.owner, "operation", u.owner) for u in op.results[0].uses] \
            if len(op.results) == 1 else []
        if op.name == "linalg.fill" and users and all(u.name in skip for u in users):
            continue
        op.attributes[TAG] = ir.StringAttr.get("generalize")
        tagged = True
    if tagged:
        transform_script.apply(module, transform_script.sequence([
            _match("ops", "generalize"),
            "%g = transform.structured.generalize %ops : (!transform.any_op) -> !transform.any_op"]))
        _strip_tags(module)


def _strip_tags(module):
    def visit(op):
        if TAG in op.attributes:
            del op.attributes[TAG]
        return ir.WalkResult.ADVANCE

    module.walk(visit)
