"""euler-schedule-matmul: a BLAS-style schedule for linalg.matmul and
linalg.batch_matmul on tensors (-O3, `tiled` stage).

Each matmul C[M,N] += A[M,K] @ B[K,N] (with static shapes and one float
element type) becomes, BLIS-style:

  * A packed into mr-row panels, B into nr-column panels (`linalg.pack`,
    zero-padded up to whole panels and whole k-steps, so that every shape
    runs the same full-size micro-kernel: no dynamic tiles, no fallback);
  * a `linalg.generic` over the packed operands, (m1, n1, k1, k0, m0, n0),
    writing C directly (or a padded copy of C when M or N do not divide);
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

from mlir import ir
from mlir.dialects import arith, linalg, tensor
from mlir.dialects.transform import interpreter

from ..pipelines.heuristics import matmul_tiles

NAME = "euler-schedule-matmul"
SUMMARY = "Pack, tile, thread and vectorize linalg.matmul/batch_matmul on tensors"

# Marks the ops of one scheduled matmul, so that its script finds exactly
# them; removed once the script has run.
KERNEL_ATTR = "euler.matmul_kernel"
PACK_ATTRS = {"a": "euler.matmul_pack_a", "b": "euler.matmul_pack_b"}

_FLOAT_TYPES = (ir.F32Type, ir.F64Type)


def run(module, tiles=None, num_threads=1):
    """Schedule every matmul in `module`. `tiles` overrides the heuristic's
    (mc, nc, kc[, mr, nr, kr]); `num_threads` is the forall's width."""
    with module.context:
        _run(module, tiles, num_threads)


def _run(module, tiles, num_threads):
    for index, op in enumerate(_matmuls(module)):
        shapes = _problem(op)
        etype = op.operands[0].type.element_type
        t = matmul_tiles(*shapes[1:], dtype=str(etype), threads=num_threads, override=tiles)
        with ir.InsertionPoint(op), op.location:
            _pack(op, shapes, t, index)
        _apply(module, _script(index, shapes, t, etype))
    _strip_tags(module)


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
    if "indexing_maps" in op.attributes and str(op.attributes["indexing_maps"]) != \
            str(_default_maps(op)):
        return False
    types = [v.type for v in op.operands]
    if not all(isinstance(t, ir.RankedTensorType) and t.has_static_shape for t in types):
        return False  # memrefs or dynamic shapes: left to the generic path
    etype = types[0].element_type
    # Mixed precision (f16 x f16 -> f32) needs casts in the kernel: not done.
    return isinstance(etype, _FLOAT_TYPES) and all(t.element_type == etype for t in types)


def _default_maps(op):
    batch = "b, " if op.name == "linalg.batch_matmul" else ""
    dims = f"({batch}m, n, k)"
    return ir.ArrayAttr.get([ir.Attribute.parse(f"affine_map<{dims} -> ({batch}{r})>")
                             for r in ("m, k", "k, n", "m, n")])


def _problem(op):
    """(batch, M, N, K); batch is 0 for a plain matmul."""
    a, b = op.operands[0].type.shape, op.operands[1].type.shape
    if op.name == "linalg.batch_matmul":
        return a[0], a[1], b[2], a[2]
    return 0, a[0], b[1], a[1]


def _ceil(a, b):
    return -(-a // b)


def _pack(op, shapes, t, index):
    """Replace `op` by pack(A), pack(B) and the packed generic, tagged `index`."""
    batch, M, N, K = shapes
    lead = [batch] if batch else []
    nb = len(lead)
    a, b, c = op.operands
    etype = a.type.element_type
    M1, N1, K1 = _ceil(M, t.mr), _ceil(N, t.nr), _ceil(K, t.kr)
    Mp, Np = M1 * t.mr, N1 * t.nr
    zero = arith.constant(etype, 0.0)
    tag = ir.IntegerAttr.get(ir.IntegerType.get_signless(64), index)

    def pack(operand, src, shape, **kw):
        dest = tensor.empty(shape, etype)
        padded = any(s % tile for s, tile in zip(
            [src.type.shape[d] for d in kw["inner_dims_pos"]], kw["inner_tiles"]))
        v = linalg.pack(src, dest, padding_value=zero if padded else None, **kw)
        v.owner.attributes[PACK_ATTRS[operand]] = tag
        return v

    # A[M,K] -> [M1, K1, kr, mr]: a k-step of A for one register tile is kr*mr
    # contiguous values, and one panel is contiguous over all of K.
    ap = pack("a", a, lead + [M1, K1, t.kr, t.mr], inner_dims_pos=[nb + 1, nb], inner_tiles=[t.kr, t.mr])
    # B[K,N] -> [N1, K1, kr, nr]: likewise, one nr-column panel over all of K.
    bp = pack("b", b, lead + [N1, K1, t.kr, t.nr], outer_dims_perm=list(range(nb)) + [nb + 1, nb],
              inner_dims_pos=[nb, nb + 1], inner_tiles=[t.kr, t.nr])

    padded_c = (Mp, Np) != (M, N)
    c_init = _padded_init(c, lead + [Mp, Np], zero) if padded_c else c
    b_ = "b, " if batch else ""
    dims = f"({b_}m1, n1, k1, k0, m0, n0)"
    maps = [f"({b_}m1, k1, k0, m0)", f"({b_}n1, k1, k0, n0)",
            f"({b_}m1 * {t.mr} + m0, n1 * {t.nr} + n0)"]
    maps = ir.ArrayAttr.get([ir.Attribute.parse(f"affine_map<{dims} -> {m}>") for m in maps])
    iters = ["parallel"] * nb + ["parallel", "parallel", "reduction", "reduction",
                                 "parallel", "parallel"]
    iters = ir.ArrayAttr.get([ir.Attribute.parse(f"#linalg.iterator_type<{i}>") for i in iters])
    gen = linalg.GenericOp([c_init.type], [ap, bp], [c_init], maps, iters)
    body = gen.regions[0].blocks.append(etype, etype, etype)
    with ir.InsertionPoint(body):
        linalg.YieldOp([arith.addf(body.arguments[2], arith.mulf(body.arguments[0],
                                                                  body.arguments[1]))])
    gen.attributes[KERNEL_ATTR] = tag
    result = gen.result
    if padded_c:
        result = tensor.extract_slice(c.type, result, [], [], [],
                                      [0] * (nb + 2), lead + [M, N], [1] * (nb + 2))
    op.results[0].replace_all_uses_with(result)
    op.erase()


def _padded_init(c, shape, zero):
    """C's initial value, grown to `shape` (whole register tiles)."""
    producer = c.owner
    if isinstance(producer, ir.Operation) or hasattr(producer, "name"):
        if producer.name == "linalg.fill":
            # The usual case (C = 0): fill the bigger tensor instead of copying.
            return linalg.fill(producer.operands[0], outs=[tensor.empty(shape, zero.type)])
    high = [s - d for s, d in zip(shape, c.type.shape)]
    pad = tensor.PadOp(ir.RankedTensorType.get(shape, zero.type), c, [], [],
                       [0] * len(shape), high)
    block = pad.regions[0].blocks.append(*[ir.IndexType.get()] * len(shape))
    with ir.InsertionPoint(block):
        tensor.YieldOp(zero)
    return pad.result


def _script(index, shapes, t, etype):
    """The transform script scheduling matmul `index` (text, for reading)."""
    batch = shapes[0]
    nb = 1 if batch else 0
    b0 = "0, " if nb else ""
    b1 = "1, " if nb else ""
    tag = f"{{{KERNEL_ATTR} = {index} : i64}}"
    any_ = "!transform.any_op"
    kernel_types = ", ".join("tensor<" + "".join(f"{d}x" for d in shape if d != 1) + f"{etype}>"
                             for shape in ((t.kr, t.mr), (t.kr, t.nr), (t.mr, t.nr)))
    if t.threads > 1:
        # Threads split the m1 (or n1) register-tile dimension; a batch goes
        # across threads first when there are enough matrices.
        if batch >= t.threads:
            nt = f"{t.threads}, 0, 0, 0, 0, 0, 0"
        else:
            split = f"{t.threads}, 0" if t.parallel == "m" else f"0, {t.threads}"
            nt = b0 + split + ", 0, 0, 0, 0"
        forall = (f"%g, %forall = transform.structured.tile_using_forall %g0 num_threads [{nt}]"
                  f" : ({any_}) -> ({any_}, {any_})")
    else:
        forall = f"%g = transform.cast %g0 : {any_} to {any_}"
    return f"""
module attributes {{transform.with_named_sequence}} {{
transform.named_sequence @__transform_main(%root: {any_} {{transform.readonly}}) {{
  %g0 = transform.structured.match ops{{["linalg.generic"]}} attributes {tag} in %root
      : ({any_}) -> {any_}
  {forall}
  // Cache tiles, then one register tile (mr x nr, k-step kr) per iteration.
  %t1, %l1:{3 + nb} = transform.structured.tile_using_for %g
      tile_sizes [{b1}{t.mc // t.mr}, {t.nc // t.nr}, {t.kc // t.kr}, 0, 0, 0]
      : ({any_}) -> ({any_}{f", {any_}" * (3 + nb)})
  %t2, %l2:3 = transform.structured.tile_using_for %t1 tile_sizes [{b0}1, 1, 1, 0, 0, 0]
      : ({any_}) -> ({any_}, {any_}, {any_}, {any_})
  // Patterns go to the whole function: a loop of one trip folds away, and
  // its handle with it.
  %f = transform.get_parent_op %t2 {{op_name = "func.func"}} : ({any_}) -> {any_}
  transform.apply_patterns to %f {{
    // 1x1x1xkrxmrxnr -> krxmrxnr: a plain contraction once vectorized.
    transform.apply_patterns.linalg.fold_unit_extent_dims_via_slices
    transform.apply_patterns.canonicalization
  }} : {any_}
  // Folding unit dims drops the tag: the register-tile contraction is the
  // generic on exactly these operand types.
  %k = transform.structured.match ops{{["linalg.generic"]}}
      filter_operand_types = [{kernel_types}] in %f : ({any_}) -> {any_}
  transform.structured.vectorize %k : {any_}
  transform.apply_patterns to %f {{
    transform.apply_patterns.vector.reduction_to_contract
    transform.apply_patterns.vector.transfer_permutation_patterns
    transform.apply_patterns.tensor.fold_tensor_subset_ops_into_vector_transfers
    transform.apply_patterns.canonicalization
  }} : {any_}
  // Packs: one kr x mr (kr x nr) block per iteration, read with zero padding.
{_pack_schedule(index, "a", nb, (t.kr, t.mr))}
{_pack_schedule(index, "b", nb, (t.kr, t.nr))}
  // vector.mask regions do not survive bufferization: fold the masks into
  // the transfers' mask operands.
  transform.apply_patterns to %f {{
    transform.apply_patterns.vector.lower_masked_transfers
  }} : {any_}
  transform.apply_cse to %f : {any_}
  transform.yield
}}
}}"""


def _pack_schedule(index, operand, nb, block):
    """Transform ops tiling the pack of `operand` to one block per iteration
    and vectorizing it (masked reads supply the zero padding)."""
    any_ = "!transform.any_op"
    ones = "1, " * nb
    return f"""  %pk_{operand} = transform.structured.match ops{{["linalg.pack"]}}
      attributes {{{PACK_ATTRS[operand]} = {index} : i64}} in %root : ({any_}) -> {any_}
  %pt_{operand}, %pl_{operand}:{2 + nb} = transform.structured.tile_using_for %pk_{operand}
      tile_sizes [{ones}1, 1] : ({any_}) -> ({any_}{f", {any_}" * (2 + nb)})
  transform.structured.vectorize %pt_{operand} vector_sizes [{ones}1, 1, {block[0]}, {block[1]}]
      : {any_}"""


def _apply(module, script_text):
    script = ir.Module.parse(script_text, module.context)
    entry = next(op for op in script.body.operations
                 if op.operation.name == "transform.named_sequence")
    interpreter.apply_named_sequence(module, entry, script)


def _strip_tags(module):
    def visit(op):
        for name in (KERNEL_ATTR, *PACK_ATTRS.values()):
            if name in op.attributes:
                del op.attributes[name]
        return ir.WalkResult.ADVANCE

    module.walk(visit)
