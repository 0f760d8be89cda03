"""euler: an MLIR-based deep-learning compiler.

    import euler
    mod = euler.compile(source, target="cpu")       # -O3 unless opt_level= says otherwise
    y = mod.main(x1, x2)
"""

from .errors import CompileError, EulerError, InputError, InternalError, ParseError, VerifyError

__all__ = ["compile", "CompileError", "EulerError", "InputError", "InternalError", "ParseError",
           "VerifyError"]


def compile(source, target="cpu", opt_level=None, dump_dir=None, **options):
    """Compile euler IR (text, a path, or an `mlir.ir.Module`) for `target`.

    `opt_level` 0..3 defaults to $EULER_OPT_LEVEL, else 3 (`euler.options`).

    Returns a `CompiledModule` whose functions take and return numpy arrays;
    its `stages` map each pipeline stage's name to the IR after it.
    """
    from .compiler import compile as _compile
    return _compile(source, target=target, opt_level=opt_level, dump_dir=dump_dir, **options)
