"""The robustness subcommands of `euler`: fuzz, bisect and compare.

`tools/euler_main.py` calls `add_subcommands` on its subparsers, so these
commands live with the code they drive.

    euler fuzz --seed S --count N [--large L] [--target cpu|cuda] [--max-ops K] [--out DIR]
    euler bisect FILE.mlir [-O N] [--inputs random|file.npz]
    euler compare FILE.mlir [-O N ...] [--inputs random|file.npz]
"""

from __future__ import annotations


def add_subcommands(sub) -> None:
    f = sub.add_parser("fuzz", help="differential fuzzing against the reference interpreter")
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--count", type=int, default=100)
    f.add_argument("--target", default="cpu", choices=("cpu", "cuda"))
    f.add_argument("--max-ops", type=int, default=10)
    f.add_argument("--large", type=int, default=2,
                   help="large-shape programs after the others: one reduction over >= 10**6 "
                   "terms each (default 2)")
    f.add_argument("--out", default="fuzz-out", help="where reduced failures are written")
    f.add_argument("--opt-levels", default="0,1,2,3", help="comma-separated, e.g. 0,3")
    f.add_argument("--rotate", action="store_true",
                   help="compile program i only at the (i mod n)-th opt level")
    f.add_argument("--no-isolate", action="store_true",
                   help="run programs in this process (faster; a segfault ends the run)")
    f.add_argument("--no-reduce", action="store_true")
    f.set_defaults(handler=_fuzz)

    b = sub.add_parser("bisect", help="find the first pass after which results disagree with "
                       "the interpreter")
    _program_args(b)
    b.add_argument("-O", dest="opt_level", type=int, choices=range(4), default=None,
                   help="pipeline to bisect (default: the highest level that disagrees)")
    b.set_defaults(handler=_bisect)

    c = sub.add_parser("compare", help="compile at each opt level and compare with the "
                       "interpreter; exit 1 on any difference")
    _program_args(c)
    c.add_argument("-O", dest="opt_level", type=int, choices=range(4), action="append",
                   help="opt level (repeatable; default all)")
    c.set_defaults(handler=_compare)


def _program_args(p):
    p.add_argument("file")
    p.add_argument("--func", default="main")
    p.add_argument("--inputs", default="random",
                   help="'random' (seeded) or a .npz file with arrays arg0, arg1, ... in order")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--target", default="cpu")


def _fuzz(args):
    from .driver import main
    return main(args)


def _bisect(args):
    from .bisect import main
    return main(args)


def program_and_inputs(args):
    """The program text of `args.file` and the inputs (`--inputs`, `--seed`) for
    its function `args.func`; shared by `euler compare` and `euler bisect`."""
    from .. import dialects, errors
    from ..pipelines import driver
    from ..runtime import jit
    from ..tools.cli import read_input
    from ..tools.euler_main import load_inputs
    text, _ = read_input(args.file)
    module = driver.parse(args.file if args.file != "-" else text, dialects.context())
    signature = jit.prepare_abi(module).get(args.func)
    if signature is None:
        raise errors.InputError(f"{args.file}: error: no public function @{args.func}")
    return text, load_inputs(args.inputs, signature[0], args.seed)


def _compare(args):
    from . import oracle
    text, inputs = program_and_inputs(args)
    ref = oracle.reference(text, inputs, args.func)
    failed = False
    for level in args.opt_level or (0, 1, 2, 3):
        failures = oracle.check(text, inputs, (level,), args.target, args.func, ref=ref)
        failed |= bool(failures)
        print(f"@{args.func} -O{level}: " + (str(failures[0]) if failures else "match"))
    return 1 if failed else 0
