"""euler-simplify: algebraic simplification of euler ops.

Runs at -O1 and above in the `euler` stage, before and after constant folding.
Each rewrite is exact in IEEE arithmetic except that, like fast-math `nsz`,
the sign of a zero is not preserved (x + 0 -> x turns -0 + 0 = +0 into -0);
every DL framework's graph optimizer makes the same trade.

Pattern sets:
  pm_identities  x+0, x-0, x*1, x/1, x**1 with splat constants, only when the
                 result type equals x's (a broadcasting identity still
                 changes the shape); x*-1 and 0-x -> neg x; x**2 -> x*x,
                 x**3 -> x*x*x.
  pm_involutions neg(neg x), relu(relu x).
  pm_layout      transpose∘transpose, reshape∘reshape, broadcast_to∘broadcast_to
                 (composed, or dropped when the result is the input), and a
                 reduction over size-1 axes only (-> reshape).
  pm_scalars     a splat constant feeding a binary op whose other operand
                 already has the result type becomes a rank-0 constant: the
                 lowering then broadcasts one scalar through the indexing maps
                 instead of reading (and storing in the binary) a full tensor.

Ops left unused by a rewrite are erased at the end (see euler-dce).
"""

from __future__ import annotations

import numpy as np
from mlir import ir, rewrite

from ...dialects import ops
from ...dialects.shapes import FLOAT_DTYPES, REDUCE_OPS, normalize_axes
from . import dce

NAME = "euler-simplify"
SUMMARY = "Algebraic simplification of euler ops (identities, involutions, layout chains)"

# The Python binding treats a pattern's return value as "failed to match" when
# it is truthy: a pattern that does not apply returns NO_MATCH.
NO_MATCH = True


# --- helpers --------------------------------------------------------------------

def _producer(value: ir.Value, name: str):
    """The op defining `value` if it is `euler.<name>`, else None."""
    owner = value.owner
    if isinstance(owner, ir.Block):
        return None
    owner = owner.operation
    return owner if owner.name == f"euler.{name}" else None


def splat_value(value: ir.Value):
    """The scalar of a splat `euler.constant` (as a Python number), else None."""
    const = _producer(value, "constant")
    if const is None:
        return None
    attr = const.attributes["value"]
    # dense_resource constants are never splats we can read.
    if not isinstance(attr, ir.DenseElementsAttr) or not attr.is_splat:
        return None
    scalar = attr.get_splat_value()
    return scalar.value if isinstance(scalar, (ir.FloatAttr, ir.IntegerAttr)) else None


def _replace(rewriter, op, value: ir.Value):
    rewriter.replace_op(op, [value])


def _build(rewriter, op, builder, *args, **kwargs) -> ir.Value:
    """Call an `ops` builder in front of `op`, at its location."""
    with rewriter.ip, op.location:
        return builder(*args, **kwargs)


# --- pm_identities ----------------------------------------------------------------

def _fold_identity(op, rewriter, identity, commutative):
    lhs, rhs = op.operands
    result_type = op.results[0].type
    candidates = [(lhs, rhs)] + ([(rhs, lhs)] if commutative else [])
    for x, other in candidates:
        # A broadcasting identity (x + zeros of a larger shape) changes x's
        # shape: only drop the op when x already has the result type.
        if x.type == result_type and splat_value(other) == identity:
            _replace(rewriter, op, x)
            return None
    return NO_MATCH  # no operand is a splat identity of the result's type


def add_zero(op, rewriter):
    return _fold_identity(op, rewriter, 0.0, commutative=True)


def sub_zero(op, rewriter):
    return _fold_identity(op, rewriter, 0.0, commutative=False)


def mul_one(op, rewriter):
    return _fold_identity(op, rewriter, 1.0, commutative=True)


def div_one(op, rewriter):
    return _fold_identity(op, rewriter, 1.0, commutative=False)


def pow_one(op, rewriter):
    return _fold_identity(op, rewriter, 1.0, commutative=False)


def mul_minus_one(op, rewriter):
    lhs, rhs = op.operands
    if ops.tensor_type(op.results[0].type).dtype not in FLOAT_DTYPES:
        return NO_MATCH  # neg is float-only; integer x*-1 stays
    for x, other in ((lhs, rhs), (rhs, lhs)):
        if x.type == op.results[0].type and splat_value(other) == -1.0:
            _replace(rewriter, op, _build(rewriter, op, ops.neg, x))
            return None
    return NO_MATCH  # no operand is a splat -1 of the result's type


def zero_sub(op, rewriter):
    zero, x = op.operands
    if x.type != op.results[0].type or splat_value(zero) != 0.0:
        return NO_MATCH  # not 0 - x with x already of the result type
    if ops.tensor_type(x.type).dtype not in FLOAT_DTYPES:
        return NO_MATCH  # neg is float-only; integer 0-x stays
    _replace(rewriter, op, _build(rewriter, op, ops.neg, x))
    return None


def pow_two(op, rewriter):
    x, exponent = op.operands
    n = splat_value(exponent)
    # x*x is correctly rounded, as powf(x, 2) is: the rewrite is exact. x**3
    # is (x*x)*x, which is how PyTorch computes it (aten's pow kernel
    # special-cases 2 and 3), and a vector loop where powf is a libm call a
    # lane (GPT-2's tanh GELU).
    if x.type != op.results[0].type or n not in (2.0, 3.0):
        return NO_MATCH  # not a square or cube of an operand already of the result type
    y = _build(rewriter, op, ops.mul, x, x)
    _replace(rewriter, op, y if n == 2.0 else _build(rewriter, op, ops.mul, y, x))
    return None


pm_identities = [("euler.add", add_zero), ("euler.sub", sub_zero), ("euler.mul", mul_one),
                 ("euler.mul", mul_minus_one), ("euler.sub", zero_sub), ("euler.div", div_one), ("euler.pow", pow_one),
                 ("euler.pow", pow_two)]


# --- pm_involutions ----------------------------------------------------------------

def neg_neg(op, rewriter):
    inner = _producer(op.operands[0], "neg")
    if inner is None:
        return NO_MATCH  # the operand is not a negation
    _replace(rewriter, op, inner.operands[0])
    return None


def relu_relu(op, rewriter):
    inner = _producer(op.operands[0], "relu")
    if inner is None:
        return NO_MATCH  # the operand is not a relu
    _replace(rewriter, op, inner.result)
    return None


pm_involutions = [("euler.neg", neg_neg), ("euler.relu", relu_relu)]


# --- pm_layout ----------------------------------------------------------------------

def transpose_chain(op, rewriter):
    perm = ops.attrs_of(op)["perm"]
    if list(perm) == list(range(len(perm))):
        _replace(rewriter, op, op.operands[0])
        return None
    inner = _producer(op.operands[0], "transpose")
    if inner is None:
        return NO_MATCH  # neither an identity nor a transpose of a transpose
    # y = transpose(x, p1), z = transpose(y, p2): z's dim i is x's dim p1[p2[i]].
    inner_perm = ops.attrs_of(inner)["perm"]
    composed = [inner_perm[p] for p in perm]
    x = inner.operands[0]
    if composed == list(range(len(composed))):
        _replace(rewriter, op, x)
    else:
        _replace(rewriter, op, _build(rewriter, op, ops.transpose, x, composed))
    return None


def _shape_chain(op, rewriter, builder, name):
    x = op.operands[0]
    result_type = op.results[0].type
    if x.type == result_type:
        _replace(rewriter, op, x)
        return None
    inner = _producer(x, name)
    if inner is None:
        return NO_MATCH  # neither a no-op nor a chain of two
    source = inner.operands[0]
    if source.type == result_type:
        _replace(rewriter, op, source)
    else:
        # Broadcasting is transitive: x -> y -> z is valid iff x -> z is.
        _replace(rewriter, op, _build(rewriter, op, builder, source, list(result_type.shape)))
    return None


def reshape_chain(op, rewriter):
    return _shape_chain(op, rewriter, ops.reshape, "reshape")


def broadcast_chain(op, rewriter):
    return _shape_chain(op, rewriter, ops.broadcast_to, "broadcast_to")


def reduce_unit_axes(op, rewriter):
    x = op.operands[0]
    shape = list(x.type.shape)
    axes = normalize_axes(ops.attrs_of(op).get("axes", range(len(shape))), len(shape))
    if any(shape[a] != 1 for a in axes):
        return NO_MATCH  # it reduces over an axis with more than one element
    # Sum, max and mean of a single element are that element.
    result_type = op.results[0].type
    if x.type == result_type:
        _replace(rewriter, op, x)
    else:
        _replace(rewriter, op, _build(rewriter, op, ops.reshape, x, list(result_type.shape)))
    return None


pm_layout = [("euler.transpose", transpose_chain), ("euler.reshape", reshape_chain),
             ("euler.broadcast_to", broadcast_chain),
             *((f"euler.{name}", reduce_unit_axes) for name in REDUCE_OPS)]


# --- pm_scalars ----------------------------------------------------------------------

def splat_to_scalar(op, rewriter):
    result_type = op.results[0].type
    operands = list(op.operands)
    for i, (other, c) in enumerate(((operands[1], operands[0]), (operands[0], operands[1]))):
        if other.type != result_type or c.type.rank == 0 or splat_value(c) is None:
            continue
        dtype = ops.tensor_type(c.type).dtype
        if dtype not in ops.NUMPY_DTYPES:
            continue
        scalar = np.array(splat_value(c), dtype=ops.NUMPY_DTYPES[dtype])
        operands[i] = _build(rewriter, op, ops.constant, scalar)
        with rewriter.ip, op.location:
            new = ir.Operation.create(op.name, results=[result_type], operands=operands,
                                      attributes={n: op.attributes[n] for n in op.attributes})
        _replace(rewriter, op, new.result)
        return None
    # No splat operand of rank > 0 whose partner already fixes the result type
    # (bf16 splats are left alone: numpy has no bf16 to rebuild them with).
    return NO_MATCH


pm_scalars = [(f"euler.{name}", splat_to_scalar)
              for name in ("add", "sub", "mul", "div", "maximum", "minimum", "pow")]


def patterns(*sets) -> rewrite.FrozenRewritePatternSet:
    """Freeze the given pattern sets (lists of (root op name, pattern))."""
    rps = rewrite.RewritePatternSet()
    for pattern_set in sets:
        for root, fn in pattern_set:
            rps.add(root, fn)
    return rps.freeze()


def run(module):
    with module.context:
        rewrite.apply_patterns_and_fold_greedily(
            module, patterns(pm_identities, pm_involutions, pm_layout, pm_scalars))
    dce.erase_dead(module)
