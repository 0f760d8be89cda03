"""`euler.compile`: parse, run the target's pipeline, JIT, and wrap the result.

    mod = euler.compile(source, target="cpu", opt_level=3, dump_dir=None)
    y = mod.main(x1, x2)       # or mod["main"](x1, x2)
    mod.stages                 # {stage name: IR text after that stage}
"""

from __future__ import annotations

import contextlib
import gc
import os
import time
import warnings

from mlir import ir

from . import cache, dialects
from .dialects.shapes import TensorType
from .errors import InputError
from .options import from_env
from .pipelines import cuda as cuda_pipeline
from .pipelines import driver
from .runtime import cuda, jit, openmp


class CompiledFunction:
    """A compiled function: numpy arrays in, numpy array(s) out; for the CUDA
    target also torch CUDA tensors or CuPy arrays in, the same kind out,
    without copies (see `runtime/cuda.py` for the stream semantics)."""

    def __init__(self, engine, name, signature):
        self._engine, self.name, self.signature = engine, name, signature

    def __call__(self, *args, out=None):
        """Run on numpy arrays (or, for target="cuda", device arrays). `out`
        (an array, or a tuple of them for several results) receives the
        results instead of fresh arrays."""
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

    def profile(self, reset: bool = False) -> list:
        """Time spent in each kernel over the calls since compiling (or the
        last reset), longest first: `runtime.profile.KernelTime` rows, one
        per kernel function (`@__euler_kernel_N`, its ops and source lines)
        and one per public function (`@main`, the whole call, host code
        included). Needs `profile=True` (or EULER_PROFILE=1) at compile
        time; `reset` zeroes the counters after reading them."""
        engine = next((f._engine for f in self.functions.values()), None)
        counters = getattr(engine, "counters", None)
        if counters is None:
            raise InputError("no profile: compile with profile=True (or EULER_PROFILE=1); "
                             f"target {self.options.target!r} at -O{self.options.opt_level}"
                             + ("" if self.options.target == "cpu" else
                                " (only the CPU target times its kernels)"))
        rows = sorted(counters.read(), key=lambda r: -r.seconds)
        if reset:
            counters.reset()
        return rows

    def __getitem__(self, name) -> CompiledFunction:
        if name not in self.functions:
            raise InputError(f"no public function @{name}; have: "
                             + ", ".join("@" + f for f in self.functions))
        return self.functions[name]

    def __getattr__(self, name) -> CompiledFunction:
        if name.startswith("_") or name in ("stages", "functions", "options", "profile"):
            raise AttributeError(name)
        return self[name]


def compile(source, target="cpu", opt_level=None, dump_dir=None, **options) -> CompiledModule:
    with _gc_paused():
        return _compile(source, target, opt_level, dump_dir, **options)


@contextlib.contextmanager
def _gc_paused():
    # A full collection scans every live object of the process, the caller's
    # model and its exported graphs included (400k objects, 0.2 s a scan
    # beside a 12-layer GPT-2), and a compile allocates enough to trigger one
    # that finds next to nothing: the bindings' objects die by refcount.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _compile(source, target, opt_level, dump_dir, **options) -> CompiledModule:
    opts = from_env(target=target, opt_level=opt_level, dump_dir=dump_dir, **options)
    if (opts.target == "cpu" and opts.opt_level >= 3 and opts.num_threads > 1
            and opts.emit is None and not openmp.available()):
        # -O3's parallel loops run on libgomp (runtime/openmp.py), a system
        # library, not a dependency pip can install: without it the same
        # code on one thread is slower, never wrong, and a default
        # (num_threads = the machine's cores) must not stop a compile.
        warnings.warn(f"{openmp.LIBGOMP} did not load: compiling for one thread "
                      "(install libgomp1 for parallel loops)", RuntimeWarning, stacklevel=3)
        opts.num_threads = 1
    if opts.target == "cuda":
        if opts.emit is None:
            cuda.require()  # fail before compiling what could not run
        opts.chip = opts.chip or cuda.device_chip()  # None without a GPU: the default
    # CUDA modules only: CPU tests swap heuristics and passes in process,
    # which no key can see.
    cached = (opts.target == "cuda" and opts.cache and opts.emit is None and not opts.dump_dir
              and not opts.print_ir_after_all and not opts.timing)
    if cached:
        # Keyed on the text as given, so that a hit costs no parse.
        key = cache.key(_source_text(source), opts, opts.chip or cuda_pipeline.CHIP)
        hit, entry = cache.lookup(key, opts)
        if hit is not None:
            return hit
        if entry is not None:
            try:
                result = _from_cache_entry(entry, ir.Context(), opts)
            except (ir.MLIRError, KeyError, TypeError, ValueError):
                result = None  # a damaged entry: compile again, and overwrite it
            if result is not None:
                cache.store(key, opts, result, None)
                return result
    ctx = dialects.context()
    module = driver.parse(source, ctx)
    input_text = str(module) if opts.dump_dir else None  # only dumps print it
    signatures = jit.prepare_abi(module)
    start = driver.detect_stage(module, opts.target)
    stages = driver.run_stages(module, opts, start_after=start, input_text=input_text)
    if opts.emit is not None:
        return CompiledModule(stages, {}, opts)
    started_at = time.perf_counter()
    result = _jit(module, signatures, stages, ctx, opts)
    stages.seconds["jit"] = time.perf_counter() - started_at
    if cached:
        cache.store(key, opts, result, {
            "llvm": str(module), "stages": dict(stages),
            "signatures": {n: [[[list(t.shape), t.dtype] for t in ts] for ts in sig]
                           for n, sig in signatures.items()}})
    return result


def _source_text(source) -> str:
    if isinstance(source, (str, os.PathLike)) and not (isinstance(source, str) and "\n" in source):
        try:
            with open(source) as f:
                return f.read()
        except OSError:
            pass  # the parse reports it
    return str(source)


def _jit(module, signatures, stages, ctx, opts):
    if opts.target == "cuda":
        engine = cuda.Engine(module, signatures, graphs=opts.cuda_graphs)
    else:
        engine = jit.Engine(module, signatures)
    functions = {name: CompiledFunction(engine, name, sig) for name, sig in signatures.items()}
    result = CompiledModule(stages, functions, opts)
    result._context = ctx  # the module's IR lives in this context
    return result


def _from_cache_entry(entry, ctx, opts):
    """A compiled module from an on-disk cache entry: the pipeline's output is
    there; only the host code is JIT-compiled again."""
    # Parsed whole, never walked from Python: touching an llvm-dialect op
    # imports mlir.dialects.llvm, 150-220 ms where no .pyc is written.
    with ctx:
        module = ir.Module.parse(entry["llvm"])
    signatures = {n: tuple([TensorType(tuple(shape), dtype) for shape, dtype in ts] for ts in sig)
                  for n, sig in entry["signatures"].items()}
    return _jit(module, signatures, dict(entry["stages"]), ctx, opts)
