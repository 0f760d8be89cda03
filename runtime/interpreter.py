"""Reference interpreter of the euler dialect, in numpy.

It evaluates an euler-level `func.func` op by op, with the semantics of the op
table (numpy broadcasting, numpy.matmul, torch conv2d/pooling/layer_norm/gelu)
and is the oracle that the numerical tests, `euler run --interpret` and the
fuzzer compare compiled code against. It sits beside the pipeline, not in it:
it reads the same IR as the `euler` stage and shares its shape rules
(`dialects/shapes.py`, through `dialects/ops.py`), so it never re-derives them.

    from euler.runtime.interpreter import interpret
    (y,) = interpret(module, "main", x, w)

Each op computes in its own element type, except f16 and bf16, which compute
in f32 and round the op's result: that is what a correct compiled kernel
approximates, and accumulating a reduction in f16 would make the oracle
itself the least accurate party. NaN and Inf propagate as in numpy (relu and
maximum of NaN are NaN, as in torch).
"""

from __future__ import annotations

import math

import numpy as np
from mlir import ir

from ..dialects import ops as euler_ops
from ..dialects import shapes
from ..dialects.shapes import ShapeError, TensorType
from ..errors import CompileError, InputError, VerifyError, format_diagnostic

__all__ = ["interpret", "interpret_text", "evaluate_op", "find_func", "argument_types", "numpy_dtype", "UnsupportedOp"]


class UnsupportedOp(CompileError):
    """The function contains an op the interpreter does not evaluate."""


def _round_bf16(x: np.ndarray) -> np.ndarray:
    # bf16 is the top half of an f32: round to nearest even on the low 16 bits.
    f = np.ascontiguousarray(x, dtype=np.float32)
    bits = f.view(np.uint32)
    rounded = (bits + np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1))) \
        & np.uint32(0xFFFF0000)
    # NaN must stay NaN (rounding could carry it into Inf).
    rounded = np.where(np.isnan(f), bits | np.uint32(0x00400000), rounded).astype(np.uint32)
    return rounded.view(np.float32)


def numpy_dtype(dtype: str):
    """The numpy dtype holding values of euler element type `dtype` (bf16 -> f32)."""
    if dtype == "bf16":
        return np.float32
    if dtype not in euler_ops.NUMPY_DTYPES:
        raise ShapeError(f"unsupported element type {dtype}")
    return euler_ops.NUMPY_DTYPES[dtype]


def _compute_dtype(dtype: str):
    return np.float32 if dtype in ("f16", "bf16") else numpy_dtype(dtype)


def _store(value: np.ndarray, dtype: str) -> np.ndarray:
    """Round a computed value to the storage of element type `dtype`."""
    if dtype == "bf16":
        return _round_bf16(value)
    return np.asarray(value).astype(numpy_dtype(dtype), copy=False)


# --- op semantics ------------------------------------------------------------
# Each takes (operands as compute-dtype arrays, attrs, result TensorType).

def _divide(a, b):
    if np.issubdtype(a.dtype, np.integer):  # floors; x // 0 is 0 (shapes.INT_BINARY_OPS)
        with np.errstate(divide="ignore"):
            return np.floor_divide(a, b)
    return np.divide(a, b)


_BINARY = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": _divide,
           "maximum": np.maximum, "minimum": np.minimum, "pow": np.power}

_COMPARE = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal,
            "gt": np.greater, "ge": np.greater_equal}

_erf = np.frompyfunc(math.erf, 1, 1)


def _gelu(x, attrs):
    if attrs.get("approximate", "none") == "tanh":
        inner = np.sqrt(2.0 / np.pi).astype(x.dtype) * (x + x.dtype.type(0.044715) * x * x * x)
        return 0.5 * x * (1 + np.tanh(inner))
    erf = np.asarray(_erf(x.astype(np.float64) / math.sqrt(2.0)), dtype=np.float64)
    return (0.5 * x.astype(np.float64) * (1.0 + erf)).astype(x.dtype)


def _sigmoid(x):
    # exp(-x) overflows to inf for very negative x, giving 1/inf = 0: correct.
    return 1 / (1 + np.exp(-x))


_UNARY = {"neg": np.negative, "abs": np.abs, "exp": np.exp, "log": np.log, "sqrt": np.sqrt,
          "rsqrt": lambda x: 1 / np.sqrt(x), "tanh": np.tanh, "sigmoid": _sigmoid,
          # np.maximum propagates NaN, like torch.relu.
          "relu": lambda x: np.maximum(x, x.dtype.type(0)), "cos": np.cos, "sin": np.sin,
          "erf": lambda x: np.asarray(_erf(x.astype(np.float64)), np.float64).astype(x.dtype)}


def _reduce(name, x, attrs):
    axes = shapes.normalize_axes(attrs.get("axes", range(x.ndim)), x.ndim)
    keep = bool(attrs.get("keepdims", False))
    if name == "reduce_max":
        # numpy refuses an empty max; euler returns max's identity, -inf (the
        # lowest integer for integers), as the compiled reduction does.
        lowest = -np.inf if np.issubdtype(x.dtype, np.floating) else np.iinfo(x.dtype).min
        return np.max(x, axis=axes, keepdims=keep, initial=lowest)
    # Float sums accumulate in float64 and round once: numpy's own f32 sum is
    # sequential along non-contiguous axes, not a reference for any order.
    acc = np.float64 if np.issubdtype(x.dtype, np.floating) else None
    reduce = np.sum if name == "reduce_sum" else np.mean
    return reduce(x, axis=axes, keepdims=keep, dtype=acc).astype(x.dtype)


def _softmax(x, attrs):
    axis = shapes.normalize_axis(attrs.get("axis", -1), x.ndim)
    m = np.max(x, axis=axis, keepdims=True) if x.size else x
    e = np.exp(x - m)
    return (e / np.sum(e, axis=axis, keepdims=True, dtype=np.float64)).astype(x.dtype)


def _layer_norm(x, gamma, beta, attrs):
    axis = shapes.normalize_axis(attrs.get("axis", -1), x.ndim)
    eps = attrs.get("epsilon", 1e-5)
    axes = tuple(range(axis, x.ndim))
    # The statistics in float64, the result rounded once.
    x64 = x.astype(np.float64)
    mean = np.mean(x64, axis=axes, keepdims=True)
    centered = x64 - mean
    var = np.mean(centered * centered, axis=axes, keepdims=True)
    return (centered / np.sqrt(var + eps) * gamma + beta).astype(x.dtype)


def _sum_rounding(name, x, attrs, dtype) -> np.ndarray:
    """How far rounding may move a correctly computed K-term sum (or mean):
    the pairwise-summation bound log2(K) * u * sum|x|, per result element.
    Any blocked or tree order meets it; one running total over K terms does
    not (its bound grows with K * u). The "ulp" run moves sums this far."""
    if not np.issubdtype(x.dtype, np.floating):
        return np.zeros(())
    axes = shapes.normalize_axes(attrs.get("axes", range(x.ndim)), x.ndim)
    k = math.prod(x.shape[a] for a in axes)
    if k < 2:
        return np.zeros(())
    # f16/bf16 sums accumulate in f32 (rounded once, which `store` nudges).
    u = 2.0 ** -53 if dtype == "f64" else 2.0 ** -24
    keep = bool(attrs.get("keepdims", False))
    bound = math.log2(k) * u * np.sum(np.abs(x.astype(np.float64)), axis=axes, keepdims=keep)
    return bound / k if name == "reduce_mean" else bound


def _windows(x, kernel, strides, padding, dilations, pad_value):
    """(N, C, Ho, Wo, KH, KW) view of the padded input's windows."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, strides, padding, dilations
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=pad_value)
    span = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    win = np.lib.stride_tricks.sliding_window_view(xp, span, axis=(2, 3))
    return win[:, :, ::sh, ::sw, ::dh, ::dw]


def _conv2d(x, w, attrs):
    groups = int(attrs.get("groups", 1))
    win = _windows(x, w.shape[2:], attrs.get("strides", (1, 1)), attrs.get("padding", (0, 0)),
                   attrs.get("dilations", (1, 1)), 0)
    n, c, ho, wo, kh, kw = win.shape
    f = w.shape[0]
    win = win.reshape(n, groups, c // groups, ho, wo, kh, kw)
    wg = w.reshape(groups, f // groups, c // groups, kh, kw)
    out = np.einsum("ngchwij,gfcij->ngfhw", win, wg, optimize=True)
    return out.reshape(n, f, ho, wo)


def _pool(name, x, attrs):
    kernel = tuple(attrs["kernel"])
    strides = tuple(attrs.get("strides", kernel))
    padding = tuple(attrs.get("padding", (0, 0)))
    if name == "max_pool2d":
        win = _windows(x, kernel, strides, padding, (1, 1), -np.inf)
        return np.max(win, axis=(4, 5)) if win.size else np.zeros(win.shape[:4], x.dtype)
    # count_include_pad=True: padded zeros count in the divisor.
    win = _windows(x, kernel, strides, padding, (1, 1), 0)
    return np.sum(win, axis=(4, 5)) / x.dtype.type(kernel[0] * kernel[1])


def _gather(table, indices, attrs):
    axis = shapes.normalize_axis(attrs.get("axis", 0), table.ndim)
    size = table.shape[axis]
    if indices.size and (indices.min() < -size or indices.max() >= size):
        bad = indices[(indices < -size) | (indices >= size)].flat[0]
        raise InputError(f"gather index {bad} is out of range for axis {axis} of size {size}")
    return np.take(table, indices, axis=axis)


def _evaluate(name, args, attrs, result: TensorType, op):
    if name in _BINARY:
        return _BINARY[name](args[0], args[1])
    if name in _UNARY:
        return _UNARY[name](args[0])
    if name == "gelu":
        return _gelu(args[0], attrs)
    if name == "matmul":
        return np.matmul(args[0], args[1])
    if name == "transpose":
        return np.transpose(args[0], attrs["perm"])
    if name == "reshape":
        return np.reshape(args[0], result.shape)
    if name == "broadcast_to":
        return np.broadcast_to(args[0], result.shape)
    if name in shapes.REDUCE_OPS:
        return _reduce(name, args[0], attrs)
    if name == "softmax":
        return _softmax(args[0], attrs)
    if name == "layer_norm":
        return _layer_norm(*args, attrs)
    if name == "conv2d":
        return _conv2d(args[0], args[1], attrs)
    if name in shapes.POOL_OPS:
        return _pool(name, args[0], attrs)
    if name == "concat":
        return np.concatenate(args, axis=shapes.normalize_axis(attrs.get("axis", 0), args[0].ndim))
    if name == "compare":
        return _COMPARE[attrs["predicate"]](args[0], args[1])
    if name == "select":
        return np.where(args[0] != 0, args[1], args[2])
    if name == "cumsum":
        return np.cumsum(args[0], axis=shapes.normalize_axis(attrs.get("axis", 0), args[0].ndim))
    if name == "pad":
        return np.pad(args[0], list(zip(attrs["low"], attrs["high"])),
                      constant_values=attrs.get("fill", 0.0))
    if name == "cast":
        return args[0]  # the conversion happens in _store
    if name == "gather":
        return _gather(args[0], args[1], attrs)
    if name == "constant":
        return euler_ops.elements_to_numpy(op.attributes["value"])
    raise ShapeError(f"the interpreter has no semantics for 'euler.{name}'")


# --- driver -----------------------------------------------------------------

def find_func(module, func_name: str) -> ir.Operation:
    """The `func.func` named `func_name` in `module`; InputError if none."""
    body = module.body if isinstance(module, ir.Module) else module.regions[0].blocks[0]
    names = []
    for op in body.operations:
        op = op.operation
        if op.name == "func.func":
            name = ir.StringAttr(op.attributes["sym_name"]).value
            if name == func_name:
                return op
            names.append(name)
    raise InputError(f"no function '@{func_name}' in the module (it has: "
                     + (", ".join("@" + n for n in names) or "none") + ")")


def argument_types(module, func_name: str = "main") -> list:
    """The TensorTypes of `@func_name`'s arguments."""
    func = find_func(module, func_name)
    with module.context:
        ftype = ir.FunctionType(ir.TypeAttr(func.attributes["function_type"]).value)
        return [euler_ops.tensor_type(t) for t in ftype.inputs]


def _check_argument(i, array, t: TensorType) -> np.ndarray:
    array = np.asarray(array)
    if tuple(array.shape) != tuple(t.shape):
        raise InputError(f"argument {i}: expected shape {list(t.shape)} ({t}), "
                         f"got {list(array.shape)}")
    want = numpy_dtype(t.dtype)
    if array.dtype != want:
        raise InputError(f"argument {i}: expected dtype {np.dtype(want).name} ({t}), "
                         f"got {array.dtype}")
    return _store(array, t.dtype) if t.dtype == "bf16" else array


def _error(op, message, cls=VerifyError):
    diagnostic = format_diagnostic(op.location, f"'{op.name}' op {message}")
    return cls(diagnostic) if cls is InputError else cls([diagnostic])


def interpret(module, func_name: str = "main", *arrays, precision: str = "op") -> tuple:
    """Evaluate `@func_name` of an euler-level module on numpy arrays.

    Args:
        module: an `ir.Module` (or its `builtin.module` operation) whose
            function contains only euler ops and `func.return`.
        func_name: the function to run.
        *arrays: one numpy array per function argument, of exactly its shape
            and dtype (bf16 arguments are given as float32).
        precision: "op" computes each op in its element type (the oracle);
            "f64" computes and keeps every float in float64, and "ulp" is
            "op" with every finite float result moved one ulp up or down
            (a fixed pseudo-random choice), as a libm or a polynomial may
            round differently: the distances between these estimate how much
            rounding alone can move a result (the fuzzer's tolerance).

    Returns:
        A tuple with one numpy array per function result.

    Raises:
        InputError: wrong number, shape or dtype of arguments, or a gather
            index out of range.
        VerifyError: an op breaks its shape rules (with its location).
        UnsupportedOp: a non-euler op, other than `func.return`, is reached.
    """
    func = find_func(module, func_name)
    ftype = ir.FunctionType(ir.TypeAttr(func.attributes["function_type"]).value)
    if len(arrays) != len(ftype.inputs):
        raise InputError(f"@{func_name} takes {len(ftype.inputs)} arguments, got {len(arrays)}")
    block = func.regions[0].blocks[0]
    env = {}
    for i, (arg, array) in enumerate(zip(block.arguments, arrays)):
        try:
            t = euler_ops.tensor_type(arg.type)
        except ShapeError as err:
            raise InputError(f"argument {i}: {err}") from None
        env[arg] = _check_argument(i, array, t)

    if precision not in ("op", "f64", "ulp"):
        raise ValueError(f"precision must be 'op', 'f64' or 'ulp', got {precision!r}")
    compute, store = _compute_dtype, _store
    if precision == "f64":
        def compute(dtype):
            return np.float64 if dtype in shapes.FLOAT_DTYPES else numpy_dtype(dtype)

        def store(value, dtype):
            return np.asarray(value).astype(compute(dtype), copy=False)
    elif precision == "ulp":
        rng = np.random.default_rng(0)

        def store(value, dtype):
            value = _store(value, dtype)
            if value.dtype.kind != "f":
                return value
            away = np.where(rng.random(value.shape) < 0.5, -np.inf, np.inf)
            return np.where(np.isfinite(value),
                            np.nextafter(value, away.astype(value.dtype)), value)

    with np.errstate(all="ignore"):
        for op in block.operations:
            op = op.operation
            if op.name == "func.return":
                return tuple(env[v] for v in op.operands)
            if not op.name.startswith("euler."):
                raise _error(op, "is not an euler op; the interpreter runs euler-level IR only",
                             UnsupportedOp)
            try:
                result = euler_ops.verify_op(op)
                attrs = euler_ops.attrs_of(op)
                name = euler_ops.op_name(op)
                args = [env[v].astype(compute(euler_ops.tensor_type(v.type).dtype), copy=False)
                        for v in op.operands]
                value = _evaluate(name, args, attrs, result, op)
                if precision == "ulp" and name in ("reduce_sum", "reduce_mean"):
                    value = value + _sum_rounding(name, args[0], attrs, result.dtype) * \
                        np.where(rng.random(np.shape(value)) < 0.5, -1.0, 1.0)
                value = store(value, result.dtype)
            except ShapeError as err:
                raise _error(op, err) from None
            except InputError as err:
                raise _error(op, err, InputError) from None
            if value.shape != tuple(result.shape):
                raise AssertionError(f"interpreter bug: {op.name} produced shape {value.shape}, "
                                     f"expected {result}")
            # Not ascontiguousarray: it turns 0-d results into 1-d ones.
            env[op.results[0]] = np.require(value, requirements="C")
    raise _error(func, "has no func.return")


def evaluate_op(op: ir.Operation, arrays) -> np.ndarray:
    """Evaluate one euler op on numpy operands, one per operand in its storage
    dtype; the per-op entry point for compile-time evaluation
    (euler-fold-constants). Computes as `interpret` does with precision "op".

    Raises:
        ShapeError: the op breaks its shape rules (no location attached).
        InputError: bad data, e.g. a gather index out of range.
    """
    result = euler_ops.verify_op(op)
    args = [np.asarray(a).astype(_compute_dtype(euler_ops.tensor_type(v.type).dtype), copy=False)
            for a, v in zip(arrays, op.operands)]
    with np.errstate(all="ignore"):
        value = _evaluate(euler_ops.op_name(op), args, euler_ops.attrs_of(op), result, op)
    return np.require(_store(value, result.dtype), requirements="C")


def interpret_text(text: str, func_name: str = "main", *arrays, precision: str = "op") -> tuple:
    """Parse euler IR text in a fresh context and `interpret` it."""
    from .. import dialects
    from ..errors import ParseError, from_mlir_error
    with dialects.context() as ctx, ir.Location.unknown():
        try:
            module = ir.Module.parse(text)
        except ir.MLIRError as err:
            raise from_mlir_error(err, ParseError) from None
        return interpret(module, func_name, *arrays, precision=precision)
