"""euler-schedule-matmul: a BLAS-style schedule for linalg.matmul and
linalg.batch_matmul on tensors (-O3, `tiled` stage).

Each matmul C[M,N] += A[M,K] @ B[K,N] (static shapes, one float element
type; a batch is an outer parallel dimension) becomes, BLIS-style:

  * A packed into mr-row panels, B into nr-column panels (`linalg.pack`, K
    zero-padded to whole k-steps), so a register tile's operands for one
    k-step are contiguous;
  * a `linalg.generic` over the packed operands, (m1, n1, k1, k0, m0, n0),
    writing C in place. When mr does not divide M (nr, N), the last rows
    (columns) are peeled into their own generic whose register tile is
    exactly the remainder: every kernel has static shapes and no kernel
    computes padding or needs a copy of C;
  * tiled by a transform-dialect schedule, built here and interpreted from
    Python: an `scf.forall` over the threads, cache tiles (mc, nc, kc), then
    register tiles mr x nr with a k-step of kr, vectorized to
    `vector.contract`; the packs are tiled and vectorized too.

Tile sizes come from `pipelines/heuristics.matmul_tiles`, overridable with
the `tiles` option. The accumulator hoisting and the lowering to outer
products need buffers: `euler-lower-matmul-microkernel` does them after
bufferization. The transform script lives in its own module and never
enters the payload IR.
"""

from __future__ import annotations

import dataclasses
import itertools

from mlir import ir
from mlir.dialects import arith, linalg, tensor

from ...pipelines import heuristics
from ...pipelines.heuristics import matmul_tiles, vectorize_fill
from .. import OptionError, enclosing_function, transform_script

NAME = "euler-schedule-matmul"
SUMMARY = "Pack, tile, thread and vectorize linalg.matmul/batch_matmul on tensors"

# Each op the script must find carries one of these with a unique id; they
# are removed once the script has run.
KERNEL_ATTR = "euler.matmul_kernel"
PACK_ATTR = "euler.matmul_pack"
FILL_ATTR = "euler.matmul_fill"
_TAGS = (KERNEL_ATTR, PACK_ATTR, FILL_ATTR)
# On a linalg.unpack of B: its rows padding K are zeros, as a pack's would be,
# so the packed tensor is read in place of a pack of B (euler-conv-to-matmul
# writes its patch matrices so).
ZERO_PADDED = "euler.zero_padded"

_FLOAT_TYPES = (ir.F32Type, ir.F64Type)
_ANY = "!transform.any_op"


def run(module, tiles=None, num_threads=1, pack_only=False):
    """Schedule every matmul in `module`. `tiles` overrides the heuristic's
    (mc, nc, kc[, mr, nr, kr]); `num_threads` is the forall's width;
    `pack_only` stops after the rewrite to packs and packed generics (for
    reading and testing the packed form)."""
    with module.context:
        ids = itertools.count()
        for op in _matmuls(module):
            shapes = _problem(op)
            etype = op.operands[0].type.element_type
            try:
                t = matmul_tiles(*shapes[1:], dtype=str(etype), threads=num_threads,
                                 override=tiles, batch=max(1, shapes[0]))
            except ValueError as exc:  # the `tiles` option's
                op.location.emit_error(f"'{op.name}' op {exc}")
                raise OptionError() from None
            fn = enclosing_function(op) or module  # before the rewrite replaces `op`
            with ir.InsertionPoint(op), op.location:
                plan = _rewrite(op, shapes, t, ids)
            if not pack_only:
                transform_script.apply(fn, _script(plan, shapes[0] > 0, str(etype)))
        _strip_tags(module)


# ---------------------------------------------------------------- payload

def _matmuls(module):
    """linalg.matmul / batch_matmul ops this schedule handles."""
    found = []

    def visit(op):
        if op.name in ("linalg.matmul", "linalg.batch_matmul") and _schedulable(op):
            found.append(op)
        return ir.WalkResult.ADVANCE

    module.walk(visit)
    return found


def _schedulable(op) -> bool:
    # Transposed or broadcasting variants carry explicit maps: the packing
    # below assumes the default (A[m,k], B[k,n]) layout.
    if "indexing_maps" in op.attributes and \
            str(op.attributes["indexing_maps"]) != str(_default_maps(op)):
        return False
    types = [v.type for v in op.operands]
    if not all(isinstance(t, ir.RankedTensorType) and t.has_static_shape for t in types):
        return False  # memrefs or dynamic shapes: left to the generic path
    if any(d == 0 for t in types for d in t.shape):
        return False  # nothing to compute
    etype = types[0].element_type
    # Mixed precision (f16 x f16 -> f32) needs casts in the kernel: not done.
    return isinstance(etype, _FLOAT_TYPES) and all(t.element_type == etype for t in types)


def _default_maps(op):
    batch = "b, " if op.name == "linalg.batch_matmul" else ""
    return ir.ArrayAttr.get([ir.Attribute.parse(f"affine_map<({batch}m, n, k) -> ({batch}{r})>")
                             for r in ("m, k", "k, n", "m, n")])


def _problem(op):
    """(batch, M, N, K); batch is 0 for a plain matmul."""
    a, b = op.operands[0].type.shape, op.operands[1].type.shape
    if op.name == "linalg.batch_matmul":
        return a[0], a[1], b[2], a[2]
    return 0, a[0], b[1], a[1]


def _ceil(a, b):
    return -(-a // b)


@dataclasses.dataclass
class _Plan:
    """What the script schedules for one matmul: its kernels (id, tiles,
    number of row panels), packs (id, block shape) and C's fill (id or None)."""
    kernels: list
    packs: list
    fill: int | None
    columns: int = 0  # N, the row length of C's fill
    batch: int = 0
    threads: int = 1


def _rewrite(op, shapes, t, ids) -> _Plan:
    """Replace `op` by packs of A and B and one packed generic per region."""
    batch, M, N, K = shapes
    lead = [batch] if batch else []
    nb = len(lead)
    a, b, c = op.operands
    etype = a.type.element_type
    # Zeros pad K to whole k-steps (in both packs, so they add nothing).
    zero = arith.constant(etype, 0.0) if K % t.kr else None
    K1 = _ceil(K, t.kr)
    packed_a = _packed_source(a, t, K1, "a") if not nb else None
    packed_b = _packed_source(b, t, K1, "b") if not nb else None
    # Each parallel loop must pay for its own dispatch: the packs and C's
    # fill (one merged loop) by the elements they copy, each kernel region
    # by its multiply-adds. A constant or prepacked B leaves A's pack, and
    # the peeled remainder rows are a sliver: both small next to a wake-up.
    copies = max(1, batch) * ((M * K if packed_a is None else 0)
                              + (K * N if packed_b is None else 0)
                              + (M * N if _is_fill(c) else 0))
    plan = _Plan([], [], None, batch=batch,
                 threads=heuristics.parallel_threads(copies / heuristics.PACK_ELEMENTS_PER_S,
                                                     t.threads))

    def tag(op_, attr):
        i = next(ids)
        op_.attributes[attr] = ir.IntegerAttr.get(ir.IntegerType.get_signless(64), i)
        return i

    def slice_(v, offsets, sizes):
        full = list(v.type.shape)
        if list(offsets) == [0] * len(offsets) and list(sizes) == full:
            return v
        ty = ir.RankedTensorType.get(list(sizes), etype)
        return tensor.extract_slice(ty, v, [], [], [], list(offsets), list(sizes),
                                    [1] * len(full))

    # Full register tiles first, then the remainder as one narrower tile.
    Mf, Nf = M - M % t.mr, N - N % t.nr
    rows = [(o, s, r) for o, s, r in ((0, Mf, t.mr), (Mf, M - Mf, M - Mf)) if s]
    cols = [(o, s, r) for o, s, r in ((0, Nf, t.nr), (Nf, N - Nf, N - Nf)) if s]
    # A rows -> [M1, K1, kr, mr]: one k-step of a register tile is kr*mr
    # contiguous values, and one panel is contiguous over all of K. B columns
    # -> [N1, K1, kr, nr] likewise. Every source and destination is defined
    # before the first pack, so that the schedule may merge the packs' loops.
    specs = []
    if packed_a is not None:
        # A comes packed (a constant weight, euler-pack-constant-weights), its
        # rows zero-padded to whole panels: as for B below.
        a_packs = [slice_(packed_a, [off // t.mr, 0, 0, 0], [_ceil(size, mr), K1, t.kr, mr])
                   for off, size, mr in rows]
    else:
        specs += [(slice_(a, [0] * nb + [off, 0], lead + [size, K]),
                   tensor.empty(lead + [size // mr, K1, t.kr, mr], etype), (t.kr, mr),
                   dict(inner_dims_pos=[nb + 1, nb], inner_tiles=[t.kr, mr]))
                  for off, size, mr in rows]
    if packed_b is not None:
        # B comes packed (euler-conv-to-matmul's patch matrix, a constant
        # weight): each region is a slice of its panels, the remainder the
        # first lanes of the last.
        b_packs = [slice_(packed_b, [off // t.nr, 0, 0, 0], [_ceil(size, nr), K1, t.kr, nr])
                   for off, size, nr in cols]
    else:
        specs += [(slice_(b, [0] * nb + [0, off], lead + [K, size]),
                   tensor.empty(lead + [size // nr, K1, t.kr, nr], etype), (t.kr, nr),
                   dict(outer_dims_perm=list(range(nb)) + [nb + 1, nb],
                        inner_dims_pos=[nb, nb + 1], inner_tiles=[t.kr, nr]))
                  for off, size, nr in cols]
    packs = []
    for src, dest, block, kw in specs:
        packs.append(linalg.pack(src, dest, padding_value=zero, **kw))
        plan.packs.append((tag(packs[-1].owner, PACK_ATTR), block))
    if packed_a is None:
        a_packs = packs[:len(rows)]
    if packed_b is None:
        b_packs = packs[len(packs) - len(cols):]

    if _is_fill(c):
        plan.fill, plan.columns = tag(c.owner, FILL_ATTR), N
    result = c
    for (moff, msize, mr), ap in zip(rows, a_packs):
        for (noff, nsize, nr), bp in zip(cols, b_packs):
            offsets, sizes = [0] * nb + [moff, noff], lead + [msize, nsize]
            gen = _kernel(ap, bp, slice_(result, offsets, sizes), mr, nr, nb)
            macs = max(1, batch) * msize * nsize * K
            region = dataclasses.replace(t, mr=mr, nr=nr, mc=max(mr, t.mc // mr * mr),
                                         nc=max(nr, t.nc // nr * nr),
                                         threads=heuristics.parallel_threads(
                                             macs / heuristics.MACS_PER_S, t.threads))
            plan.kernels.append((tag(gen.owner, KERNEL_ATTR), region, msize // mr))
            if sizes != list(c.type.shape):
                gen = tensor.insert_slice(gen, result, [], [], [], offsets, sizes,
                                          [1] * (nb + 2))
            result = gen
    op.results[0].replace_all_uses_with(result)
    op.erase()
    for operand, packed in ((a, packed_a), (b, packed_b)):
        if packed is not None and not any(True for _ in operand.uses):
            operand.owner.erase()  # the unpack, read in place
    return plan


# How a pack lays out A (mr-row panels) and B (nr-column panels): linalg.pack
# and linalg.unpack attributes, given (kr, mr) or (kr, nr).
PACKED_LAYOUT = {
    "a": lambda kr, lanes: dict(inner_dims_pos=[1, 0], inner_tiles=[kr, lanes]),
    "b": lambda kr, lanes: dict(inner_dims_pos=[0, 1], inner_tiles=[kr, lanes],
                                outer_dims_perm=[1, 0]),
}


def _packed_source(v, t, K1, operand):
    """The tensor `v` (A or B, by `operand`) was unpacked from, when it is
    laid out as that operand's pack would lay it out for tiles `t`, all
    padding zero (rows of K; A's rows or B's columns past the last whole
    panel); else None."""
    if not isinstance(v, ir.OpResult) or v.owner.name != "linalg.unpack" \
            or ZERO_PADDED not in v.owner.attributes:
        return None
    unpack = v.owner
    source = unpack.operands[0]
    attrs = {name: list(ir.DenseI64ArrayAttr(unpack.attributes[name]))
             for name in ("inner_dims_pos", "outer_dims_perm", "static_inner_tiles")
             if name in unpack.attributes}
    attrs = {name: value for name, value in attrs.items() if value}
    want = PACKED_LAYOUT[operand](t.kr, t.mr if operand == "a" else t.nr)
    want["static_inner_tiles"] = want.pop("inner_tiles")
    if attrs != want or source.type.shape[1] != K1:
        return None  # laid out for other tiles (e.g. another override): packed again
    return source


def _kernel(ap, bp, c, mr, nr, nb):
    """C[m1*mr + m0, n1*nr + n0] += Ap[m1, k1, k0, m0] * Bp[n1, k1, k0, n0]."""
    etype = c.type.element_type
    b_ = "b, " if nb else ""
    dims = f"({b_}m1, n1, k1, k0, m0, n0)"
    maps = [f"({b_}m1, k1, k0, m0)", f"({b_}n1, k1, k0, n0)",
            f"({b_}m1 * {mr} + m0, n1 * {nr} + n0)"]
    maps = ir.ArrayAttr.get([ir.Attribute.parse(f"affine_map<{dims} -> {m}>") for m in maps])
    iters = ["parallel"] * nb + ["parallel", "parallel", "reduction", "reduction",
                                 "parallel", "parallel"]
    iters = ir.ArrayAttr.get([ir.Attribute.parse(f"#linalg.iterator_type<{i}>") for i in iters])
    gen = linalg.GenericOp([c.type], [ap, bp], [c], maps, iters)
    body = gen.regions[0].blocks.append(etype, etype, etype)
    with ir.InsertionPoint(body):
        product = arith.mulf(body.arguments[0], body.arguments[1])
        linalg.YieldOp([arith.addf(body.arguments[2], product)])
    return gen.result


def _is_fill(v):
    return isinstance(v, ir.OpResult) and v.owner.name == "linalg.fill"


# ---------------------------------------------------------------- schedule

def _script(plan, batched, etype):
    """The transform script scheduling one rewritten matmul (built as text,
    which reads like the schedule it is)."""
    nb = 1 if batched else 0
    parts = ([_fill_schedule(plan.fill, nb, plan.threads, vectorize_fill(plan.columns))]
             if plan.fill is not None else [])
    parts += [_tile_kernel(kid, t, m1, plan.batch) for kid, t, m1 in plan.kernels]
    parts.append(f"""  // Patterns go to the whole function: a loop of one trip folds away, and
  // its handle with it.
  %f = transform.get_parent_op %t2_{plan.kernels[0][0]} {{op_name = "func.func"}}
      : ({_ANY}) -> {_ANY}
  transform.apply_patterns to %f {{
    // 1x1x1 x kr x mr x nr -> kr x mr x nr: a plain contraction once vectorized.
    transform.apply_patterns.linalg.fold_unit_extent_dims_via_slices
    transform.apply_patterns.canonicalization
  }} : {_ANY}""")
    # Folding unit dims drops the tags: a register-tile contraction is the
    # generic with its result type. (Not filter_operand_types: that is an
    # error on any other generic in the function with another operand count,
    # e.g. a softmax.) Another generic of that type may come along; one the
    # vectorizer rejects (a gather's tensor.extract) is left as it is, one at
    # a time, since a failure would stop the whole match handle.
    # A 1 x 1 tile (a dot product) stays scalar: its type, a 0-d tensor, is
    # also a folded one-element gather's, which the vectorizer turns into
    # invalid IR (a vector.gather of a scalar index; fuzz seed 31 program 315)
    # rather than failing.
    kernel_types = []
    for _, t, _ in plan.kernels:
        if t.mr == 1 and t.nr == 1:
            continue
        result = "tensor<" + "".join(f"{d}x" for d in (t.mr, t.nr) if d != 1) + f"{etype}>"
        if result not in kernel_types:
            kernel_types.append(result)
    for i, result in enumerate(kernel_types):
        parts.append(f"""  %k{i} = transform.structured.match ops{{["linalg.generic"]}}
      filter_result_type = {result} in %f : ({_ANY}) -> {_ANY}
  transform.foreach %k{i} : {_ANY} {{
  ^bb0(%one: {_ANY}):
    transform.sequence %one : {_ANY} failures(suppress) {{
    ^bb1(%kernel: {_ANY}):
      transform.structured.vectorize %kernel : {_ANY}
    }}
  }}""")
    parts.append(f"""  transform.apply_patterns to %f {{
    transform.apply_patterns.vector.reduction_to_contract
    transform.apply_patterns.vector.transfer_permutation_patterns
    transform.apply_patterns.tensor.fold_tensor_subset_ops_into_vector_transfers
    transform.apply_patterns.canonicalization
  }} : {_ANY}""")
    parts += [_pack_schedule(pid, block, nb, plan.threads) for pid, block in plan.packs]
    if plan.threads > 1:
        # The fill and all packs in one parallel loop: one wake-up of the
        # workers, not five.
        loops = [f"%pforall{pid}" for pid, _ in plan.packs]
        loops += ["%fforall"] if plan.fill is not None else []
        fused, others = (loops[0], loops[1:]) if loops else (None, [])
        for i, loop in enumerate(others):
            parts.append(f"  %pfused{i} = transform.loop.fuse_sibling {loop} into {fused}"
                         f" : ({_ANY}, {_ANY}) -> {_ANY}")
            fused = f"%pfused{i}"
    parts.append(f"""  // vector.mask regions do not survive bufferization: fold the masks into
  // the transfers' mask operands.
  transform.apply_patterns to %f {{
    transform.apply_patterns.vector.lower_masked_transfers
  }} : {_ANY}
  transform.apply_cse to %f : {_ANY}""")
    return transform_script.sequence(parts)


def _match(attr, ident, name):
    return (f"  %{name} = transform.structured.match attributes {{{attr} = {ident} : i64}}"
            f" in %root : ({_ANY}) -> {_ANY}")


def _tile_kernel(kid, t, m1, batch):
    """Threads, cache tiles, then one register tile per iteration."""
    lines = [_match(KERNEL_ATTR, kid, f"g{kid}")]
    nb = 1 if batch else 0
    b0, b1 = ("0, ", "1, ") if nb else ("", "")
    target = f"%g{kid}"
    if t.threads > 1:
        # Threads split the batch if it is big enough, else the m1 (or n1)
        # register-tile dimension.
        split = f"{t.threads}, 0" if t.parallel == "m" and m1 >= t.threads else f"0, {t.threads}"
        split = f"{t.threads}, 0, 0" if batch >= t.threads else b0 + split
        lines.append(f"  %p{kid}, %forall{kid} = transform.structured.tile_using_forall {target}"
                     f" num_threads [{split}, 0, 0, 0, 0] : ({_ANY}) -> ({_ANY}, {_ANY})")
        target = f"%p{kid}"
    loops = ", ".join([_ANY] * (3 + nb))
    lines.append(f"""  %t1_{kid}, %l1_{kid}:{3 + nb} = transform.structured.tile_using_for {target}
      tile_sizes [{b1}{t.mc // t.mr}, {t.nc // t.nr}, {t.kc // t.kr}, 0, 0, 0]
      : ({_ANY}) -> ({_ANY}, {loops})
  %t2_{kid}, %l2_{kid}:{3 + nb} = transform.structured.tile_using_for %t1_{kid}
      tile_sizes [{b1}1, 1, 1, 0, 0, 0] : ({_ANY}) -> ({_ANY}, {loops})""")
    return "\n".join(lines)


def _split_over_threads(lines, target, tiled, forall, nb, threads):
    """The handle to schedule further: `target` itself on one thread, else its
    tile of an scf.forall (named `forall`, which _script fuses with the other
    copies' loops) over `threads` workers along its first non-batch dim."""
    if threads <= 1:
        return target
    lines.append(f"  {tiled}, {forall} = transform.structured.tile_using_forall {target}"
                 f" num_threads [{'0, ' * nb}{threads}, 0] : ({_ANY}) -> ({_ANY}, {_ANY})")
    return tiled


def _pack_schedule(pid, block, nb, threads):
    """Tile a pack over the threads, then to one kr x mr (kr x nr) block per
    iteration, and vectorize it; masked reads supply the zero padding of K."""
    ones = "1, " * nb
    loops = ", ".join([_ANY] * (2 + nb))
    lines = [_match(PACK_ATTR, pid, f"pk{pid}")]
    target = _split_over_threads(lines, f"%pk{pid}", f"%pf{pid}", f"%pforall{pid}", nb, threads)
    lines.append(f"""  %pt{pid}, %pl{pid}:{2 + nb} = transform.structured.tile_using_for {target}
      tile_sizes [{ones}1, 1] : ({_ANY}) -> ({_ANY}, {loops})
  transform.structured.vectorize %pt{pid} vector_sizes [{ones}1, 1, {block[0]}, {block[1]}]
      : {_ANY}""")
    return "\n".join(lines)


def _fill_schedule(fid, nb, threads, vectorize=True):
    """C's fill, split over the threads, a row at a time (a vector store each
    if `vectorize`)."""
    ones = "1, " * nb
    loops = ", ".join([_ANY] * (1 + nb))
    lines = [_match(FILL_ATTR, fid, f"fill{fid}")]
    target = _split_over_threads(lines, f"%fill{fid}", f"%ff{fid}", "%fforall", nb, threads)
    lines.append(f"""  %ft{fid}, %fl{fid}:{1 + nb} = transform.structured.tile_using_for {target}
      tile_sizes [{ones}1, 0] : ({_ANY}) -> ({_ANY}, {loops})""")
    if vectorize:
        lines.append(f"  transform.structured.vectorize %ft{fid} : {_ANY}")
    return "\n".join(lines)


def _strip_tags(module):
    def visit(op):
        for name in _TAGS:
            if name in op.attributes:
                del op.attributes[name]
        return ir.WalkResult.ADVANCE

    module.walk(visit)
