"""Test-case reduction for fuzzer findings: delta debugging over ops and shapes.

Given a program that fails (a crash or a mismatch at some opt level), greedy
passes shrink it while the failure keeps its signature:
  1. keep a single result;
  2. bypass an op (its uses take one of its operands of the same type);
  3. cut an op out: its result becomes a new function argument, fed with the
     value the interpreter computed for it, so the data reaching the
     remaining ops is unchanged;
  4. shrink argument dimensions (re-inferring every type with `shapes.infer`).
Dead ops and unused arguments go after each step. The result is written as a
`.mlir` file with RUN/CHECK lines, ready to move to `tests/lit/regressions/`.
"""

from __future__ import annotations

import os

import numpy as np

from ..dialects.shapes import ShapeError, TensorType
from . import oracle
from .generate import Node, Program, infer_node, to_mlir


def _prune(p: Program, inputs: list):
    """Drop ops no result depends on and arguments nothing uses."""
    live = set(p.outputs)
    for j in range(len(p.nodes) - 1, -1, -1):
        if ("op", j) in live:
            live.update(p.nodes[j].operands)
    keep_nodes = [j for j in range(len(p.nodes)) if ("op", j) in live]
    keep_args = [i for i in range(len(p.args)) if ("arg", i) in live]
    remap = {("op", j): ("op", k) for k, j in enumerate(keep_nodes)}
    remap.update({("arg", i): ("arg", k) for k, i in enumerate(keep_args)})
    nodes = [Node(p.nodes[j].name, [remap[v] for v in p.nodes[j].operands], p.nodes[j].attrs,
                  p.nodes[j].result) for j in keep_nodes]
    # Keep result order but drop duplicates (a bypass can merge two results).
    outputs = list(dict.fromkeys(remap[v] for v in p.outputs))
    return Program([p.args[i] for i in keep_args], nodes, outputs), [inputs[i] for i in keep_args]


def _replace_uses(p: Program, old, new):
    for n in p.nodes:
        n.operands = [new if v == old else v for v in n.operands]
    p.outputs = [new if v == old else v for v in p.outputs]


def _all_values(p: Program, inputs):
    """The interpreter's value of every node, in the op dtype."""
    from ..runtime.interpreter import interpret_text
    q = p.copy()
    q.outputs = [("op", j) for j in range(len(q.nodes))]
    return interpret_text(to_mlir(q), "main", *inputs)


def _retype(p: Program) -> bool:
    """Re-infer every node's result type after argument shapes changed."""
    try:
        for n in p.nodes:
            if n.name in ("reshape", "broadcast_to"):
                return False  # their targets do not scale with the input
            if n.name == "cast":
                n.result = TensorType(p.type_of(n.operands[0]).shape, n.result.dtype)
            n.result = infer_node(p, n)
        return True
    except ShapeError:
        return False


def _candidates(p: Program, inputs):
    """Smaller variants of (p, inputs), most promising first."""
    if len(p.outputs) > 1:
        for v in reversed(p.outputs):
            q = p.copy()
            q.outputs = [v]
            yield q, inputs
    for j in range(len(p.nodes) - 1, -1, -1):
        node = p.nodes[j]
        for v in dict.fromkeys(node.operands):
            if p.type_of(v) == node.result:
                q = p.copy()
                _replace_uses(q, ("op", j), v)
                yield q, inputs
    try:
        values = _all_values(p, inputs)
    except Exception:
        values = None
    if values is not None:
        for j in range(len(p.nodes) - 1, -1, -1):
            if p.nodes[j].name == "constant":
                continue
            q = p.copy()
            q.args.append(p.nodes[j].result)
            _replace_uses(q, ("op", j), ("arg", len(q.args) - 1))
            yield q, inputs + [values[j]]
    for i, t in enumerate(p.args):
        for d, size in enumerate(t.shape):
            if size <= 1:
                continue
            for new in dict.fromkeys((1, size // 2, size - 1)):
                q = p.copy()
                shape = list(t.shape)
                shape[d] = new
                q.args[i] = TensorType(tuple(shape), t.dtype)
                if not _retype(q):
                    continue
                x = np.take(inputs[i], range(new), axis=d)
                yield q, inputs[:i] + [x] + inputs[i + 1:]


def reduce(program: Program, inputs, failure: oracle.Failure, target="cpu", max_tests=400,
           checker=None, log=None):
    """Shrink (program, inputs) while `checker` (default `oracle.check`) at the
    failure's opt level still reports a failure with the same signature.
    Returns (program, inputs, number of variants tested)."""
    checker = checker or oracle.check

    def interesting(p, xs):
        try:
            found = checker(to_mlir(p), xs, (failure.opt_level,), target)
        except Exception:
            return False  # the interpreter rejected the variant: not the same bug
        return any(f.signature == failure.signature for f in found)

    program, inputs = _prune(program, list(inputs))
    tests = 0
    progress = True
    while progress and tests < max_tests:
        progress = False
        for q, xs in _candidates(program, inputs):
            q, xs = _prune(q, xs)
            if not q.outputs or not q.nodes:
                continue
            tests += 1
            if interesting(q, xs):
                program, inputs, progress = q, xs, True
                if log:
                    log(f"    reduced to {len(program.nodes)} ops, {len(program.args)} args")
                break
            if tests >= max_tests:
                break
    return program, inputs, tests


def random_inputs_reproduce(program: Program, failure: oracle.Failure, target="cpu",
                            checker=None) -> bool:
    """Whether `euler compare`'s default seeded inputs show the failure too."""
    from ..tools.euler_main import random_inputs
    try:
        xs = random_inputs(program.args, 0)
        found = (checker or oracle.check)(to_mlir(program), xs, (failure.opt_level,), target)
    except Exception:
        return False
    return any(f.signature == failure.signature for f in found)


def write_test(path: str, program: Program, inputs, failure: oracle.Failure, origin: str,
               target="cpu", checker=None) -> str:
    """Write the reduced program as a lit test; its inputs go to
    `Inputs/<name>.npz` beside it unless seeded random inputs reproduce."""
    directory, name = os.path.split(path)
    stem = os.path.splitext(name)[0]
    inputs_arg = ""
    if not random_inputs_reproduce(program, failure, target, checker):
        os.makedirs(os.path.join(directory, "Inputs"), exist_ok=True)
        np.savez(os.path.join(directory, "Inputs", stem + ".npz"),
                 **{f"arg{i}": x for i, x in enumerate(inputs)})
        inputs_arg = f" --inputs %S/Inputs/{stem}.npz"
    level = failure.opt_level
    header = [
        f"// Reduced by `euler fuzz` from {origin}.",
        f"// It was a {failure.kind} at -O{level}: {failure.message}",
        f"// RUN: euler compare %s -O {level}{inputs_arg} | FileCheck %s",
        f"// CHECK: @main -O{level}: match",
        "",
    ]
    with open(path, "w") as f:
        f.write("\n".join(header) + to_mlir(program))
    return path
