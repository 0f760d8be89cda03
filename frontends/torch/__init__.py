"""PyTorch frontend: nn.Modules and torch.compile graphs into euler.

    import euler.torch
    cm = euler.torch.compile(model, example_inputs)      # torch tensors in and out
    y = cm(*inputs)
    opt = torch.compile(model, backend="euler")           # registered on import
    print(euler.torch.coverage(model, example_inputs))   # supported/unsupported ATen ops

The model is captured with `torch.export`, functionalized and decomposed by
PyTorch except for the ops euler keeps whole (`decompose.py`: linear,
conv2d, layer_norm, softmax, attention, ...), imported into the euler dialect
by `importer.py` and compiled by `euler.compile`. Compiled models are for
inference: parameters are frozen into the code as constants unless
`params_as_args=True`, and no autograd graph is recorded.
"""

from __future__ import annotations

import dataclasses
import sys
import traceback
import warnings

import numpy as np

from ..errors import CompileError, EulerError

try:
    import torch
except ImportError as _exc:  # pragma: no cover - the extra is optional
    raise ImportError("euler.torch needs PyTorch: pip install 'euler[torch]'") from _exc
from torch.fx.experimental.symbolic_shapes import GuardOnDataDependentSymNode

from .aten import aten_name, handler_for
from .decompose import decompose as _decompose
from .decompose import decomposition_table, extra_decompositions
from .importer import _LIBRARY_DIRS, SUPPORTED_OPS, ImportedProgram, _location_text, import_program

__all__ = ["compile", "coverage", "import_model", "import_exported", "export", "CompiledModel", "CoverageReport",
           "EulerFallbackWarning", "SUPPORTED_OPS", "backend"]


class EulerFallbackWarning(UserWarning):
    """The euler torch.compile backend ran a graph eagerly instead."""


def export(model, example_inputs):
    """`torch.export.export` with euler's error reporting (no decompositions)."""
    _register_output_pytrees()
    if not isinstance(model, torch.nn.Module):
        if not callable(model):
            raise CompileError(f"<input>: error: expected an nn.Module or a function of tensors, "
                               f"got {type(model).__name__}")
        model = _Function(model)  # torch.export takes modules only
    try:
        return torch.export.export(model, tuple(example_inputs))
    except Exception as exc:  # torch reports capture failures with many exception types
        raise CompileError(_capture_error(exc)) from exc


class _Function(torch.nn.Module):
    """A plain function of tensors as the module torch.export needs."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, *args):
        return self.fn(*args)


def _capture_error(exc) -> str:
    """A diagnostic for a failed torch.export, at the model's line where the
    capture stopped (torch.export runs the model's Python: the innermost frame
    outside torch and euler), else at `<torch.export>`."""
    where = "<torch.export>"
    for frame in traceback.extract_tb(exc.__traceback__):
        if not frame.filename.startswith(("<",) + _LIBRARY_DIRS):
            where = f"{frame.filename}:{frame.lineno}:{(frame.colno or 0) + 1}"
    text = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    if isinstance(exc, GuardOnDataDependentSymNode):
        text += ("; torch.export cannot follow Python control flow on tensor values: "
                 "torch.compile(model, backend=\"euler\") compiles the graphs around it")
    return f"{where}: error: cannot capture the model: {text}"


def _register_output_pytrees():
    """Let torch.export flatten transformers' KV caches (`DynamicCache`), which
    decoder LMs return by default (`use_cache=True`); transformers ships the
    registration, and the compiled model returns a cache of the same layout."""
    if "transformers" not in sys.modules:  # never import it on the user's behalf
        return
    try:
        from transformers.integrations.executorch import register_dynamic_cache_export_support
    except ImportError:  # an older transformers: its caches are plain tuples
        return
    register_dynamic_cache_export_support()


def import_exported(ep, params_as_args=False, decompose=True, frozen_inputs=None
                    ) -> ImportedProgram:
    """Decompose an exported program and import it into an euler module.

    `decompose=True` keeps the ops euler has whole and lets PyTorch decompose
    the rest; an op euler keeps but cannot import in the form the model uses
    (a handler's ImportUnsupported) is decomposed in a second round, if
    PyTorch can. "core" imports the whole core-ATen form, False only
    functionalizes. `.decomposed` of the result names the expanded ops.
    """
    if decompose not in (True, False, "core"):
        raise EulerError(f"decompose must be True, False or 'core', got {decompose!r}")
    keep, extra, fallback, force = None, {}, None, False
    while True:
        table = decomposition_table(keep) if decompose is True else (decompose or None)
        if table is not None and extra:
            table = {**table, **extra}
        try:
            dec = _decompose(ep, table, force=force)
        except Exception as exc:  # decompositions retrace the program: any torch error
            raise CompileError(f"<torch.export>: error: cannot decompose the model: "
                               f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                               ) from exc
        program = import_program(dec.program, params_as_args=params_as_args,
                                 frozen_inputs=frozen_inputs)
        if dec.as_is and program.unsupported:
            force = True  # an op that could have folded took run-time values
            continue
        missing = {u.op for u in program.unsupported}
        if fallback is not None and missing - fallback[2]:
            # The non-core decompositions brought ops euler lacks too (erfinv
            # into prims.erf_inv): report the model's own ops instead.
            program, dec = fallback[:2]
            break
        if decompose is True and program.unsupported:
            if keep is None:
                keep = {op for op in torch.export.default_decompositions().keys()
                        if handler_for(op) is not None}
            failed = {op for op in keep if aten_name(op) in missing}
            # Ops core ATen keeps whole (native_group_norm, linalg_vector_norm)
            # but euler has no lowering for: PyTorch's own non-core
            # decompositions, if it has one.
            more = {op: fn for op, fn in extra_decompositions(dec.program).items()
                    if aten_name(op) in missing and op not in extra}
            if failed or more:
                keep -= failed
                extra.update(more)
                fallback = (program, dec, missing) if more else None
                continue
        break
    program.decomposed = {name: [_location_text(n) for n in nodes]
                          for name, nodes in dec.decomposed.items()}
    return program


def import_model(model, example_inputs, params_as_args=False, decompose=True) -> ImportedProgram:
    """Export `model` on `example_inputs` and import it into an euler module.

    Returns an `ImportedProgram`; `.module` is None and `.unsupported` lists
    the ops in the way when some could not be imported. See `import_exported`
    for `decompose`.
    """
    return import_exported(export(model, example_inputs), params_as_args, decompose)


def _to_numpy(t):
    if not isinstance(t, torch.Tensor):
        raise EulerError(f"expected a torch.Tensor argument, got {type(t).__name__}")
    t = t.detach()
    if t.device.type != "cpu":
        t = t.cpu()
    if t.dtype == torch.bfloat16:  # the importer passes bf16 inputs as f32
        t = t.float()
    elif t.dtype == torch.bool:  # euler's booleans are i8 0/1
        t = t.to(torch.int8)
    return t.contiguous().numpy()


def _to_cuda(t):
    if not isinstance(t, torch.Tensor):
        raise EulerError(f"expected a torch.Tensor argument, got {type(t).__name__}")
    return t.detach().to("cuda")  # no copy for a tensor on the GPU already


class CompiledModel:
    """A model compiled by euler: call it with torch tensors like the model."""

    def __init__(self, program: ImportedProgram, compiled, params=None):
        self.program, self.compiled = program, compiled
        self._params = params or {}

    @property
    def stages(self):
        """IR text after each pipeline stage, by stage name."""
        return self.compiled.stages

    def __call__(self, *inputs):
        flat = torch.utils._pytree.tree_leaves(inputs)
        args = []
        # CUDA: tensors go in as they are, and come out on the GPU.
        to_arg = _to_cuda if self.compiled.options.target == "cuda" else _to_numpy
        for kind, key in self.program.arguments:
            args.append(to_arg(flat[key] if kind == "input" else self._params[key]))
        with torch.profiler.record_function("euler"):
            results = self.compiled.main(*args)
        if not isinstance(results, tuple):
            results = (results,)
        outs = [r if isinstance(r, torch.Tensor) else torch.from_numpy(r) for r in results]
        outs = [o if d is None else o.to(d)
                for o, d in zip(outs, self.program.result_dtypes or [None] * len(outs))]
        for i, v in sorted(self.program.python_outputs.items()):
            outs.insert(i, v)
        writes = len(self.program.mutations)
        with torch.no_grad():  # in-place updates of inputs and buffers, as eager does them
            for (kind, key), new in zip(self.program.mutations, outs[:writes]):
                target = flat[key] if kind == "input" else self._params[key]
                if target.numel() != new.numel():  # an out= argument of another size is resized
                    target.resize_(new.shape)
                target.copy_(new.reshape(target.shape))
        for i, j in self.program.returns_written.items():
            kind, key = self.program.mutations[j]
            outs[i] = flat[key] if kind == "input" else self._params[key]
        outs = outs[writes:]
        spec = self.program.out_spec
        return torch.utils._pytree.tree_unflatten(outs, spec) if spec is not None else (
            outs[0] if len(outs) == 1 else tuple(outs))


def _compile_program(program: ImportedProgram, target, opt_level, params=None, **kw):
    import euler
    program.check()
    return CompiledModel(program, euler.compile(program.module, target=target,
                                                opt_level=opt_level, **kw), params)


def compile(model, example_inputs, target="cpu", opt_level=None, params_as_args=False,
            decompose=True, **kw) -> CompiledModel:
    """Compile a torch model for euler's `target`.

    Args:
        model: an `nn.Module` (put it in eval mode) or a function of tensors.
        example_inputs: a tuple of tensors fixing the input shapes and dtypes.
        target, opt_level, **kw: passed to `euler.compile`.
        params_as_args: read parameters and buffers at each call instead of
            freezing them into the compiled code.
        decompose: True (default): PyTorch decomposes the ops euler does not
            keep whole; "core": import the whole core-ATen form; False: no
            decompositions (functionalization only).

    Returns:
        A `CompiledModel`, called with tensors of the example inputs' shapes.

    Raises:
        CompileError: the model cannot be captured, or uses ops euler does
            not support (each listed with its source line).
    """
    if target == "cuda" and isinstance(model, torch.nn.Module):
        # Frozen into the code, weights would be copied to the GPU on every
        # call: they are arguments instead, moved to the device once, here.
        params_as_args = True
    program = import_model(model, example_inputs, params_as_args, decompose)
    params = {}
    if isinstance(model, torch.nn.Module) and (params_as_args or program.mutations):
        params = dict(model.named_parameters(remove_duplicate=False))
        params.update(dict(model.named_buffers(remove_duplicate=False)))
    if target == "cuda" and kw.get("emit") is None:  # emit= needs no GPU
        params = {k: _to_cuda(v) for k, v in params.items()}
    return _compile_program(program, target, opt_level, params, **kw)


@dataclasses.dataclass
class CoverageReport:
    """ATen ops of a model, split into those euler imports and those it does not.

    `supported` maps each ATen op to the source locations of its uses;
    `unsupported` maps each to [(location, reason)]; both describe the program
    after decomposition. `decomposed` maps each op of the exported program
    that PyTorch decomposed (into the ops above) to its source locations.
    """
    supported: dict
    unsupported: dict
    decomposed: dict = dataclasses.field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.unsupported

    def __str__(self):
        n_ok = sum(map(len, self.supported.values()))
        n_bad = sum(map(len, self.unsupported.values()))
        n_dec = sum(map(len, self.decomposed.values()))
        lines = [f"euler ATen coverage: {n_ok} op uses supported, {n_bad} unsupported "
                 f"(after decomposing {n_dec} op uses)"]
        if self.decomposed:
            lines.append("decomposed by PyTorch:")
            for op, locs in sorted(self.decomposed.items()):
                lines.append(f"  {op:45} x{len(locs):<3} {_first_locations(locs)}")
        if self.supported:
            lines.append("supported:")
            for op, locs in sorted(self.supported.items()):
                lines.append(f"  {op:45} x{len(locs):<3} {_first_locations(locs)}")
        if self.unsupported:
            lines.append("unsupported:")
            for op, uses in sorted(self.unsupported.items()):
                lines.append(f"  {op:45} x{len(uses):<3} {uses[0][1]}")
                lines.extend(f"      at {loc}" for loc, _ in uses)
        return "\n".join(lines)


def _first_locations(locs, n=2):
    shown = list(dict.fromkeys(locs))
    return ", ".join(shown[:n]) + (f", ... ({len(shown) - n} more)" if len(shown) > n else "")


def coverage(model, example_inputs, decompose=True) -> CoverageReport:
    """Report which ATen ops of `model` euler supports, with counts and source lines,
    after PyTorch's decompositions (see `import_exported`), and which it decomposed."""
    program = import_model(model, example_inputs, decompose=decompose)
    unsupported = {}
    for u in program.unsupported:
        unsupported.setdefault(u.op, []).append((u.location, u.reason))
    return CoverageReport(dict(program.ops), unsupported, program.decomposed)


# --- the torch.compile backend ---------------------------------------------------------

def _frozen_inputs(gm, example_inputs):
    """Indices of graph inputs that are module parameters or buffers.

    Dynamo lifts them to graph inputs; freezing them as constants (as
    Inductor's `freezing` does) lets the importer fold weight transposes and
    batch norms. Their `_version` is checked before each call.
    """
    placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
    frozen = {}
    for i, (node, value) in enumerate(zip(placeholders, example_inputs)):
        if not isinstance(value, torch.Tensor):
            continue
        grapharg = node.meta.get("grapharg")
        source = getattr(getattr(grapharg, "source", None), "name", "")
        source = source() if callable(source) else source
        if isinstance(value, torch.nn.Parameter) or "_buffers" in source or "_parameters" in source:
            frozen[i] = value
    return frozen


class _BackendGraph:
    """One dynamo graph, compiled by euler (or run eagerly if it cannot be).

    euler compiles static shapes: when dynamo hands over a graph with dynamic
    sizes (after a shape change), each new set of input shapes is exported
    and compiled on first use, and cached.
    """

    def __init__(self, gm, example_inputs, target="cpu", opt_level=None):
        self.gm, self.target, self.opt_level = gm, target, opt_level
        # On the GPU weights stay arguments (device tensors, no per-call copy).
        self.frozen = {} if target == "cuda" else _frozen_inputs(gm, example_inputs)
        self.cache = {}

    @staticmethod
    def _key(args):
        return tuple((tuple(a.shape), a.dtype) if isinstance(a, torch.Tensor) else a for a in args)

    def _get(self, args):
        # The weights passed, not those of the first call: dynamo hands one
        # graph the parameters of every module that runs the same code (each
        # expert of a mixture, two instances of one class), which are frozen
        # into a compiled program of their own.
        frozen = {i: args[i] for i in self.frozen}
        key = (self._key(args), tuple(id(t) for t in frozen.values()))
        entry = self.cache.get(key)
        if entry is not None and entry[0] is not None and any(
                t._version != entry[1][i] for i, t in frozen.items()):
            entry = None  # weights were updated in place: recompile with the new values
        if entry is None:
            # The entry holds the weights, so that their ids in the key stay theirs.
            entry = self.cache[key] = (self._compile(args, frozen),
                                       {i: t._version for i, t in frozen.items()}, frozen)
        return entry[0]

    def _compile(self, example_inputs, frozen):
        try:
            # Exporting the dynamo graph (rather than tracing it ourselves)
            # gives the same ATen graph as euler.torch.compile, with the user's
            # stack traces, which dynamo recorded and export preserves.
            ep = torch.export.export(self.gm, tuple(example_inputs))
            program = import_exported(ep, frozen_inputs=frozen)
            if program.unsupported:
                raise CompileError([u.diagnostic() for u in program.unsupported])
            return _compile_program(program, self.target, self.opt_level)
        except EulerError as exc:
            warnings.warn("euler: running this graph eagerly; it has ops euler cannot compile:\n"
                          + str(exc), EulerFallbackWarning, stacklevel=2)
        except Exception as exc:  # torch.export cannot capture every dynamo graph
            warnings.warn(f"euler: running this graph eagerly; torch.export failed on it: "
                          f"{type(exc).__name__}: {exc}", EulerFallbackWarning, stacklevel=2)
        return None

    def __call__(self, *args):
        compiled = self._get(args)
        if compiled is None:
            return self.gm.forward(*args)
        outs = compiled(*args)
        return list(outs) if isinstance(outs, (list, tuple)) else [outs]


def backend(gm, example_inputs, **options):
    """The "euler" torch.compile backend: compile each FX graph with euler.

    Module parameters and buffers are frozen into the compiled code (and
    recompiled if they change in place); a graph with ops euler does not
    support runs eagerly, with an `EulerFallbackWarning` naming them.
    """
    if "target" not in options and any(isinstance(a, torch.Tensor) and a.is_cuda
                                       for a in example_inputs):
        options = dict(options, target="cuda")
    return _BackendGraph(gm, example_inputs, **options)


def _register():
    from torch._dynamo.backends.registry import _BACKENDS, register_backend
    if "euler" not in _BACKENDS:
        register_backend(backend, name="euler")


_register()


def coverage_command(spec: str, decompose=True) -> int:
    """`euler torch-coverage pkg.module:factory`: print the coverage report of the
    model that `factory()` returns as `(model, example_inputs)`; 1 if any op is unsupported."""
    import importlib
    import os
    import sys
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise EulerError(f"{spec}: error: expected pkg.module:factory")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # like `python -m`, find modules in the working directory
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise EulerError(f"{spec}: error: cannot load the factory: {exc}") from None
    model, example_inputs = factory()
    report = coverage(model, example_inputs, decompose=decompose)
    print(report)
    return 0 if report.ok else 1
