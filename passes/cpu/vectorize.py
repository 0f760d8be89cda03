"""euler-vectorize: turn the elementwise and row-reduction linalg ops into
`vector` ops, a few registers wide.

Runs at -O3 in the `vectorized` stage, after `euler-tile-and-fuse` (whose
loops it vectorizes inside) and `euler-schedule-matmul` (whose matmuls are
already vectorized). Each remaining `linalg.generic` whose body is plain
arith/math (so after `euler-expand-math`, with no libm calls) and whose maps
are projected permutations is tiled to one row by `width` elements and
vectorized:

  * all loops parallel: `tile_using_for [1, .., 1, width]`, then
    `structured.vectorize`;
  * one reduction, innermost (softmax and layer_norm rows): the parallel
    loops tiled to 1, the reduction split by `tile_reduction_using_for` into
    `width` partial sums (vector FMAs/adds), reduced across lanes once per row.

`width` is `vector_width` in `pipelines/heuristics.py` (up to four AVX-512
registers, dividing the row). Ops that fit neither shape (conv windows,
gathers, transposes, reductions over outer dims) stay scalar loops; an op
whose transform fails is left as it was, since every step yields valid IR.
The transform scripts are built here and interpreted from Python.
"""

from __future__ import annotations

from mlir import ir

from ...pipelines.heuristics import vector_width
from .. import ops_named, transform_script

NAME = "euler-vectorize"
SUMMARY = "Tile elementwise and row-reduction linalg ops to vector width and vectorize them"

TAG = "euler.vectorize"
# math ops with LLVM vector intrinsics; the rest are libm calls, one per lane.
_VECTOR_MATH = {"math.fma", "math.absf", "math.copysign", "math.roundeven", "math.round",
                "math.floor", "math.ceil", "math.trunc", "math.sqrt", "math.rsqrt"}
# Marks the loops carrying partial sums, for hoisting after the cleanup.
ACC_TAG = "euler.vector_acc"
# Marks every loop made here, for loop-invariant code motion after the cleanup.
LOOP_TAG = "euler.vector_loop"


def run(module, width=None):
    """`width` overrides the heuristic's vector width (elements)."""
    with module.context:
        plans = []
        for op in _candidates(module):
            plan = _plan(op, width)
            if plan is not None:
                op.attributes[TAG] = ir.StringAttr.get(f"v{len(plans)}")
                plans.append(plan)
        for index, plan in enumerate(plans):
            try:
                transform_script.apply(module, transform_script.sequence(plan(f"v{index}")))
            except ValueError:
                pass  # not vectorizable after all: it stays a (valid) scalar loop nest
        transform_script.apply(module, transform_script.sequence(_CLEANUP))
        _strip_tags(module)


def _candidates(module):
    return ops_named(module, "linalg.generic")


def _plan(op, width):
    """A function tag -> transform lines for `op`, or None to leave it alone."""
    if len(op.results) != 1 or not all(
            isinstance(v.type, ir.RankedTensorType) and v.type.has_static_shape
            for v in list(op.operands) + list(op.results) if isinstance(v.type, ir.ShapedType)):
        return None
    body = op.regions[0].blocks[0]
    if not all(o.operation.name.startswith("arith.") or o.operation.name in _VECTOR_MATH
               or o.operation.name == "linalg.yield" for o in body.operations):
        return None
    maps = [m.value for m in op.attributes["indexing_maps"]]
    if not all(m.is_projected_permutation for m in maps):
        return None
    iterators = [str(a).split("<")[-1].rstrip(">") for a in op.attributes["iterator_types"]]
    n = len(iterators)
    # Vectors run along the innermost loop: every operand must be contiguous
    # along it (or not depend on it). A strided read (a transpose, a matmul's
    # B column) would be a gather of scalars, slower than the scalar loop.
    for amap in maps:
        inner = [i for i, e in enumerate(amap.results) if _is_dim(e, n - 1)]
        if inner and inner != [len(amap.results) - 1]:
            return None
    out = op.results[0].type
    out_map = maps[-1]
    reductions = [d for d, it in enumerate(iterators) if it == "reduction"]
    if not reductions:
        # Rows must be contiguous in the output for full-width stores.
        if not out_map.results or not _is_dim(out_map.results[-1], n - 1):
            return None
        w = vector_width(out.shape[-1], str(out.element_type), width)
        if not w:
            return None
        sizes = [1] * (n - 1) + [0 if w == out.shape[-1] else w]
        return lambda tag: _tile_and_vectorize(tag, sizes)
    if reductions != [n - 1]:
        return None
    extent = _extent(op, maps, n - 1)
    w = vector_width(extent, str(out.element_type), width) if extent else 0
    if not w or w == extent and extent < 8:
        return None
    return lambda tag: _split_reduction(tag, n, w)


def _is_dim(expr, position):
    return isinstance(expr, ir.AffineDimExpr) and expr.position == position


def _extent(op, maps, dim):
    for value, amap in zip(op.operands, maps):
        if isinstance(value.type, ir.ShapedType):
            for size, expr in zip(value.type.shape, amap.results):
                if _is_dim(expr, dim):
                    return size
    return None


_ANY = "(!transform.any_op) -> !transform.any_op"


def _match(tag):
    return (f'%op = transform.structured.match attributes {{{TAG} = "{tag}"}} in %root'
            " : (!transform.any_op) -> !transform.any_op")


def _tile_and_vectorize(tag, sizes):
    loops = sum(1 for s in sizes if s)
    lines = [_match(tag)]
    if loops:
        results = ", ".join(["%t"] + [f"%l{i}" for i in range(loops)])
        types = ", ".join(["!transform.any_op"] * (loops + 1))
        lines.append(f"{results} = transform.structured.tile_using_for %op tile_sizes "
                     f"[{', '.join(map(str, sizes))}] : (!transform.any_op) -> ({types})")
    else:
        lines.append("%t = transform.cast %op : !transform.any_op to !transform.any_op")
    lines.append("transform.structured.vectorize %t : !transform.any_op")
    lines += [f'transform.annotate %l{i} "{LOOP_TAG}" : !transform.any_op' for i in range(loops)]
    return lines


def _split_reduction(tag, n, width):
    lines = [_match(tag)]
    if n > 1:
        results = ", ".join(["%rows"] + [f"%l{i}" for i in range(n - 1)])
        types = ", ".join(["!transform.any_op"] * n)
        lines.append(f"{results} = transform.structured.tile_using_for %op tile_sizes "
                     f"[{', '.join(['1'] * (n - 1) + ['0'])}] : (!transform.any_op) -> ({types})")
    else:
        lines.append("%rows = transform.cast %op : !transform.any_op to !transform.any_op")
    sizes = ", ".join(["0"] * (n - 1) + [str(width)])
    lines += [
        f"%fill, %split, %combine, %loop = transform.structured.tile_reduction_using_for %rows "
        f"by tile_sizes = [{sizes}] : (!transform.any_op) -> (!transform.any_op, "
        "!transform.any_op, !transform.any_op, !transform.any_op)",
        "transform.structured.vectorize %fill : !transform.any_op",
        "transform.structured.vectorize %split : !transform.any_op",
        "transform.structured.vectorize %combine : !transform.any_op",
        f'transform.annotate %loop "{ACC_TAG}" : !transform.any_op',
        f'transform.annotate %loop "{LOOP_TAG}" : !transform.any_op',
    ]
    lines += [f'transform.annotate %l{i} "{LOOP_TAG}" : !transform.any_op' for i in range(n - 1)]
    return lines


# Lane reductions become shuffles+adds; transfers on tensors fold into their slices.
_CLEANUP = [
    '%f = transform.structured.match ops{["func.func"]} in %root'
    " : (!transform.any_op) -> !transform.any_op",
    "transform.apply_patterns to %f {",
    "  transform.apply_patterns.vector.lower_multi_reduction lowering_strategy = \"innerreduction\"",
    "  transform.apply_patterns.vector.transfer_permutation_patterns",
    "  transform.apply_patterns.tensor.fold_tensor_subset_ops_into_vector_transfers",
    "  transform.apply_patterns.canonicalization",
    "} : !transform.any_op",
    "transform.apply_cse to %f : !transform.any_op",
    # The partial sums live in registers across the row, not in memory.
    f'%acc = transform.structured.match attributes {{{ACC_TAG}}} in %root'
    " : (!transform.any_op) -> !transform.any_op",
    "transform.loop.hoist_loop_invariant_subsets %acc : !transform.any_op",
    "transform.apply_patterns to %f { transform.apply_patterns.canonicalization }"
    " : !transform.any_op",
    # Per-row values (a row's max, sum or 1/std, broadcast to a vector) out of
    # the column loops: on tensors the reads are pure, after bufferization LLVM
    # could not prove the output doesn't alias them. Outer loops come first in
    # the handle, so a second round lifts what the inner loops released.
    f'%loops = transform.structured.match attributes {{{LOOP_TAG}}} in %root'
    " : (!transform.any_op) -> !transform.any_op",
    "transform.apply_licm to %loops : !transform.any_op",
    "transform.apply_licm to %loops : !transform.any_op",
]


def _strip_tags(module):
    def visit(op):
        for name in (TAG, ACC_TAG, LOOP_TAG):
            if name in op.attributes:
                del op.attributes[name]
        return ir.WalkResult.ADVANCE

    module.walk(visit)
