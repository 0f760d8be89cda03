"""PyTorch models through euler, against eager PyTorch and torch.compile (Inductor).

    python benchmarks/torch_models.py [--threads 1] [-O 3] [--repeat 7] [--models mlp,cnn]

Each model is compiled three ways (eager needs nothing; Inductor and euler are
compiled once, outside the timings), checked against eager, then timed
interleaved: every round runs each backend once, `--iters` calls each, and the
best round counts. PyTorch and euler get the same number of threads. Prints a
markdown table of milliseconds per call and euler's speedup (>1 is faster).
Each model runs in its own process, so that a crash costs one row.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import torch

import euler
import euler.torch as et

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))
import pytorch_models  # noqa: E402


MODELS = pytorch_models.models("bench")


def _time(fn, inputs, iters):
    t0 = time.perf_counter()
    for _ in range(iters):
        fn(*inputs)
    return (time.perf_counter() - t0) / iters


def bench(name, args, models=MODELS):
    factory, make_inputs = models[name]
    torch.manual_seed(0)
    model = factory().eval()
    inputs = make_inputs()
    runners = {"eager": model}
    compile_s = {}
    with torch.no_grad():
        want = model(*inputs)
        t0 = time.perf_counter()
        torch._dynamo.reset()
        inductor = torch.compile(model)
        inductor(*inputs)
        compile_s["inductor"] = time.perf_counter() - t0
        runners["inductor"] = inductor
        # A pipeline failure at one opt level is reported, then the next lower is tried.
        for level in range(args.opt_level, -1, -1):
            t0 = time.perf_counter()
            try:
                runners["euler"] = et.compile(model, inputs, opt_level=level,
                                              num_threads=args.threads)
                break
            except euler.EulerError as exc:
                print(f"  {name}: euler -O{level} failed: {str(exc).splitlines()[0][:300]}",
                      file=sys.stderr)
        compile_s["euler"] = time.perf_counter() - t0
        compile_s["level"] = level
        for backend in ("inductor", "euler"):
            torch.testing.assert_close(runners[backend](*inputs), want, rtol=1e-3, atol=1e-4,
                                       msg=lambda m: f"{name} via {backend}: {m}")
        best = {b: float("inf") for b in runners}
        for b, fn in runners.items():  # warm-up
            _time(fn, inputs, 2)
        for _ in range(args.repeat):
            for b, fn in runners.items():
                best[b] = min(best[b], _time(fn, inputs, args.iters))
    return best, compile_s


def main(argv=None, models=MODELS, script=__file__):
    """Run the benchmark on `models` ({name: (factory, make_inputs)}); workers
    are `script --worker NAME`, which must call back into this function."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("-O", dest="opt_level", type=int, default=3)
    p.add_argument("--repeat", type=int, default=7, help="timed rounds; the best counts")
    p.add_argument("--iters", type=int, default=10, help="calls per round")
    p.add_argument("--models", default=",".join(models))
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)

    if args.worker:
        best, compile_s = bench(args.worker, args, models)
        print(json.dumps({"best": best, "compile": compile_s}))
        return

    # One process per model: a crash in one backend costs one row, not the table.
    rows = []
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    for name in args.models.split(","):
        # A crash (in compiled code) at one opt level is noted, then the next lower is tried.
        for level in range(args.opt_level, -1, -1):
            cmd = [sys.executable, script, "--worker", name, "--threads", str(args.threads),
                   "-O", str(level), "--repeat", str(args.repeat), "--iters", str(args.iters)]
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if proc.returncode >= 0:
                break
            print(f"  {name}: -O{level} crashed (signal {-proc.returncode})", file=sys.stderr)
        sys.stderr.write("".join(l + "\n" for l in proc.stderr.splitlines()
                                 if l.startswith(f"  {name}")))
        if proc.returncode != 0:
            rows.append((name, None, f"failed (exit {proc.returncode}): "
                         + (proc.stderr.strip().splitlines() or [""])[-1][:120]))
        else:
            rows.append((name, json.loads(proc.stdout.strip().splitlines()[-1]), None))
        print(f"  {name}: done", file=sys.stderr, flush=True)

    from euler.pipelines.heuristics import host_description
    print(f"\nCPU ({host_description()}), {args.threads} thread(s), euler -O{args.opt_level} "
          f"(lower where marked), best of {args.repeat} rounds x {args.iters} calls, "
          f"torch {torch.__version__}\n")
    print("| model | eager ms | inductor ms | euler ms | euler vs eager | euler vs inductor "
          "| compile s (inductor / euler) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, result, error in rows:
        if error:
            print(f"| {name} | | | {error} | | | |")
            continue
        best, cs = result["best"], result["compile"]
        e, i, u = (best[b] * 1e3 for b in ("eager", "inductor", "euler"))
        level = "" if cs["level"] == args.opt_level else f" (-O{cs['level']})"
        print(f"| {name} | {e:.3f} | {i:.3f} | {u:.3f}{level} | {e / u:.2f}x | {i / u:.2f}x "
              f"| {cs['inductor']:.1f} / {cs['euler']:.1f} |")


if __name__ == "__main__":
    main()
