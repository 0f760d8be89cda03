"""Capture and decomposition: nn.Module -> functional ATen graph for the importer.

Sits between `torch.export` and `importer.py`. The exported program is
functionalized and decomposed with PyTorch's own core-ATen table, minus the
ops euler imports whole (linear, conv, layer_norm, softmax, gelu, attention,
every op with a handler in `aten.py`), so an op outside euler's table reaches
the importer as core-ATen ops it knows instead of being a dead end, and
in-place ops (`add_`, `copy_`, ...) never reach it. Ops without an effect on
values (shape asserts, eval dropout, aliases, clones) are skipped by the
importer (`passthrough`), so that reports do not list them. A program with
nothing to functionalize or decompose is imported as torch.export gave it.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import functools
import operator
import warnings

import torch
import torch._decomp
from torch.export.graph_signature import InputKind

from .aten import HANDLERS, aten_name, handler_for

__all__ = ["decompose", "decomposition_table", "extra_decompositions", "importable_as_is",
           "passthrough", "Decomposed"]

aten = torch.ops.aten

# Nodes that check or constrain but compute nothing: erased when unused.
VALUELESS = {aten._assert_tensor_metadata.default, aten._assert_async.default,
             aten._assert_async.msg, aten._assert_scalar.default,
             aten.sym_constrain_range.default, aten.sym_constrain_range_for_size.default,
             aten._functional_assert_async.msg, aten._functional_sym_constrain_range.default,
             aten._functional_sym_constrain_range_for_size.default}
# Dropout in eval mode computes nothing either: not reported as decomposed.
DROPOUT = {aten.dropout.default, aten.feature_dropout.default, aten.alpha_dropout.default,
           aten.feature_alpha_dropout.default}
# Nodes whose value is their first operand in a functional inference graph.
IDENTITY = {aten.alias.default, aten.detach.default, aten.clone.default,
            aten.lift_fresh_copy.default, aten.contiguous.default}


def decomposition_table(keep=None):
    """The core-ATen decomposition table without the ops in `keep` (OpOverloads).

    `keep=None` keeps every op that euler has a handler for.
    """
    if keep is None:
        return dict(_without_handlers(len(HANDLERS)))
    table = dict(_core_aten())
    for op in keep:
        table.pop(op, None)
    return table


@functools.lru_cache(maxsize=1)
def _core_aten():
    # torch builds it afresh on each call: 0.12-0.2 s of every capture.
    return torch.export.default_decompositions()


@functools.lru_cache(maxsize=4)
def _without_handlers(handlers):
    # `handlers` (how many there are) renews the table when ops are added.
    return {op: fn for op, fn in _core_aten().items() if handler_for(op) is None}


def extra_decompositions(ep):
    """{op: decomposition} for the ops of `ep` that euler cannot import.

    From PyTorch's full decomposition registry, beyond the core-ATen table:
    core ATen keeps ops like native_group_norm or linalg_vector_norm whole.
    """
    table = torch._decomp.decomposition_table
    return {op: table[op] for op in _call_targets(ep)
            if isinstance(op, torch._ops.OpOverload) and op in table and handler_for(op) is None}


@dataclasses.dataclass
class Decomposed:
    """A decomposed program and which ops of the original it expanded."""
    program: torch.export.ExportedProgram
    decomposed: dict     # ATen name -> [node, ...] of the original graph
    as_is: bool = False  # returned undecomposed: see importable_as_is


def _call_targets(ep):
    return collections.Counter(n.target for n in ep.graph.nodes if n.op == "call_function")


def _is_eval_dropout(node):
    if node.target is aten.dropout.default:
        return not node.args[2] or node.args[1] == 0
    return False


def passthrough(node):
    """"drop" for a value-less node, "forward" for one whose value is its
    first operand (identities, eval dropout), else None; the importer
    skips both kinds, so that reports do not list them."""
    if node.target in VALUELESS:
        return "drop"
    if (node.target in IDENTITY or _is_eval_dropout(node)) and isinstance(node.args[0], torch.fx.Node):
        return "forward"
    return None


def importable_as_is(ep, table):
    """True if decomposing `ep` with `table` could change nothing the importer sees.

    torch.export's graph needs no functionalization when it mutates nothing,
    and no decomposition when every op has a handler, passes through, or is
    one the importer folds on constants (arange, new_ones, ... of shapes); if
    such an op turns out to take run-time values, the importer reports it and
    the caller decomposes after all. Tracing the program again in
    run_decompositions is the costliest step of a capture (about 4 s for a
    12-layer GPT-2), linear in depth.
    """
    sig = ep.graph_signature
    if table is None or sig.buffers_to_mutate or sig.user_inputs_to_mutate:
        return False
    for node in ep.graph.nodes:
        if node.op != "call_function" or node.target is operator.getitem or passthrough(node):
            continue
        op = node.target
        if not isinstance(op, torch._ops.OpOverload) or op.namespace != "aten" \
                or op._schema.is_mutable:
            return False
        if handler_for(op) is not None and op in table:  # a handler refused it before
            return False
        if handler_for(op) is None and torch.Tag.nondeterministic_seeded in op.tags:
            return False
    return True


def functionalize_local(ep):
    """`ep` with each in-place op on an intermediate of its own (ResNet's
    residual `x += shortcut`) in its functional form, the later readers of
    the intermediate reading the result instead; None where nothing mutates
    or a mutation needs PyTorch's functionalization (of an input or a buffer,
    through a view, with a dtype cast). run_decompositions would retrace the
    whole program for it: 2.0 s of ResNet-18's capture."""
    sig = ep.graph_signature
    if sig.buffers_to_mutate or sig.user_inputs_to_mutate:
        return None
    if not any(n.op == "call_function" and _is_mutable(n.target) for n in ep.graph.nodes):
        return None
    graph, env = torch.fx.Graph(), {}
    graph.output(graph.graph_copy(ep.graph, env))
    order = {n: i for i, n in enumerate(graph.nodes)}
    for node in list(graph.nodes):
        if node.op != "call_function" or not _is_mutable(node.target):
            continue
        functional = _functional_form(node)
        if functional is None:
            return None
        x = node.args[0]
        node.target = functional
        for user in list(x.users):
            if order[user] > order[node]:
                user.replace_input_with(x, node)
    with _torch_warnings_ignored():
        return ep._update(torch.fx.GraphModule(ep.graph_module, graph), sig)


@contextlib.contextmanager
def _torch_warnings_ignored():
    # torch 2.13's own pytree use (copying an ExportedProgram, as
    # run_decompositions does too) warns; not the user's business.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*LeafSpec.*", category=FutureWarning)
        yield


def _is_mutable(target):
    return isinstance(target, torch._ops.OpOverload) and target._schema.is_mutable


def _fresh(node):
    """Whether `node` computes a tensor of its own, not a view of another."""
    if node.op != "call_function":
        return False  # an input, a parameter or a buffer: the caller's
    if node.target is operator.getitem:
        node = node.args[0]
    op = node.target
    return (isinstance(op, torch._ops.OpOverload)
            and all(r.alias_info is None for r in op._schema.returns))


def _functional_form(node):
    """The functional overload of in-place `node` (aten.add.Tensor for
    aten.add_.Tensor), if computing it instead changes nothing but `self`."""
    op, x = node.target, node.args[0]
    name = op._opname
    written = [a for a in op._schema.arguments if a.alias_info is not None and a.alias_info.is_write]
    if (not name.endswith("_") or name.startswith("_") or len(op._schema.returns) != 1
            or written != op._schema.arguments[:1] or not isinstance(x, torch.fx.Node)
            or not _fresh(x)):
        return None
    functional = getattr(getattr(aten, name[:-1], None), op._overloadname, None)
    if not isinstance(functional, torch._ops.OpOverload) or functional._schema.is_mutable:
        return None
    # A view of `self` would see the write, which no redirected read gives it.
    if any(u is not node and u.op != "output" and not _is_mutable(u.target) and not _fresh(u)
           for u in x.users):
        return None
    # The in-place form casts to self's dtype, where the functional one promotes.
    dtype = getattr(x.meta.get("val"), "dtype", None)
    if any(getattr(a.meta.get("val"), "dtype", dtype) != dtype
           for a in node.args if isinstance(a, torch.fx.Node)):
        return None
    return functional


def _run_decompositions(ep, table):
    """ep.run_decompositions(table), around a torch 2.13 bug.

    A tensor constant that the model made inside a submodule (a DynamicCache's
    `torch.tensor([])` in Persimmon's or Llama 4's attention) is lifted as
    `layers.0.self_attn.lifted_tensor_0`. Retracing recomputes it (fake mode
    computes tensors of at most one element for real) and lifts the copy under
    a fresh top-level name, `lifted_tensor_0`, while the new program keeps the
    old constants: its verifier rejects it ("Constant tensor lifted_tensor_0
    is not in the constants dictionary"). Stand-ins under the fresh names let
    it through; each then takes the value the retrace computed.
    """
    nested = [s for s in ep.graph_signature.input_specs
              if s.kind == InputKind.CONSTANT_TENSOR and "." in s.target]
    if not nested:
        return ep.run_decompositions(table)
    constants = dict(ep.constants)
    stand_ins = {f"lifted_tensor_{i}" for i in range(len(constants) + len(nested))} - set(constants)
    constants.update((k, torch.empty(0)) for k in stand_ins)
    out = ep._update(ep.graph_module, ep.graph_signature, constants=constants) \
        .run_decompositions(table)
    values = {n.name: n.meta.get("val") for n in out.graph.nodes if n.op == "placeholder"}
    for spec in out.graph_signature.input_specs:
        if spec.kind == InputKind.CONSTANT_TENSOR and spec.target in stand_ins:
            value = getattr(values.get(spec.arg.name), "constant", None)
            if value is None:
                raise RuntimeError(f"torch.export lost the value of constant {spec.target}")
            out.constants[spec.target] = value
            stand_ins.discard(spec.target)
    for k in stand_ins:
        out.constants.pop(k, None)
    return out


def _restore_stack_traces(out, ep):
    """Give nodes that decomposition took out of a higher-order op (a
    `torch.no_grad()` region of the model) the stack trace they had inside
    it: decomposing inlines the region with traces that name only the
    generated code (`<eval_with_key>`), which leaves diagnostics no model
    line to point at. The node of the same name in the region's submodule
    has it; else the region's first traced node says where the region is."""
    regions = {}
    for node in ep.graph.nodes:
        sub = next((a for a in node.args if isinstance(a, torch.fx.Node) and a.op == "get_attr"),
                   None) if node.op == "call_function" else None
        if sub is not None and isinstance(getattr(ep.graph_module, sub.target, None),
                                          torch.fx.GraphModule):
            traced = {n.name: n.meta["stack_trace"]
                      for n in getattr(ep.graph_module, sub.target).graph.nodes
                      if n.meta.get("stack_trace")}
            regions[node.name] = traced
    if not regions:
        return
    from .importer import _LIBRARY_DIRS, user_frame  # the importer imports this module
    for node in out.graph.nodes:
        frame = user_frame(node.meta.get("stack_trace"))
        if node.op != "call_function" or frame and not frame[0].startswith(_LIBRARY_DIRS):
            continue
        sources = list(node.meta.get("from_node") or ())
        while sources:
            src = sources.pop(0)
            traced = regions.get(src.name)
            if traced:
                node.meta["stack_trace"] = traced.get(node.name) or next(iter(traced.values()))
                break
            sources.extend(src.from_node)


def decompose(ep, table, force=False) -> Decomposed:
    """Functionalize and decompose `ep` with `table`.

    `table` is a decomposition table, "core" for the whole core-ATen table
    (attention kept whole: core ATen expands it into data-dependent masks),
    or None for functionalization alone. Unless `force`, a program that
    `importable_as_is` is returned as it is (`Decomposed.as_is`).
    """
    if table == "core":
        table = dict(_core_aten())
        table.pop(aten.scaled_dot_product_attention.default, None)
    if not force:
        local = functionalize_local(ep)
        if local is not None and importable_as_is(local, table):
            return Decomposed(local, {}, as_is=True)
        if importable_as_is(ep, table):
            return Decomposed(ep, {}, as_is=True)
    before = [n for n in ep.graph.nodes if n.op == "call_function"]
    with _torch_warnings_ignored():
        out = _run_decompositions(ep, {} if table is None else table)
    _restore_stack_traces(out, ep)
    after = _call_targets(out)
    decomposed = collections.defaultdict(list)
    for node in before:
        # In-place ops are functionalized, not decomposed: not reported.
        if (isinstance(node.target, torch._ops.OpOverload) and node.target not in after
                and not node.target._schema.is_mutable
                and not {node.target} & (VALUELESS | IDENTITY | DROPOUT)):
            decomposed[aten_name(node.target)].append(node)
    return Decomposed(out, dict(decomposed))
