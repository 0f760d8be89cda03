"""torch.export.ExportedProgram -> euler dialect.

The entry point of PyTorch programs into euler: it walks the ATen graph of an
exported program and builds one `func.func @main` of euler ops with the
builders of `euler.dialects.ops` (which own every shape rule). The resulting
module is the input of the `euler` stage of the pipelines.

What it does beyond a one-to-one translation:
  * ATen ops that euler has keep their level (linear, conv2d, layer_norm,
    softmax, gelu, pooling); the others are decomposed into euler ops
    (log_softmax, silu, addmm, scaled_dot_product_attention, ...). Both the
    pre-dispatch form that `torch.export.export` produces and the core-ATen
    form of `run_decompositions()` are accepted.
  * Parameters and buffers are compile-time constants (or function arguments
    with `params_as_args=True`). Any node whose tensor inputs are all
    constants is evaluated by PyTorch at import time, so masks built with
    `torch.tril(torch.ones(...))`, transposed weights and batch-norm scales
    become `euler.constant`s; eval-mode batch_norm after a conv is folded
    into the conv's weights.
  * Each op gets the `file:line:col` of the user's source line that produced
    it (the last frame outside torch in the FX node's stack trace), so
    diagnostics and IR dumps point at the model's code.
  * Ops that cannot be imported are collected, with their source lines,
    instead of failing at the first one: `euler.torch.coverage` reports them
    and `euler.torch.compile` raises one `CompileError` listing them all.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import linecache
import operator
import os
import re

import numpy as np
import torch
from mlir import ir
from mlir.dialects import func

from ..dialects import context as euler_context
from ..dialects import ops
from ..dialects.shapes import ShapeError, TensorType
from ..errors import CompileError, InternalError
from .aten import (SUPPORTED_OPS, Complex, Const, ImportUnsupported, aten_name,
                   complex_handler_for, handler_for)
from .decompose import passthrough

__all__ = ["import_program", "ImportedProgram", "Unsupported", "SUPPORTED_OPS", "aten_name"]

aten = torch.ops.aten

TORCH_DTYPES = {torch.float32: "f32", torch.float64: "f64", torch.float16: "f16",
                torch.bfloat16: "bf16", torch.int64: "i64", torch.int32: "i32",
                torch.bool: "i8"}  # booleans are i8 0/1 tensors in euler (shapes.BOOL)

# Frames in these directories are library code, not the user's model.
_LIBRARY_DIRS = (os.path.dirname(torch.__file__), os.path.dirname(os.path.abspath(__file__)))
_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+), in ')


# --- results -----------------------------------------------------------------

@dataclasses.dataclass
class Unsupported:
    """One FX node that could not be imported."""
    op: str          # ATen name, e.g. "aten.nonzero.default"
    location: str    # "file:line:col" of the user's source, or the node's name
    reason: str

    def diagnostic(self) -> str:
        return f"{self.location}: error: unsupported op '{self.op}': {self.reason}"


@dataclasses.dataclass
class ImportedProgram:
    """An euler module built from an exported program, and how to call it.

    `arguments` lists, per function argument, ("input", i) for the i-th flat
    user input or ("param", fqn) for a parameter/buffer passed as an argument.
    `ops` counts the imported ATen ops by name, with their source locations;
    `decomposed` names the ops of the exported program that PyTorch decomposed.
    """
    module: ir.Module | None
    context: ir.Context
    arguments: list
    ops: dict                      # ATen name -> [location, ...] of imported nodes
    unsupported: list              # [Unsupported]
    out_spec: object = None
    # Per flat output, the torch dtype to convert the returned array to (None:
    # as returned): bf16 results leave the function as f32, numpy has no bf16.
    result_dtypes: list = dataclasses.field(default_factory=list)
    # {flat output index: value} of outputs that are Python scalars, not tensors.
    python_outputs: dict = dataclasses.field(default_factory=dict)
    # The first len(mutations) results are new values of inputs or buffers,
    # ("input", i) or ("param", fqn), which the caller copies back.
    mutations: list = dataclasses.field(default_factory=list)
    # {flat output index: mutation index} of outputs that are an updated input.
    returns_written: dict = dataclasses.field(default_factory=dict)
    decomposed: dict = dataclasses.field(default_factory=dict)  # ATen name -> [location, ...]

    def check(self):
        """Raise `CompileError` listing every unsupported op, if any."""
        if self.unsupported:
            raise CompileError([u.diagnostic() for u in self.unsupported])


class _Poison:
    """The value of a node that failed to import; its users are skipped."""


# --- source locations ----------------------------------------------------------

def user_frame(stack_trace: str | None, hint: str | None = None):
    """(file, line, col) of the last frame outside torch in an FX stack trace.

    Graphs from `run_decompositions` keep only torch's frame for some nodes;
    the last frame in torch is the fallback then. The column comes from the
    ^~~ markers that dynamo's traces carry; without them it is where `hint`
    (the op's name) appears in the line, else where the statement starts.
    """
    if not stack_trace:
        return None
    lines = stack_trace.splitlines()
    found = fallback = None
    for i, text in enumerate(lines):
        m = _FRAME.match(text)
        if not m or m["file"].startswith("<"):
            continue
        if m["file"].startswith(_LIBRARY_DIRS[1]):
            continue
        if m["file"].startswith(_LIBRARY_DIRS[0]):
            fallback = (m["file"], int(m["line"]), 1)
            continue
        file, line = m["file"], int(m["line"])
        source = linecache.getline(file, line)
        col = len(source) - len(source.lstrip()) + 1
        if hint and re.search(rf"\b{re.escape(hint)}\b", source):
            col = re.search(rf"\b{re.escape(hint)}\b", source).start() + 1
        # Python 3.11 prints the stripped source line, then ^~~ markers under
        # the expression: their offset plus the source's indentation is the column.
        if i + 2 < len(lines) and lines[i + 2].strip() and set(lines[i + 2].strip()) <= set("^~"):
            marker = lines[i + 2]
            code = lines[i + 1]
            offset = (len(marker) - len(marker.lstrip())) - (len(code) - len(code.lstrip()))
            col = len(source) - len(source.lstrip()) + max(offset, 0) + 1
        found = (file, line, col)
    return found or fallback


def _node_frame(node):
    hint = node.target._opname if isinstance(node.target, torch._ops.OpOverload) else None
    return user_frame(node.meta.get("stack_trace"), hint)


def _location_text(node) -> str:
    frame = _node_frame(node)
    return f"{frame[0]}:{frame[1]}:{frame[2]}" if frame else f"<{node.name}>"


# --- the importer ----------------------------------------------------------------

def _foldable(target) -> bool:
    if target is operator.getitem:
        return True
    # Python arithmetic on sizes read from constants (Reformer's
    # `position_ids.max().item() // w`, with position ids from an arange):
    # the result is a compile-time number, and so is the shape it sets.
    if _python_arithmetic(target):
        return True
    return (isinstance(target, torch._ops.OpOverload)
            and torch.Tag.nondeterministic_seeded not in target.tags)


def _python_arithmetic(target) -> bool:
    return getattr(target, "__module__", None) in ("_operator", "math") or target in _SYM_FUNCTIONS


_SYM_FUNCTIONS = {torch.sym_max, torch.sym_min, torch.sym_not, torch.sym_float, torch.sym_int,
                  torch.sym_ite, torch.sym_sum}


def _complex_node(node) -> bool:
    """Whether `node` takes or makes a complex tensor."""
    vals = [node.meta.get("val")] + [a.meta.get("val") for a in node.all_input_nodes]
    return any(isinstance(v, torch.Tensor) and v.is_complex() for v in vals)


def _no_lowering(target) -> str:
    """Why an op without a handler cannot be imported, as the user can act on it."""
    if isinstance(target, torch._ops.OpOverload):
        if torch.Tag.nondeterministic_seeded in target.tags:
            return ("a random op: euler compiles deterministic programs; pass the random "
                    "tensor to the model as an input instead")
        if target in (aten._local_scalar_dense.default, aten.item.default):
            return ("a Python number read from a tensor computed at run time: euler "
                    "compiles static shapes")
    return "euler has no lowering for this op"


class _Importer:
    def __init__(self, ep, params_as_args, frozen_inputs):
        self.ep = ep
        self.params_as_args = params_as_args
        self.frozen_inputs = frozen_inputs or {}
        self.env = {}
        self.materialized = {}     # (id(Const), dtype) -> (Const, its euler.constant)
        self.folded_bn = set()     # batch_norm nodes folded into the conv before them
        self.ops = collections.defaultdict(list)
        self.unsupported = []
        self.bad_args = set()      # placeholders of a dtype euler lacks
        self.result_dtypes = []
        self.python_outputs = {}
        self.mutations = []        # ("input", i) or ("param", fqn) per leading result
        self.returns_written = {}  # flat output index -> index into mutations
        self.node = None
        self._complex_part = False

    # -- values --------------------------------------------------------------

    def array(self, x):
        """The numpy value of a compile-time constant (None for runtime values)."""
        if isinstance(x, Const):
            t = x.tensor.detach()
            if t.dtype == torch.bfloat16:
                t = t.float()
            return t.cpu().numpy()
        return None

    def value(self, x, dtype=None) -> ir.Value:
        """An MLIR value for a tensor operand, casting to `dtype` if given."""
        if isinstance(x, ir.Value):
            if dtype is not None and ops.tensor_type(x.type).dtype != dtype:
                return ops.cast(x, dtype)
            return x
        if isinstance(x, Const):
            t = x.tensor
            if dtype is None:
                if t.dtype not in TORCH_DTYPES:
                    raise ImportUnsupported(f"constant tensors of dtype {t.dtype} are not supported")
                dtype = TORCH_DTYPES[t.dtype]
            key = (id(x), dtype)
            if key not in self.materialized:
                self.materialized[key] = (x, self.constant(self.array(x), dtype))
            return self.materialized[key][1]
        raise ImportUnsupported(f"expected a tensor operand, got {type(x).__name__}")

    def operand(self, x, dtype, rank):
        """A tensor operand for an elementwise op; Python scalars become constants of
        shape [1]*rank (they broadcast without changing the result's rank)."""
        if isinstance(x, (bool, int, float)):
            return self.constant(np.full((1,) * rank, x), dtype)
        return self.value(x, dtype)

    @staticmethod
    def constant(arr, dtype):
        """euler.constant of `arr` as `dtype`; bf16 (no numpy dtype) as a cast f32 constant."""
        if dtype == "bf16":
            return ops.cast(ops.constant(np.asarray(arr, np.float32)), "bf16")
        return ops.constant(np.asarray(arr).astype(ops.NUMPY_DTYPES[dtype]))

    def scalar(self, value, like):
        t = ops.tensor_type(like.type)
        return self.operand(value, t.dtype, t.rank)

    @contextlib.contextmanager
    def complex_part(self):
        """Within it, out_type() of a complex result is that of one real part."""
        self._complex_part = True
        try:
            yield
        finally:
            self._complex_part = False

    def out_type(self, node=None) -> TensorType:
        val = (node or self.node).meta.get("val")
        if not isinstance(val, torch.Tensor):
            raise ImportUnsupported("the op does not produce a single tensor")
        if val.is_complex() and self._complex_part:
            part = torch.empty((), dtype=val.dtype).real.dtype
            return TensorType(tuple(int(d) for d in val.shape), TORCH_DTYPES[part])
        if val.dtype not in TORCH_DTYPES:
            raise ImportUnsupported(f"results of dtype {val.dtype} are not supported")
        return TensorType(tuple(int(d) for d in val.shape), TORCH_DTYPES[val.dtype])

    # -- the walk ---------------------------------------------------------------

    def run(self):
        self.check_signature()
        ctx = euler_context()
        with ctx, ir.Location.unknown():
            module = ir.Module.create()
            args = self.bind_inputs()
            arg_types = [self.argument_type(node) for node, _ in args]
            with ir.InsertionPoint(module.body):
                fn = func.FuncOp("main", ir.FunctionType.get(arg_types, []))
            block = fn.add_entry_block()
            results = None
            with ir.InsertionPoint(block):
                for (node, _), barg in zip(args, block.arguments):
                    self.env[node] = self.argument_value(node, barg)
                for node in self.ep.graph.nodes:
                    if node.op == "call_function":
                        self.visit(node)
                    elif node.op == "get_attr":
                        self.env[node] = Const(getattr(self.ep.graph_module, node.target))
                    elif node.op == "output":
                        results = self.outputs(node)
                if results is not None:
                    func.ReturnOp(results)
            if results is not None:
                fn.attributes["function_type"] = ir.TypeAttr.get(
                    ir.FunctionType.get(arg_types, [r.type for r in results]))
        return ImportedProgram(None if self.unsupported else module, ctx, [a for _, a in args],
                               dict(self.ops), self.unsupported,
                               getattr(self.ep.call_spec, "out_spec", None),
                               result_dtypes=self.result_dtypes,
                               python_outputs=self.python_outputs, mutations=self.mutations,
                               returns_written=self.returns_written)

    def check_signature(self):
        """Record the program's writes to its inputs and buffers (`self.mutations`):
        the function returns their new values first, and the caller copies them
        back, as torch.export's own module does."""
        names = [s.arg.name for s in self.ep.graph_signature.input_specs
                 if s.kind.name == "USER_INPUT"]
        for spec in self.ep.graph_signature.output_specs:
            kind = spec.kind.name
            if kind == "USER_INPUT_MUTATION" and names.index(spec.target) not in self.frozen_inputs:
                self.mutations.append(("input", names.index(spec.target)))
            elif kind == "BUFFER_MUTATION":
                self.mutations.append(("param", spec.target))
            elif kind != "USER_OUTPUT":
                self.unsupported.append(Unsupported(
                    "<program>", "<program>", "the program updates "
                    + kind.lower().replace("_", " ").replace(" mutation", "s")
                    + " in place; euler compiles inference graphs: call model.eval(), and run "
                    "the model once first if it rewrites its weights on its first call"))

    def bind_inputs(self):
        """Bind placeholders to constants; return [(node, argument kind)] of the rest."""
        specs = {s.arg.name: s for s in self.ep.graph_signature.input_specs}
        state = dict(self.ep.state_dict)
        # Non-persistent buffers and lifted tensors live in `constants`.
        state.update(getattr(self.ep, "constants", {}) or {})
        args, user_index = [], 0
        for node in self.ep.graph.nodes:
            if node.op != "placeholder":
                continue
            spec = specs[node.name]
            kind = spec.kind.name
            if kind == "USER_INPUT":
                if user_index in self.frozen_inputs:
                    self.env[node] = Const(self.frozen_inputs[user_index])
                elif isinstance(node.meta.get("val"), torch.Tensor):
                    args.append((node, ("input", user_index)))
                else:  # ints and floats were specialized by torch.export
                    self.env[node] = node.meta.get("val")
                user_index += 1
            elif kind in ("PARAMETER", "BUFFER", "CONSTANT_TENSOR"):
                # A buffer the program updates is read at each call, never frozen.
                if (self.params_as_args and kind != "CONSTANT_TENSOR") or \
                        ("param", spec.target) in self.mutations:
                    args.append((node, ("param", spec.target)))
                else:
                    self.env[node] = Const(state[spec.target])
            else:
                self.unsupported.append(Unsupported(
                    "<program>", f"<{node.name}>", f"inputs of kind {kind} are not supported"))
                self.env[node] = _Poison()
        return args

    def argument_type(self, node):
        """The function argument's type: the input's, except that bf16 inputs are
        passed as f32 (numpy has no bf16) and cast on entry."""
        try:
            t = self.out_type(node)
            return ops.mlir_type(t._replace(dtype="f32") if t.dtype == "bf16" else t)
        except (ImportUnsupported, ShapeError) as err:
            val = node.meta.get("val")
            why = (f"inputs of dtype {val.dtype} are not supported"
                   if isinstance(val, torch.Tensor) else str(err))
            self.unsupported.append(Unsupported("<input>", f"<{node.name}>", why))
            self.bad_args.add(node)
            return ir.RankedTensorType.get([], ir.F32Type.get())

    def argument_value(self, node, barg):
        if node in self.bad_args:
            return _Poison()  # reported by argument_type; its users are skipped
        dtype = self.out_type(node).dtype
        if dtype != ops.tensor_type(barg.type).dtype:
            with ir.Location.name(node.name):
                return ops.cast(barg, dtype)
        return barg

    def outputs(self, node):
        results = []
        leaves = torch.utils._pytree.tree_leaves(node.args[0])
        written = leaves[:len(self.mutations)]
        for i, out in enumerate(leaves[len(written):], len(written)):
            if isinstance(out, torch.fx.Node) and any(out is w for w in written):
                # The updated input itself (`out=x`): returned as eager returns it.
                self.returns_written[i] = next(j for j, w in enumerate(written) if out is w)
        for i, out in enumerate(leaves):
            v = self.env.get(out) if isinstance(out, torch.fx.Node) else out
            if isinstance(v, _Poison):
                return None
            if isinstance(v, (bool, int, float)):  # known at export time (a size, a flag)
                self.python_outputs[i] = v
                continue
            with ir.Location.name(f"output {i}"):
                try:
                    r = self.value(v)
                    # numpy has no bf16: such results leave as f32 and are converted back.
                    bf16 = ops.tensor_type(r.type).dtype == "bf16"
                    results.append(ops.cast(r, "f32") if bf16 else r)
                    boolean = isinstance(out, torch.fx.Node) and getattr(
                        out.meta.get("val"), "dtype", None) == torch.bool
                    self.result_dtypes.append(torch.bfloat16 if bf16 else
                                              torch.bool if boolean else None)
                except ImportUnsupported as err:
                    self.unsupported.append(Unsupported("<output>", f"<output {i}>", str(err)))
                    return None
        return results

    def resolve(self, arg):
        return torch.fx.node.map_aggregate(
            arg, lambda a: self.env[a] if isinstance(a, torch.fx.Node) else a)

    def visit(self, node):
        skip = passthrough(node)
        if skip:
            self.env[node] = self.env[node.args[0]] if skip == "forward" else None
            return
        self.node = node
        name = aten_name(node.target)
        args, kwargs = self.resolve(node.args), self.resolve(node.kwargs)
        leaves = torch.utils._pytree.tree_leaves((args, kwargs))
        loc_text = _location_text(node)
        if any(isinstance(a, _Poison) for a in leaves):
            # Downstream of a failure: report it only if it would fail by itself.
            # (Python arithmetic on a number the failure left unknown does not.)
            lookup = complex_handler_for if _complex_node(node) else handler_for
            if lookup(node.target) is None and not _python_arithmetic(node.target):
                self.unsupported.append(Unsupported(name, loc_text, _no_lowering(node.target)))
            elif name != "getitem":
                self.ops[name].append(loc_text)
            self.env[node] = _Poison()
            return
        frame = _node_frame(node)
        loc = ir.Location.file(*frame) if frame else ir.Location.name(node.name)
        runtime = any(isinstance(a, (ir.Value, Complex)) for a in leaves)
        try:
            with loc:
                if not runtime and _foldable(node.target):
                    result = self.fold(node, args, kwargs)
                else:
                    handler = handler_for(node.target)
                    if _complex_node(node):
                        handler = complex_handler_for(node.target)
                        if handler is None:
                            raise ImportUnsupported("euler imports complex tensors through "
                                                    "view_as_complex, view_as_real, mul, add, "
                                                    "fft and views only")
                    elif handler is None:
                        raise ImportUnsupported(_no_lowering(node.target))
                    result = handler(self, node, *args, **kwargs)
                    self.check_result(node, name, result)
        except ImportUnsupported as err:
            self.unsupported.append(Unsupported(name, loc_text, str(err)))
            self.env[node] = _Poison()
            return
        except ShapeError as err:
            self.unsupported.append(Unsupported(name, loc_text, f"euler rejects it: {err}"))
            self.env[node] = _Poison()
            return
        if name != "getitem":
            self.ops[name].append(loc_text)
        self.env[node] = result

    def fold(self, node, args, kwargs):
        # Contiguous: the graph is functional and its clones are stripped
        # (decompose.IDENTITY), so a `view` may follow what was a
        # contiguous clone of a transposed or split tensor (GPT-J's rotary
        # tables); strides carry no meaning here.
        unwrap = lambda a: a.tensor.contiguous() if isinstance(a, Const) else a  # noqa: E731
        targs = torch.fx.node.map_aggregate(args, unwrap)
        tkwargs = torch.fx.node.map_aggregate(kwargs, unwrap)
        try:
            with torch.no_grad():
                out = node.target(*targs, **tkwargs)
        except RuntimeError as exc:
            raise ImportUnsupported(f"folding it on constants failed: {str(exc).splitlines()[0]}"
                                    ) from exc
        wrap = lambda a: Const(a) if isinstance(a, torch.Tensor) else a  # noqa: E731
        return torch.utils._pytree.tree_map(wrap, out)

    def check_result(self, node, name, result):
        # Every handler must reproduce the shape and dtype torch recorded:
        # a mismatch is a bug in the handler, not in the user's program.
        if not isinstance(result, ir.Value):
            return
        want = self.out_type(node)
        got = ops.tensor_type(result.type)
        if got != want:
            raise InternalError(f"importing {name} ({node.name}) produced {got}, "
                                f"but torch says {want}")


def import_program(ep, params_as_args=False, frozen_inputs=None) -> ImportedProgram:
    """Import a `torch.export.ExportedProgram` into an euler module.

    Args:
        ep: the exported program (pre-dispatch or core ATen).
        params_as_args: pass parameters and buffers as function arguments
            (after nothing: in the program's placeholder order) instead of
            embedding them as constants.
        frozen_inputs: {flat user input index: tensor} of inputs to treat as
            constants (the torch.compile backend freezes module parameters
            this way).

    Returns:
        An `ImportedProgram`; its `unsupported` list is empty when the module
        was built. Call `.check()` to raise a `CompileError` otherwise.
    """
    return _Importer(ep, params_as_args, frozen_inputs).run()


