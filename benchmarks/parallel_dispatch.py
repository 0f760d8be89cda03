"""What one parallel loop costs on this machine: the OpenMP runtime's dispatch.

    python benchmarks/parallel_dispatch.py [--rows 1,4,16,64,256,1024] [--repeat 15]

The threshold below which a kernel runs on one thread
(`pipelines/heuristics.py`, `parallel_threads`) is measured here, not
assumed. One fused elementwise kernel (tanh-GELU of x, times x, plus x:
one `scf.forall` at -O3) over rows x 256 f32 is compiled twice, on one
thread and on two with the threshold forced to zero, and timed interleaved
(best of `--repeat` rounds of `--iters` calls). Per size it prints both
times, two threads over one, and the overhead of going parallel,
t2 - t1 / 2: for small kernels that is the dispatch cost, the constant the
cost model charges per forall. The load average is printed too: with other
jobs on the cores, the second thread may not be free, and two threads lose.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import euler
from euler.dialects import ops
from euler.pipelines import heuristics

import workloads


def _program(rows, cols):
    x = np.random.default_rng(0).standard_normal((rows, cols)).astype(np.float32)
    ir_text = workloads.build(lambda v: ops.add(ops.mul(ops.gelu(v, approximate="tanh"), v), v), x)
    return ir_text, x


def _best(fn, x, iters, out):
    t0 = time.perf_counter()
    for _ in range(iters):
        fn(x, out=out)
    return (time.perf_counter() - t0) / iters


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", default="1,4,16,64,256,1024")
    p.add_argument("--cols", type=int, default=256)
    p.add_argument("--repeat", type=int, default=15)
    p.add_argument("--iters", type=int, default=200)
    args = p.parse_args(argv)
    print(f"load average {' '.join(f'{v:.1f}' for v in os.getloadavg())}, "
          f"{os.cpu_count()} CPUs\n")
    print("| elements | 1 thread us | 2 threads us | 2 / 1 | overhead us (t2 - t1/2) |")
    print("|---:|---:|---:|---:|---:|")
    saved = heuristics.parallel_threads
    for rows in [int(r) for r in args.rows.split(",")]:
        text, x = _program(rows, args.cols)
        one = euler.compile(text, opt_level=3, num_threads=1)
        heuristics.parallel_threads = lambda work, threads: threads  # always parallel
        try:
            two = euler.compile(text, opt_level=3, num_threads=2)
        finally:
            heuristics.parallel_threads = saved
        assert "scf.forall" in two.stages["tiled"], "the 2-thread kernel did not go parallel"
        out = np.empty_like(x)
        np.testing.assert_allclose(two.main(x), one.main(x), rtol=1e-6, atol=1e-6)
        best = {"one": float("inf"), "two": float("inf")}
        for _ in range(args.repeat):
            best["one"] = min(best["one"], _best(one.main, x, args.iters, out))
            best["two"] = min(best["two"], _best(two.main, x, args.iters, out))
        t1, t2 = best["one"] * 1e6, best["two"] * 1e6
        print(f"| {x.size} | {t1:.2f} | {t2:.2f} | {t2 / t1:.2f} | {t2 - t1 / 2:.2f} |", flush=True)
    print(f"\nload average after: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
