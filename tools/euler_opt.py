"""euler-opt: mlir-opt for euler. Runs euler and upstream passes over a file.

    euler-opt in.mlir --convert-euler-to-linalg
    euler-opt in.mlir --pass-pipeline='builtin.module(euler-verify,canonicalize)'
    euler-opt in.mlir --emit=bufferized -O3 --print-ir-after-all
    euler-opt cases.mlir --split-input-file --euler-verify

Passes given as flags run in command-line order; euler passes and upstream
passes mix freely. Input is verified (euler-verify) after parsing, as
mlir-opt verifies after parsing. Any error prints its diagnostic and exits 1.
"""

from __future__ import annotations

import argparse
import re
import sys

from mlir import passmanager

from .. import dialects, errors, passes
from ..options import from_env
from ..pipelines import driver, stages
from .cli import read_input, run_cli

SPLIT_MARKER = re.compile(r"^// -----[ \t]*$", re.M)


def _parser():
    p = argparse.ArgumentParser(prog="euler-opt", description=__doc__.split("\n")[0],
                                epilog="Any other --<pass>[=options] runs that pass (euler or "
                                       "upstream) in command-line order. euler passes: "
                                       + ", ".join(sorted(passes.REGISTRY)))
    p.add_argument("input", nargs="?", default="-", help="input file (default: stdin)")
    p.add_argument("-o", dest="output", default="-", help="output file (default: stdout)")
    p.add_argument("--pass-pipeline", help="textual pipeline, euler and upstream passes mixed")
    p.add_argument("--emit", help="run the target pipeline up to this stage")
    p.add_argument("-O", dest="opt_level", type=int, default=None, choices=range(4),
                   help="opt level for --emit (default: $EULER_OPT_LEVEL, else 3)")
    p.add_argument("--target", default="cpu")
    p.add_argument("--split-input-file", action="store_true",
                   help="split the input on '// -----' and process each chunk separately")
    p.add_argument("--print-ir-after-all", action="store_true")
    p.add_argument("--mlir-timing", action="store_true")
    p.add_argument("--no-verify", action="store_true", help="skip euler-verify after parsing")
    return p


def _pass_flags(extra):
    """Unknown flags are passes: '--canonicalize', '--foo=a=1 b=2' -> 'foo{a=1 b=2}'."""
    elements = []
    for arg in extra:
        if not arg.startswith("--"):
            raise errors.EulerError(f"euler-opt: error: unexpected argument '{arg}'")
        name, _, value = arg[2:].partition("=")
        elements.append(f"{name}{{{value}}}" if value else name)
    return elements


def _process(text, filename, args, pipeline_elements):
    ctx = dialects.context()
    module = driver.parse(text, ctx, filename)
    opts = from_env(target=args.target, opt_level=args.opt_level, emit=args.emit,
                    print_ir_after_all=args.print_ir_after_all, timing=args.mlir_timing)
    if not args.no_verify and args.emit is None:
        _run_pipeline(module, ["euler-verify"], opts)
    if args.pass_pipeline:
        _run_text_pipeline(module, args.pass_pipeline, opts)
    if pipeline_elements:
        _run_pipeline(module, pipeline_elements, opts)
    if args.emit:
        names = [n for n, _ in stages(args.target)]
        if args.emit not in names:
            raise errors.EulerError(f"euler-opt: error: unknown stage '{args.emit}' "
                                    f"(stages: {', '.join(names)})")
        driver.run_stages(module, opts, start_after=driver.detect_stage(module, args.target))
    return str(module)


def _run_pipeline(module, elements, opts):
    _run_text_pipeline(module, ",".join(elements), opts)


def _run_text_pipeline(module, text, opts):
    pm = passmanager.PassManager("builtin.module", context=module.context)
    if opts.print_ir_after_all:
        pm.enable_ir_printing(print_after_all=True)
    if opts.timing:
        pm.enable_timing()
    try:
        passes.build_pipeline(pm, text)
    except (ValueError, KeyError) as exc:
        raise errors.EulerError(f"euler-opt: error: invalid pass pipeline '{text}': {exc}") from None
    passes.last_internal_error = None
    try:
        pm.run(module.operation)
    except Exception as exc:
        if passes.last_internal_error is not None:
            raise errors.InternalError(str(passes.last_internal_error)) from None
        raise errors.from_mlir_error(exc) from None


def main(argv=None):
    args, extra = _parser().parse_known_args(argv)
    elements = _pass_flags(extra)
    text, filename = read_input(args.input)
    chunks = SPLIT_MARKER.split(text) if args.split_input_file else [text]
    outputs, failed, line = [], False, 0
    for chunk in chunks:
        # Pad with the lines before the chunk so diagnostics keep file line numbers.
        try:
            outputs.append(_process("\n" * line + chunk, filename, args, elements))
        except errors.EulerError as exc:
            print(str(exc), file=sys.stderr)
            failed = True
        line += chunk.count("\n")
    result = "\n// -----\n".join(outputs)
    if args.output == "-":
        sys.stdout.write(result)
    else:
        with open(args.output, "w") as f:
            f.write(result)
    return 1 if failed else 0


def entry():
    sys.exit(run_cli(main))
