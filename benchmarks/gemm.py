"""f32 GEMM: euler -O3 against numpy/OpenBLAS, at 1 and 2 threads.

    python benchmarks/gemm.py            # full table
    python benchmarks/gemm.py --quick    # smoke run: two shapes, 2 repetitions

A script, not a test. Each thread count runs in its own subprocess, with
OPENBLAS_NUM_THREADS set before numpy is imported, so that OpenBLAS and
euler use the same number of cores. In that process the two are timed
interleaved, best of N after a warm-up, with a short sleep between them
(OpenBLAS worker threads keep spinning for a moment after a call), into
preallocated outputs. Prints euler GFLOP/s, numpy GFLOP/s, their ratio and
euler's compile time.
"""

import argparse
import json
import os
import subprocess
import sys
import time

SHAPES = [(256, 256, 256), (512, 512, 512), (1024, 1024, 1024), (2048, 2048, 2048),
          (1000, 1000, 1000), (1023, 1000, 999), (77, 4096, 1024)]
QUICK_SHAPES = [(1024, 1024, 1024), (1000, 1000, 1000)]


def matmul_ir(M, N, K):
    return (f'func.func @main(%a: tensor<{M}x{K}xf32>, %b: tensor<{K}x{N}xf32>) '
            f'-> tensor<{M}x{N}xf32> {{\n'
            f'  %c = "euler.matmul"(%a, %b) : (tensor<{M}x{K}xf32>, tensor<{K}x{N}xf32>) '
            f'-> tensor<{M}x{N}xf32>\n'
            f'  return %c : tensor<{M}x{N}xf32>\n}}\n')


def worker(args):
    """Runs in the subprocess: times every shape, prints one JSON line each."""
    import numpy as np
    import euler

    for M, N, K in args.shapes:
        t0 = time.perf_counter()
        mod = euler.compile(matmul_ir(M, N, K), opt_level=3, num_threads=args.threads)
        compile_s = time.perf_counter() - t0
        rng = np.random.default_rng(0)
        a = rng.random((M, K), dtype=np.float32)
        b = rng.random((K, N), dtype=np.float32)
        c_eu, c_np = np.empty((M, N), np.float32), np.empty((M, N), np.float32)
        mod.main(a, b, out=c_eu)
        np.matmul(a, b, out=c_np)
        err = float(np.abs(c_eu - c_np).max() / np.abs(c_np).max())
        t_eu, t_np = [], []
        for _ in range(args.reps):
            time.sleep(args.sleep)
            t = time.perf_counter()
            mod.main(a, b, out=c_eu)
            t_eu.append(time.perf_counter() - t)
            time.sleep(args.sleep)
            t = time.perf_counter()
            np.matmul(a, b, out=c_np)
            t_np.append(time.perf_counter() - t)
        flop = 2.0 * M * N * K
        print(json.dumps({"shape": [M, N, K], "threads": args.threads,
                          "euler": flop / min(t_eu) / 1e9, "numpy": flop / min(t_np) / 1e9,
                          "compile_s": compile_s, "rel_err": err}), flush=True)
    sys.stdout.flush()
    os._exit(0)  # engines that loaded the async runtime are not torn down


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="two shapes, 2 repetitions")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--reps", type=int, default=None, help="timed runs per shape (best is kept)")
    ap.add_argument("--sleep", type=float, default=0.1)
    ap.add_argument("--shape", type=int, nargs=3, action="append", dest="shapes",
                    metavar=("M", "N", "K"), help="run this shape (repeatable)")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.shapes = args.shapes or (QUICK_SHAPES if args.quick else SHAPES)
    args.reps = args.reps or (2 if args.quick else 7)
    if args.worker:
        args.threads = args.threads[0]
        return worker(args)

    if hasattr(os, "getloadavg"):
        # The machine may be shared: a load above the thread count means
        # both columns were measured on busy cores.
        print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"{'M x N x K':>18} {'thr':>3} {'euler GF/s':>10} {'numpy GF/s':>10} "
          f"{'ratio':>6} {'compile s':>9}")
    for threads in args.threads:
        env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--threads", str(threads),
               "--reps", str(args.reps), "--sleep", str(args.sleep)]
        for shape in args.shapes:
            cmd += ["--shape", *map(str, shape)]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)
        for line in proc.stdout:
            r = json.loads(line)
            shape = "x".join(map(str, r["shape"]))
            flag = "" if r["rel_err"] < 1e-4 else f"  WRONG (rel err {r['rel_err']:.1e})"
            print(f"{shape:>18} {threads:>3} {r['euler']:10.1f} {r['numpy']:10.1f} "
                  f"{r['euler'] / r['numpy']:6.2f} {r['compile_s']:9.2f}{flag}", flush=True)
        if proc.wait() != 0:
            sys.exit(f"worker for {threads} thread(s) failed (exit {proc.returncode})")


if __name__ == "__main__":
    main()
