"""`euler fuzz`: differential fuzzing of the compiler against the interpreter.

For each program of a seeded stream (`generate.program_and_inputs`), compile
it at every opt level, run it and compare with the reference interpreter
(`oracle.check`). Crashes (any exception, or the process dying) and
mismatches are reduced (`reduce.py`) and written as lit tests under `--out`.

By default each program runs in a worker process, so a segfault in compiled
code is recorded as a crash instead of ending the run; the worker is also
recycled every few hundred programs, since JIT engines are kept alive for the
whole process (see runtime/jit.py).
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import pickle
import select
import subprocess
import sys
import time

from . import oracle
from .generate import count_ops, program_and_inputs, to_mlir
from .reduce import reduce as reduce_program
from .reduce import write_test

RECYCLE_EVERY = 250
TIMEOUT_S = 120


def _serve():
    """The worker's loop: pickled (function path, args) requests in, results out."""
    # The protocol owns the original stdout; anything compiled code or MLIR
    # prints goes to stderr instead of corrupting it.
    channel = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    requests = os.fdopen(0, "rb")
    while True:
        try:
            request = pickle.load(requests)
        except EOFError:
            return
        path, args = request
        module, _, name = path.rpartition(".")
        try:
            reply = ("ok", getattr(importlib.import_module(module), name)(*args))
        except Exception as exc:
            reply = ("raised", f"{type(exc).__name__}: {exc}")
        pickle.dump(reply, channel)
        channel.flush()


class Worker:
    """Runs functions in a child process that may die without taking us along."""

    def __init__(self):
        self._proc = None
        self.calls = 0

    def _start(self):
        self._proc = subprocess.Popen(
            [sys.executable, "-c", "from euler.fuzz.driver import _serve; _serve()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.calls = 0

    def close(self):
        if self._proc is not None:
            try:
                self._proc.stdin.close()
                self._proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                self._proc.kill()
                self._proc.wait()
            self._proc = None

    def call(self, path: str, args: tuple):
        """`path`(*args) in the worker: ("ok", result), ("raised", message),
        ("died", message) or ("timeout", message)."""
        if self._proc is None or self.calls >= RECYCLE_EVERY:
            self.close()
            self._start()
        self.calls += 1
        try:
            pickle.dump((path, args), self._proc.stdin)
            self._proc.stdin.flush()
            ready, _, _ = select.select([self._proc.stdout], [], [], TIMEOUT_S)
            if not ready:
                status = "timeout"
            else:
                return pickle.load(self._proc.stdout)
        except (EOFError, BrokenPipeError, pickle.UnpicklingError):
            status = "died"
        self._proc.kill()
        code = self._proc.wait()
        self._proc = None
        return status, (f"timed out after {TIMEOUT_S} s" if status == "timeout"
                        else f"the process died (exit code {code})")

    def check(self, text, inputs, opt_levels=(0, 1, 2, 3), target="cpu"):
        """Like `oracle.check`; a dead worker becomes a crash at the level that killed it."""
        status, value = self.call("euler.fuzz.oracle.check",
                                  (text, inputs, tuple(opt_levels), target))
        if status == "ok":
            return value
        if status == "raised":  # the interpreter rejected the program
            raise RuntimeError(value)
        if len(opt_levels) > 1:  # find the level that kills it
            failures = []
            for level in opt_levels:
                failures += self.check(text, inputs, (level,), target)
            return failures
        return [oracle.Failure("crash", opt_levels[0], value, f"crash:{status}")]


@dataclasses.dataclass
class Summary:
    programs: int = 0
    ops: int = 0
    compiles: int = 0
    rejected: int = 0
    failures: list = dataclasses.field(default_factory=list)  # (label, Failure, path)
    seconds: float = 0.0

    def __str__(self):
        kinds = {}
        for _, f, _ in self.failures:
            kinds[f.kind] = kinds.get(f.kind, 0) + 1
        lines = [f"{self.programs} programs ({self.ops} ops), {self.compiles} compiles in "
                 f"{self.seconds:.1f} s: {len(self.failures)} failing programs"
                 + (" (" + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) + ")"
                    if kinds else "")]
        if self.rejected:
            lines.append(f"{self.rejected} programs rejected by the interpreter (generator bugs)")
        for label, f, path in self.failures:
            lines.append(f"  {label}: {f}" + (f"\n    reduced: {path}" if path else ""))
        return "\n".join(lines)


def run_fuzz(seed: int, count: int, target: str = "cpu", max_ops: int = 10,
             opt_levels=(0, 1, 2, 3), out_dir: str | None = None, rotate: bool = False,
             isolate: bool = True, reduce: bool = True, log=print, start: int = 0,
             large: int = 0) -> Summary:
    """Fuzz `count` programs of stream `seed`; return a `Summary`.

    Args:
        seed: the stream; program i is a pure function of (seed, i).
        count: how many programs, starting at index `start`.
        large: how many large-shape programs (one reduction over >= 10**6
            terms, `generate.generate_large`) follow, from their own stream.
        target: "cpu" or "cuda".
        max_ops: upper bound on generated ops per program (guards come on top).
        opt_levels: levels to compile each program at.
        out_dir: where reduced failures are written (nothing written if None).
        rotate: compile program i only at opt_levels[i % len(opt_levels)],
            for quick runs.
        isolate: run programs in a worker process (survives segfaults).
        reduce: reduce failures before reporting them.
        log: progress output (None for silence).
    """
    log = log or (lambda *_: None)
    worker = Worker() if isolate else None
    checker = worker.check if worker else oracle.check
    summary = Summary()
    t0 = time.perf_counter()
    try:
        jobs = [(i, False) for i in range(start, start + count)] + \
            [(i, True) for i in range(start, start + large)]
        for done, (index, is_large) in enumerate(jobs, start=1):
            program, inputs = program_and_inputs(seed, index, max_ops, large=is_large)
            label = f"large program {index}" if is_large else f"program {index}"
            levels = (opt_levels[index % len(opt_levels)],) if rotate else tuple(opt_levels)
            text = to_mlir(program)
            summary.programs += 1
            summary.ops += count_ops(program)
            summary.compiles += len(levels)
            try:
                failures = checker(text, inputs, levels, target)
            except Exception as exc:
                summary.rejected += 1
                log(f"{label}: rejected by the interpreter: {exc}")
                continue
            if failures:
                failure = failures[0]
                log(f"{label}: {failure}"
                    + (f" (and {len(failures) - 1} more levels)" if len(failures) > 1 else ""))
                path = None
                if reduce:
                    small, xs, tests = reduce_program(program, inputs, failure, target,
                                                      checker=checker)
                    if out_dir:
                        os.makedirs(out_dir, exist_ok=True)
                        tag = f"L{index}" if is_large else f"p{index}"
                        name = f"{failure.kind}-s{seed}-{tag}-O{failure.opt_level}.mlir"
                        origin = (f"large program {index} of `euler fuzz --seed {seed} --large N`"
                                  if is_large else f"program {index} of `euler fuzz --seed {seed}`")
                        path = write_test(os.path.join(out_dir, name), small, xs, failure,
                                          origin, target, checker)
                    log(f"  reduced to {count_ops(small)} ops in {tests} tests"
                        + (f": {path}" if path else ""))
                summary.failures.append((label, failure, path))
            if done % 50 == 0 or done == len(jobs):
                rate = done / (time.perf_counter() - t0)
                log(f"[{done}/{len(jobs)}] {len(summary.failures)} failing, "
                    f"{rate:.1f} programs/s")
    finally:
        if worker:
            worker.close()
    summary.seconds = time.perf_counter() - t0
    return summary


def main(args) -> int:
    """Entry point of `euler fuzz` (args from tools/euler_main.py)."""
    levels = tuple(int(v) for v in str(args.opt_levels).split(","))
    summary = run_fuzz(args.seed, args.count, target=args.target, max_ops=args.max_ops,
                       opt_levels=levels, out_dir=args.out, rotate=args.rotate,
                       isolate=not args.no_isolate, reduce=not args.no_reduce,
                       large=args.large)
    print(summary)
    return 1 if summary.failures else 0
