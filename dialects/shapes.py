"""Shape inference and verification for the euler dialect.

The single source of truth for what each euler op accepts and produces. The
Python builders, the `euler-verify` pass, the lowerings, the reference
interpreter and the frontends all call `infer`; IRDL only checks operand counts
and that operands are tensors.

Types are plain `TensorType(shape, dtype)` tuples so that this module needs no
MLIR context; `euler.dialects.ops` converts to and from MLIR types.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple, Sequence

# Element types euler computes in. f32 is the default; the others are accepted
# by the dialect (f64 comes from PyTorch programs). Integers index `gather`.
FLOAT_DTYPES = ("f32", "f16", "bf16", "f64")
INT_DTYPES = ("i64", "i32")
# Booleans (results of `compare`, conditions of `select`) are i8 tensors of
# 0 and 1: MLIR 22's memref-to-LLVM lowering cannot store i1 elements.
BOOL = "i8"
DTYPES = FLOAT_DTYPES + INT_DTYPES + (BOOL,)

# Bytes per element, for size checks before allocation.
DTYPE_BYTES = {"f32": 4, "f16": 2, "bf16": 2, "f64": 8, "i64": 8, "i32": 4, "i8": 1}

# Largest tensor euler will allocate (bytes): bigger ones are rejected at
# compile time instead of failing inside malloc.
MAX_TENSOR_BYTES = 1 << 36

BINARY_OPS = ("add", "sub", "mul", "div", "maximum", "minimum", "pow")
# Binary ops that also take integers (index arithmetic) and, for maximum and
# minimum, booleans (logical or / and). Integer `div` floors (Python's //,
# PyTorch's floor_divide); x // 0 is 0 and INT_MIN // -1 wraps, as in numpy.
INT_BINARY_OPS = ("add", "sub", "mul", "div", "maximum", "minimum")
COMPARE_PREDICATES = ("eq", "ne", "lt", "le", "gt", "ge")
UNARY_OPS = ("neg", "abs", "exp", "log", "sqrt", "rsqrt", "tanh", "sigmoid", "relu", "cos", "sin",
             "erf", "gelu")
REDUCE_OPS = ("reduce_sum", "reduce_max", "reduce_mean")
POOL_OPS = ("max_pool2d", "avg_pool2d")


class TensorType(NamedTuple):
    shape: tuple
    dtype: str

    def __str__(self):
        return "tensor<" + "".join(f"{d}x" for d in self.shape) + self.dtype + ">"

    @property
    def rank(self):
        return len(self.shape)

    @property
    def numel(self):
        return math.prod(self.shape)


class ShapeError(ValueError):
    """An op's operands or attributes violate its shape rules."""


def _check(cond, msg):
    if not cond:
        raise ShapeError(msg)


def normalize_axis(axis: int, rank: int) -> int:
    """Numpy-style axis: negative counts from the end."""
    _check(-rank <= axis < rank, f"axis {axis} is out of range for rank {rank}")
    return axis % rank if rank else 0


def normalize_axes(axes: Sequence[int], rank: int) -> tuple:
    out = tuple(sorted(normalize_axis(a, rank) for a in axes))
    _check(len(set(out)) == len(out), f"axes {list(axes)} repeat an axis")
    return out


def broadcast_shapes(*shapes: Sequence[int]) -> tuple:
    """numpy.broadcast_shapes, with euler's error message."""
    rank = max(len(s) for s in shapes)
    out = []
    for i in range(rank):
        dims = {s[len(s) - rank + i] for s in shapes if len(s) - rank + i >= 0}
        dims.discard(1)
        _check(len(dims) <= 1, "operands are not broadcastable: "
               + " vs ".join(str(list(s)) for s in shapes))
        out.append(dims.pop() if dims else 1)
    return tuple(out)


def _same_dtype(types, name):
    dtypes = {t.dtype for t in types}
    _check(len(dtypes) == 1, f"operand element types differ: {' vs '.join(t.dtype for t in types)}")
    return dtypes.pop()


def _float(t: TensorType):
    _check(t.dtype in FLOAT_DTYPES, f"unsupported element type {t.dtype}; expected one of "
           + ", ".join(FLOAT_DTYPES))


def _pair(attrs, key, default, positive=False, nonneg=False):
    v = tuple(attrs.get(key, default))
    _check(len(v) == 2, f"'{key}' must have 2 values (h, w), got {len(v)}")
    if positive:
        _check(all(x > 0 for x in v), f"'{key}' must be positive, got {list(v)}")
    if nonneg:
        _check(all(x >= 0 for x in v), f"'{key}' must be non-negative, got {list(v)}")
    return v


def window_out(size, kernel, stride, pad, dilation=1):
    """Output length of a strided, padded, dilated window (floor mode)."""
    span = dilation * (kernel - 1) + 1
    _check(size + 2 * pad >= span,
           f"window of size {span} is larger than the padded input ({size + 2 * pad})")
    return (size + 2 * pad - span) // stride + 1


def infer(name: str, operands: Sequence[TensorType], attrs: dict,
          result: TensorType | None = None) -> TensorType:
    """Return the result type of `euler.<name>`, or raise ShapeError.

    `result` is the declared result type; reshape, broadcast_to and cast take
    their target from it, and every op checks it against the inferred type.
    """
    rule = _RULES.get(name)
    _check(rule is not None, f"unknown op 'euler.{name}'")
    arity = _ARITY.get(name, 1)
    if arity is not None:
        _check(len(operands) == arity, f"expects {arity} operands, got {len(operands)}")
    for t in operands:
        _check(t.dtype in DTYPES, f"unsupported element type {t.dtype}")
        _check(all(d >= 0 for d in t.shape), "dynamic dimensions are not supported")
    out = rule(operands, attrs, result)
    _check(all(d > 0 for d in out.shape) or out.numel == 0, "negative dimension")
    _check(out.numel * DTYPE_BYTES[out.dtype] <= MAX_TENSOR_BYTES,
           f"result {out} is too large to allocate ({out.numel * DTYPE_BYTES[out.dtype]} bytes)")
    if result is not None:
        _check(tuple(result.shape) == out.shape and result.dtype == out.dtype,
               f"result type {result} does not match the inferred type {out}")
    return out


# --- rules, one per op family ---------------------------------------------

def _constant(ops, attrs, result):
    _check("value" in attrs, "requires a 'value' attribute")
    v = attrs["value"]
    return TensorType(tuple(v.shape), attrs.get("dtype", result.dtype if result else "f32"))


def _binary(ops, attrs, result):
    dtype = _same_dtype(ops, "binary")
    _float(ops[0])
    return TensorType(broadcast_shapes(*(t.shape for t in ops)), dtype)


def _int_binary(ops, attrs, result):
    dtype = _same_dtype(ops, "binary")
    _check(dtype != BOOL, "booleans (i8) take maximum (or) and minimum (and) only")
    return TensorType(broadcast_shapes(*(t.shape for t in ops)), dtype)


def _min_max(ops, attrs, result):
    dtype = _same_dtype(ops, "binary")
    return TensorType(broadcast_shapes(*(t.shape for t in ops)), dtype)


def _compare(ops, attrs, result):
    _same_dtype(ops, "compare")
    pred = attrs.get("predicate")
    _check(pred in COMPARE_PREDICATES, f"'predicate' must be one of {', '.join(COMPARE_PREDICATES)}, "
           f"got {pred!r}")
    return TensorType(broadcast_shapes(*(t.shape for t in ops)), BOOL)


def _select(ops, attrs, result):
    cond, a, b = ops
    _check(cond.dtype == BOOL, f"the condition must be a boolean ({BOOL}), got {cond.dtype}")
    dtype = _same_dtype((a, b), "select")
    return TensorType(broadcast_shapes(cond.shape, a.shape, b.shape), dtype)


def _cumsum(ops, attrs, result):
    (x,) = ops
    _check(x.dtype != BOOL, "cumsum of booleans; cast them to i32 or i64 first")
    _check(x.rank >= 1, "operand must have rank >= 1")
    normalize_axis(attrs.get("axis", 0), x.rank)
    return x


def _unary(ops, attrs, result):
    _float(ops[0])
    approx = attrs.get("approximate", "none")
    _check(approx in ("none", "tanh"), f"'approximate' must be \"none\" or \"tanh\", got \"{approx}\"")
    return ops[0]


def _matmul(ops, attrs, result):
    a, b = ops
    dtype = _same_dtype(ops, "matmul")
    _float(a)
    _check(a.rank >= 2 and b.rank >= 2, f"operands must have rank >= 2, got {a.rank} and {b.rank}")
    _check(a.shape[-1] == b.shape[-2],
           f"contracting dimensions differ: {a.shape[-1]} vs {b.shape[-2]}")
    batch = broadcast_shapes(a.shape[:-2], b.shape[:-2])
    return TensorType(batch + (a.shape[-2], b.shape[-1]), dtype)


def _transpose(ops, attrs, result):
    (x,) = ops
    perm = tuple(attrs.get("perm", ()))
    _check(sorted(perm) == list(range(x.rank)),
           f"'perm' {list(perm)} is not a permutation of 0..{x.rank - 1}")
    return TensorType(tuple(x.shape[p] for p in perm), x.dtype)


def _reshape(ops, attrs, result):
    (x,) = ops
    _check(result is not None, "needs its result type")
    _check(math.prod(result.shape) == x.numel,
           f"cannot reshape {x} ({x.numel} elements) to {result} ({math.prod(result.shape)} elements)")
    return TensorType(tuple(result.shape), x.dtype)


def _broadcast_to(ops, attrs, result):
    (x,) = ops
    _check(result is not None, "needs its result type")
    target = tuple(result.shape)
    _check(len(target) >= x.rank and broadcast_shapes(x.shape, target) == target,
           f"cannot broadcast {x} to {list(target)}")
    return TensorType(target, x.dtype)


def _reduce(ops, attrs, result, integers=False):
    (x,) = ops
    if not (integers and x.dtype in INT_DTYPES):
        _float(x)
    axes = normalize_axes(attrs.get("axes", range(x.rank)), x.rank)
    keep = bool(attrs.get("keepdims", False))
    shape = tuple(1 if i in axes else d for i, d in enumerate(x.shape) if keep or i not in axes)
    return TensorType(shape, x.dtype)


def _softmax(ops, attrs, result):
    (x,) = ops
    _float(x)
    _check(x.rank >= 1, "operand must have rank >= 1")
    normalize_axis(attrs.get("axis", -1), x.rank)
    return x


def _layer_norm(ops, attrs, result):
    x, gamma, beta = ops
    _same_dtype(ops, "layer_norm")
    _float(x)
    axis = normalize_axis(attrs.get("axis", -1), x.rank)
    eps = attrs.get("epsilon", 1e-5)
    _check(eps >= 0, f"'epsilon' must be non-negative, got {eps}")
    norm = x.shape[axis:]
    for nm, t in (("gamma", gamma), ("beta", beta)):
        _check(t.shape == norm, f"{nm} shape {list(t.shape)} must equal the normalized shape {list(norm)}")
    return x


def _conv2d(ops, attrs, result):
    x, w = ops
    dtype = _same_dtype(ops, "conv2d")
    _float(x)
    _check(x.rank == 4 and w.rank == 4, f"expects 4-D input and weight, got ranks {x.rank} and {w.rank}")
    groups = int(attrs.get("groups", 1))
    _check(groups >= 1, f"'groups' must be positive, got {groups}")
    n, c, h, wd = x.shape
    f, cg, kh, kw = w.shape
    _check(c % groups == 0 and f % groups == 0,
           f"channels ({c}) and filters ({f}) must be divisible by groups ({groups})")
    _check(cg * groups == c, f"weight has {cg} input channels per group, expected {c // groups}")
    sh, sw = _pair(attrs, "strides", (1, 1), positive=True)
    ph, pw = _pair(attrs, "padding", (0, 0), nonneg=True)
    dh, dw = _pair(attrs, "dilations", (1, 1), positive=True)
    return TensorType((n, f, window_out(h, kh, sh, ph, dh), window_out(wd, kw, sw, pw, dw)), dtype)


def _pool2d(ops, attrs, result):
    (x,) = ops
    _float(x)
    _check(x.rank == 4, f"expects a 4-D input, got rank {x.rank}")
    kh, kw = _pair(attrs, "kernel", (), positive=True)
    sh, sw = _pair(attrs, "strides", (kh, kw), positive=True)
    ph, pw = _pair(attrs, "padding", (0, 0), nonneg=True)
    _check(2 * ph <= kh and 2 * pw <= kw, "padding must be at most half the kernel size")
    n, c, h, w = x.shape
    return TensorType((n, c, window_out(h, kh, sh, ph), window_out(w, kw, sw, pw)), x.dtype)


def _concat(ops, attrs, result):
    _check(len(ops) >= 1, "expects at least one operand")
    dtype = _same_dtype(ops, "concat")
    rank = ops[0].rank
    _check(all(t.rank == rank for t in ops), "operands must have the same rank")
    axis = normalize_axis(attrs.get("axis", 0), rank)
    for t in ops[1:]:
        _check(all(a == b for i, (a, b) in enumerate(zip(t.shape, ops[0].shape)) if i != axis),
               f"operand shapes {list(ops[0].shape)} and {list(t.shape)} differ off axis {axis}")
    shape = list(ops[0].shape)
    shape[axis] = sum(t.shape[axis] for t in ops)
    return TensorType(tuple(shape), dtype)


def _pad(ops, attrs, result):
    (x,) = ops
    low, high = tuple(attrs.get("low", ())), tuple(attrs.get("high", ()))
    _check(len(low) == x.rank and len(high) == x.rank,
           f"'low' and 'high' must have {x.rank} values (one per dim), got {len(low)} and {len(high)}")
    _check(all(p >= 0 for p in low + high), f"padding must be non-negative, got {list(low)}, {list(high)}")
    return TensorType(tuple(d + lo + hi for d, lo, hi in zip(x.shape, low, high)), x.dtype)


def _cast(ops, attrs, result):
    (x,) = ops
    _check(result is not None, "needs its result type")
    _check(result.dtype in DTYPES, f"unsupported element type {result.dtype}")
    _check(tuple(result.shape) == x.shape, f"cast cannot change the shape: {x} to {result}")
    return TensorType(x.shape, result.dtype)


def _gather(ops, attrs, result):
    table, idx = ops
    _check(idx.dtype in INT_DTYPES, f"indices must be integers, got {idx.dtype}")
    axis = normalize_axis(attrs.get("axis", 0), table.rank)
    return TensorType(table.shape[:axis] + idx.shape + table.shape[axis + 1:], table.dtype)


_RULES = {
    "constant": _constant, "matmul": _matmul, "transpose": _transpose, "reshape": _reshape,
    "broadcast_to": _broadcast_to, "softmax": _softmax, "layer_norm": _layer_norm,
    "conv2d": _conv2d, "concat": _concat, "cast": _cast, "gather": _gather, "pad": _pad,
    **{n: _binary for n in BINARY_OPS}, **{n: _int_binary for n in INT_BINARY_OPS},
    "maximum": _min_max, "minimum": _min_max,
    **{n: _unary for n in UNARY_OPS}, "compare": _compare, "select": _select, "cumsum": _cumsum,
    **{n: _reduce for n in REDUCE_OPS}, **{n: _pool2d for n in POOL_OPS},
    # Sums and maxima of integers too (PyTorch's integer tensors; exact).
    **{n: functools.partial(_reduce, integers=True) for n in ("reduce_sum", "reduce_max")},
}
# Operand counts; None means variadic.
_ARITY = {"constant": 0, "matmul": 2, "layer_norm": 3, "conv2d": 2, "concat": None, "gather": 2,
          "compare": 2, "select": 3,
          **{n: 2 for n in BINARY_OPS}}

OP_NAMES = tuple(sorted(_RULES))
