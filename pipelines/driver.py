"""Runs a target's stages over a module, recording and dumping the IR after each.

Each stage runs in a fresh PassManager. The driver stops after `emit`, can
start from IR of a later stage (`start_after`), writes `NN-<stage>.mlir`
files when a dump directory is set, and turns MLIR failures into euler errors.
"""

from __future__ import annotations

import collections
import collections.abc
import os
import time

from mlir import ir, passmanager

from .. import errors, passes
from ..options import Options
from . import stages as target_stages


def parse(source, ctx: ir.Context, filename: str = "<input>") -> ir.Module:
    """Parse IR text, a path to a .mlir file, or pass through an `ir.Module`.
    `filename` names text input in diagnostics."""
    if isinstance(source, ir.Module):
        return source
    if isinstance(source, os.PathLike) or (isinstance(source, str) and "\n" not in source
                                           and source.endswith(".mlir")):
        filename = os.fspath(source)
        try:
            with open(filename) as f:
                source = f.read()
        except OSError as exc:
            raise errors.CompileError(f"{filename}: error: cannot read: {exc.strerror}") from None
    try:
        with ctx:
            return _parse_module(source, filename)
    except ir.MLIRError as exc:
        raise errors.from_mlir_error(exc, errors.ParseError) from None


def _parse_module(source: str, filename: str) -> ir.Module:
    # Module.parse names every location "-"; Operation.parse takes the file
    # name but wants one top-level op, so bare functions are wrapped in a
    # module opened on the first line (line numbers stay exact; columns on
    # line 1 shift by the wrapper's width).
    try:
        top = ir.Operation.parse(source, source_name=filename)
    except ir.MLIRError as exc:
        if "single top-level operation" not in str(exc):
            raise
        top = None
    if top is None or top.name != "builtin.module":
        top = ir.Operation.parse("module {" + source + "\n}", source_name=filename)
    module = ir.Module.create(top.location)
    for name in top.attributes:
        module.operation.attributes[name] = top.attributes[name]
    for op in list(top.regions[0].blocks[0].operations):
        op.detach_from_parent()
        module.body.append(op)
    return module


def detect_stage(module: ir.Module, target: str):
    """The name of the last stage whose output `module` looks like, or None
    for euler IR, so that compilation can start from IR of any stage."""
    # By op names and types, not the printed module: a model's weights would
    # be printed just to be searched.
    names = set()

    def visit(op):
        names.add(op.name)
        return ir.WalkResult.ADVANCE

    module.operation.walk(visit)
    if any(n.startswith("euler.") for n in names):
        return None
    if "llvm.func" in names and "func.func" not in names:
        return "llvm"
    for op in module.body.operations:
        if op.operation.name == "func.func" and any(
                isinstance(t, ir.MemRefType) for t in op.operation.attributes["function_type"].value.inputs):
            return "bufferized"
    return "linalg"


def run_stages(module: ir.Module, opts: Options, start_after=None, input_text=None):
    """Run the target's stages on `module` in place; return {stage: IR text}."""
    recorded = _Stages()
    names = [name for name, _ in target_stages(opts.target)]
    if opts.emit is not None and opts.emit not in names:
        raise errors.CompileError(f"<options>: error: unknown stage '{opts.emit}' "
                                  f"(stages: {', '.join(names)})")
    dump = _Dumper(opts.dump_dir)
    if dump.directory:
        dump.write(0, "input", input_text if input_text is not None else str(module))
    started = start_after is None
    for index, (name, stage) in enumerate(target_stages(opts.target), start=1):
        if not started:
            started = name == start_after
            continue
        pm = passmanager.PassManager("builtin.module", context=module.context)
        if opts.print_ir_after_all:
            pm.enable_ir_printing(print_after_all=True)
        if opts.timing:
            pm.enable_timing()
        stage(pm, opts)
        started_at = time.perf_counter()
        _run(pm, module, name, dump, index)
        recorded.seconds[name] = time.perf_counter() - started_at
        recorded[name] = module.operation.clone()
        if dump.directory:
            dump.write(index, name, recorded[name])
        if name == opts.emit:
            break
    return recorded


def _run(pm, module, stage_name, dump, index):
    passes.last_internal_error = passes.last_option_error = None
    try:
        pm.run(module.operation)
    except ir.MLIRError as exc:
        internal = passes.last_internal_error
        if internal is not None:
            raise errors.InternalError(f"in stage '{stage_name}': {type(internal).__name__}: "
                                       f"{internal}") from internal
        err = errors.from_mlir_error(exc, errors.VerifyError if stage_name == "euler"
                                     else errors.CompileError)
        if stage_name != "euler" and passes.last_option_error is None:
            # The input was verified: a later failure is euler's fault.
            raise errors.InternalError(f"stage '{stage_name}' failed:\n"
                                       + "\n".join(err.diagnostics)) from None
        raise err from None


class _Stages(collections.abc.Mapping):
    """{stage: IR text}, printed on first access: a model's weights are most
    of its IR, and printing it after every stage took a third of the compile
    time of a 12-layer GPT-2. Each stage's IR is kept as a copy until then
    (its constants are shared with the module, not copied). `.seconds`
    holds each stage's compile time (and the JIT's, as "jit")."""

    def __init__(self):
        self._ir = collections.OrderedDict()
        self.seconds = collections.OrderedDict()

    def __setitem__(self, name, op):
        self._ir[name] = op

    def __getitem__(self, name):
        if not isinstance(self._ir[name], str):
            self._ir[name] = str(self._ir[name])
        return self._ir[name]

    def __iter__(self):
        return iter(self._ir)

    def __len__(self):
        return len(self._ir)


class _Dumper:
    """Writes NN-<stage>.mlir files into the dump directory, if one is set."""

    def __init__(self, directory):
        self.directory = directory
        if directory:
            os.makedirs(directory, exist_ok=True)

    def write(self, index, name, text):
        if self.directory:
            with open(os.path.join(self.directory, f"{index:02d}-{name}.mlir"), "w") as f:
                f.write(text)
