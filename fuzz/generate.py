"""Random well-typed euler programs, NNSmith-style, for differential fuzzing.

A program is a DAG of 1..max_ops euler ops drawn from the whole op set. Ops
are added one at a time: pick an op, pick operands among the values built so
far (preferring recent ones, so that chains grow deep) or make new function
arguments of a fitting shape, pick attributes, and keep the candidate only if
`shapes.infer` accepts it; shape rules thus live in `dialects/shapes.py` only.
Values that nothing consumes become function results, so every op is
observable. log, sqrt, rsqrt, pow and div get guarded operands (abs(x) + c)
so that results stay defined and away from singularities.

`Program` is a plain data structure that the reducer edits; `to_mlir` prints
it in generic syntax and `inputs` makes its random arguments.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..dialects import shapes
from ..dialects.ops import concat_segments
from ..dialects.shapes import ShapeError, TensorType

# Ops the generator draws from, with relative weights.
OP_WEIGHTS = {
    **{n: 3 for n in shapes.BINARY_OPS}, **{n: 2 for n in shapes.UNARY_OPS},
    "matmul": 4, "transpose": 2, "reshape": 2, "broadcast_to": 1, "reduce_sum": 2,
    "reduce_max": 2, "reduce_mean": 2, "softmax": 2, "layer_norm": 2, "conv2d": 3,
    "max_pool2d": 2, "avg_pool2d": 2, "concat": 2, "cast": 1, "gather": 1, "pad": 1,
    "select": 1, "cumsum": 1,
}
# Operands these ops take through abs(x) + GUARD, to stay in their domain.
GUARDED = {"log": (0,), "sqrt": (0,), "rsqrt": (0,), "pow": (0,), "div": (1,)}
GUARD = 0.5
MAX_DIM = 6


@dataclasses.dataclass
class Node:
    """One op: `result = euler.<name>(operands) {attrs}`. Operands are value ids."""
    name: str
    operands: list
    attrs: dict
    result: TensorType


@dataclasses.dataclass
class Program:
    """Function arguments, ops in order, and the values the function returns.

    Value ids: `("arg", i)` for argument i, `("op", j)` for node j's result.
    """
    args: list
    nodes: list
    outputs: list

    def type_of(self, vid) -> TensorType:
        kind, i = vid
        return self.args[i] if kind == "arg" else self.nodes[i].result

    def copy(self) -> "Program":
        return Program(list(self.args),
                       [Node(n.name, list(n.operands), dict(n.attrs), n.result) for n in self.nodes],
                       list(self.outputs))


# --- printing ----------------------------------------------------------------

def _number(x) -> str:
    if np.issubdtype(type(x), np.integer):
        return str(int(x))
    # str of a numpy float is the shortest text that round-trips its type;
    # MLIR wants a '.' in the mantissa (1.0e-05, not 1e-05).
    text = str(x)
    mantissa, e, exponent = text.partition("e")
    if mantissa.lstrip("-").isdigit():
        mantissa += ".0"
    return mantissa + e + exponent


def _dense(value: np.ndarray) -> str:
    if value.size and (value == value.flat[0]).all():
        return f"dense<{_number(value.flat[0])}>"
    flat = [_number(v) for v in value.reshape(-1)]

    def nest(shape, items):
        if not shape:
            return items[0]
        step = len(items) // shape[0] if shape[0] else 0
        return "[" + ", ".join(nest(shape[1:], items[k * step:(k + 1) * step])
                               for k in range(shape[0])) + "]"
    return f"dense<{nest(value.shape, flat)}>"


def _attr(name, value, node) -> str:
    if name == "value":
        return f"{_dense(value)} : {node.result}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value} : i64"
    if isinstance(value, float):
        return f"{_number(np.float32(value))} : f32"
    if isinstance(value, str):
        return f'"{value}"'
    return "array<i64" + (": " + ", ".join(str(int(v)) for v in value) if value else "") + ">"


def _name(vid) -> str:
    return f"%arg{vid[1]}" if vid[0] == "arg" else f"%{vid[1]}"


def to_mlir(program: Program, func_name: str = "main") -> str:
    """The program as an MLIR `func.func` in generic op syntax."""
    args = ", ".join(f"%arg{i}: {t}" for i, t in enumerate(program.args))
    results = ", ".join(str(program.type_of(v)) for v in program.outputs)
    lines = [f"func.func @{func_name}({args}) -> ({results}) {{"]
    for j, node in enumerate(program.nodes):
        operands = ", ".join(_name(v) for v in node.operands)
        attrs = ", ".join(f"{k} = {_attr(k, v, node)}" for k, v in sorted(node.attrs.items()))
        types = ", ".join(str(program.type_of(v)) for v in node.operands)
        if node.name == "concat":  # from the operand types, which the reducer may change
            sizes = concat_segments([program.type_of(v) for v in node.operands])
            attrs += ", operandSegmentSizes = array<i32: " + ", ".join(map(str, sizes)) + ">"
        lines.append(f'  %{j} = "euler.{node.name}"({operands})' + (f" {{{attrs}}}" if attrs else "")
                     + f" : ({types}) -> {node.result}")
    lines.append(f"  return {', '.join(_name(v) for v in program.outputs)} : {results}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def infer_node(program: Program, node: Node) -> TensorType:
    """`shapes.infer` for a node (raises ShapeError); constants carry their value."""
    attrs = node.attrs
    if node.name == "constant":
        attrs = {"value": node.attrs["value"], "dtype": node.result.dtype}
    declared = node.result if node.name in ("reshape", "broadcast_to", "cast") else None
    return shapes.infer(node.name, [program.type_of(v) for v in node.operands], attrs, declared)


# --- inputs ------------------------------------------------------------------

def inputs(program: Program, rng: np.random.Generator, special: float = 0.0) -> list:
    """Random arguments in [-2, 2); with `special` > 0, that fraction of
    elements becomes NaN, +Inf or -Inf."""
    from ..runtime.interpreter import numpy_dtype
    out = []
    for t in program.args:
        x = rng.uniform(-2.0, 2.0, t.shape)
        if special:
            mask = rng.random(t.shape) < special
            x[mask] = rng.choice([np.nan, np.inf, -np.inf], size=int(mask.sum()))
        out.append(x.astype(numpy_dtype(t.dtype)))
    return out


# --- generation --------------------------------------------------------------

class _Builder:
    def __init__(self, rng: np.random.Generator, dtype: str):
        self.rng, self.dtype = rng, dtype
        self.program = Program([], [], [])

    # values ---------------------------------------------------------------
    def values(self, dtype=None, pred=lambda t: True):
        p = self.program
        vids = [("arg", i) for i in range(len(p.args))] + [("op", j) for j in range(len(p.nodes))]
        return [v for v in vids if p.type_of(v).dtype == (dtype or self.dtype)
                and p.type_of(v).dtype in shapes.FLOAT_DTYPES and pred(p.type_of(v))]

    def pick(self, candidates):
        # Prefer recent values: deep chains find more bugs than wide fans.
        weights = np.arange(1, len(candidates) + 1, dtype=float) ** 2
        return candidates[self.rng.choice(len(candidates), p=weights / weights.sum())]

    def new_arg(self, shape, dtype=None):
        self.program.args.append(TensorType(tuple(int(d) for d in shape), dtype or self.dtype))
        return ("arg", len(self.program.args) - 1)

    def random_shape(self, rank=None):
        rank = int(self.rng.integers(1, 5)) if rank is None else rank
        return tuple(int(d) for d in self.rng.integers(1, MAX_DIM + 1, rank))

    def operand(self, pred=lambda t: True, shape=None, fallback=None):
        """An existing value satisfying `pred` (or of `shape`), or a new
        argument of `shape` (else `fallback`, else a random shape)."""
        if shape is not None:
            pred = lambda t, s=tuple(shape): t.shape == s  # noqa: E731
        found = self.values(None, pred)
        if found and self.rng.random() < 0.85:
            return self.pick(found)
        return self.new_arg(shape if shape is not None else fallback or self.random_shape())

    def add(self, name, operands, attrs=None, result=None):
        node = Node(name, list(operands), dict(attrs or {}), result)
        node.result = infer_node(self.program, node)
        self.program.nodes.append(node)
        return ("op", len(self.program.nodes) - 1)

    def constant(self, value: np.ndarray, dtype=None):
        dtype = dtype or self.dtype
        from ..runtime.interpreter import numpy_dtype
        value = np.asarray(value).astype(numpy_dtype(dtype))
        return self.add("constant", [], {"value": value}, TensorType(value.shape, dtype))

    def guard(self, v):
        """abs(v) + GUARD: positive, bounded away from zero."""
        c = self.constant(np.full((1,), GUARD), self.program.type_of(v).dtype)
        return self.add("add", [self.add("abs", [v]), c])

    # ops ------------------------------------------------------------------
    def binary(self, name):
        x = self.operand()
        t = self.program.type_of(x)
        r = self.rng.random()
        if r < 0.4:
            shape = t.shape
        elif r < 0.7:  # a broadcasting operand: some dims 1, maybe fewer dims
            shape = tuple(1 if self.rng.random() < 0.4 else d for d in t.shape)
            shape = shape[int(self.rng.integers(0, len(shape) + 1)):] or (1,)
        else:
            shape = None
        if shape is None:
            y = self.operand(lambda u: _broadcastable(u.shape, t.shape), fallback=t.shape)
        elif self.rng.random() < 0.15:
            y = self.constant(self.rng.uniform(-2, 2, shape), t.dtype)
        else:
            y = self.operand(shape=shape)
        lhs, rhs = (x, y) if self.rng.random() < 0.5 else (y, x)
        if name == "pow":
            lhs = self.guard(lhs)
            # Bounded exponents keep pow finite: tanh(y) * 2 in (-2, 2).
            two = self.constant(np.full((1,), 2.0), t.dtype)
            rhs = self.add("mul", [self.add("tanh", [rhs]), two])
        elif name in GUARDED:
            rhs = self.guard(rhs)
        return self.add(name, [lhs, rhs])

    def unary(self, name):
        x = self.operand()
        if name in GUARDED:
            x = self.guard(x)
        if name == "exp":
            # exp of an unbounded chain overflows near f32's edge, where one
            # ulp decides between a number and Inf: keep it in (-8, 8).
            eight = self.constant(np.full((1,), 8.0), self.program.type_of(x).dtype)
            x = self.add("mul", [self.add("tanh", [x]), eight])
        attrs = {"approximate": str(self.rng.choice(["none", "tanh"]))} if name == "gelu" else {}
        return self.add(name, [x], attrs)

    def matmul(self):
        x = self.operand(lambda t: t.rank >= 2)
        t = self.program.type_of(x)
        if t.rank < 2:  # a fresh random argument may be 1-D
            x = self.add("reshape", [x], result=TensorType((1,) + t.shape, t.dtype))
            t = self.program.type_of(x)
        k = t.shape[-1]
        batch = t.shape[:-2]
        batch = tuple(1 if self.rng.random() < 0.3 else d for d in batch)
        batch = batch[int(self.rng.integers(0, len(batch) + 1)):]
        n = int(self.rng.integers(1, MAX_DIM + 1))
        y = self.operand(lambda u: u.rank >= 2 and u.shape[-2] == k
                         and _broadcastable(u.shape[:-2], t.shape[:-2]), fallback=batch + (k, n))
        operands = [x, y] if self.rng.random() < 0.8 else [y, x]
        try:
            return self.add("matmul", operands)
        except ShapeError:
            return self.add("matmul", [x, y])

    def transpose(self):
        x = self.operand(lambda t: t.rank >= 2)
        perm = tuple(int(p) for p in self.rng.permutation(self.program.type_of(x).rank))
        return self.add("transpose", [x], {"perm": perm})

    def reshape(self):
        x = self.operand()
        t = self.program.type_of(x)
        return self.add("reshape", [x], result=TensorType(self.factor(t.numel), t.dtype))

    def factor(self, n):
        """A random shape of rank 1..4 with `n` elements."""
        dims = []
        for _ in range(int(self.rng.integers(0, 4))):
            divisors = [d for d in range(1, n + 1) if n % d == 0 and d <= MAX_DIM]
            d = int(self.rng.choice(divisors))
            dims.append(d)
            n //= d
        dims.append(n)
        self.rng.shuffle(dims)
        return tuple(dims)

    def broadcast_to(self):
        x = self.operand(lambda t: t.rank <= 3)
        t = self.program.type_of(x)
        shape = tuple(int(self.rng.integers(1, 4)) if d == 1 else d for d in t.shape)
        lead = tuple(int(d) for d in self.rng.integers(1, 4, int(self.rng.integers(0, 2))))
        return self.add("broadcast_to", [x], result=TensorType(lead + shape, t.dtype))

    def reduce(self, name):
        x = self.operand(_ranked)
        rank = self.program.type_of(x).rank
        k = int(self.rng.integers(1, rank + 1))
        axes = tuple(int(a) - (rank if self.rng.random() < 0.3 else 0)
                     for a in self.rng.choice(rank, k, replace=False))
        attrs = {"axes": axes, "keepdims": bool(self.rng.random() < 0.5)}
        return self.add(name, [x], attrs)

    def softmax(self):
        x = self.operand(_ranked)
        rank = self.program.type_of(x).rank
        return self.add("softmax", [x], {"axis": int(self.rng.integers(-rank, rank))})

    def layer_norm(self):
        x = self.operand(_ranked)
        t = self.program.type_of(x)
        axis = int(self.rng.integers(-t.rank, t.rank))
        norm = t.shape[axis:]
        gamma, beta = self.operand(shape=norm), self.operand(shape=norm)
        eps = float(self.rng.choice([1e-5, 1e-3, 0.1]))
        return self.add("layer_norm", [x, gamma, beta], {"axis": axis, "epsilon": eps})

    def image(self):
        """A rank-4 NCHW operand with H, W >= 3."""
        return self.operand(lambda t: t.rank == 4 and t.shape[2] >= 3 and t.shape[3] >= 3,
                            fallback=(int(self.rng.integers(1, 3)), int(self.rng.integers(1, 5)),
                                      int(self.rng.integers(3, 9)), int(self.rng.integers(3, 9))))

    def conv2d(self):
        x = self.image()
        n, c, h, w = self.program.type_of(x).shape
        groups = int(self.rng.choice([g for g in range(1, c + 1) if c % g == 0]))
        f = groups * int(self.rng.integers(1, 4))
        kh, kw = (int(k) for k in self.rng.integers(1, 4, 2))
        weight = self.operand(shape=(f, c // groups, kh, kw))
        attrs = {"strides": tuple(int(s) for s in self.rng.integers(1, 3, 2)),
                 "padding": tuple(int(p) for p in self.rng.integers(0, 3, 2)),
                 "dilations": tuple(int(d) for d in self.rng.integers(1, 3, 2)),
                 "groups": groups}
        return self.add("conv2d", [x, weight], attrs)

    def pool(self, name):
        x = self.image()
        kernel = tuple(int(k) for k in self.rng.integers(1, 4, 2))
        attrs = {"kernel": kernel, "padding": tuple(int(self.rng.integers(0, k // 2 + 1))
                                                    for k in kernel)}
        if self.rng.random() < 0.6:
            attrs["strides"] = tuple(int(s) for s in self.rng.integers(1, 4, 2))
        return self.add(name, [x], attrs)

    def concat(self):
        x = self.operand(_ranked)
        t = self.program.type_of(x)
        axis = int(self.rng.integers(-t.rank, t.rank))
        shape = list(t.shape)
        shape[axis] = int(self.rng.integers(1, MAX_DIM + 1))
        y = self.operand(lambda u: u.rank == t.rank and all(
            a == b for i, (a, b) in enumerate(zip(u.shape, t.shape)) if i != axis % t.rank),
            fallback=tuple(shape))
        rest = [y] * int(self.rng.integers(1, 3))
        # Mixed runs of shapes (x, y, y, x): each run is one operand group.
        tail = [x] if self.rng.random() < 0.5 else []
        return self.add("concat", [x] + rest + tail, {"axis": axis})

    def cast(self):
        x = self.operand()
        t = self.program.type_of(x)
        other = "f16" if t.dtype == "f32" else "f32"
        y = self.add("cast", [x], result=TensorType(t.shape, other))
        # Cast back so the program stays in one dtype; the round trip still
        # exercises both conversions.
        return self.add("cast", [y], result=t)

    def gather(self):
        table = self.operand(_ranked)
        t = self.program.type_of(table)
        axis = int(self.rng.integers(-t.rank, t.rank))
        idx_shape = self.random_shape(int(self.rng.integers(1, 3)))
        indices = self.rng.integers(0, t.shape[axis], idx_shape)
        idx = self.add("constant", [], {"value": indices.astype(np.int64)},
                       TensorType(idx_shape, "i64"))
        return self.add("gather", [table, idx], {"axis": axis})

    def select(self):
        # where(x <pred> y, x, y): a comparison's boolean (i8) feeding a select,
        # so the program's values stay in its float dtype.
        x = self.operand()
        t = self.program.type_of(x)
        y = self.operand(lambda u: _broadcastable(u.shape, t.shape), fallback=t.shape)
        pred = str(self.rng.choice(shapes.COMPARE_PREDICATES))
        cond = self.add("compare", [x, y], {"predicate": pred})
        return self.add("select", [cond, x, y])

    def cumsum(self):
        x = self.operand(_ranked)
        t = self.program.type_of(x)
        return self.add("cumsum", [x], {"axis": int(self.rng.integers(-t.rank, t.rank))})

    def pad(self):
        x = self.operand(_ranked)
        t = self.program.type_of(x)
        low, high = (tuple(int(p) for p in self.rng.integers(0, 3, t.rank)) for _ in range(2))
        fill = float(self.rng.choice([0.0, -1.0, 2.5]))
        return self.add("pad", [x], {"low": low, "high": high, "fill": fill})

    def step(self, name):
        if name in shapes.BINARY_OPS:
            return self.binary(name)
        if name in shapes.UNARY_OPS:
            return self.unary(name)
        if name in shapes.REDUCE_OPS:
            return self.reduce(name)
        if name in shapes.POOL_OPS:
            return self.pool(name)
        return getattr(self, name)()


def _ranked(t: TensorType) -> bool:
    return t.rank >= 1


def _broadcastable(a, b) -> bool:
    try:
        shapes.broadcast_shapes(a, b)
        return True
    except ShapeError:
        return False


MAX_ELEMENTS = 4096


def generate(rng: np.random.Generator, max_ops: int = 10, dtype: str | None = None) -> Program:
    """A random well-typed program with 1..max_ops generated ops (guards and
    constants they need come on top)."""
    dtype = dtype or ("f16" if rng.random() < 0.1 else "f32")
    b = _Builder(rng, dtype)
    names = list(OP_WEIGHTS)
    weights = np.array([OP_WEIGHTS[n] for n in names], dtype=float)
    target = int(rng.integers(1, max_ops + 1))
    made = attempts = 0
    while made < target and attempts < 20 * target:
        attempts += 1
        name = str(rng.choice(names, p=weights / weights.sum()))
        saved = b.program.copy()
        try:
            v = b.step(name)
            if b.program.type_of(v).numel > MAX_ELEMENTS or \
                    any(t.numel > MAX_ELEMENTS for t in b.program.args):
                raise ShapeError("too large for a fuzz program")
            made += 1
        except ShapeError:
            b.program = saved  # the candidate broke a shape rule: try another op
    p = b.program
    if not p.nodes:
        b.add("relu", [b.new_arg(b.random_shape())])
    used = {v for n in p.nodes for v in n.operands}
    p.outputs = [("op", j) for j, n in enumerate(p.nodes)
                 if ("op", j) not in used and n.name != "constant"]
    return p


# Large-shape mode: one reduction over at least this many terms, where a
# sequential f32 accumulator drifts by up to percents and blocked sums must not.
LARGE_TERMS = 10 ** 6


def generate_large(rng: np.random.Generator) -> Program:
    """A program around one long reduction: a big f32 argument, shifted by a
    constant (a large mean, small spread: where running sums drift most) and
    maybe mapped elementwise, then reduced over >= LARGE_TERMS terms along
    contiguous, strided or several axes (a sum, a mean, a softmax or a
    layer_norm), with a small op after it."""
    b = _Builder(rng, "f32")
    long = int(rng.choice([1 << 20, (1 << 20) + 7, 1000003]))  # 1000003 is prime
    kind = str(rng.choice(["rows", "columns", "two_axes", "flat"]))
    if kind == "rows":  # contiguous: the last axis
        shape, axes = (int(rng.integers(1, 4)), long), (1,)
    elif kind == "columns":  # strided: the first axis of a few columns
        shape, axes = (long, int(rng.integers(2, 5))), (0,)
    elif kind == "two_axes":  # an outer and an inner axis (e.g. aten.var's planes)
        inner = int(rng.choice([1024, 1031]))
        shape, axes = (-(-long // inner), int(rng.integers(1, 4)), inner), (0, 2)
    else:
        shape, axes = (long,), (0,)
    x = b.new_arg(shape)
    mapped = str(rng.choice(["none", "abs", "relu", "sigmoid", "mul"]))
    if mapped == "mul":
        x = b.add("mul", [x, b.constant(np.full((1,), float(rng.uniform(0.5, 2.0))))])
    elif mapped != "none":
        x = b.add(mapped, [x])
    # Sums of ~1e9 (1M terms of ~1000): a running f32 total then rounds each
    # term to a multiple of 64, percents off; unshifted sums cancel instead.
    shift = float(rng.choice([0.0, 1000.0, 10000.0]))
    if shift:
        x = b.add("add", [x, b.constant(np.full((1,), shift))])
    rank = len(shape)
    op = str(rng.choice(["reduce_sum", "reduce_mean", "softmax", "layer_norm"]))
    if op == "softmax" and kind in ("rows", "flat"):
        # Scaled by the row length, so that outputs are not all below atol.
        y = b.add("softmax", [x], {"axis": rank - 1})
        y = b.add("mul", [y, b.constant(np.full((1,), float(shape[-1])))])
    elif op == "layer_norm" and kind in ("rows", "flat"):
        c = shape[-1]
        gamma, beta = b.new_arg((c,)), b.new_arg((c,))
        y = b.add("layer_norm", [x, gamma, beta], {"axis": rank - 1, "epsilon": 1e-5})
    else:
        name = op if op.startswith("reduce") else "reduce_sum"
        y = b.add(name, [x], {"axes": axes, "keepdims": bool(rng.random() < 0.3)})
    if b.program.type_of(y).numel <= 64 and rng.random() < 0.5:
        y = b.add(str(rng.choice(["neg", "sqrt", "tanh"])), [b.guard(y)])
    b.program.outputs = [y]
    return b.program


def program_and_inputs(seed: int, index: int, max_ops: int = 10, large: bool = False):
    """Program number `index` of the fuzz run with `seed`, and its inputs;
    `large` draws from the run's separate stream of large-shape programs."""
    if large:
        rng = np.random.default_rng([seed, index, 1])
        program = generate_large(rng)
        return program, inputs(program, rng)
    rng = np.random.default_rng([seed, index])
    program = generate(rng, max_ops)
    special = 0.02 if rng.random() < 0.05 else 0.0
    return program, inputs(program, rng, special)


def count_ops(program: Program) -> int:
    return sum(n.name != "constant" for n in program.nodes)


__all__ = ["Node", "Program", "generate", "generate_large", "inputs", "infer_node",
           "program_and_inputs", "to_mlir", "count_ops"]
