"""Python builders for euler ops, and the bridge between MLIR and shapes.py.

Builders take MLIR values and Python attribute values, infer the result type
with `shapes.infer` and create the op at the current insertion point:

    with ir.InsertionPoint(block), loc:
        y = ops.matmul(x, w)
        y = ops.gelu(ops.add(y, b), approximate="tanh")

`attrs_of(op)` decodes an op's attributes into Python values, and
`verify_op(op)` checks one op against its shape rule; every consumer of euler
IR (verifier, lowering, interpreter) goes through these two.
"""

from __future__ import annotations

import numpy as np
from mlir import ir

from . import shapes
from .shapes import ShapeError, TensorType

# MLIR element type spelling <-> numpy dtype. bf16 has no numpy dtype.
NUMPY_DTYPES = {"f32": np.float32, "f16": np.float16, "f64": np.float64,
                "i64": np.int64, "i32": np.int32, "i8": np.int8}
_MLIR_ELEMENT = {"f32": ir.F32Type.get, "f16": ir.F16Type.get, "bf16": ir.BF16Type.get,
                 "f64": ir.F64Type.get, "i64": lambda: ir.IntegerType.get_signless(64),
                 "i32": lambda: ir.IntegerType.get_signless(32),
                 "i8": lambda: ir.IntegerType.get_signless(8)}


def dtype_of_numpy(dtype) -> str:
    for name, np_dtype in NUMPY_DTYPES.items():
        if np.dtype(dtype) == np_dtype:
            return name
    raise ShapeError(f"unsupported numpy dtype {np.dtype(dtype)}")


def tensor_type(t: ir.Type) -> TensorType:
    """MLIR ranked tensor type -> TensorType; ShapeError for anything else."""
    if not isinstance(t, ir.RankedTensorType):
        raise ShapeError(f"expected a ranked tensor, got {t}")
    rt = t
    if not rt.has_static_shape:
        raise ShapeError(f"dynamic shapes are not supported: {t}")
    return TensorType(tuple(rt.shape), str(rt.element_type))


def mlir_type(t: TensorType) -> ir.RankedTensorType:
    """TensorType -> MLIR ranked tensor type (needs a context)."""
    if t.dtype not in _MLIR_ELEMENT:
        raise ShapeError(f"unsupported element type {t.dtype}")
    return ir.RankedTensorType.get(list(t.shape), _MLIR_ELEMENT[t.dtype]())


def _decode(attr: ir.Attribute):
    # The bindings return attributes already downcast to their concrete class.
    if isinstance(attr, (ir.DenseI64ArrayAttr, ir.DenseI32ArrayAttr)):
        return tuple(attr)
    if isinstance(attr, (ir.BoolAttr, ir.IntegerAttr, ir.FloatAttr, ir.StringAttr)):
        return attr.value
    return attr


def elements_to_numpy(attr: ir.DenseElementsAttr) -> np.ndarray:
    t = tensor_type(attr.type)
    if t.dtype not in NUMPY_DTYPES:
        raise ShapeError(f"constants of type {t.dtype} cannot be evaluated")
    if attr.is_splat:
        value = attr.get_splat_value().value
        return np.full(t.shape, value, dtype=NUMPY_DTYPES[t.dtype])
    return np.array(attr, copy=True).reshape(t.shape).astype(NUMPY_DTYPES[t.dtype], copy=False)


_EXPECTED_KIND = {"perm": tuple, "axes": tuple, "kernel": tuple, "strides": tuple,
                  "padding": tuple, "dilations": tuple, "axis": int, "groups": int,
                  "keepdims": bool, "epsilon": float, "approximate": str, "low": tuple,
                  "high": tuple, "fill": float, "predicate": str}


def attrs_of(op: ir.Operation) -> dict:
    """Decode an euler op's attributes into Python values, checking their kinds.
    A constant's `value` stays an MLIR attribute: `elements_to_numpy` decodes it."""
    out = {}
    for name in op.attributes:
        attr = op.attributes[name]
        value = _decode(attr)
        kind = _EXPECTED_KIND.get(name)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if kind is not None and not (isinstance(value, kind) and
                                     (kind is bool or not isinstance(value, bool))):
            expect = {tuple: "array<i64: ...>", int: "an integer", bool: "a bool",
                      float: "a float", str: "a string"}[kind]
            raise ShapeError(f"attribute '{name}' must be {expect}, got {attr}")
        out[name] = value
    return out


def op_name(op: ir.Operation) -> str:
    """'euler.matmul' -> 'matmul'."""
    return op.name.split(".", 1)[1]


def verify_op(op: ir.Operation) -> TensorType:
    """Check one euler op against its shape rule; return its result type."""
    if len(op.results) != 1:
        raise ShapeError(f"expects one result, got {len(op.results)}")
    result = tensor_type(op.results[0].type)
    operands = [tensor_type(v.type) for v in op.operands]
    if op_name(op) == "constant":
        # Only the value's type matters here: decoding it would copy every
        # weight, and bf16 or resource constants have no numpy form.
        value = op.attributes["value"]
        if (not isinstance(value, (ir.DenseElementsAttr, ir.DenseResourceElementsAttr))
                or value.type != op.results[0].type):
            raise ShapeError(f"'value' must be dense elements of the result type {result}")
        attrs = {"value": np.broadcast_to(np.int8(0), result.shape), "dtype": result.dtype}
    else:
        attrs = attrs_of(op)
    return shapes.infer(op_name(op), operands, attrs, result)


# --- builders ----------------------------------------------------------------

def _encode(value) -> ir.Attribute:
    if isinstance(value, ir.Attribute):
        return value
    if isinstance(value, bool):
        return ir.BoolAttr.get(value)
    if isinstance(value, int):
        return ir.IntegerAttr.get(ir.IntegerType.get_signless(64), value)
    if isinstance(value, float):
        return ir.FloatAttr.get(ir.F32Type.get(), value)
    if isinstance(value, str):
        return ir.StringAttr.get(value)
    if isinstance(value, (tuple, list)):
        return ir.DenseI64ArrayAttr.get([int(v) for v in value])
    raise TypeError(f"cannot encode attribute value {value!r}")


def build(name: str, operands, attrs=None, result: TensorType | None = None) -> ir.Value:
    """Create `euler.<name>` with an inferred result type and return its result."""
    attrs = {k: v for k, v in (attrs or {}).items() if v is not None}
    ttypes = [tensor_type(v.type) for v in operands]
    out = shapes.infer(name, ttypes, attrs, result)
    op = ir.Operation.create(f"euler.{name}", results=[mlir_type(out)], operands=list(operands),
                             attributes={k: _encode(v) for k, v in attrs.items()})
    return op.result


def constant(value: np.ndarray) -> ir.Value:
    # ascontiguousarray alone turns a 0-d array into shape (1,).
    value = np.asarray(value)
    value = np.ascontiguousarray(value).reshape(value.shape)
    t = TensorType(tuple(value.shape), dtype_of_numpy(value.dtype))
    attr = ir.DenseElementsAttr.get(value, type=mlir_type(t))
    op = ir.Operation.create("euler.constant", results=[mlir_type(t)], attributes={"value": attr})
    return op.result


def _binary(name):
    return lambda lhs, rhs: build(name, [lhs, rhs])


def _unary(name):
    return lambda x: build(name, [x])


add, sub, mul, div, maximum, minimum, pow = (_binary(n) for n in shapes.BINARY_OPS)
neg, abs, exp, log, sqrt, rsqrt, tanh, sigmoid, relu, cos, sin, erf = (
    _unary(n) for n in shapes.UNARY_OPS if n != "gelu")


def gelu(x, approximate="none"):
    return build("gelu", [x], {"approximate": approximate})


def matmul(lhs, rhs):
    return build("matmul", [lhs, rhs])


def transpose(x, perm):
    return build("transpose", [x], {"perm": tuple(perm)})


def reshape(x, shape):
    return build("reshape", [x], result=TensorType(tuple(shape), tensor_type(x.type).dtype))


def broadcast_to(x, shape):
    return build("broadcast_to", [x], result=TensorType(tuple(shape), tensor_type(x.type).dtype))


def _reduce(name):
    def builder(x, axes, keepdims=False):
        return build(name, [x], {"axes": tuple(axes), "keepdims": bool(keepdims)})
    builder.__name__ = name
    return builder


reduce_sum, reduce_max, reduce_mean = (_reduce(n) for n in shapes.REDUCE_OPS)


def softmax(x, axis=-1):
    return build("softmax", [x], {"axis": int(axis)})


def layer_norm(x, gamma, beta, axis=-1, epsilon=1e-5):
    return build("layer_norm", [x, gamma, beta], {"axis": int(axis), "epsilon": float(epsilon)})


def conv2d(x, w, strides=(1, 1), padding=(0, 0), dilations=(1, 1), groups=1):
    return build("conv2d", [x, w], {"strides": tuple(strides), "padding": tuple(padding),
                                    "dilations": tuple(dilations), "groups": int(groups)})


def max_pool2d(x, kernel, strides=None, padding=(0, 0)):
    return build("max_pool2d", [x], {"kernel": tuple(kernel), "strides": strides and tuple(strides),
                                     "padding": tuple(padding)})


def avg_pool2d(x, kernel, strides=None, padding=(0, 0)):
    return build("avg_pool2d", [x], {"kernel": tuple(kernel), "strides": strides and tuple(strides),
                                     "padding": tuple(padding)})


CONCAT_GROUPS = 8  # operand groups of euler.concat (see euler.irdl.mlir)


def concat_segments(types) -> list:
    """`operandSegmentSizes` of an euler.concat of operands of `types`: the
    lengths of the runs of equal consecutive types, padded to CONCAT_GROUPS."""
    runs = []
    for i, t in enumerate(types):
        if i and t == types[i - 1]:
            runs[-1] += 1
        else:
            runs.append(1)
    if len(runs) > CONCAT_GROUPS:
        raise ShapeError(f"concat of {len(runs)} runs of operand types; at most {CONCAT_GROUPS}")
    return runs + [0] * (CONCAT_GROUPS - len(runs))


def concat(inputs, axis=0):
    """numpy.concatenate(inputs, axis) of any shapes that agree off the axis."""
    inputs = list(inputs)
    types = [str(v.type) for v in inputs]
    while True:
        # More runs of equal types than operand groups: join the leading ones first.
        starts = [i for i in range(len(types)) if i == 0 or types[i] != types[i - 1]]
        if len(starts) <= CONCAT_GROUPS:
            break
        head = concat(inputs[:starts[CONCAT_GROUPS]], axis)
        inputs = [head] + inputs[starts[CONCAT_GROUPS]:]
        types = [str(v.type) for v in inputs]
    segments = ir.DenseI32ArrayAttr.get(concat_segments(types))
    return build("concat", inputs, {"axis": int(axis), "operandSegmentSizes": segments})


def compare(lhs, rhs, predicate):
    """Elementwise lhs <predicate> rhs (eq ne lt le gt ge), broadcasting, as i8 0/1."""
    return build("compare", [lhs, rhs], {"predicate": predicate})


def select(cond, a, b):
    """numpy.where(cond, a, b) for a boolean (i8) `cond`, broadcasting all three."""
    return build("select", [cond, a, b])


def cumsum(x, axis):
    """numpy.cumsum(x, axis) in x's element type."""
    return build("cumsum", [x], {"axis": int(axis)})


def pad(x, low, high, fill=0.0):
    """numpy.pad(x, zip(low, high), constant_values=fill)."""
    return build("pad", [x], {"low": tuple(low), "high": tuple(high), "fill": float(fill)})


def cast(x, dtype):
    return build("cast", [x], result=TensorType(tensor_type(x.type).shape, dtype))


def gather(table, indices, axis=0):
    return build("gather", [table, indices], {"axis": int(axis)})
