"""The `euler` command: compile and run programs, and inspect the compiler.

    euler run examples/mlp.mlir [--func main] [--inputs random|file.npz]
              [--emit STAGE] [--dump-dir DIR] [-O N]
    euler pipeline --show -O3
    euler torch-coverage pkg.module:factory [--decompose euler|core|none]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from .. import dialects, errors
from ..dialects import ops
from ..options import from_env
from .cli import run_cli


def _parser():
    p = argparse.ArgumentParser(prog="euler", description="An MLIR-based deep-learning compiler.")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="compile a .mlir file, run a function, summarize its outputs")
    r.add_argument("file")
    r.add_argument("--func", default="main")
    r.add_argument("--inputs", default="random",
                   help="'random' (seeded) or a .npz file with arrays arg0, arg1, ... in order")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--emit", help="stop after this stage and print its IR")
    r.add_argument("--dump-dir", help="write each stage's IR as DIR/NN-<stage>.mlir")
    r.add_argument("-O", dest="opt_level", type=int, choices=range(4), default=None)
    r.add_argument("--target", default="cpu")
    r.add_argument("--print-ir-after-all", action="store_true")
    r.add_argument("--interpret", action="store_true",
                   help="evaluate with the reference interpreter instead of compiling")
    r.set_defaults(handler=cmd_run)

    s = sub.add_parser("pipeline", help="print the passes of each stage")
    s.add_argument("--show", action="store_true", help="print the pass list (the default)")
    s.add_argument("-O", dest="opt_level", type=int, choices=range(4), default=None)
    s.add_argument("--target", default="cpu")
    s.set_defaults(handler=cmd_pipeline)

    c = sub.add_parser("torch-coverage", help="list the ATen ops of a PyTorch model that euler "
                       "supports and does not (exit 1 if any is unsupported)")
    c.add_argument("factory", help="pkg.module:function returning (model, example_inputs)")
    c.add_argument("--decompose", choices=("euler", "core", "none"), default="euler",
                   help="euler (default): PyTorch decomposes the ops euler does not keep whole; "
                   "core: the whole core-ATen form; none: no decompositions")
    c.set_defaults(handler=cmd_torch_coverage)

    from ..fuzz.cli import add_subcommands
    add_subcommands(sub)  # fuzz, bisect, compare
    return p


def random_inputs(signature, seed=0):
    """Seeded random arguments for a signature: floats in [-1, 1), ints in [0, 4)."""
    rng = np.random.default_rng(seed)
    arrays = []
    for t in signature:
        dtype = ops.NUMPY_DTYPES.get(t.dtype)
        if dtype is None:
            raise errors.InputError(f"cannot make random {t.dtype} inputs")
        if np.issubdtype(dtype, np.integer):
            arrays.append(rng.integers(0, 4, size=t.shape).astype(dtype))
        else:
            arrays.append(rng.uniform(-1, 1, size=t.shape).astype(dtype))
    return arrays


def load_inputs(spec, signature, seed):
    if spec == "random":
        return random_inputs(signature, seed)
    try:
        data = np.load(spec)
    except (OSError, ValueError) as exc:
        raise errors.InputError(f"{spec}: error: cannot load inputs: {exc}") from None
    names = sorted(data.files, key=lambda n: (len(n), n))
    return [data[n] for n in names]


def summarize(array) -> str:
    a = np.asarray(array)
    if a.size == 0:
        return f"shape {a.shape} {a.dtype} (empty)"
    f = a.astype(np.float64)
    return (f"shape {a.shape} {a.dtype}  min {np.nanmin(f):.6g}  max {np.nanmax(f):.6g}  "
            f"mean {np.nanmean(f):.6g}  nan {int(np.isnan(f).sum())}")


def cmd_run(args):
    if args.interpret:
        return _interpret(args)
    from ..compiler import compile as euler_compile
    t0 = time.perf_counter()
    mod = euler_compile(args.file, target=args.target, opt_level=args.opt_level,
                        dump_dir=args.dump_dir, emit=args.emit,
                        print_ir_after_all=args.print_ir_after_all or None)
    compile_s = time.perf_counter() - t0
    if args.emit:
        sys.stdout.write(mod.stages.get(args.emit, ""))
        return 0
    fn = mod[args.func]
    inputs = load_inputs(args.inputs, fn.signature[0], args.seed)
    t0 = time.perf_counter()
    outputs = fn(*inputs)
    run_s = time.perf_counter() - t0
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    print(f"@{args.func}: {len(inputs)} inputs ({args.inputs}), -O{mod.options.opt_level}")
    for i, out in enumerate(outputs):
        print(f"  output {i}: {summarize(out)}")
    print(f"compile {compile_s * 1e3:.1f} ms, run {run_s * 1e3:.3f} ms")
    return 0


def _interpret(args):
    from ..runtime import interpreter
    from ..pipelines import driver
    module = driver.parse(args.file, dialects.context())
    inputs = load_inputs(args.inputs, interpreter.argument_types(module, args.func), args.seed)
    t0 = time.perf_counter()
    outputs = interpreter.interpret(module, args.func, *inputs)
    run_s = time.perf_counter() - t0
    print(f"@{args.func}: {len(inputs)} inputs ({args.inputs}), reference interpreter")
    for i, out in enumerate(outputs):
        print(f"  output {i}: {summarize(out)}")
    print(f"interpret {run_s * 1e3:.1f} ms")
    return 0


def cmd_pipeline(args):
    from .. import pipelines
    describe = getattr(pipelines, "describe", None)
    if describe is not None:
        print(describe(args.target, args.opt_level))
        return 0
    from mlir import passmanager
    opts = from_env(target=args.target, opt_level=args.opt_level)
    with dialects.context() as ctx:
        for name, stage in pipelines.stages(args.target):
            pm = passmanager.PassManager("builtin.module", context=ctx)
            stage(pm, opts)
            print(f"{name}: {pm}")
    return 0


def cmd_torch_coverage(args):
    try:
        import euler.torch
    except ImportError as exc:
        raise errors.EulerError(f"error: {exc}") from None
    decompose = {"euler": True, "core": "core", "none": False}[args.decompose]
    return euler.torch.coverage_command(args.factory, decompose=decompose)


def main(argv=None):
    args = _parser().parse_args(argv)
    return args.handler(args)


def entry():
    sys.exit(run_cli(main))
