"""euler's passes, by name, and how they join upstream MLIR pass pipelines.

Each pass lives in its own module, in a subpackage by level, as MLIR groups
its passes by dialect: `graph/` (the euler dialect), `conversion/` (euler to
linalg), `linalg/` (loop-level passes both targets share: fusion groups and
their tiling, blocked reductions), `cpu/`, `gpu/`, and `transforms/`
(module-level, target-independent). Each module defines `NAME` (its
kebab-case pass name), `SUMMARY`, and `run(module, **options)`, which
rewrites the `builtin.module` operation in place. A pass reports user errors
by emitting diagnostics on the offending op and raising `PassFailure`.

`add(pm, name, **options)` appends a pass to an upstream `PassManager` under
its name, so `--print-ir-after-all` and `--mlir-timing` show it like any
upstream pass; `build_pipeline` parses mlir-opt style pipeline text that mixes
euler and upstream passes.
"""

from __future__ import annotations

import importlib
import re

from mlir import ir, passmanager

# Pass name -> module in this package. Lazy, so that importing euler stays cheap.
REGISTRY = {
    "euler-verify": "graph.verify",
    "euler-distinct-results": "linalg.distinct_results",
    "euler-clone-fills": "linalg.clone_fills",
    "convert-euler-to-linalg": "conversion.convert_euler_to_linalg",
    "euler-mangle-symbols": "transforms.mangle_symbols",
    "euler-flatten-constant-globals": "transforms.flatten_constant_globals",
    "euler-schedule-matmul": "cpu.schedule_matmul",
    "euler-pack-constant-weights": "cpu.pack_constant_weights",
    "euler-lower-matmul-microkernel": "cpu.lower_matmul_microkernel",
    "euler-expand-math": "cpu.expand_math",
    "euler-tile-and-fuse": "linalg.tile_and_fuse",
    "euler-vectorize": "cpu.vectorize",
    "euler-dedup-kernels": "transforms.dedup_kernels",
    "euler-simplify": "graph.simplify",
    "euler-fold-constants": "graph.fold_constants",
    "euler-cse": "graph.cse",
    "euler-dce": "graph.dce",
    "euler-conv-layout": "linalg.conv_layout",
    "euler-conv-to-matmul": "cpu.conv_to_matmul",
    "euler-vectorize-depthwise": "cpu.vectorize_depthwise",
    "euler-gpu-device-buffers": "gpu.device_buffers",
    "euler-gpu-tile-parallel-loops": "gpu.tile_parallel_loops",
    "euler-gpu-form-groups": "gpu.form_groups",
    "euler-gpu-lower-groups": "gpu.lower_groups",
    "euler-gpu-schedule-matmul": "gpu.schedule_matmul",
    "euler-gpu-fold-transposes": "gpu.fold_transposes",
    "euler-collapse-contractions": "linalg.collapse_contractions",
    "euler-gpu-conv-to-matmul": "gpu.conv_to_matmul",
    "euler-gpu-sink-constants": "gpu.sink_constants",
    "euler-split-reductions": "linalg.split_reductions",
    "euler-limit-unroll": "cpu.limit_unroll",
    "euler-profile-kernels": "transforms.profile_kernels",
    "euler-bare-pointer-calls": "cpu.bare_pointer_calls",
    "euler-lower-strided-copies": "cpu.lower_strided_copies",
}


def ops_named(module, *names):
    """The ops of `module` named one of `names`, in walk order (a list, so
    that a pass can rewrite them as it goes)."""
    found = []

    def visit(op):
        if op.name in names:
            found.append(op)
        return ir.WalkResult.ADVANCE

    module.walk(visit)
    return found


# Ops whose result is a view of their first operand's buffer.
MEMREF_VIEWS = frozenset({"memref.subview", "memref.expand_shape", "memref.collapse_shape",
                          "memref.cast", "memref.reinterpret_cast", "memref.transpose"})


def root_buffer(value):
    """The buffer under a chain of memref views."""
    while not isinstance(value.owner, ir.Block) and value.owner.name in MEMREF_VIEWS:
        value = value.owner.operands[0]
    return value


def enclosing_function(op):
    """The func.func holding `op` (or `op` itself), or None. Transform scripts
    for one op run on it rather than on the module: their matches walk the
    payload, and a model's module grows with its depth where a kernel's
    function does not."""
    while op is not None and op.name != "func.func":
        op = op.parent
    return op


def clone_body(op, mapping, index=None, skip=None, rewrite=None):
    """Clone the body of linalg op `op` at the insertion point and return the
    values it yields. `mapping` gives its block arguments' values and gets
    every cloned result's; `index(d)` is the value of `linalg.index d` (None:
    the index op is cloned as it is, for a body that stays inside a linalg
    op); `skip` is an op left out (a reduction's combine); `rewrite(inner,
    mapping)` may build an op's one result itself (else None)."""
    for inner in op.regions[0].blocks[0].operations:
        inner = inner.operation
        if inner.name == "linalg.yield":
            return [mapping.get(v, v) for v in inner.operands]
        if skip is not None and inner == skip:
            continue
        if inner.name == "linalg.index" and index is not None:
            mapping[inner.results[0]] = index(ir.IntegerAttr(inner.attributes["dim"]).value)
            continue
        built = rewrite(inner, mapping) if rewrite is not None else None
        if built is not None:
            mapping[inner.results[0]] = built
            continue
        new = inner.clone()
        for i, v in enumerate(inner.operands):
            if v in mapping:
                new.operands[i] = mapping[v]
        for old, res in zip(inner.results, new.results):
            mapping[old] = res
    raise AssertionError("a linalg body ends with linalg.yield")


class PassFailure(Exception):
    """Raised by a pass after it emitted its diagnostics."""


class OptionError(PassFailure):
    """Raised by a pass after it emitted diagnostics about the user's options
    (e.g. tile sizes it cannot use): the user's error, not euler's."""


def get(name: str):
    """The module implementing pass `name`."""
    if name not in REGISTRY:
        raise KeyError(f"unknown euler pass '{name}'")
    return importlib.import_module(f"{__name__}.{REGISTRY[name]}")


# The last Python exception raised inside a pass; the driver re-raises it as
# an InternalError, since MLIR only sees "pass failed". The last OptionError
# likewise, which the driver reports as the user's error.
last_internal_error = None
last_option_error = None


def _wrap(mod, options):
    def run(op, pass_):
        global last_internal_error, last_option_error
        try:
            # Passes build IR: give them the context and a default location.
            with op.context, ir.Location.unknown():
                mod.run(op, **options)
        except OptionError as exc:
            last_option_error = exc
            pass_.signal_pass_failure()
        except PassFailure:
            pass_.signal_pass_failure()
        except Exception as exc:  # a bug in the pass: keep it for the driver
            last_internal_error = exc
            op.location.emit_error(f"internal error in pass '{mod.NAME}': "
                                   f"{type(exc).__name__}: {exc}")
            pass_.signal_pass_failure()
    return run


def add(pm: passmanager.PassManager, name: str, **options) -> None:
    """Append euler pass `name` (with keyword options) to `pm`."""
    mod = get(name)
    pm.add(_wrap(mod, options), name=mod.NAME, argument=mod.NAME, description=mod.SUMMARY)


def _split_top_level(text: str):
    depth, start = 0, 0
    for i, ch in enumerate(text):
        depth += ch in "({"
        depth -= ch in ")}"
        if ch == "," and depth == 0:
            yield text[start:i].strip()
            start = i + 1
    if text[start:].strip():
        yield text[start:].strip()


def _parse_options(text: str) -> dict:
    options = {}
    for item in text.split():
        key, _, value = item.partition("=")
        key = key.replace("-", "_")
        if value in ("true", "false", ""):
            options[key] = value != "false"
        elif re.fullmatch(r"-?\d+", value):
            options[key] = int(value)
        elif re.fullmatch(r"-?\d+(,-?\d+)+", value):
            options[key] = tuple(int(v) for v in value.split(","))
        else:
            options[key] = value
    return options


def build_pipeline(pm: passmanager.PassManager, text: str) -> None:
    """Add an mlir-opt style pipeline (`builtin.module(a,b{x=1},func.func(c))`)
    to `pm`. euler passes run on the module; everything else is upstream."""
    text = text.strip()
    m = re.fullmatch(r"builtin\.module\((.*)\)", text, re.S)
    if m:
        text = m.group(1)
    pending = []
    for element in _split_top_level(text):
        name = re.match(r"[\w.-]+", element).group(0)
        if name in REGISTRY:
            if pending:
                pm.add(",".join(pending))
                pending = []
            opts = re.fullmatch(r"[\w.-]+\{(.*)\}", element, re.S)
            add(pm, name, **(_parse_options(opts.group(1)) if opts else {}))
        else:
            pending.append(element)
    if pending:
        pm.add(",".join(pending))


def euler_ops(module: ir.Operation):
    """All euler ops under `module`, in pre-order."""
    found = []

    def visit(op):
        if op.name.startswith("euler."):
            found.append(op)
        return ir.WalkResult.ADVANCE

    module.walk(visit)
    return found
