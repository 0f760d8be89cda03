"""torch-mlir's e2e suite through `euler.torch.compile`, as a new user would run it.

    python benchmarks/torch_mlir_e2e.py --suite PATH/TO/torch-mlir [-k REGEX] [-j 2] [--json out.json]

PATH is a checkout of llvm/torch-mlir (only `projects/pt1/python/torch_mlir_e2e_test`
is read; torch-mlir itself is neither built nor imported). Every registered test
is run the suite's way: the golden trace comes from eager PyTorch, each traced
call is compiled with `euler.torch.compile(module, inputs, opt_level=-O)` and
run, and the suite's own `reporting.SingleTestReport` compares the traces
(`torch.allclose(rtol=1e-3, atol=1e-7)`, dtypes and shapes exactly).

Tests run in worker processes, a chunk each, so that a crash or a hang costs
one test: a worker that dies is restarted after the test it was running, which
is recorded as a crash. Prints the pass count and the failures grouped by their
first error line (unsupported ops are listed by name), as markdown.
"""

from __future__ import annotations

import argparse
import collections
import json
import multiprocessing
import os
import re
import subprocess
import sys
import time
import types


class _Absent(types.ModuleType):
    """A module that is not installed: importing it works, using anything in it raises.

    conv.py and vision_models.py import torchvision at the top for a handful of
    tests (deform_conv2d, resnet18, nms); euler does not depend on it (its PyPI
    wheel is a CUDA build that cannot load with the CPU torch). With this in its
    place the modules' other tests run, and those few fail, counted as failures.
    """

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        def missing(*args, **kwargs):
            raise ModuleNotFoundError(f"{self.__name__}.{name} needs {self.__name__.split('.')[0]}, "
                                      "which is not installed")
        return missing


def _import_suite(suite):
    """Import the suite's registry, framework and reporting without torch-mlir.

    The suite's package needs two things from outside it: `multiprocess` (a
    fork of the standard library's multiprocessing with the same API, used only
    by its own parallel runner, not here) and `torch_mlir._version` (read only
    by torch-mlir's version-gated expected-failure sets, not here).
    """
    root = os.path.join(os.path.abspath(suite), "projects", "pt1", "python")
    if not os.path.isdir(os.path.join(root, "torch_mlir_e2e_test")):
        sys.exit(f"error: {suite}: no projects/pt1/python/torch_mlir_e2e_test here "
                 "(pass a checkout of llvm/torch-mlir)")
    sys.path.insert(0, root)
    sys.modules.setdefault("multiprocess", multiprocessing)
    try:
        import torchvision  # noqa: F401
    except ImportError:
        sys.modules["torchvision"] = vision = _Absent("torchvision")
        for sub in ("models", "ops"):
            sys.modules[f"torchvision.{sub}"] = _Absent(f"torchvision.{sub}")
            setattr(vision, sub, sys.modules[f"torchvision.{sub}"])
    if "torch_mlir" not in sys.modules:
        import torch
        pkg = types.ModuleType("torch_mlir")
        pkg.__path__ = []
        version = types.ModuleType("torch_mlir._version")
        version.version = torch.__version__
        version.torch_version_for_comparison = lambda: torch.__version__
        sys.modules["torch_mlir"], sys.modules["torch_mlir._version"] = pkg, version
    import importlib
    import pkgutil
    from torch_mlir_e2e_test import framework, registry, reporting, test_suite
    # register_all_tests() imports the modules one after another and stops at the
    # first that fails; vision_models needs torchvision, which euler does not
    # depend on (its PyPI wheel is a CUDA build). Each module on its own:
    skipped = {}
    for mod in sorted(m.name for m in pkgutil.iter_modules(test_suite.__path__)):
        try:
            importlib.import_module(f"torch_mlir_e2e_test.test_suite.{mod}")
        except ImportError as exc:
            skipped[mod] = str(exc)
    return framework, registry, reporting, skipped


def _config(framework, opt_level):
    import torch
    import euler.torch as et

    class EulerConfig(framework.TestConfig):
        """Each traced call compiled for its own inputs, as torch-mlir's FX-importer config does."""

        def compile(self, program, verbose=False):
            return program

        def run(self, artifact, trace):
            result = []
            for item in trace:
                compiled = et.compile(artifact, tuple(item.inputs), opt_level=opt_level)
                with torch.no_grad():
                    output = compiled(*item.inputs)
                result.append(framework.TraceItem(item.symbol, item.inputs, output))
            return result

    return EulerConfig()


def _first_line(result):
    text = result.compilation_error or result.runtime_error or ""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    # A traceback's last line is the exception; an euler diagnostic's first is.
    line = lines[-1] if lines and lines[0].startswith("Traceback") else (lines[0] if lines else "")
    return line[:240]


def worker(args):
    """Run the named tests, one JSON line per test on stdout as each finishes."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch
    torch.set_num_threads(1)
    framework, registry, reporting, _ = _import_suite(args.suite)
    tests = {t.unique_name: t for t in registry.GLOBAL_TEST_REGISTRY}
    config = _config(framework, args.opt_level)
    for name in args.worker.split(","):
        t0 = time.perf_counter()
        print(json.dumps({"name": name, "status": "started"}), flush=True)
        result = framework.compile_and_run_test(tests[name], config)
        report = reporting.SingleTestReport(result, reporting.ErrorContext.empty())
        if result.compilation_error or result.runtime_error:
            status = "error"  # euler compiles inside run(): one kind of error
        else:
            status = "fail" if report.failed else "pass"
        error = _first_line(result) if status != "fail" else report.error_str().strip()[:240]
        print(json.dumps({"name": name, "status": status, "error": error if status != "pass" else "",
                          "seconds": round(time.perf_counter() - t0, 2)}), flush=True)


def _run_chunk(args, names, results):
    """Run `names` in one worker; a test that never finished is recorded as a crash."""
    pending = list(names)
    while pending:
        cmd = [sys.executable, os.path.abspath(__file__), "--suite", args.suite,
               "-O", str(args.opt_level), "--worker", ",".join(pending)]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        started = None
        deadline = time.monotonic() + args.timeout * len(pending)
        for line in proc.stdout:
            rec = json.loads(line)
            if rec["status"] == "started":
                started = rec["name"]
                continue
            results[rec["name"]] = rec
            pending.remove(rec["name"])
            started = None
            if time.monotonic() > deadline:
                break
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
        if pending:
            victim = started or pending[0]
            results[victim] = {"name": victim, "status": "crash",
                               "error": f"worker exited with {proc.returncode}"}
            pending.remove(victim)


def _group(error):
    """Failures with the same cause together: an unsupported op by its name and reason."""
    m = re.search(r"unsupported op '([^']+)'(?:: (.*))?", error)
    if m:
        reason = re.sub(r"\b\d+\b", "N", (m.group(2) or "")[:80])
        return f"unsupported `{m.group(1)}`: {reason}"
    error = re.sub(r"^[\w.]*(Error|Exception): ", "", error)
    error = re.sub(r"^\S+:\d+:\d+: (error: )?", "", error)  # the model's line: differs per test
    return re.sub(r"\b\d+\b", "N", error)[:120]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--suite", required=True, help="a checkout of llvm/torch-mlir")
    p.add_argument("-k", default="", help="only tests whose name matches this regex")
    p.add_argument("-O", dest="opt_level", type=int, default=3)
    p.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    p.add_argument("--chunk", type=int, default=40, help="tests per worker process")
    p.add_argument("--timeout", type=float, default=120, help="seconds per test")
    p.add_argument("--json", help="write every test's result here")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return worker(args)

    _, registry, _, skipped = _import_suite(args.suite)
    names = sorted(t.unique_name for t in registry.GLOBAL_TEST_REGISTRY
                   if re.search(args.k, t.unique_name))
    chunks = [names[i:i + args.chunk] for i in range(0, len(names), args.chunk)]
    results = {}
    t0 = time.perf_counter()
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(args.jobs) as pool:
        list(pool.map(lambda c: _run_chunk(args, c, results), chunks))
    elapsed = time.perf_counter() - t0

    counts = collections.Counter(r["status"] for r in results.values())
    passed = counts["pass"]
    print(f"# torch-mlir e2e suite through euler.torch.compile -O{args.opt_level}\n")
    print(f"{passed} of {len(names)} passed ({len(names) and 100 * passed / len(names):.1f}%), "
          f"in {elapsed / 60:.1f} min with {args.jobs} workers\n")
    for mod, why in skipped.items():
        print(f"- not run: the tests of `test_suite/{mod}.py` ({why})")
    print("| outcome | tests |\n|---|---|")
    for status, n in counts.most_common():
        print(f"| {status} | {n} |")
    groups = collections.Counter(_group(r["error"]) for r in results.values() if r["status"] != "pass")
    print("\n| failure (first error line) | tests |\n|---|---|")
    for error, n in groups.most_common(60):
        print(f"| {error.replace('|', '/')} | {n} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
