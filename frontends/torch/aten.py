"""ATen op -> euler op translations, one handler per ATen op family.

Used by `importer.py`, which walks the FX graph and calls the handler of each
node with its operands resolved: `ir.Value`s for runtime tensors, `Const` for
tensors known at compile time, Python values otherwise. A handler builds euler
ops with the builders of `euler.dialects.ops` (which own the shape rules) at
the current insertion point and location, and returns the node's value (a
tuple for multi-result ops, None for results it does not compute), or raises
`ImportUnsupported` saying why the node cannot be imported.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import operator

import numpy as np
import torch
from mlir import ir

from ..dialects import ops, shapes

__all__ = ["Complex", "Const", "ImportUnsupported", "SUPPORTED_OPS", "aten_name", "handler_for", "handles"]


class ImportUnsupported(Exception):
    """Raised by a handler: this node cannot be imported (the message says why)."""


@dataclasses.dataclass
class Const:
    """A tensor known at compile time (a parameter, or a folded node)."""
    tensor: torch.Tensor


@dataclasses.dataclass
class Complex:
    """A complex tensor as its real and imaginary parts, real tensors of its
    shape: euler has no complex dtype (FNet's FFT, Llama 4's complex rotary
    embeddings)."""
    re: ir.Value
    im: ir.Value


def aten_name(target) -> str:
    """'aten.linear.default' for torch.ops.aten.linear.default; else the callable's name."""
    if isinstance(target, torch._ops.OpOverload):
        return f"{target.namespace}.{target._opname}.{target._overloadname}"
    return getattr(target, "__name__", str(target))


HANDLERS = {}
# Handlers for ops on complex tensors (`Complex` operands or results).
COMPLEX_HANDLERS = {}


def handles(*names, table=HANDLERS):
    """Register a handler for ATen ops by packet name ("linear") or full name ("add.Tensor")."""
    def register(fn):
        for name in names:
            table[name] = fn
        return fn
    return register


def _lookup(table, target):
    if not isinstance(target, torch._ops.OpOverload):
        return None
    if target.namespace != "aten":  # a library's custom op, by its qualified name
        return table.get(f"{target.namespace}::{target._opname}")
    return (table.get(f"{target._opname}.{target._overloadname}")
            or table.get(target._opname))


def complex_handler_for(target):
    return _lookup(COMPLEX_HANDLERS, target)


def handler_for(target):
    if target is operator.getitem:
        return _getitem
    return _lookup(HANDLERS, target)


# --- helpers shared by handlers ------------------------------------------------

def _rank(v):
    return ops.tensor_type(v.type).rank


def _shape(v):
    return ops.tensor_type(v.type).shape


def _dtype(v):
    return ops.tensor_type(v.type).dtype


def _axis(d, rank):
    if not -max(rank, 1) <= d < max(rank, 1):
        raise ImportUnsupported(f"dimension {d} is out of range for rank {rank}")
    return d % rank if rank else 0


def _take(imp, x, axis, indices):
    """x[..., indices, ...] along `axis` with constant indices: euler.gather."""
    idx = ops.constant(np.asarray(indices, dtype=np.int64))
    return ops.gather(x, idx, axis=axis)


def _slice(imp, x, axis, start, stop, step=1):
    size = _shape(x)[axis]
    idx = range(size)[slice(start, stop, step)]
    if len(idx) == size:
        return x
    return _take(imp, x, axis, list(idx))


def _identity(imp, node, x, *args, **kwargs):
    return imp.value(x)


# --- elementwise -----------------------------------------------------------------

def _binary_handler(build):
    def handler(imp, node, a, b, alpha=1, rounding_mode=None):
        if rounding_mode is not None:
            return _rounded_div(imp, node, a, b, rounding_mode)
        out = imp.out_type()
        if alpha != 1:
            b = b * alpha if isinstance(b, (int, float)) else ops.mul(
                imp.operand(b, out.dtype, out.rank), imp.operand(alpha, out.dtype, out.rank))
        return build(imp.operand(a, out.dtype, out.rank), imp.operand(b, out.dtype, out.rank))
    return handler


handles("add")(_binary_handler(ops.add))
handles("sub")(_binary_handler(ops.sub))
handles("mul")(_binary_handler(ops.mul))
handles("div")(_binary_handler(ops.div))
handles("maximum")(_binary_handler(ops.maximum))
handles("minimum")(_binary_handler(ops.minimum))


# --- rounding: floor, ceil, trunc, and the divisions and remainders built on them -----------

_EXACT_ABOVE = {"f16": 2.0 ** 10, "bf16": 2.0 ** 7, "f32": 2.0 ** 23, "f64": 2.0 ** 52}


def _round(imp, x, mode):
    """x rounded toward zero ("trunc"), down ("floor") or up ("ceil"), through an
    int64 cast. Floats at least 2^mantissa in magnitude (and inf, NaN) are
    integers already and pass through, which also keeps the cast in range."""
    dtype = _dtype(x)
    t = ops.cast(ops.cast(x, "i64"), dtype)
    t = ops.select(ops.compare(ops.abs(x), imp.scalar(_EXACT_ABOVE[dtype], x), "lt"), t, x)
    if mode == "floor":
        return ops.select(ops.compare(x, t, "lt"), ops.sub(t, imp.scalar(1.0, t)), t)
    if mode == "ceil":
        return ops.select(ops.compare(x, t, "gt"), ops.add(t, imp.scalar(1.0, t)), t)
    return t


@handles("floor", "ceil", "trunc")
def _round_handler(imp, node, x):
    x = imp.value(x)
    return x if _dtype(x) not in _EXACT_ABOVE else _round(imp, x, node.target._opname)


@handles("round")
def _round_half_even(imp, node, x, *, decimals=0):
    """torch.round: to the nearest integer, halves to the even one (of x * 10^d
    / 10^d for `decimals`): floor(x + 1/2), one less where that was a tie
    going up to an odd integer."""
    x = imp.value(x)
    if _dtype(x) not in _EXACT_ABOVE:
        return x
    scale = 10.0 ** decimals
    y = ops.mul(x, imp.scalar(scale, x)) if decimals else x
    up = _round(imp, ops.add(y, imp.scalar(0.5, y)), "floor")
    tie = ops.compare(ops.sub(up, y), imp.scalar(0.5, y), "eq")
    half = ops.mul(up, imp.scalar(0.5, up))
    odd = ops.compare(_round(imp, half, "floor"), half, "ne")
    r = ops.select(ops.minimum(tie, odd), ops.sub(up, imp.scalar(1.0, up)), up)
    return ops.div(r, imp.scalar(scale, r)) if decimals else r


def _int_quotient(imp, a, b, mode):
    """a // b rounded down ("floor": euler.div of integers) or toward zero ("trunc")."""
    q = ops.div(a, b)
    if mode == "trunc":  # one up where the quotient is negative and not whole
        inexact = ops.compare(ops.sub(a, ops.mul(b, q)), imp.scalar(0, q), "ne")
        negative = ops.compare(ops.compare(a, imp.scalar(0, a), "lt"),
                               ops.compare(b, imp.scalar(0, b), "lt"), "ne")
        q = ops.select(ops.minimum(inexact, negative), ops.add(q, imp.scalar(1, q)), q)
    return q


def _quotient(imp, node, a, b, mode):
    """(a, b, a / b rounded by `mode`) in the node's result dtype."""
    out = imp.out_type()
    a, b = imp.operand(a, out.dtype, out.rank), imp.operand(b, out.dtype, out.rank)
    if out.dtype not in _EXACT_ABOVE:
        return a, b, _int_quotient(imp, a, b, mode)
    q = _round(imp, ops.div(a, b), mode)
    if mode == "floor":  # PyTorch floor-divides through fmod(a, b): NaN for an infinite a
        q = ops.select(ops.compare(ops.abs(a), imp.scalar(math.inf, a), "eq"),
                       imp.scalar(math.nan, q), q)
    return a, b, q


def _rounded_div(imp, node, a, b, mode):
    return _quotient(imp, node, a, b, mode)[2]


@handles("floor_divide")
def _floor_divide(imp, node, a, b):
    return _rounded_div(imp, node, a, b, "floor")


@handles("remainder", "fmod")
def _remainder(imp, node, a, b):
    """a - b * floor(a / b) (remainder, the divisor's sign) or trunc (fmod, the
    dividend's sign)."""
    mode = "floor" if node.target._opname == "remainder" else "trunc"
    out = imp.out_type()
    if out.dtype in _EXACT_ABOVE:  # the NaN of an infinite a comes from a - b * q itself
        a, b = imp.operand(a, out.dtype, out.rank), imp.operand(b, out.dtype, out.rank)
        q = _round(imp, ops.div(a, b), mode)
    else:
        a, b, q = _quotient(imp, node, a, b, mode)
    return ops.sub(a, ops.mul(b, q))


@handles("rsub")
def _rsub(imp, node, a, b, alpha=1):
    out = imp.out_type()
    a = imp.operand(a, out.dtype, out.rank)
    if alpha != 1:
        a = ops.mul(a, imp.operand(alpha, out.dtype, out.rank))
    return ops.sub(imp.operand(b, out.dtype, out.rank), a)


@handles("pow")
def _pow(imp, node, x, exponent):
    out = imp.out_type()
    if isinstance(x, (int, float)):
        return ops.pow(imp.operand(x, out.dtype, out.rank), imp.value(exponent, out.dtype))
    x = imp.value(x, out.dtype)
    if not isinstance(exponent, (int, float)):
        return ops.pow(x, imp.value(exponent, out.dtype))
    if exponent == 2:
        return ops.mul(x, x)
    if exponent == 0.5:
        return ops.sqrt(x)
    if exponent == -0.5:
        return ops.rsqrt(x)
    if exponent == 1:
        return x
    return ops.pow(x, imp.operand(exponent, out.dtype, out.rank))


def _unary_handler(build):
    def handler(imp, node, x):
        return build(imp.value(x, imp.out_type().dtype))
    return handler


for _name in ("relu", "sigmoid", "tanh", "exp", "log", "sqrt", "rsqrt", "neg", "abs", "cos", "sin",
              "erf"):
    handles(_name)(_unary_handler(getattr(ops, _name)))


@handles("log1p")
def _log1p_handler(imp, node, x):
    return _log1p(imp, imp.value(x, imp.out_type().dtype))


def _log1p(imp, x):
    # log(1 + x) loses x's low bits where |x| << 1 (softplus in Mamba);
    # Kahan's correction log(u) * x / (u - 1), u = 1 + x, restores them.
    u = ops.add(x, imp.scalar(1.0, x))
    d = ops.sub(u, imp.scalar(1.0, u))
    exact = ops.compare(d, imp.scalar(0.0, d), "eq")
    y = ops.select(exact, x, ops.div(ops.mul(ops.log(u), x), ops.select(exact, u, d)))
    return ops.select(ops.compare(u, imp.scalar(math.inf, u), "eq"), u, y)  # not inf/inf


@handles("expm1")
def _expm1(imp, node, x):
    return _expm1_of(imp, imp.value(x, imp.out_type().dtype))


def _expm1_of(imp, x):
    """exp(x) - 1, accurate for |x| << 1: (u - 1) * x / log(u) with u = exp(x)
    (Kahan), x itself where u rounds to 1, u - 1 where log(u) is infinite."""
    u = ops.exp(x)
    um1 = ops.sub(u, imp.scalar(1.0, u))
    y = ops.div(ops.mul(um1, x), ops.log(u))
    y = ops.select(ops.compare(ops.abs(ops.log(u)), imp.scalar(math.inf, u), "eq"), um1, y)
    y = ops.select(ops.compare(um1, imp.scalar(-1.0, u), "eq"), um1, y)
    return ops.select(ops.compare(u, imp.scalar(1.0, u), "eq"), x, y)


@handles("exp2")
def _exp2(imp, node, x):
    out = imp.out_type()
    return ops.pow(imp.operand(2.0, out.dtype, out.rank), imp.value(x, out.dtype))


@handles("sign", "sgn")
def _sign(imp, node, x):
    """(x > 0) - (x < 0): 0 for NaN and for signed zeros, as torch.sign gives."""
    x = imp.value(x, imp.out_type().dtype)
    one, zero = imp.scalar(1, x), imp.scalar(0, x)
    negative = ops.select(ops.compare(x, zero, "lt"), imp.scalar(-1, x), zero)
    return ops.select(ops.compare(x, zero, "gt"), one, negative)


# acos(x) = sqrt(1 - x) * p(x) on [0, 1], |error| <= 2e-8 (Abramowitz and
# Stegun 4.4.46), lowest power first.
_ACOS = (1.5707963050, -0.2145988016, 0.0889789874, -0.0501743046, 0.0308918810,
         -0.0170881256, 0.0066700901, -0.0012624911)


@handles("acos", "asin")
def _acos(imp, node, x):
    """acos from the polynomial on |x| and acos(-x) = pi - acos(x); asin(x) =
    pi/2 - acos(x). NaN outside [-1, 1] (the square root of a negative), as
    torch gives (YOSO's 1 - acos(cosine) / pi)."""
    x = imp.value(x, imp.out_type().dtype)
    a = ops.abs(x)
    poly = imp.scalar(_ACOS[-1], x)
    for c in reversed(_ACOS[:-1]):
        poly = ops.add(ops.mul(poly, a), imp.scalar(c, x))
    y = ops.mul(ops.sqrt(ops.sub(imp.scalar(1.0, x), a)), poly)
    y = ops.select(ops.compare(x, imp.scalar(0.0, x), "lt"), ops.sub(imp.scalar(math.pi, x), y), y)
    return y if node.target._opname == "acos" else ops.sub(imp.scalar(math.pi / 2, x), y)


# atan(x) = x * p(x^2) on [-1, 1], |error| <= 2e-8 (Abramowitz and Stegun
# 4.4.49), lowest power first.
_ATAN = (1.0, -0.3333314528, 0.1999355085, -0.1420889944, 0.1065626393, -0.0752896400,
         0.0429096138, -0.0161657367, 0.0028662257)


def _atan(imp, x):
    """atan from the polynomial on [-1, 1] and atan(x) = sign(x) pi/2 - atan(1/x)
    outside it (so +-inf give +-pi/2; NaN stays NaN)."""
    one = imp.scalar(1.0, x)
    outside = ops.compare(ops.abs(x), one, "gt")
    t = ops.select(outside, ops.div(one, x), x)
    t2 = ops.mul(t, t)
    poly = imp.scalar(_ATAN[-1], x)
    for c in reversed(_ATAN[:-1]):
        poly = ops.add(ops.mul(poly, t2), imp.scalar(c, x))
    y = ops.mul(t, poly)
    half_pi = ops.select(ops.compare(x, imp.scalar(0.0, x), "lt"), imp.scalar(-math.pi / 2, x),
                         imp.scalar(math.pi / 2, x))
    return ops.select(outside, ops.sub(half_pi, y), y)


@handles("atan")
def _atan_handler(imp, node, x):
    # In f32 and rounded once, as torch computes 16-bit atan: the polynomial's
    # eight steps in bf16 would each round.
    dtype = imp.out_type().dtype
    if dtype in ("f16", "bf16"):
        return ops.cast(_atan(imp, imp.value(x, "f32")), dtype)
    return _atan(imp, imp.value(x, dtype))


@handles("atan2")
def _atan2(imp, node, y, x):
    """atan(y / x) moved to the quadrant of (x, y), as torch gives: +-pi (y's
    sign) where x is negative, +-pi/2 where x = 0 and y != 0. Signs are read
    as 1/v < 0, so that -0 counts as negative: atan2(-0, -1) = -pi."""
    out = imp.out_type()
    y, x = (ops.broadcast_to(imp.operand(v, out.dtype, out.rank), out.shape) for v in (y, x))
    zero, one = imp.scalar(0.0, x), imp.scalar(1.0, x)
    x_zero = ops.compare(x, zero, "eq")
    base = _atan(imp, ops.div(y, ops.select(x_zero, one, x)))
    y_neg = ops.compare(ops.div(one, y), zero, "lt")
    turn = ops.select(y_neg, imp.scalar(-math.pi, x), imp.scalar(math.pi, x))
    result = ops.select(ops.compare(ops.div(one, x), zero, "lt"), ops.add(base, turn), base)
    on_axis = ops.select(y_neg, imp.scalar(-math.pi / 2, x), imp.scalar(math.pi / 2, x))
    y_zero = ops.compare(y, zero, "eq")
    return ops.select(x_zero, ops.select(y_zero, result, on_axis), result)


@handles("atanh")
def _atanh(imp, node, x):
    """atanh(x) = log1p(2x / (1 - x)) / 2: accurate near 0, +-inf at +-1, NaN outside."""
    x = imp.value(x, imp.out_type().dtype)
    ratio = ops.div(ops.add(x, x), ops.sub(imp.scalar(1.0, x), x))
    return ops.mul(_log1p(imp, ratio), imp.scalar(0.5, x))


@handles("sinh", "cosh")
def _sinh_cosh(imp, node, x):
    """sinh from expm1 (no cancellation near 0), cosh from exp: (e^x -+ e^-x) / 2."""
    x = imp.value(x, imp.out_type().dtype)
    if node.target._opname == "sinh":
        return ops.mul(ops.sub(_expm1_of(imp, x), _expm1_of(imp, ops.neg(x))), imp.scalar(0.5, x))
    return ops.mul(ops.add(ops.exp(x), ops.exp(ops.neg(x))), imp.scalar(0.5, x))


@handles("tan")
def _tan(imp, node, x):
    x = imp.value(x, imp.out_type().dtype)
    return ops.div(ops.sin(x), ops.cos(x))


@handles("asinh", "arcsinh")
def _asinh(imp, node, x):
    """sign(x) log1p(|x| + x^2 / (1 + sqrt(x^2 + 1))): accurate near 0, and for
    |x| > 2^12 log(2|x|), where x^2 would overflow f32."""
    x = imp.value(x, imp.out_type().dtype)
    a = ops.abs(x)
    a2 = ops.mul(a, a)
    small = _log1p(imp, ops.add(a, ops.div(a2, ops.add(imp.scalar(1.0, x),
                                                       ops.sqrt(ops.add(a2, imp.scalar(1.0, x)))))))
    big = ops.add(ops.log(a), imp.scalar(math.log(2.0), x))
    y = ops.select(ops.compare(a, imp.scalar(2.0 ** 12, x), "gt"), big, small)
    return ops.select(ops.compare(x, imp.scalar(0.0, x), "lt"), ops.neg(y), y)


@handles("acosh", "arccosh")
def _acosh(imp, node, x):
    """log(x + sqrt(x^2 - 1)), log(2x) above 2^12; NaN below 1, as torch."""
    x = imp.value(x, imp.out_type().dtype)
    root = ops.sqrt(ops.mul(ops.sub(x, imp.scalar(1.0, x)), ops.add(x, imp.scalar(1.0, x))))
    big = ops.add(ops.log(x), imp.scalar(math.log(2.0), x))
    return ops.select(ops.compare(x, imp.scalar(2.0 ** 12, x), "gt"), big, ops.log(ops.add(x, root)))


@handles("log2", "log10")
def _log_base(imp, node, x):
    x = imp.value(x, imp.out_type().dtype)
    base = 2.0 if node.target._opname == "log2" else 10.0
    return ops.mul(ops.log(x), imp.scalar(1.0 / math.log(base), x))


@handles("gelu")
def _gelu(imp, node, x, approximate="none"):
    return ops.gelu(imp.value(x), approximate=approximate)


@handles("silu")
def _silu(imp, node, x):
    x = imp.value(x)
    return ops.mul(x, ops.sigmoid(x))


@handles("reciprocal")
def _reciprocal(imp, node, x):
    x = imp.value(x, imp.out_type().dtype)  # of integers: a float, as 1 / x
    return ops.div(imp.scalar(1.0, x), x)


@handles("clamp", "clamp_min", "clamp_max", "hardtanh", "relu6")
def _clamp(imp, node, x, lo=None, hi=None):
    # Float bounds promote an integer x (ElementwiseClampIntToFloatModule_basic).
    x = imp.value(x, imp.out_type().dtype)
    name = node.target._opname
    if name == "clamp_max":
        lo, hi = None, lo
    elif name == "hardtanh":
        lo, hi = (-1.0 if lo is None else lo), (1.0 if hi is None else hi)
    elif name == "relu6":
        lo, hi = 0.0, 6.0
    def bound(v):  # a Python number, or a tensor (runtime or constant) that broadcasts
        return imp.scalar(v, x) if isinstance(v, (int, float)) else imp.value(v, _dtype(x))
    if lo is not None:
        x = ops.maximum(x, bound(lo))
    if hi is not None:
        x = ops.minimum(x, bound(hi))
    return x


def _mask_select(imp, cond, a, b):
    """where(cond, a, b) for a compile-time `cond`: a select with a constant
    mask, or one side when the mask is uniform."""
    out = imp.out_type()
    m = np.broadcast_to(imp.array(cond).astype(bool), out.shape)
    if m.all() or not m.any():
        y = imp.operand(a if m.all() else b, out.dtype, out.rank)
        return y if _shape(y) == out.shape else ops.broadcast_to(y, out.shape)
    # select, not 0/1 blends: inf * 0 would be NaN (TriuModule_basic).
    mask = ops.constant(imp.array(cond).astype(np.int8))
    y = ops.select(mask, imp.operand(a, out.dtype, out.rank), imp.operand(b, out.dtype, out.rank))
    return y if _shape(y) == out.shape else ops.broadcast_to(y, out.shape)


def _runtime_select(imp, cond, a, b):
    """where(cond, a, b) for a runtime boolean `cond`: euler.select."""
    out = imp.out_type()
    return ops.select(imp.value(cond), imp.operand(a, out.dtype, out.rank),
                      imp.operand(b, out.dtype, out.rank))


@handles("masked_fill")
def _masked_fill(imp, node, x, mask, value):
    if isinstance(value, Const):
        value = value.tensor.item()
    if not isinstance(mask, Const):
        return _runtime_select(imp, mask, value, x)
    return _mask_select(imp, mask, value, x)


@handles("where.self", "where.ScalarSelf", "where.ScalarOther", "where.Scalar")
def _where(imp, node, cond, a, b):
    if not isinstance(cond, Const):
        return _runtime_select(imp, cond, a, b)
    return _mask_select(imp, cond, a, b)


def _operand_dtype(node):
    """The euler dtype torch compares (or combines) a binary node's operands in."""
    from .importer import TORCH_DTYPES
    vals = [a.meta["val"] if isinstance(a, torch.fx.Node) else a for a in node.args[:2]]
    dtype = torch.result_type(*vals)
    if dtype not in TORCH_DTYPES:
        raise ImportUnsupported(f"operands of dtype {dtype} are not supported")
    return TORCH_DTYPES[dtype]


def _compare_handler(predicate):
    def handler(imp, node, a, b):
        dtype = _operand_dtype(node)
        rank = imp.out_type().rank
        return ops.compare(imp.operand(a, dtype, rank), imp.operand(b, dtype, rank), predicate)
    return handler


for _name in ("eq", "ne", "lt", "le", "gt", "ge"):
    handles(_name)(_compare_handler(_name))


def _truth(imp, x, rank):
    """x != 0 as a boolean (i8 0/1) operand; booleans as they are."""
    if isinstance(x, (bool, int, float)):
        return imp.operand(bool(x), "i8", rank)
    x = imp.value(x)
    return x if _dtype(x) == "i8" else ops.compare(x, imp.scalar(0, x), "ne")


def _logical_handler(build):
    # Booleans are i8 0/1 (shapes.BOOL): and = minimum, or = maximum, xor = ne.
    def handler(imp, node, a, b):
        rank = imp.out_type().rank
        if node.target._opname.startswith(("bitwise", "__")) and _operand_dtype(node) != "i8":
            raise ImportUnsupported("bitwise ops on integers are not supported (on booleans they are)")
        return build(_truth(imp, a, rank), _truth(imp, b, rank))
    return handler


handles("logical_and", "bitwise_and", "__and__")(_logical_handler(ops.minimum))
handles("logical_or", "bitwise_or", "__or__")(_logical_handler(ops.maximum))
handles("logical_xor", "bitwise_xor", "__xor__")(
    _logical_handler(lambda a, b: ops.compare(a, b, "ne")))


@handles("logical_not", "bitwise_not")
def _logical_not(imp, node, x):
    x = imp.value(x)
    if node.target._opname == "bitwise_not" and _dtype(x) != "i8":
        raise ImportUnsupported("bitwise_not of integers is not supported (of booleans it is)")
    return ops.compare(x, imp.scalar(0, x), "eq")


@handles("cumsum")
def _cumsum(imp, node, x, dim, *, dtype=None):
    out = imp.out_type()
    return ops.cumsum(imp.value(x, out.dtype), _axis(dim, out.rank))


@handles("gather")
def _torch_gather(imp, node, x, dim, index, *, sparse_grad=False):
    if isinstance(x, Const) and x.tensor.numel() and bool((x.tensor == x.tensor.flatten()[0]).all()):
        # A uniform table (HF's all-zero token_type_ids buffer): the result does
        # not depend on the indices.
        return imp.value(Const(torch.full(tuple(node.meta["val"].shape), x.tensor.flatten()[0].item(),
                                          dtype=x.tensor.dtype)))
    x = imp.value(x)
    return _gather_along(x, _axis(dim, _rank(x)), imp.value(index, "i64"))


def _gather_along(x, axis, idx):
    """torch.gather: out[i][j] = x[i][idx[i][j]] (axis 1), as numpy.take of the
    flattened x at linear indices built by integer arithmetic."""
    rank = _rank(x)
    xs, ish = _shape(x), _shape(idx)
    strides = [math.prod(xs[d + 1:]) for d in range(rank)]
    base = sum(np.arange(n).reshape([-1 if e == d else 1 for e in range(rank)]) * strides[d]
               for d, n in enumerate(ish) if d != axis)
    linear = ops.mul(idx, ops.constant(np.full((1,) * rank, strides[axis], np.int64)))
    if rank > 1:
        linear = ops.add(linear, ops.constant(np.asarray(base, np.int64)))
    return ops.gather(ops.reshape(x, (math.prod(xs),)), linear, axis=0)


@handles("dropout", "native_dropout", "feature_dropout")
def _dropout(imp, node, x, p, train):
    if train and p > 0:
        raise ImportUnsupported("dropout in training mode; call model.eval()")
    return imp.value(x) if node.target._opname == "dropout" else (imp.value(x), None)


for _name in ("clone", "contiguous", "alias", "detach", "lift_fresh_copy"):
    handles(_name)(_identity)


@handles("_to_copy", "to", "type_as")
def _to(imp, node, x, *args, **kwargs):
    out = imp.out_type()
    src = imp.value(x)
    if node.meta["val"].dtype == torch.bool and node.args[0].meta["val"].dtype != torch.bool:
        return ops.compare(src, imp.scalar(0, src), "ne")  # truth, not truncation
    return imp.value(src, out.dtype)


# --- linear algebra ------------------------------------------------------------------

def _transposed(imp, w):
    """w.T, folded into a constant when w is one."""
    if isinstance(w, Const):
        return ops.constant(np.ascontiguousarray(imp.array(w).T))
    return ops.transpose(imp.value(w), (1, 0))


def _matmul_any(a, b):
    """torch.matmul, including its 1-D forms, on MLIR values."""
    ra, rb = _rank(a), _rank(b)
    if ra == 1:
        a = ops.reshape(a, (1,) + _shape(a))
    if rb == 1:
        b = ops.reshape(b, _shape(b) + (1,))
    y = ops.matmul(a, b)
    shape = _shape(y)
    if ra == 1:
        shape = shape[:-2] + shape[-1:]
    if rb == 1:
        shape = shape[:-1]
    return y if shape == _shape(y) else ops.reshape(y, shape)


@handles("mm", "bmm", "matmul")
def _mm(imp, node, a, b):
    return _matmul_any(imp.value(a), imp.value(b))


@handles("t")
def _t(imp, node, x):
    return x if _rank(imp.value(x)) < 2 else ops.transpose(imp.value(x), (1, 0))


@handles("linear")
def _linear(imp, node, x, w, b=None):
    y = _matmul_any(imp.value(x), _transposed(imp, w))
    return y if b is None else ops.add(y, imp.value(b))


@handles("addmm")
def _addmm(imp, node, bias, a, b, beta=1, alpha=1):
    y = ops.matmul(imp.value(a), imp.value(b))
    if alpha != 1:
        y = ops.mul(y, imp.scalar(alpha, y))
    if beta == 0:
        return y
    c = imp.value(bias)
    if beta != 1:
        c = ops.mul(c, imp.scalar(beta, c)) if not isinstance(bias, Const) else ops.constant(
            (imp.array(bias) * beta).astype(imp.array(bias).dtype))
    return ops.add(y, c)


# --- convolution, pooling, normalization ----------------------------------------------

def _pair(v, n=2):
    v = list(v) if isinstance(v, (list, tuple)) else [v]
    return tuple(v * n if len(v) == 1 else v)


def _bn_params(imp, weight, bias, mean, var, eps, channels):
    """(scale, shift) of eval batch_norm as numpy arrays, or None if not constant."""
    vals = [imp.array(t) if t is not None else None for t in (weight, bias, mean, var)]
    if any(v is None for v, t in zip(vals, (weight, bias, mean, var)) if t is not None) or \
            mean is None or var is None:
        return None
    w, b, m, v = vals
    w = np.ones(channels, m.dtype) if w is None else w
    b = np.zeros(channels, m.dtype) if b is None else b
    scale = w / np.sqrt(v + eps)
    return scale, b - m * scale


def _bn_node_args(node):
    """(weight, bias, mean, var, eps) of an eval batch_norm node, or None."""
    name = node.target._opname if isinstance(node.target, torch._ops.OpOverload) else None
    if name == "batch_norm" and not node.args[5]:
        return node.args[1], node.args[2], node.args[3], node.args[4], node.args[7]
    if name == "_native_batch_norm_legit_no_training":
        return node.args[1], node.args[2], node.args[3], node.args[4], node.args[6]
    return None


def _absorb_zero_pad(imp, x_node, x, padding):
    """(input, padding) of a conv whose input is a zero pad of H and W (the
    TF-style "same" padding of HF's MobileNetV2): the symmetric part joins the
    conv's own padding, which -O3 folds into its im2col loops; only the rest
    stays an euler.pad."""
    if not (isinstance(x_node, torch.fx.Node) and x_node.target in (
            torch.ops.aten.constant_pad_nd.default, torch.ops.aten.pad.default)):
        return x, padding
    args = list(x_node.args) + [None] * 2
    value = args[2] if x_node.target is torch.ops.aten.constant_pad_nd.default else args[3]
    if x_node.target is torch.ops.aten.pad.default and args[2] not in (None, "constant"):
        return x, padding
    src = imp.env.get(x_node.args[0])
    pad = list(x_node.args[1])
    if not isinstance(src, ir.Value) or value not in (None, 0, 0.0) or len(pad) != 4 or min(pad) < 0:
        return x, padding
    (wl, wh, hl, hh) = pad
    sym = (min(hl, hh), min(wl, wh))
    low, high = (0, 0, hl - sym[0], wl - sym[1]), (0, 0, hh - sym[0], wh - sym[1])
    if any(low) or any(high):
        src = ops.pad(src, low, high, 0.0)
    return src, (padding[0] + sym[0], padding[1] + sym[1])


@handles("conv2d", "conv1d", "convolution", "_convolution")
def _conv(imp, node, x, w, b=None, stride=1, padding=0, dilation=1, *rest):
    transposed, output_padding = False, 0
    if node.target._opname in ("convolution", "_convolution"):
        transposed, output_padding, groups = rest[:3]
    else:
        groups = rest[0] if rest else 1
    x = imp.value(x)
    conv = _conv2d
    if transposed:
        conv = functools.partial(_conv_transpose2d, output_padding=output_padding)
    if _rank(x) == 3:
        # 1-D (N, C, L) as 2-D (N, C, 1, L), with a (F, C/g, 1, K) weight.
        x = ops.reshape(x, _shape(x)[:2] + (1,) + _shape(x)[2:])
        w = Const(w.tensor.unsqueeze(2)) if isinstance(w, Const) else ops.reshape(
            imp.value(w), _shape(imp.value(w))[:2] + (1,) + _shape(imp.value(w))[2:])
        pad = padding if isinstance(padding, str) else (0,) + _pair(padding, 1)
        if transposed:
            conv = functools.partial(_conv_transpose2d,
                                     output_padding=(0,) + _pair(output_padding, 1))
        y = conv(imp, node, x, w, b, (1,) + _pair(stride, 1), pad, (1,) + _pair(dilation, 1),
                 groups)
        return ops.reshape(y, imp.out_type().shape)
    if _rank(x) != 4:
        raise ImportUnsupported(f"only 1-D and 2-D convolutions are supported, got rank {_rank(x)}")
    return conv(imp, node, x, w, b, stride, padding, dilation, groups)


def _conv_transpose2d(imp, node, x, w, b, stride, padding, dilation, groups, output_padding):
    """The transposed convolution as the direct one it is: x with stride-1 zeros
    between pixels, padded by dilation*(k-1)-padding (output_padding more after),
    convolved with the spatially flipped weight, in/out channels swapped per group."""
    dtype = _dtype(x)
    g = int(groups)
    if isinstance(w, Const):
        wt = imp.array(w)
        cin, cout_g, kh, kw = wt.shape
        wf = wt[:, :, ::-1, ::-1].reshape(g, cin // g, cout_g, kh, kw).transpose(0, 2, 1, 3, 4)
        wf = imp.constant(np.ascontiguousarray(wf.reshape(g * cout_g, cin // g, kh, kw)), dtype)
    else:
        wf = imp.value(w, dtype)
        cin, cout_g, kh, kw = _shape(wf)
        wf = _take(imp, _take(imp, wf, 2, range(kh - 1, -1, -1)), 3, range(kw - 1, -1, -1))
        wf = ops.transpose(ops.reshape(wf, (g, cin // g, cout_g, kh, kw)), (0, 2, 1, 3, 4))
        wf = ops.reshape(wf, (g * cout_g, cin // g, kh, kw))
    dilation = _pair(dilation)
    for axis, k, s, p, d, extra in zip((2, 3), (kh, kw), _pair(stride), _pair(padding),
                                       dilation, _pair(output_padding)):
        n = _shape(x)[axis]
        if s > 1:  # a zero row/column after x, picked between the pixels
            zeros = list(_shape(x))
            zeros[axis] = 1
            x = ops.concat([x, imp.constant(np.zeros(zeros), dtype)], axis=axis)
            x = _take(imp, x, axis, [j // s if j % s == 0 else n for j in range((n - 1) * s + 1)])
        lo, hi = d * (k - 1) - p, d * (k - 1) - p + extra
        if lo < 0 or hi < 0:  # more padding than the kernel spans: crop instead
            x = _slice(imp, x, axis, max(-lo, 0), _shape(x)[axis] - max(-hi, 0))
            lo, hi = max(lo, 0), max(hi, 0)
        if lo or hi:
            low, high = [0] * 4, [0] * 4
            low[axis], high[axis] = lo, hi
            x = ops.pad(x, low, high, 0.0)
    y = ops.conv2d(x, wf, dilations=dilation, groups=g)
    if b is not None:
        bias = imp.value(b, dtype)
        y = ops.add(y, ops.reshape(bias, (1, _shape(bias)[0], 1, 1)))
    return y


def _conv2d(imp, node, x, w, b, stride, padding, dilation, groups):
    wt = imp.array(w) if isinstance(w, Const) else None
    kh, kw = _shape(imp.value(w))[2:] if wt is None else wt.shape[2:]
    dilation = _pair(dilation)
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0, 0)
        else:
            spans = [d * (k - 1) for d, k in zip(dilation, (kh, kw))]
            if any(s % 2 for s in spans):
                raise ImportUnsupported("padding='same' with an even kernel needs asymmetric padding")
            padding = tuple(s // 2 for s in spans)
    x, padding = _absorb_zero_pad(imp, node.args[0], x, _pair(padding))
    bias = imp.array(b) if isinstance(b, Const) else None
    # Fold a following eval batch_norm into the weights: conv(x, w*s) + (b-m)*s + beta.
    users = list(node.users)
    bn = _bn_node_args(users[0]) if len(users) == 1 else None
    if bn is not None and wt is not None and (b is None or bias is not None):
        params = _bn_params(imp, *[imp.env.get(a) if isinstance(a, torch.fx.Node) else a
                                   for a in bn[:4]], bn[4], wt.shape[0])
        if params is not None:
            scale, shift = params
            wt = (wt * scale[:, None, None, None]).astype(wt.dtype)
            bias = ((bias if bias is not None else 0) * scale + shift).astype(wt.dtype)
            imp.folded_bn.add(users[0])
    wv = ops.constant(np.ascontiguousarray(wt)) if wt is not None else imp.value(w)
    y = ops.conv2d(x, wv, strides=_pair(stride), padding=_pair(padding), dilations=dilation,
                   groups=int(groups))
    if bias is not None:
        return ops.add(y, ops.constant(bias.reshape(1, -1, 1, 1)))
    if b is not None:
        return ops.add(y, ops.reshape(imp.value(b), (1, _shape(imp.value(b))[0], 1, 1)))
    return y


@handles("batch_norm", "_native_batch_norm_legit_no_training")
def _batch_norm(imp, node, x, weight, bias, mean, var, *rest):
    tuple_result = node.target._opname != "batch_norm"
    if not tuple_result and rest[0]:
        raise ImportUnsupported("batch_norm in training mode; call model.eval()")
    eps = rest[-1] if tuple_result else rest[2]
    x = imp.value(x)
    if node in imp.folded_bn:
        y = x
    else:
        c = _shape(x)[1]
        bshape = (1, c) + (1,) * (_rank(x) - 2)
        params = _bn_params(imp, weight, bias, mean, var, eps, c)
        if params is not None:
            scale, shift = (ops.constant(p.astype(ops.NUMPY_DTYPES[_dtype(x)]).reshape(bshape))
                            for p in params)
        else:
            if mean is None or var is None:
                raise ImportUnsupported("batch_norm without running statistics")
            v = imp.value(var)
            scale = ops.rsqrt(ops.add(v, imp.scalar(eps, v)))
            if weight is not None:
                scale = ops.mul(scale, imp.value(weight))
            shift = ops.neg(ops.mul(imp.value(mean), scale))
            if bias is not None:
                shift = ops.add(shift, imp.value(bias))
            scale, shift = ops.reshape(scale, bshape), ops.reshape(shift, bshape)
        y = ops.add(ops.mul(x, scale), shift)
    return (y, None, None) if tuple_result else y


def _pool_args(kernel, stride, padding, dilation=1):
    kernel = _pair(kernel)
    stride = _pair(stride) if stride not in (None, [], ()) else kernel
    return kernel, stride, _pair(padding), _pair(dilation)


def _pool_out(size, k, s, p, d, ceil):
    span = d * (k - 1) + 1
    out = (size + 2 * p - span + ((s - 1) if ceil else 0)) // s + 1
    # torch: the last window must start inside the input or the left padding.
    if ceil and (out - 1) * s >= size + p:
        out -= 1
    return out


def _nchw(x):
    """PyTorch's 2-D pooling also takes unbatched (C, H, W) inputs: add N = 1."""
    if _rank(x) == 3:
        return ops.reshape(x, (1,) + _shape(x))
    if _rank(x) != 4:
        raise ImportUnsupported(f"2-D pooling needs a 3-D or 4-D input, got rank {_rank(x)}")
    return x


def _unbatched(node, y):
    """`y` in the shape of the node's (first) result: drops the N that `_nchw` added."""
    val = node.meta["val"]
    shape = tuple((val[0] if isinstance(val, (tuple, list)) else val).shape)
    return y if _shape(y) == shape else ops.reshape(y, shape)


@handles("max_pool2d", "max_pool2d_with_indices")
def _max_pool(imp, node, x, kernel, stride=None, padding=0, dilation=1, ceil_mode=False):
    x = _nchw(imp.value(x))
    k, s, p, d = _pool_args(kernel, stride, padding, dilation)
    indices = node.target._opname == "max_pool2d_with_indices" and any(
        u.target is operator.getitem and u.args[1] == 1 for u in node.users)
    if indices:
        y, idx = _window_max(imp, x, k, s, p, d, ceil_mode, indices=True)
        return _unbatched(node, y), _unbatched(node, idx)
    if d == (1, 1) and not ceil_mode:
        y = ops.max_pool2d(x, k, s, p)
    else:
        y = _window_max(imp, x, k, s, p, d, ceil_mode)
    y = _unbatched(node, y)
    return (y, None) if node.target._opname == "max_pool2d_with_indices" else y


def _window_max(imp, x, k, s, p, d, ceil, indices=False):
    """Dilated or ceil-mode max pooling: pad with -inf, pick each window tap
    with a strided gather, and take the elementwise maximum of the taps.

    With `indices`, also the flat index h * W + w (int64) of each window's
    maximum in the unpadded input, as torch's max_pool2d_with_indices: the
    first maximum of the window, or a NaN, wins."""
    n, c, h, w = _shape(x)
    in_w = w
    np_dtype = ops.NUMPY_DTYPES[_dtype(x)]
    outs = [_pool_out(size, k[i], s[i], p[i], d[i], ceil) for i, size in enumerate((h, w))]
    for axis, size in ((2, h), (3, w)):
        i = axis - 2
        right = max(0, (outs[i] - 1) * s[i] + d[i] * (k[i] - 1) + 1 - size - p[i])
        shape = list(_shape(x))
        parts = []
        if p[i]:
            shape[axis] = p[i]
            parts.append(ops.constant(np.full(shape, -np.inf, np_dtype)))
        parts.append(x)
        if right:
            shape[axis] = right
            parts.append(ops.constant(np.full(shape, -np.inf, np_dtype)))
        if len(parts) > 1:
            x = ops.concat(parts, axis=axis)
    y = idx = None
    for a in range(k[0]):
        rows = _take(imp, x, 2, [o * s[0] + a * d[0] for o in range(outs[0])])
        for b in range(k[1]):
            tap = _take(imp, rows, 3, [o * s[1] + b * d[1] for o in range(outs[1])])
            if not indices:
                y = tap if y is None else ops.maximum(y, tap)
                continue
            oh, ow = np.meshgrid(np.arange(outs[0]), np.arange(outs[1]), indexing="ij")
            at = ops.constant(((oh * s[0] + a * d[0] - p[0]) * in_w
                               + ow * s[1] + b * d[1] - p[1]).astype(np.int64)[None, None])
            if y is None:
                y, idx = tap, ops.broadcast_to(at, _shape(tap))
                continue
            better = ops.maximum(ops.compare(tap, y, "gt"), ops.compare(tap, tap, "ne"))
            y, idx = ops.select(better, tap, y), ops.select(better, at, idx)
    return (y, idx) if indices else y


@handles("upsample_nearest2d.default")
def _upsample_nearest(imp, node, x, output_size, scales_h=None, scales_w=None):
    """Each output pixel takes input pixel min(floor(dst * scale), in - 1), with
    scale = 1 / scales_h where given, else in / out, in float32 as ATen's
    nearest_idx computes it: a constant-index gather per spatial axis.
    (The .vec form is decomposed by PyTorch into this one.)"""
    x = imp.value(x)
    rank = _rank(x)
    for axis, size, scale in ((rank - 2, output_size[0], scales_h), (rank - 1, output_size[1], scales_w)):
        n = _shape(x)[axis]
        if size == n:
            continue
        step = np.float32(1.0 / scale) if scale else np.float32(n) / np.float32(size)
        src = np.minimum(np.floor(np.arange(size, dtype=np.float32) * step).astype(np.int64), n - 1)
        x = _take(imp, x, axis, src.tolist())
    return x


@handles("avg_pool2d")
def _avg_pool(imp, node, x, kernel, stride=None, padding=0, ceil_mode=False,
              count_include_pad=True, divisor_override=None):
    x = _nchw(imp.value(x))
    k, s, p, _ = _pool_args(kernel, stride, padding)
    n, c, h, w = _shape(x)
    outs = [_pool_out(size, k[i], s[i], p[i], 1, ceil_mode) for i, size in enumerate((h, w))]
    ceil = outs != [_pool_out(size, k[i], s[i], p[i], 1, False) for i, size in enumerate((h, w))]
    if not ceil and (count_include_pad or not any(p)) or divisor_override:
        y = ops.avg_pool2d(x, k, s, p)
        if divisor_override:
            y = ops.mul(y, imp.scalar(k[0] * k[1] / divisor_override, y))
        return _unbatched(node, y)
    # Ceil mode, or padding left out of the count: the window sums over the
    # input, zero-padded on the right for ceil mode's last windows, divided
    # by PyTorch's per-window count. A kernel wider than the padded input
    # (EfficientNet's pooler, 1280 over 7x7) is cut to it: one window, the
    # same sum.
    np_dtype = ops.NUMPY_DTYPES[_dtype(x)]
    k = tuple(min(k[i], size + 2 * p[i]) for i, size in enumerate((h, w)))
    counts = []
    for axis, size in ((2, h), (3, w)):
        i = axis - 2
        right = max(0, (outs[i] - 1) * s[i] + k[i] - (size + 2 * p[i]))
        if right:
            shape = list(_shape(x))
            shape[axis] = right
            x = ops.concat([x, ops.constant(np.zeros(shape, np_dtype))], axis=axis)
        start = np.arange(outs[i]) * s[i] - p[i]
        end = np.minimum(start + k[i], size + p[i])
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, size)
        counts.append(end - start)
    scale = (k[0] * k[1]) / np.outer(counts[0], counts[1]).astype(np_dtype)
    y = ops.mul(ops.avg_pool2d(x, k, s, p), ops.constant(scale.reshape(1, 1, *outs)))
    return _unbatched(node, y)


@handles("avg_pool1d", "max_pool1d", "adaptive_avg_pool1d")
def _pool1d(imp, node, x, kernel, stride=None, padding=0, *rest):
    """1-D pooling of (N, C, L) or (C, L) as 2-D pooling of (N, C, 1, L)."""
    x = imp.value(x)
    shape = _shape(x) if _rank(x) == 3 else (1,) + _shape(x)
    x = ops.reshape(x, shape[:2] + (1,) + shape[2:])
    name = node.target._opname
    if name == "adaptive_avg_pool1d":
        return _unbatched(node, _adaptive_avg_pool(imp, node, x, (1,) + _pair(kernel, 1)))
    kernel = _pair(kernel, 1)
    stride = (1,) + (_pair(stride, 1) if stride not in (None, [], ()) else kernel)
    padding = (0,) + _pair(padding, 1)
    if name == "max_pool1d":
        dilation, ceil_mode = (list(rest) + [1, False][len(rest):])[:2]
        return _max_pool(imp, node, x, (1,) + kernel, stride, padding, (1,) + _pair(dilation, 1),
                         ceil_mode)
    return _avg_pool(imp, node, x, (1,) + kernel, stride, padding, *rest)


@handles("adaptive_avg_pool2d", "_adaptive_avg_pool2d")
def _adaptive_avg_pool(imp, node, x, output_size):
    x = imp.value(x)
    h, w = _shape(x)[-2:]
    oh, ow = _pair(output_size)
    oh, ow = oh or h, ow or w
    if (oh, ow) == (1, 1):
        return ops.reduce_mean(x, (-2, -1), keepdims=True)
    if h % oh or w % ow:
        return _adaptive(imp, x, (oh, ow), ops.reduce_mean)
    return ops.avg_pool2d(x, (h // oh, w // ow), (h // oh, w // ow), (0, 0))


def _adaptive(imp, x, out, reduce):
    """Adaptive pooling with uneven windows: output i of a dim of size n pools
    [floor(i*n/o), ceil((i+1)*n/o)). Windows are rectangles and mean/max are
    separable, so the last two dims are pooled one after the other."""
    for axis, o in zip((-2, -1), out):
        n = _shape(x)[axis]
        if n == o:
            continue
        axis = axis % _rank(x)
        parts = [reduce(_slice(imp, x, axis, (i * n) // o, -((-(i + 1) * n) // o)), (axis,),
                        keepdims=True) for i in range(o)]
        x = ops.concat(parts, axis=axis) if len(parts) > 1 else parts[0]
    return x


@handles("adaptive_max_pool2d", "adaptive_max_pool1d")
def _adaptive_max_pool(imp, node, x, output_size):
    x = imp.value(x)
    if node.target._opname == "adaptive_max_pool1d":
        x = ops.reshape(x, _shape(x)[:-1] + (1, _shape(x)[-1]))
        output_size = (1,) + _pair(output_size, 1)
    oh, ow = _pair(output_size)
    y = _adaptive(imp, x, (oh or _shape(x)[-2], ow or _shape(x)[-1]), ops.reduce_max)
    return (_unbatched(node, y), None)  # the indices are not computed


@handles("layer_norm", "native_layer_norm")
def _layer_norm(imp, node, x, normalized_shape, weight=None, bias=None, eps=1e-5, *rest):
    x = imp.value(x)
    norm = tuple(normalized_shape)
    np_dtype = ops.NUMPY_DTYPES[_dtype(x)]
    gamma = imp.value(weight) if weight is not None else ops.constant(np.ones(norm, np_dtype))
    beta = imp.value(bias) if bias is not None else ops.constant(np.zeros(norm, np_dtype))
    y = ops.layer_norm(x, gamma, beta, axis=_rank(x) - len(norm), epsilon=float(eps))
    return (y, None, None) if node.target._opname == "native_layer_norm" else y


@handles("group_norm", "native_group_norm")
def _group_norm(imp, node, x, *args):
    # group_norm(x, groups, weight, bias, eps); native_group_norm(x, weight,
    # bias, N, C, HxW, groups, eps). A layer norm over each group's channels
    # and positions, then the per-channel affine.
    if node.target._opname == "group_norm":
        groups, weight, bias, eps = (list(args) + [None, None, 1e-5])[:4]
    else:
        weight, bias, _, _, _, groups, eps = args
    x = imp.value(x)
    shape, np_dtype = _shape(x), ops.NUMPY_DTYPES[_dtype(x)]
    inner = math.prod(shape[1:]) // int(groups)
    y = ops.reshape(x, (shape[0], int(groups), inner))
    y = ops.layer_norm(y, ops.constant(np.ones((inner,), np_dtype)),
                       ops.constant(np.zeros((inner,), np_dtype)), axis=2, epsilon=float(eps))
    y = ops.reshape(y, shape)
    bshape = (1, shape[1]) + (1,) * (len(shape) - 2)
    if weight is not None:
        y = ops.mul(y, ops.reshape(imp.value(weight), bshape))
    if bias is not None:
        y = ops.add(y, ops.reshape(imp.value(bias), bshape))
    return y if node.target._opname == "group_norm" else (y, None, None)


# softmax(x, dim, dtype) and _softmax(x, dim, half_to_float) compute in the
# result's dtype: the input is cast to it first, as PyTorch does.
@handles("softmax", "_softmax")
def _softmax(imp, node, x, dim, dtype_or_half=None):
    return ops.softmax(imp.value(x, imp.out_type().dtype), axis=int(dim))


@handles("log_softmax", "_log_softmax")
def _log_softmax(imp, node, x, dim, dtype_or_half=None):
    x = imp.value(x, imp.out_type().dtype)
    shifted = ops.sub(x, ops.reduce_max(x, (dim,), keepdims=True))
    return ops.sub(shifted, ops.log(ops.reduce_sum(ops.exp(shifted), (dim,), keepdims=True)))


# --- reductions -----------------------------------------------------------------------

def _reduce_handler(build):
    def handler(imp, node, x, dim=None, keepdim=False, *, dtype=None):
        # sum(x, dtype=d) casts x to d first; sums of integers are int64 in PyTorch.
        x = imp.value(x, imp.out_type().dtype)
        dims = range(_rank(x)) if dim is None or (isinstance(dim, (list, tuple)) and not dim) \
            else ([dim] if isinstance(dim, int) else dim)
        return build(x, tuple(dims), keepdims=bool(keepdim))
    return handler


handles("sum")(_reduce_handler(ops.reduce_sum))
handles("mean")(_reduce_handler(ops.reduce_mean))
handles("amax")(_reduce_handler(ops.reduce_max))


@handles("max.dim")
def _max_dim(imp, node, x, dim, keepdim=False):
    return (ops.reduce_max(imp.value(x), (dim,), keepdims=keepdim), None)


def _var_dims(x, dim, unbiased, correction):
    if isinstance(unbiased, (list, tuple)) or unbiased is None and isinstance(dim, bool):
        raise ImportUnsupported("this var/std overload is not supported")
    dims = tuple(range(_rank(x)) if not dim else ([dim] if isinstance(dim, int) else dim))
    if correction is None:
        correction = 1 if unbiased in (None, True) else 0
    return dims, correction


def _variance(imp, x, dims, correction, keepdim):
    """(variance, mean) over `dims`: the mean subtracted before squaring."""
    n = math.prod(_shape(x)[_axis(d, _rank(x))] for d in dims)
    mean = ops.reduce_mean(x, dims, keepdims=True)
    centered = ops.sub(x, mean)
    y = ops.reduce_sum(ops.mul(centered, centered), dims, keepdims=keepdim)
    y = ops.div(y, imp.scalar(float(max(n - correction, 0)), y))
    return y, mean if keepdim else ops.reshape(mean, _shape(y))


@handles("var", "std")
def _var(imp, node, x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    x = imp.value(x)
    y, _ = _variance(imp, x, *_var_dims(x, dim, unbiased, correction), keepdim)
    return ops.sqrt(y) if node.target._opname == "std" else y


@handles("var_mean", "std_mean")
def _var_mean(imp, node, x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    x = imp.value(x)
    y, mean = _variance(imp, x, *_var_dims(x, dim, unbiased, correction), keepdim)
    return (ops.sqrt(y) if node.target._opname == "std_mean" else y), mean


def _negated(imp, x):
    return ops.neg(x) if _dtype(x) in shapes.FLOAT_DTYPES else ops.sub(imp.scalar(0, x), x)


def _reduce_dims(x, dim):
    if dim is None or (isinstance(dim, (list, tuple)) and not dim):
        return tuple(range(_rank(x)))
    return (dim,) if isinstance(dim, int) else tuple(dim)


@handles("amin", "min.dim", "min.default", "max.default")
def _min(imp, node, x, dim=None, keepdim=False):
    """amin and min as the negated maximum of -x (max.default: the maximum);
    min.dim's indices are not computed (as max.dim's)."""
    x = imp.value(x)
    dims = _reduce_dims(x, dim)
    if node.target._opname == "max":
        return ops.reduce_max(x, dims, keepdims=bool(keepdim))
    y = _negated(imp, ops.reduce_max(_negated(imp, x), dims, keepdims=bool(keepdim)))
    return (y, None) if node.target._overloadname == "dim" else y


@handles("prod")
def _prod(imp, node, x, dim=None, keepdim=False, *, dtype=None):
    """The product over `dim` (over all of x without one) as a tree of
    elementwise products, halving the axis each step (an odd length gets a 1):
    log2(n) ops, exact for integers, rounded like a pairwise sum for floats."""
    out = imp.out_type()
    x = imp.value(x, out.dtype)
    if dim is None:
        x, axis = ops.reshape(x, (math.prod(_shape(x)),)), 0
    else:
        axis = _axis(dim, _rank(x))
    if _shape(x)[axis] == 0:
        return imp.constant(np.ones(out.shape), out.dtype)
    while _shape(x)[axis] > 1:
        n = _shape(x)[axis]
        if n % 2:
            shape = list(_shape(x))
            shape[axis] = 1
            x = ops.concat([x, imp.constant(np.ones(shape), out.dtype)], axis=axis)
            n += 1
        x = ops.mul(_slice(imp, x, axis, 0, n // 2), _slice(imp, x, axis, n // 2, n))
    return ops.reshape(x, out.shape)


@handles("any", "all")
def _any(imp, node, x, dim=None, keepdim=False):
    """any: some x != 0; all: no x == 0 (booleans as i32 for the reduction,
    whose identity, the lowest i32, makes any() of nothing False, all() True)."""
    x = imp.value(x)
    dims = _reduce_dims(x, dim)
    found = "ne" if node.target._opname == "any" else "eq"
    hit = ops.reduce_max(ops.cast(ops.compare(x, imp.scalar(0, x), found), "i32"), dims,
                         keepdims=bool(keepdim))
    return ops.compare(hit, imp.scalar(0 if found == "ne" else 1, hit),
                       "gt" if found == "ne" else "lt")


# --- shapes ---------------------------------------------------------------------------

@handles("view", "reshape", "_unsafe_view", "flatten", "unflatten", "squeeze", "unsqueeze",
         "view_as", "reshape_as")
def _reshape(imp, node, x, *args):
    x = imp.value(x)
    shape = imp.out_type().shape
    return x if _shape(x) == shape else ops.reshape(x, shape)


@handles("expand", "expand_as", "broadcast_to")
def _expand(imp, node, x, *args, **kwargs):
    x = imp.value(x)
    shape = imp.out_type().shape
    return x if _shape(x) == shape else ops.broadcast_to(x, shape)


@handles("repeat")
def _repeat(imp, node, x, repeats):
    """x tiled `repeats` times per dim: each dim s becomes (r, s) by a broadcast,
    then (r * s) by a reshape."""
    x = imp.value(x)
    shape = (1,) * (len(repeats) - _rank(x)) + _shape(x)
    x = ops.reshape(x, tuple(d for s in shape for d in (1, s)))
    x = ops.broadcast_to(x, tuple(d for r, s in zip(repeats, shape) for d in (r, s)))
    return ops.reshape(x, tuple(r * s for r, s in zip(repeats, shape)))


@handles("mT", "numpy_T")
def _mT(imp, node, x):
    x = imp.value(x)
    perm = list(range(_rank(x)))
    if node.target._opname == "numpy_T":
        perm.reverse()
    else:
        perm[-1], perm[-2] = perm[-2], perm[-1]
    return ops.transpose(x, perm) if _rank(x) >= 2 else x


@handles("permute")
def _permute(imp, node, x, dims):
    x = imp.value(x)
    perm = tuple(_axis(d, _rank(x)) for d in dims)
    return x if perm == tuple(range(len(perm))) else ops.transpose(x, perm)


@handles("transpose", "swapaxes")
def _transpose(imp, node, x, d0, d1):
    x = imp.value(x)
    perm = list(range(_rank(x)))
    a, b = _axis(d0, len(perm)), _axis(d1, len(perm))
    perm[a], perm[b] = perm[b], perm[a]
    return x if a == b else ops.transpose(x, perm)


@handles("cat", "concat")
def _cat(imp, node, tensors, dim=0):
    dtype = imp.out_type().dtype
    values = [v for v in (imp.value(t, dtype) for t in tensors) if math.prod(_shape(v)) > 0]
    if len(values) == 1:
        return values[0]
    return ops.concat(values, axis=_axis(dim, _rank(values[0])))


@handles("stack")
def _stack(imp, node, tensors, dim=0):
    out = imp.out_type()
    axis = _axis(dim, out.rank)
    values = []
    for t in tensors:
        v = imp.value(t, out.dtype)
        shape = _shape(v)
        values.append(ops.reshape(v, shape[:axis] + (1,) + shape[axis:]))
    return values[0] if len(values) == 1 else ops.concat(values, axis=axis)


@handles("slice")
def _slice_handler(imp, node, x, dim=0, start=None, end=None, step=1):
    x = imp.value(x)
    return _slice(imp, x, _axis(dim, _rank(x)), start, end, step)


@handles("select")
def _select(imp, node, x, dim, index):
    x = imp.value(x)
    axis = _axis(dim, _rank(x))
    y = _take(imp, x, axis, [index % _shape(x)[axis]])
    return ops.reshape(y, imp.out_type().shape)


@handles("split", "split_with_sizes", "chunk", "tensor_split")
def _split(imp, node, x, sizes, dim=0):
    x = imp.value(x)
    axis = _axis(dim, _rank(x))
    outs, start = [], 0
    for val in node.meta["val"]:
        outs.append(_slice(imp, x, axis, start, start + val.shape[axis]))
        start += val.shape[axis]
    return tuple(outs)


def _pad_widths(x, pad):
    """torch's pad list (last dim first, (before, after) pairs) as per-dim lists."""
    rank = _rank(x)
    if len(pad) % 2 or len(pad) // 2 > rank:
        raise ImportUnsupported(f"a pad list of {len(pad)} values for a rank-{rank} tensor")
    low, high = [0] * rank, [0] * rank
    for i in range(len(pad) // 2):
        low[rank - 1 - i], high[rank - 1 - i] = int(pad[2 * i]), int(pad[2 * i + 1])
    return low, high


@handles("constant_pad_nd", "pad")
def _pad(imp, node, x, pad, mode="constant", value=None):
    x = imp.value(x)
    low, high = _pad_widths(x, pad)
    # Negative widths crop: slice first, then pad what is left.
    for axis in range(_rank(x)):
        if low[axis] < 0 or high[axis] < 0:
            size = _shape(x)[axis]
            x = _slice(imp, x, axis, max(-low[axis], 0), size - max(-high[axis], 0))
            low[axis], high[axis] = max(low[axis], 0), max(high[axis], 0)
    if node.target._opname == "constant_pad_nd":  # (x, pad, value)
        mode, value = "constant", (0.0 if mode == "constant" else mode)
    if mode == "constant":
        return ops.pad(x, low, high, 0.0 if value is None else float(value)) \
            if any(low) or any(high) else x
    # The other modes read x at mirrored, clamped or wrapped indices: one gather per dim.
    for axis in range(_rank(x)):
        n, lo, hi = _shape(x)[axis], low[axis], high[axis]
        if not lo and not hi:
            continue
        index = np.arange(-lo, n + hi)
        if mode == "reflect":
            if lo >= n or hi >= n:
                raise ImportUnsupported("reflect padding must be smaller than the dimension")
            index = np.abs(index)
            index = np.where(index >= n, 2 * (n - 1) - index, index)
        elif mode == "replicate":
            index = np.clip(index, 0, n - 1)
        elif mode == "circular":
            index = index % n
        else:
            raise ImportUnsupported(f"padding mode {mode!r} is not supported")
        x = _take(imp, x, axis, index)
    return x


@handles("unbind")
def _unbind(imp, node, x, dim=0):
    x = imp.value(x)
    axis = _axis(dim, _rank(x))
    return tuple(ops.reshape(_take(imp, x, axis, [i]), tuple(val.shape))
                 for i, val in enumerate(node.meta["val"]))


@handles("index_select")
def _index_select(imp, node, x, dim, index):
    x = imp.value(x)
    index = imp.value(index)
    if _rank(index) == 0:  # a 0-d index selects one entry and keeps the dim
        index = ops.reshape(index, (1,))
    return ops.gather(x, index, axis=_axis(dim, _rank(x)))


@handles("tril", "triu")
def _triangle(imp, node, x, diagonal=0):
    """x with the elements above (tril) or below (triu) a diagonal zeroed: a
    constant mask over the last two dims."""
    rows, cols = imp.out_type().shape[-2:]
    keep = np.ones((rows, cols), bool)
    keep = np.tril(keep, diagonal) if node.target._opname == "tril" else np.triu(keep, diagonal)
    return _mask_select(imp, Const(torch.from_numpy(keep)), x, 0)


@handles("argmax", "argmin")
def _argmax(imp, node, x, dim=None, keepdim=False):
    """The first index of the maximum (minimum) along `dim` (of the flattened x
    for dim=None): the smallest index where x equals its maximum, as the
    negated maximum of the negated candidate indices (int64 throughout)."""
    x = imp.value(x)
    if dim is None:
        x, dim = ops.reshape(x, (math.prod(_shape(x)),)), 0
    axis = _axis(dim, _rank(x))
    n = _shape(x)[axis]
    if node.target._opname == "argmin":
        x = ops.neg(x) if _dtype(x) not in ("i64", "i32", "i8") else ops.sub(imp.scalar(0, x), x)
    best = ops.compare(x, ops.reduce_max(x, (axis,), keepdims=True), "eq")
    iota = np.arange(n, dtype=np.int64).reshape((n,) + (1,) * (_rank(x) - axis - 1))
    candidates = ops.select(best, ops.constant(iota), ops.constant(np.array([n], np.int64)))
    zero = ops.constant(np.zeros((1,) * _rank(x), np.int64))
    y = ops.sub(zero, ops.reduce_max(ops.sub(zero, candidates), (axis,), keepdims=True))
    return ops.reshape(y, imp.out_type().shape)


# Ranking compares every pair along the dim: (n, n) booleans a row.
RANK_MAX = 4096


def _ranked(imp, x, axis, k, descending):
    """(values, indices) of the first `k` elements of x sorted along `axis`,
    stably (equal elements in index order, as torch.sort(stable=True)).

    Each element's place is the count of elements that go before it (greater,
    for descending, or equal at a lower index): a fixed number of ops for any
    k, where k rounds of argmax would unroll k reductions (topk's k=2 over a
    Mixtral router's experts, and sort's k=n alike). NaNs are not ordered.
    """
    rank, n = _rank(x), _shape(x)[axis]
    if n > RANK_MAX:
        raise ImportUnsupported(f"sorting {n} elements along a dim is not supported "
                                f"(euler ranks them by all pairs, up to {RANK_MAX})")
    perm = [d for d in range(rank) if d != axis] + [axis]
    inverse = list(np.argsort(perm))
    x = ops.transpose(x, perm) if axis != rank - 1 else x
    lead = _shape(x)[:-1]
    xi = ops.reshape(x, lead + (n, 1))   # the element placed
    xj = ops.reshape(x, lead + (1, n))   # each element it is compared with
    before = ops.compare(xj, xi, "gt" if descending else "lt")
    lower = np.tril(np.ones((n, n), np.int8), -1)  # j < i
    ties = ops.minimum(ops.compare(xj, xi, "eq"), ops.constant(lower))
    place = ops.reduce_sum(ops.cast(ops.maximum(before, ties), "i64"), (rank,))
    # idx[r] = the i whose place is r: one match per r, summed out.
    hit = ops.compare(ops.reshape(place, lead + (1, n)),
                      ops.constant(np.arange(k, dtype=np.int64).reshape(k, 1)), "eq")
    iota = ops.constant(np.arange(n, dtype=np.int64).reshape(1, n))
    idx = ops.reduce_sum(ops.select(hit, iota, ops.constant(np.zeros((1, 1), np.int64))), (rank,))
    values = _gather_along(x, rank - 1, idx)
    if axis != rank - 1:
        values, idx = ops.transpose(values, inverse), ops.transpose(idx, inverse)
    return values, idx


@handles("topk")
def _topk(imp, node, x, k, dim=-1, largest=True, sorted=True):
    """The k largest (smallest) along `dim`, in order: a stable ranking, so
    equal elements come in index order (torch leaves their order open)."""
    x = imp.value(x)
    return _ranked(imp, x, _axis(dim, _rank(x)), k, bool(largest))


@handles("sort.default", "sort.stable")
def _sort(imp, node, x, *args, **kwargs):
    if node.target._overloadname == "stable":  # sort(x, *, stable, dim=-1, descending=False)
        dim, descending = kwargs.get("dim", -1), kwargs.get("descending", False)
    else:
        dim, descending = (list(args) + [-1, False][len(args):])[:2]
        dim, descending = kwargs.get("dim", dim), kwargs.get("descending", descending)
    x = imp.value(x)
    axis = _axis(dim, _rank(x))
    return _ranked(imp, x, axis, _shape(x)[axis], bool(descending))


@handles("histc")
def _histc(imp, node, x, bins=100, min=0, max=0):
    """Counts of x in `bins` equal bins over [min, max] (x == max in the last),
    as x's dtype; values outside are left out. The bins are the data's range
    when min == max in PyTorch: not known at compile time."""
    if min == max:
        raise ImportUnsupported("histc over the data's own range (min == max) is not supported")
    x = imp.value(x)
    dtype = _dtype(x)
    flat = ops.reshape(x, (math.prod(_shape(x)), 1))
    scale = imp.scalar(bins / (max - min), flat)
    idx = ops.cast(_round(imp, ops.mul(ops.sub(flat, imp.scalar(min, flat)), scale), "floor"), "i64")
    idx = ops.select(ops.compare(flat, imp.scalar(max, flat), "eq"), imp.scalar(bins - 1, idx), idx)
    inside = ops.minimum(ops.compare(flat, imp.scalar(min, flat), "ge"),
                         ops.compare(flat, imp.scalar(max, flat), "le"))
    hit = ops.minimum(ops.compare(idx, ops.constant(np.arange(bins, dtype=np.int64).reshape(1, bins)),
                                  "eq"), inside)
    return ops.cast(ops.reduce_sum(ops.cast(hit, "i64"), (0,)), dtype)


@handles("transformers::grouped_mm_fallback")
def _grouped_mm(imp, node, x, weight, offs):
    """transformers' grouped matmul of its default mixture-of-experts code:
    rows [offs[e-1], offs[e]) of x (sorted by expert) times weight[e], rows
    past offs[-1] zero. Each row's expert is the count of offsets at or below
    it; every expert's product is computed and each row takes its own (few
    experts: E times the multiply-adds, no data-dependent shapes)."""
    x, w = imp.value(x), imp.value(weight)
    rows, experts, cols = _shape(x)[0], _shape(w)[0], _shape(w)[2]
    offs = ops.reshape(imp.value(offs, "i64"), (1, experts))
    row = ops.constant(np.arange(rows, dtype=np.int64).reshape(rows, 1))
    group = ops.reduce_sum(ops.cast(ops.compare(offs, row, "le"), "i64"), (1,))  # (rows,)
    every = ops.transpose(ops.matmul(ops.reshape(x, (1, rows, _shape(x)[1])), w), (1, 0, 2))
    clamped = ops.minimum(group, imp.scalar(experts - 1, group))
    idx = ops.broadcast_to(ops.reshape(clamped, (rows, 1, 1)), (rows, 1, cols))
    y = ops.reshape(_gather_along(every, 1, idx), (rows, cols))
    past = ops.reshape(ops.compare(group, imp.scalar(experts, group), "eq"), (rows, 1))
    return ops.select(past, imp.scalar(0.0, y), y)


@handles("index.Tensor")
def _index(imp, node, x, indices):
    """x[..., i0, i1, ...] with index tensors at adjacent dims (advanced indexing)."""
    x = imp.value(x)
    dims = [d for d, t in enumerate(indices) if t is not None]
    if not dims:
        return x
    if any(_torch_dtype(node.args[1][d]) not in (torch.int64, torch.int32) for d in dims):
        raise ImportUnsupported("indexing with boolean masks is not supported "
                                "(the result's shape depends on the values)")
    idx = [imp.value(indices[d], "i64") for d in dims]
    k = dims[0]
    if dims != list(range(dims[0], dims[-1] + 1)):
        # Index tensors at non-adjacent dims: PyTorch puts the indexed dims first.
        x = ops.transpose(x, dims + [d for d in range(_rank(x)) if d not in dims])
        k = 0
    shape = _shape(x)
    if len(idx) == 1:
        return ops.gather(x, idx[0], axis=k)
    # Several index tensors address dims k.. together: one gather over those dims
    # flattened, at the row-major offset of each index tuple.
    sizes = shape[k:k + len(idx)]
    flat = None
    for i, size in zip(idx, sizes):
        wrapped = _wrapped(imp, i, size)
        flat = wrapped if flat is None else ops.add(ops.mul(flat, imp.scalar(size, flat)), wrapped)
    x = ops.reshape(x, shape[:k] + (math.prod(sizes),) + shape[k + len(idx):])
    return ops.gather(x, flat, axis=k)


def _wrapped(imp, i, size):
    """Index tensor `i` into a dim of `size` with negative indices counted from the end."""
    return ops.select(ops.compare(i, imp.scalar(0, i), "lt"), ops.add(i, imp.scalar(size, i)), i)


@handles("embedding")
def _embedding(imp, node, weight, indices, *rest):
    idx = imp.value(indices)
    if _dtype(idx) not in ("i64", "i32"):
        raise ImportUnsupported(f"embedding indices must be integers, got {_dtype(idx)}")
    return ops.gather(imp.value(weight), idx, axis=0)


# --- writes into tensors: scatter, index_put, slice_scatter ----------------------------------

def _scatter_along(imp, x, axis, idx, src, reduce="replace", include_self=True):
    """x with src[p] written at x[p with p[axis] replaced by idx[p]] (torch.scatter's
    addressing; idx and src of one shape, no larger than x), or combined there
    by `reduce` ("sum", "mean", "amax", "amin"). The indices are run-time
    values, so each target position finds its writers by comparison:
    eq[..., j, r, ...] = (idx[..., j, ...] == r) over the index's extent j and
    x's extent r along `axis`, which costs O(|idx| * x.shape[axis]). Positions
    no index names keep x's value; of several writers to one position the last
    one wins (what PyTorch's CPU kernels do).
    """
    xs, ish = _shape(x), _shape(idx)
    rank, n_r, n_j = len(xs), xs[axis], ish[axis]
    idx = _wrapped(imp, idx, n_r)

    def iota(d, n):  # arange(n) along dim d of a rank-(rank + 1) tensor
        return ops.constant(np.arange(n, dtype=np.int64).reshape(
            [n if e == d else 1 for e in range(rank + 1)]))

    def spread(v):  # a unit dim for r after the index's dim j
        return ops.reshape(v, ish[:axis + 1] + (1,) + ish[axis + 1:])

    eq = ops.compare(spread(idx), iota(axis + 1, n_r), "eq")
    last = ops.reduce_max(ops.select(eq, iota(axis, n_j), ops.constant(np.full((1,) * (rank + 1), -1))),
                          (axis,))
    hit = ops.compare(last, imp.scalar(0, last), "ge")
    # x over the positions the index can address (its extent off the axis).
    x_t = x
    for d in range(rank):
        if d != axis:
            x_t = _slice(imp, x_t, d, 0, ish[d])
    if reduce == "replace":
        y = _gather_along(src, axis, ops.maximum(last, imp.scalar(0, last)))
    elif reduce in ("sum", "mean"):
        zero = imp.scalar(0, spread(src))
        y = ops.reduce_sum(ops.select(eq, spread(src), zero), (axis,))
        if include_self:
            y = ops.add(y, x_t)
        if reduce == "mean":
            if _dtype(x) not in shapes.FLOAT_DTYPES:
                raise ImportUnsupported("scatter_reduce 'mean' of integers is not supported")
            ones = ops.select(eq, imp.scalar(1, spread(src)), zero)
            count = ops.reduce_sum(ones, (axis,))
            if include_self:
                count = ops.add(count, imp.scalar(1, count))
            y = ops.div(y, ops.maximum(count, imp.scalar(1, count)))
    elif reduce in ("amax", "amin"):
        lowest = -math.inf if _dtype(x) in shapes.FLOAT_DTYPES else np.iinfo(ops.NUMPY_DTYPES[_dtype(x)]).min + 1
        flip = (lambda v: _negated(imp, v)) if reduce == "amin" else (lambda v: v)  # noqa: E731
        y = ops.reduce_max(ops.select(eq, flip(spread(src)), imp.scalar(lowest, spread(src))), (axis,))
        y = flip(ops.maximum(y, flip(x_t)) if include_self else y)
    else:
        raise ImportUnsupported(f"scatter reduction '{reduce}' is not supported")
    y = ops.select(hit, y, x_t)
    if _shape(y) == xs:
        return y
    # Positions outside the index's extent keep x: pad y to x's shape and select.
    y = ops.pad(y, [0] * rank, [a - b for a, b in zip(xs, _shape(y))])
    inside = np.zeros(xs, np.int8)
    inside[tuple(slice(0, n) for n in _shape(x_t))] = 1
    return ops.select(ops.constant(inside), y, x)


_SCATTER_REDUCE = {None: "replace", "add": "sum", "sum": "sum", "mean": "mean",
                   "amax": "amax", "amin": "amin"}


@handles("scatter", "scatter_add", "scatter_reduce")
def _scatter(imp, node, x, dim, index, src, reduce=None, *, include_self=True):
    """scatter (.src, .value, .reduce), scatter_add and scatter_reduce.two."""
    out = imp.out_type()
    x = imp.value(x, out.dtype)
    axis = _axis(dim, out.rank)
    idx = imp.value(index, "i64")
    if node.target._opname == "scatter_add":
        reduce = "add"
    if reduce not in _SCATTER_REDUCE:
        raise ImportUnsupported(f"scatter reduction '{reduce}' is not supported")
    if isinstance(src, (bool, int, float)):
        src = ops.broadcast_to(imp.scalar(src, x), _shape(idx))
    else:
        src = imp.value(src, out.dtype)
        for d, n in enumerate(_shape(idx)):  # torch reads src only where idx has entries
            src = _slice(imp, src, d, 0, n)
    return _scatter_along(imp, x, axis, idx, src, _SCATTER_REDUCE[reduce], include_self)


@handles("index_put", "_index_put_impl")
def _index_put(imp, node, x, indices, values, accumulate=False, unsafe=False):
    """x[i0, i1, ...] = values (+= with `accumulate`): the indexed dims are moved
    first and flattened into rows, and the rows are scattered along them."""
    out = imp.out_type()
    x = imp.value(x, out.dtype)
    xs = _shape(x)
    dims = [d for d, t in enumerate(indices) if t is not None]
    if not dims:
        raise ImportUnsupported("index_put without an index tensor")
    if any(_torch_dtype(node.args[1][d]) in (torch.bool, torch.uint8) for d in dims):
        return _masked_put(imp, node, x, indices, dims, values, accumulate)
    idx = [_wrapped(imp, imp.value(indices[d], "i64"), xs[d]) for d in dims]
    batch = tuple(np.broadcast_shapes(*(_shape(i) for i in idx)))
    linear = None
    for i, d in zip(idx, dims):
        linear = i if linear is None else ops.add(ops.mul(linear, imp.scalar(xs[d], linear)), i)
    if _shape(linear) != batch:
        linear = ops.broadcast_to(linear, batch)
    others = [d for d in range(len(xs)) if d not in dims]
    inner = math.prod(xs[d] for d in others)
    rows, n = math.prod(xs[d] for d in dims), math.prod(batch)
    # values broadcast to what x[indices] would be: the batch dims sit where the
    # indexed dims were if these are adjacent, else first (PyTorch's rule).
    k = dims[0] if dims == list(range(dims[0], dims[-1] + 1)) else 0
    view = tuple(xs[d] for d in others[:k]) + batch + tuple(xs[d] for d in others[k:])
    v = imp.value(values, out.dtype)
    if _shape(v) != view:
        v = ops.broadcast_to(v, view)
    if k:
        b = len(batch)
        v = ops.transpose(v, list(range(k, k + b)) + list(range(k)) + list(range(k + b, len(view))))
    perm = dims + others
    xt = x if perm == list(range(len(xs))) else ops.transpose(x, perm)
    y = _scatter_along(imp, ops.reshape(xt, (rows, inner)), 0,
                       ops.broadcast_to(ops.reshape(linear, (n, 1)), (n, inner)),
                       ops.reshape(v, (n, inner)), "sum" if accumulate else "replace")
    y = ops.reshape(y, _shape(xt))
    return y if perm == list(range(len(xs))) else ops.transpose(y, list(np.argsort(perm)))


def _masked_put(imp, node, x, indices, dims, values, accumulate):
    """x[mask] = v with a boolean mask and a single value: a select."""
    mask = indices[dims[0]]
    mshape = tuple(node.args[1][dims[0]].meta["val"].shape)
    d = dims[0]
    if len(dims) > 1 or _shape(x)[d:d + len(mshape)] != mshape:
        raise ImportUnsupported("index_put with boolean masks beside other indices")
    v = imp.value(values, _dtype(x))
    if math.prod(_shape(v)) != 1:
        raise ImportUnsupported("index_put of several values at a boolean mask "
                                "(where they go depends on the mask's values)")
    rank = _rank(x)
    v = ops.reshape(v, (1,) * rank)
    m = imp.value(mask, "i8")
    m = ops.reshape(m, (1,) * d + mshape + (1,) * (rank - d - len(mshape)))
    return ops.select(m, ops.add(x, v) if accumulate else v, x)


@handles("slice_scatter", "select_scatter")
def _slice_scatter(imp, node, x, src, dim=0, start=None, end=None, step=1):
    """x with src written at a constant slice (or index) along `dim`: a gather
    from x and src side by side."""
    out = imp.out_type()
    x, src = imp.value(x, out.dtype), imp.value(src, out.dtype)
    axis = _axis(dim, out.rank)
    n = _shape(x)[axis]
    if node.target._opname == "select_scatter":
        pos = [start % n]
        src = ops.reshape(src, _shape(src)[:axis] + (1,) + _shape(src)[axis:])
    else:
        pos = list(range(n)[slice(start, end, step)])
    if not pos:
        return x
    take = np.arange(n)
    take[pos] = n + np.arange(len(pos))
    return _take(imp, ops.concat([x, src], axis=axis), axis, take)


# --- tensors made from a shape, value tests, views ------------------------------------------

_FILL = {"zeros_like": 0, "ones_like": 1, "empty_like": 0, "new_zeros": 0, "new_ones": 1,
         "new_empty": 0}


@handles("full_like", "zeros_like", "ones_like", "empty_like", "new_full", "new_zeros",
         "new_ones", "new_empty")
def _filled(imp, node, x, *args, **kwargs):
    """One value at every position of the node's shape: only x's shape counts,
    so a run-time x changes nothing (empty tensors are zeros)."""
    name = node.target._opname
    value = _FILL.get(name)
    if value is None:  # full_like(x, v) and new_full(x, size, v)
        value = args[0] if name == "full_like" else args[1]
    if isinstance(value, Const) and value.tensor.numel() == 1:
        value = value.tensor.item()
    if not isinstance(value, (bool, int, float)):
        raise ImportUnsupported("a fill value computed at run time")
    out = imp.out_type()
    y = imp.operand(value, out.dtype, out.rank)
    return y if _shape(y) == out.shape else ops.broadcast_to(y, out.shape)


@handles("copy")
def _copy(imp, node, dst, src, non_blocking=False):
    """The functional copy_: src broadcast to dst's shape and cast to its dtype."""
    out = imp.out_type()
    y = imp.value(src, out.dtype)
    return y if _shape(y) == out.shape else ops.broadcast_to(y, out.shape)


@handles("isnan", "isinf", "isposinf", "isneginf", "isfinite")
def _float_class(imp, node, x):
    x = imp.value(x)
    name = node.target._opname
    if _dtype(x) not in shapes.FLOAT_DTYPES:  # integers are finite numbers
        return ops.broadcast_to(imp.operand(name == "isfinite", "i8", _rank(x)), _shape(x))
    if name == "isnan":
        return ops.compare(x, x, "ne")  # unordered: true for NaN only
    if name == "isfinite":
        return ops.compare(ops.abs(x), imp.scalar(math.inf, x), "lt")
    if name == "isinf":
        return ops.compare(ops.abs(x), imp.scalar(math.inf, x), "eq")
    return ops.compare(x, imp.scalar(math.inf if name == "isposinf" else -math.inf, x), "eq")


@handles("flip")
def _flip(imp, node, x, dims):
    x = imp.value(x)
    for d in dims:
        axis = _axis(d, _rank(x))
        n = _shape(x)[axis]
        if n > 1:
            x = _take(imp, x, axis, np.arange(n - 1, -1, -1))
    return x


@handles("roll")
def _roll(imp, node, x, shifts, dims=()):
    x = imp.value(x)
    shape = _shape(x)
    shifts = [shifts] if isinstance(shifts, int) else list(shifts)
    if not dims:  # rolls the flattened tensor
        y = _take(imp, ops.reshape(x, (math.prod(shape),)), 0,
                  (np.arange(math.prod(shape)) - shifts[0]) % max(math.prod(shape), 1))
        return ops.reshape(y, shape)
    for shift, d in zip(shifts, [dims] if isinstance(dims, int) else dims):
        axis = _axis(d, len(shape))
        if shift % shape[axis]:
            x = _take(imp, x, axis, (np.arange(shape[axis]) - shift) % shape[axis])
    return x


@handles("diagonal")
def _diagonal(imp, node, x, offset=0, dim1=0, dim2=1):
    """The diagonal of dims (dim1, dim2), last: those two dims are moved last and
    merged, and the diagonal's elements gathered from the merged dim."""
    x = imp.value(x)
    rank, shape = _rank(x), _shape(x)
    d1, d2 = _axis(dim1, rank), _axis(dim2, rank)
    if d1 == d2:
        raise ImportUnsupported("diagonal of a dimension with itself")
    length = imp.out_type().shape[-1]
    if length == 0:
        raise ImportUnsupported("an empty diagonal (euler has no empty tensors)")
    rest = [d for d in range(rank) if d not in (d1, d2)]
    if rest + [d1, d2] != list(range(rank)):
        x = ops.transpose(x, rest + [d1, d2])
    n2 = shape[d2]
    x = ops.reshape(x, tuple(shape[d] for d in rest) + (shape[d1] * n2,))
    i = np.arange(length)
    return _take(imp, x, rank - 2, (i + max(-offset, 0)) * n2 + i + max(offset, 0))


def _is_view(node):
    op = node.target if isinstance(node, torch.fx.Node) and node.op == "call_function" else None
    return (isinstance(op, torch._ops.OpOverload) and not op._schema.is_mutable
            and op._schema.returns and op._schema.returns[0].alias_info is not None)


def _dense_order(val):
    """The dims of `val` from outermost to innermost in memory if it stores every
    element once from offset 0 (contiguous, channels-last, transposed), else None."""
    if not isinstance(val, torch.Tensor) or val.storage_offset() != 0 or \
            val.untyped_storage().nbytes() != val.numel() * val.element_size():
        return None
    order = sorted(range(val.dim()), key=lambda d: -val.stride()[d])
    dense = 1
    for d in reversed(order):
        if val.shape[d] != 1 and val.stride()[d] != dense:
            return None
        dense *= val.shape[d]
    return order


def _storage(imp, node):
    """The storage under the tensor `node` as a 1-D value, or None if unknown:
    view ops (slice, expand, diagonal, ...) are followed back to a tensor that
    stores each of its elements once (see `_dense_order`), whose value is
    permuted into memory order and flattened. Ops that may or may not copy
    (contiguous, reshape) stop the walk by being dense themselves."""
    order = _dense_order(node.meta.get("val"))
    while order is None and _is_view(node):
        node = node.args[0]
        order = _dense_order(node.meta.get("val")) if isinstance(node, torch.fx.Node) else None
    if order is None:
        return None
    x = imp.value(imp.env[node])
    if order != list(range(len(order))):
        x = ops.transpose(x, order)
    return ops.reshape(x, (math.prod(_shape(x)),))


@handles("as_strided")
def _as_strided(imp, node, x, size, stride, storage_offset=None):
    """A strided view of a tensor's storage: a gather at constant offsets. The
    storage is that of the tensor the argument views (see `_storage`)."""
    arg = node.args[0]
    flat = _storage(imp, arg)
    if flat is None:
        raise ImportUnsupported("as_strided of a tensor whose storage layout is not known")
    n = _shape(flat)[0]
    if storage_offset is None:
        storage_offset = arg.meta["val"].storage_offset()
    offsets = np.full(tuple(size), storage_offset, np.int64)
    for d, (sz, st) in enumerate(zip(size, stride)):
        offsets = offsets + np.arange(sz).reshape([-1 if e == d else 1 for e in range(len(size))]) * st
    if offsets.size == 0:
        raise ImportUnsupported("an empty view (euler has no empty tensors)")
    if offsets.min() < 0 or offsets.max() >= n:
        raise ImportUnsupported(f"as_strided reads outside the tensor's {n} stored elements")
    y = ops.gather(flat, ops.constant(offsets.reshape(-1)), axis=0)
    return ops.reshape(y, tuple(size))


@handles("unfold")
def _unfold(imp, node, x, dim, size, step):
    """Windows of `size` every `step` along dim, as a new last dim: a gather with
    a (windows, size) index, whose size dim is then moved last."""
    x = imp.value(x)
    rank = _rank(x)
    if rank == 0:
        raise ImportUnsupported("unfold of a 0-d tensor")
    axis = _axis(dim, rank)
    windows = (_shape(x)[axis] - size) // step + 1
    y = _take(imp, x, axis, np.arange(windows)[:, None] * step + np.arange(size)[None, :])
    perm = list(range(axis + 1)) + list(range(axis + 2, rank + 1)) + [axis + 1]
    return y if perm == list(range(rank + 1)) else ops.transpose(y, perm)


def _getitem(imp, node, seq, index):
    item = seq[index]
    if item is None:
        raise ImportUnsupported(f"result {index} of '{aten_name(node.args[0].target)}' is not "
                           "supported (only the first result is computed)")
    return item


# --- attention ------------------------------------------------------------------------

@handles("scaled_dot_product_attention")
def _sdpa(imp, node, q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False, *, scale=None,
          enable_gqa=False):
    if dropout_p:
        raise ImportUnsupported("attention dropout (dropout_p > 0) is not supported")
    q, k, v = imp.value(q), imp.value(k), imp.value(v)
    if enable_gqa and _shape(q)[-3] != _shape(k)[-3]:
        # Grouped-query attention: each K/V head serves H/Hkv query heads in a row
        # (repeat_interleave along the head dim), as a broadcast and a reshape.
        heads, kv_heads = _shape(q)[-3], _shape(k)[-3]
        if heads % kv_heads:
            raise ImportUnsupported(f"{heads} query heads do not share {kv_heads} K/V heads evenly")

        def repeat(t):
            *batch, h, n, e = _shape(t)
            t = ops.broadcast_to(ops.reshape(t, (*batch, h, 1, n, e)),
                                 (*batch, h, heads // h, n, e))
            return ops.reshape(t, (*batch, heads, n, e))
        k, v = repeat(k), repeat(v)
    dtype = _dtype(q)
    np_dtype = ops.NUMPY_DTYPES[dtype]
    L, E = _shape(q)[-2:]
    S = _shape(k)[-2]
    perm = list(range(_rank(k)))
    perm[-1], perm[-2] = perm[-2], perm[-1]
    scores = ops.matmul(q, ops.transpose(k, perm))
    scale = 1.0 / math.sqrt(E) if scale is None else scale
    scores = ops.mul(scores, imp.scalar(scale, scores))
    additive = np.zeros((L, S), np_dtype) if is_causal else None
    attends = None  # i8, 0 for the query rows that every key is masked from
    if is_causal:
        additive[~np.tril(np.ones((L, S), bool))] = -np.inf
    if attn_mask is not None:
        if isinstance(attn_mask, Const):
            m = imp.array(attn_mask)
            m = np.where(m, 0, -np.inf).astype(np_dtype) if m.dtype == bool else m.astype(np_dtype)
            additive = m if additive is None else additive + m
        elif _dtype(attn_mask) == "i8":  # torch.bool (int8 tensors do not import)
            # True attends; a False score is -inf (ScaledDotProductAttentionBoolMaskModule_basic:
            # adding the mask's 0/1 as a float was a wrong value).
            mask = imp.value(attn_mask)
            scores = ops.select(mask, scores, imp.scalar(-np.inf, scores))
            keys = ops.reduce_max(ops.cast(mask, dtype), (_rank(mask) - 1,), keepdims=True)
            attends = ops.compare(keys, imp.scalar(0.0, keys), "gt")
        elif _dtype(attn_mask) in ("i64", "i32"):
            raise ImportUnsupported("an integer attention mask: torch takes bool or float masks")
        else:
            scores = ops.add(scores, imp.value(attn_mask, dtype))
    if additive is not None:
        scores = ops.add(scores, ops.constant(np.ascontiguousarray(additive)))
        dead = np.isneginf(additive).all(axis=-1, keepdims=True)
        if dead.any():
            attends = ops.constant((~dead).astype(np.int8))
    probs = ops.softmax(scores, axis=-1)
    if attends is not None:
        # A row that attends to nothing is 0, not NaN, as in torch's _safe_softmax.
        probs = ops.select(attends, probs, imp.scalar(0.0, probs))
    return ops.matmul(probs, v)


def _attention(imp, q, k, v, heads, additive=None):
    """Multi-head attention of (B, T, E) projections: split heads, softmax(q k^T
    / sqrt(d) + additive) v, merge heads."""
    B, T, E = _shape(q)
    S, d = _shape(k)[1], E // heads
    q, k, v = (ops.transpose(ops.reshape(t, (B, _shape(t)[1], heads, d)), (0, 2, 1, 3))
               for t in (q, k, v))
    scores = ops.matmul(q, ops.transpose(k, (0, 1, 3, 2)))
    scores = ops.mul(scores, imp.scalar(1.0 / math.sqrt(d), scores))
    if additive is not None:
        scores = ops.add(scores, additive)
    y = ops.matmul(ops.softmax(scores, axis=-1), v)
    return ops.reshape(ops.transpose(y, (0, 2, 1, 3)), (B, T, E))


def _mask_additive(imp, mask, dtype):
    if mask is None:
        return None
    if not isinstance(mask, Const):
        raise ImportUnsupported("attention masks must be compile-time constants here")
    m = imp.array(mask)
    m = np.where(m, -np.inf, 0) if m.dtype == bool else m  # fast-path masks: True = masked
    return ops.constant(np.ascontiguousarray(m.astype(ops.NUMPY_DTYPES[dtype])))


def _in_projections(imp, query, key, value, qkv_w, qkv_b):
    w, b = imp.array(qkv_w), imp.array(qkv_b)
    if w is None or b is None:
        raise ImportUnsupported("the attention weights must be compile-time constants")
    E = w.shape[1]
    out = []
    for i, x in enumerate((query, key, value)):
        wt = ops.constant(np.ascontiguousarray(w[i * E:(i + 1) * E].T))
        out.append(ops.add(_matmul_any(imp.value(x), wt), ops.constant(b[i * E:(i + 1) * E].copy())))
    return out


@handles("_native_multi_head_attention")
def _native_mha(imp, node, query, key, value, embed_dim, heads, qkv_w, qkv_b, proj_w, proj_b,
                mask=None, need_weights=True, average_attn_weights=True, mask_type=None):
    if _rank(imp.value(query)) != 3:
        raise ImportUnsupported("only batched (B, T, E) attention is supported")
    q, k, v = _in_projections(imp, query, key, value, qkv_w, qkv_b)
    y = _attention(imp, q, k, v, heads, _mask_additive(imp, mask, _dtype(q)))
    return (_linear(imp, node, y, proj_w, proj_b), None)


@handles("_transformer_encoder_layer_fwd")
def _encoder_layer(imp, node, src, embed_dim, heads, qkv_w, qkv_b, proj_w, proj_b, use_gelu,
                   norm_first, eps, ln1_w, ln1_b, ln2_w, ln2_b, w1, b1, w2, b2, mask=None,
                   mask_type=None):
    """nn.TransformerEncoderLayer's inference fast path (taken under no_grad)."""
    x = imp.value(src)
    if _rank(x) != 3:
        raise ImportUnsupported("only batched (B, T, E) encoder inputs are supported")
    additive = _mask_additive(imp, mask, _dtype(x))

    def ln(t, w, b):
        return ops.layer_norm(t, imp.value(w), imp.value(b), axis=-1, epsilon=float(eps))

    def self_attention(t):
        q, k, v = _in_projections(imp, t, t, t, qkv_w, qkv_b)
        return _linear(imp, node, _attention(imp, q, k, v, heads, additive), proj_w, proj_b)

    def feed_forward(t):
        h = _linear(imp, node, t, w1, b1)
        return _linear(imp, node, ops.gelu(h) if use_gelu else ops.relu(h), w2, b2)

    if norm_first:
        x = ops.add(x, self_attention(ln(x, ln1_w, ln1_b)))
        return ops.add(x, feed_forward(ln(x, ln2_w, ln2_b)))
    x = ln(ops.add(x, self_attention(x)), ln1_w, ln1_b)
    return ln(ops.add(x, feed_forward(x)), ln2_w, ln2_b)


def _torch_dtype(arg):
    """The torch dtype of an FX argument (None for Python scalars)."""
    val = arg.meta.get("val") if isinstance(arg, torch.fx.Node) else None
    return val.dtype if isinstance(val, torch.Tensor) else None


SUPPORTED_OPS = tuple(sorted(HANDLERS))


# --- complex tensors ----------------------------------------------------------------
# A `Complex` pair of real parts flows between these handlers; the model's own
# view_as_real (or .real) turns it back into one real tensor.

def _parts(imp, x, like):
    """(re, im) of an operand of a complex op, im None for a real one: a
    Complex, a complex or real constant, a real runtime tensor, or a Python
    number (shaped to broadcast against `like`, a part of the other operand)."""
    if isinstance(x, Complex):
        return x.re, x.im
    if isinstance(x, Const) and x.tensor.is_complex():
        t = x.tensor.resolve_conj()
        return imp.value(Const(t.real.contiguous())), imp.value(Const(t.imag.contiguous()))
    if isinstance(x, complex):
        return imp.scalar(x.real, like), imp.scalar(x.imag, like)
    if isinstance(x, (bool, int, float)):
        return imp.scalar(x, like), None
    return imp.value(x, _dtype(like)), None


_complex_handles = functools.partial(handles, table=COMPLEX_HANDLERS)


@_complex_handles("view_as_complex")
def _view_as_complex(imp, node, x):
    x = imp.value(x)
    shape = _shape(x)[:-1]
    return Complex(*(ops.reshape(_take(imp, x, _rank(x) - 1, [i]), shape) for i in (0, 1)))


@_complex_handles("view_as_real")
def _view_as_real(imp, node, z):
    shape = _shape(z.re) + (1,)
    return ops.concat([ops.reshape(z.re, shape), ops.reshape(z.im, shape)], axis=len(shape) - 1)


@_complex_handles("_to_copy")
def _to_complex(imp, node, x, *args, **kwargs):
    """A real tensor as a complex one (FNet's fftn of real hidden states)."""
    if isinstance(x, Complex):
        return x
    with imp.complex_part():
        return _real_as_complex(imp, imp.value(x, imp.out_type().dtype))


def _real_as_complex(imp, x):
    return Complex(x, ops.broadcast_to(imp.scalar(0.0, x), _shape(x)))


def _complex_ref(a, b):
    """A runtime part to shape Python-number operands after."""
    for v in (a, b):
        if isinstance(v, Complex):
            return v.re
    return next(v for v in (a, b) if isinstance(v, ir.Value))


def _complex(re, im):
    """Complex(re, im) with both parts of the shape of the result."""
    shape = tuple(np.broadcast_shapes(_shape(re), _shape(im)))
    return Complex(*(v if _shape(v) == shape else ops.broadcast_to(v, shape) for v in (re, im)))


def _sum(a, b, build=ops.add):
    """a + b (or a - b) of parts where None is zero."""
    if b is None:
        return a
    if a is None:
        return b if build is ops.add else ops.neg(b)
    return build(a, b)


@_complex_handles("mul.Tensor", "mul.Scalar")
def _complex_mul(imp, node, a, b):
    ref = _complex_ref(a, b)
    (ar, ai), (br, bi) = _parts(imp, a, ref), _parts(imp, b, ref)
    mul = lambda x, y: None if x is None or y is None else ops.mul(x, y)  # noqa: E731
    re = _sum(mul(ar, br), mul(ai, bi), ops.sub)
    return _complex(re, _sum(mul(ar, bi), mul(ai, br)))


@_complex_handles("add.Tensor", "sub.Tensor")
def _complex_add(imp, node, a, b, alpha=1):
    ref = _complex_ref(a, b)
    (ar, ai), (br, bi) = _parts(imp, a, ref), _parts(imp, b, ref)
    if alpha != 1:
        br, bi = (None if v is None else ops.mul(v, imp.scalar(alpha, v)) for v in (br, bi))
    build = ops.add if node.target._opname == "add" else ops.sub
    return _complex(build(ar, br), _sum(ai, bi, build))


@_complex_handles("_fft_r2c")
def _fft_r2c(imp, node, x, dims, normalization, onesided):
    """The transform of a real tensor; onesided keeps the first n // 2 + 1
    frequencies of the last dim (the rest are their conjugates)."""
    x = imp.value(x)
    z = _fft_c2c(imp, node, _real_as_complex(imp, x), dims, normalization, True)
    if not onesided:
        return z
    axis = _axis(dims[-1], _rank(x))
    keep = _shape(x)[axis] // 2 + 1
    return Complex(*(_slice(imp, v, axis, 0, keep) for v in (z.re, z.im)))


@_complex_handles("_fft_c2c")
def _fft_c2c(imp, node, z, dims, normalization, forward):
    """The discrete Fourier transform over `dims`, one dim at a time: a complex
    matmul with the (n, n) DFT matrix exp(-+2 pi i jk / n) along the dim.
    normalization 0: none, 1: 1/sqrt(n), 2: 1/n (of the product of the sizes)."""
    re, im = z.re, z.im
    rank, count = _rank(re), 1
    sign = -1.0 if forward else 1.0
    for d in dims:
        axis = _axis(d, rank)
        n = _shape(re)[axis]
        count *= n
        k = np.arange(n)
        angle = 2 * np.pi * np.outer(k, k) / n
        dtype = ops.NUMPY_DTYPES[_dtype(re)]
        c = ops.constant(np.cos(angle).astype(dtype))
        s = ops.constant((sign * np.sin(angle)).astype(dtype))
        perm = [i for i in range(rank) if i != axis] + [axis]
        inverse = list(np.argsort(perm))
        xr, xi = ops.transpose(re, perm), ops.transpose(im, perm)
        # (xr + i xi)(c + i s), with c and s symmetric: x @ F along the last dim.
        yr = ops.sub(ops.matmul(xr, c), ops.matmul(xi, s))
        yi = ops.add(ops.matmul(xr, s), ops.matmul(xi, c))
        re, im = ops.transpose(yr, inverse), ops.transpose(yi, inverse)
    if normalization:
        scale = 1 / math.sqrt(count) if normalization == 1 else 1 / count
        re, im = ops.mul(re, imp.scalar(scale, re)), ops.mul(im, imp.scalar(scale, im))
    return Complex(re, im)


# Ops that move or copy elements act on each part alike: the real handler,
# once per part.
_PER_PART = ("unsqueeze", "squeeze", "view", "reshape", "_unsafe_view", "permute", "transpose",
             "expand", "slice", "select", "flatten", "unflatten", "clone", "alias")


def _per_part(imp, node, z, *args, **kwargs):
    handler = handler_for(node.target)
    with imp.complex_part():
        return Complex(*(handler(imp, node, part, *args, **kwargs) for part in (z.re, z.im)))


_complex_handles(*_PER_PART)(_per_part)
