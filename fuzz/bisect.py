"""`euler bisect FILE.mlir`: find the first pass after which results change.

The CPU pipeline (`pipelines/cpu.py`) is an ordered list of named stages,
each adding passes to a PassManager. Bisection records what each stage adds,
splits it into single passes, and runs them one at a time on the module,
keeping the IR after each. Every intermediate IR is then finished at -O0
(the driver starts from whatever stage the IR looks like) and executed on
the same inputs, and its results are compared with the reference
interpreter (`oracle.compare`). The first pass whose output disagrees while
its input agreed is the culprit; its IR before and after is printed.

Intermediate programs run in a worker process (`driver.Worker`), so one that
crashes is reported as such rather than ending the bisection.
"""

from __future__ import annotations

import dataclasses
import sys

from . import oracle


@dataclasses.dataclass
class Step:
    """One pass of the pipeline: `stage/pass`, and the IR after it."""
    name: str
    ir: str
    verdict: str = ""


class _Recorder:
    """Stands in for a PassManager while a stage function adds its passes."""

    def __init__(self):
        self.calls = []

    def add(self, *args, **kwargs):
        self.calls.append((args, kwargs))


def _split(text: str):
    """'a,b{x=1},func.func(c,d)' -> ['a', 'b{x=1}', 'func.func(c)', 'func.func(d)']."""
    from ..passes import _split_top_level
    text = text.strip()
    if text.startswith("builtin.module(") and text.endswith(")"):
        text = text[len("builtin.module("):-1]
    out = []
    for element in _split_top_level(text):
        brace = element.find("{")
        paren = element.find("(")
        if paren != -1 and (brace == -1 or paren < brace) and element.endswith(")"):
            anchor, inner = element[:paren], element[paren + 1:-1]
            out += [f"{anchor}({p})" for p in _split(inner)]
        else:
            out.append(element)
    return out


def _pass_list(opts):
    """[(name, add_to_pm)] for every pass of the target's pipeline, in order."""
    from ..pipelines import stages
    steps = []
    for stage_name, stage in stages(opts.target):
        recorder = _Recorder()
        stage(recorder, opts)
        for args, kwargs in recorder.calls:
            if args and isinstance(args[0], str) and not kwargs:
                for element in _split(args[0]):
                    steps.append((f"{stage_name}/{element}",
                                  lambda pm, e=element: pm.add(e)))
            else:
                name = kwargs.get("name") or getattr(args[0], "__name__", "python-pass")
                steps.append((f"{stage_name}/{name}",
                              lambda pm, a=args, k=kwargs: pm.add(*a, **k)))
    return steps


def lower_step_by_step(text: str, opt_level: int, target: str = "cpu"):
    """Run the pipeline one pass at a time. Returns (steps, signatures, error):
    the IR after each pass, each public function's euler-level signature,
    and the error that stopped the pipeline, if any."""
    from mlir import ir, passmanager

    from .. import dialects, errors, passes
    from ..options import from_env
    from ..pipelines import driver
    from ..runtime import jit
    opts = from_env(target=target, opt_level=opt_level)
    ctx = dialects.context()
    module = driver.parse(text, ctx)
    signatures = jit.prepare_abi(module)
    steps = [Step("input", str(module))]
    for name, add in _pass_list(opts):
        pm = passmanager.PassManager("builtin.module", context=ctx)
        add(pm)
        passes.last_internal_error = None
        try:
            pm.run(module.operation)
        except ir.MLIRError as exc:
            internal = passes.last_internal_error
            detail = (f"{type(internal).__name__}: {internal}" if internal is not None
                      else "\n".join(errors.from_mlir_error(exc).diagnostics))
            return steps, signatures, f"pass {name} failed: {detail}"
        steps.append(Step(name, str(module)))
    return steps, signatures, None


def execute_ir(text: str, signature, inputs, func: str = "main"):
    """Finish IR of any stage at -O0 and run `func` with the euler-level
    `signature`; returns its results."""
    from mlir import ir

    from .. import dialects
    from ..options import from_env
    from ..pipelines import driver
    from ..runtime import jit
    ctx = dialects.context()
    module = driver.parse(text, ctx)
    with ctx:
        for op in module.body.operations:
            op = op.operation
            if op.name == "func.func" and ir.StringAttr(op.attributes["sym_name"]).value == func:
                ftype = ir.TypeAttr(op.attributes["function_type"]).value
                if any(isinstance(t, ir.MemRefType) for t in ftype.inputs) and ftype.results:
                    # Bufferized but results not yet out-params: no ABI to call it by.
                    raise RuntimeError("this IR's calling convention cannot be executed")
    start = driver.detect_stage(module, "cpu")
    driver.run_stages(module, from_env(opt_level=0), start_after=start)
    return jit.Engine(module).call(func, signature, inputs)


def _verdict(outs, ref, ref64):
    if len(outs) != len(ref):
        return f"MISMATCH: {len(outs)} results, expected {len(ref)}"
    for k, (o, r, r64) in enumerate(zip(outs, ref, ref64)):
        reason = oracle.compare(o, r, r64)
        if reason:
            return f"MISMATCH: result {k}: {reason}"
    return "match"


def bisect(text: str, inputs, opt_level: int, target: str = "cpu", func: str = "main",
           isolate: bool = True, log=print):
    """Bisect the pipeline at `opt_level`; returns (steps, index of the first
    bad step or None, pipeline error or None)."""
    from .driver import Worker
    log = log or (lambda *_: None)
    ref, ref64 = oracle.reference(text, inputs, func)
    steps, signatures, error = lower_step_by_step(text, opt_level, target)
    signature = signatures[func]
    worker = Worker() if isolate else None
    culprit = None
    try:
        previous_ok = True
        for i, step in enumerate(steps):
            try:
                if worker:
                    status, value = worker.call("euler.fuzz.bisect.execute_ir",
                                                (step.ir, signature, inputs, func))
                    if status != "ok":
                        raise RuntimeError(value)
                    outs = value
                else:
                    outs = execute_ir(step.ir, signature, inputs, func)
                step.verdict = _verdict(outs, ref, ref64)
            except Exception as exc:
                step.verdict = f"not executable: {(str(exc).strip().splitlines() or [''])[0]}"
            log(f"  [{i:3d}] {step.name:<60.60} {step.verdict[:100]}")
            ok = step.verdict == "match"
            if step.verdict.startswith("MISMATCH") and previous_ok and culprit is None:
                culprit = i
            if ok or step.verdict.startswith("MISMATCH"):
                previous_ok = ok
    finally:
        if worker:
            worker.close()
    return steps, culprit, error


def main(args) -> int:
    """Entry point of `euler bisect` (args from tools/euler_main.py)."""
    from .cli import program_and_inputs
    text, inputs = program_and_inputs(args)
    levels = [args.opt_level] if args.opt_level is not None else [3, 2, 1, 0]
    for level in levels:
        failures = oracle.check(text, inputs, (level,), args.target, args.func)
        if failures or args.opt_level is not None:
            break
    else:
        print(f"@{args.func} agrees with the interpreter at -O0..-O3: nothing to bisect")
        return 0
    print(f"bisecting @{args.func} at -O{level}: "
          + (str(failures[0]) if failures else "no failure at this level"))
    steps, culprit, error = bisect(text, inputs, level, args.target, args.func)
    if culprit is not None:
        print(f"\nfirst pass whose output differs: {steps[culprit].name} (pass {culprit})")
        print(f"  {steps[culprit].verdict}")
        print(f"\n// ----- IR before {steps[culprit].name} -----\n{steps[culprit - 1].ir}")
        print(f"// ----- IR after {steps[culprit].name} -----\n{steps[culprit].ir}")
    elif error:
        print(f"\nthe pipeline itself fails: {error}")
        print(f"\n// ----- IR before the failing pass -----\n{steps[-1].ir}")
    elif any(s.verdict.startswith("MISMATCH") for s in steps):
        print("\nthe input already disagrees with the interpreter when run at -O0: "
              "the bug is in an -O0 stage (bisect with -O 0) or in the interpreter")
    else:
        print("\nevery intermediate IR agrees when finished at -O0: the difference comes "
              f"from code generation at -O{level} (LLVM/JIT), not from an MLIR pass")
    sys.stdout.flush()
    return 0


__all__ = ["bisect", "execute_ir", "lower_step_by_step", "main", "Step"]
