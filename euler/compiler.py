"""`euler.compile`: parse, run the target's pipeline, JIT, and wrap the result.

    mod = euler.compile(source, target="cpu", opt_level=2, dump_dir=None)
    y = mod.main(x1, x2)       # or mod["main"](x1, x2)
    mod.stages                 # {stage name: IR text after that stage}
"""

from __future__ import annotations

from . import dialects
from .errors import InputError
from .options import from_env
from .pipelines import driver
from .runtime import cuda, jit


class CompiledFunction:
    """A compiled function: numpy arrays in, numpy array(s) out."""

    def __init__(self, engine, name, signature):
        self._engine, self.name, self.signature = engine, name, signature

    def __call__(self, *args, out=None):
        """Run on numpy arrays. `out` (an array, or a tuple of them for
        several results) receives the results instead of fresh arrays."""
        if out is not None and not isinstance(out, (tuple, list)):
            out = (out,)
        results = self._engine.call(self.name, self.signature, args, out)
        return results[0] if len(results) == 1 else results

    def __repr__(self):
        args, results = self.signature
        return (f"<euler function @{self.name}({', '.join(map(str, args))}) -> "
                f"({', '.join(map(str, results))})>")


class CompiledModule:
    """The result of `euler.compile`: its functions, and the IR of every stage."""

    def __init__(self, stages, functions, options):
        self.stages, self.functions, self.options = stages, functions, options

    def __getitem__(self, name) -> CompiledFunction:
        if name not in self.functions:
            raise InputError(f"no public function @{name}; have: "
                             + ", ".join("@" + f for f in self.functions))
        return self.functions[name]

    def __getattr__(self, name) -> CompiledFunction:
        if name.startswith("_") or name in ("stages", "functions", "options"):
            raise AttributeError(name)
        return self[name]


def compile(source, target="cpu", opt_level=None, dump_dir=None, **options) -> CompiledModule:
    opts = from_env(target=target, opt_level=opt_level, dump_dir=dump_dir, **options)
    if opts.target == "cuda" and opts.emit is None:
        cuda.require()  # fail before compiling what could not run
    ctx = dialects.context()
    module = driver.parse(source, ctx)
    input_text = str(module)
    signatures = jit.prepare_abi(module)
    start = driver.detect_stage(module, opts.target)
    stages = driver.run_stages(module, opts, start_after=start, input_text=input_text)
    if opts.emit is not None:
        return CompiledModule(stages, {}, opts)
    engine = jit.Engine(module, signatures, runtime_libs=cuda.RUNTIME_LIBS
                        if opts.target == "cuda" else jit.RUNTIME_LIBS)
    functions = {name: CompiledFunction(engine, name, sig) for name, sig in signatures.items()}
    result = CompiledModule(stages, functions, opts)
    result._context = ctx  # the module's IR lives in this context
    return result
