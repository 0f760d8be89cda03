"""The CPU benchmark: every workload of issue 3 at -O0..-O3 against numpy,
PyTorch eager and torch.compile, at 1 and 2 threads.

    python benchmarks/cpu.py            # full run (~30-40 min on 2 cores)
    python benchmarks/cpu.py --quick    # smoke run: small shapes, 2 repetitions
    python benchmarks/cpu.py --only softmax --threads 2

A script, not a test. Workloads are in `workloads.py` (euler ops, numpy and
PyTorch twins). Method:
  * one subprocess per thread count, with OPENBLAS_NUM_THREADS/OMP_NUM_THREADS
    set before numpy and torch load, torch.set_num_threads and euler's
    num_threads set to the same count;
  * in that process every implementation of a workload is timed interleaved
    (round-robin), best of N after a warm-up, with a short sleep between calls
    (OpenBLAS workers spin for a moment after a call);
  * euler is timed into a preallocated output (`out=`), and with a fresh
    output, as the baselines are;
  * -O0..-O2 are skipped where one call would take more than a few seconds
    (scalar matmuls; the table says "skipped");
  * the machine's peak is measured in the same process: an euler-compiled
    loop of 12 independent vector<16xf32> FMA chains (no memory traffic),
    run once per thread from Python threads, so "% peak" is GFLOP/s over what
    these cores can do right now.
Outputs, under benchmarks/results/: cpu.json (raw), cpu.csv, cpu.md, cpu.png.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
# One -O0..-O2 call above this many FLOPs takes minutes (their matmuls are scalar loops at
# ~1-2 GFLOP/s): skipped.
SLOW_LEVEL_MAX_FLOPS = 2.5e9


# --- the worker: runs in a subprocess per thread count ------------------------------------

def fma_ir(threads, iters, acc=12):
    """A loop of `acc` independent FMA chains on vector<16xf32> per thread."""
    t = f"tensor<{threads}x16xf32>"
    v = "vector<16xf32>"
    inits = ", ".join(f"%a{i} = %v" for i in range(acc))
    types = ", ".join([v] * acc)
    body = "\n".join(f"      %b{i} = math.fma %a{i}, %m, %c : {v}" for i in range(acc))
    sums = "\n".join(f"    %s{i} = arith.addf %s{i - 1}, %r#{i} : {v}" for i in range(1, acc))
    return f"""func.func @main(%x: {t}) -> {t} {{
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant {iters} : index
  %pad = arith.constant 0.0 : f32
  %e = tensor.empty() : {t}
  %out = scf.forall (%t) in ({threads}) shared_outs(%o = %e) -> ({t}) {{
    %v = vector.transfer_read %x[%t, %c0], %pad {{in_bounds = [true]}} : {t}, {v}
    %m = arith.mulf %v, %v : {v}
    %c = arith.subf %v, %m : {v}
    %r:{acc} = scf.for %i = %c0 to %n step %c1 iter_args({inits}) -> ({types}) {{
{body}
      scf.yield {", ".join(f"%b{i}" for i in range(acc))} : {types}
    }}
    %s0 = arith.addf %r#0, %r#0 : {v}
{sums}
    %row = tensor.empty() : tensor<1x16xf32>
    %w = vector.transfer_write %s{acc - 1}, %row[%c0, %c0] {{in_bounds = [true]}} : {v}, tensor<1x16xf32>
    scf.forall.in_parallel {{
      tensor.parallel_insert_slice %w into %o[%t, 0] [1, 16] [1, 1] : tensor<1x16xf32> into {t}
    }}
  }}
  return %out : {t}
}}"""


def measure_peak(threads, reps=5):
    """GFLOP/s of the FMA loop on `threads` cores: one single-threaded kernel
    per core, called from that many Python threads (ctypes drops the GIL).
    (The kernel's own 2-way scf.forall measured no more than one core.)"""
    import threading

    import numpy as np
    import euler
    iters, acc = 1_000_000, 12
    mod = euler.compile(fma_ir(1, iters, acc), opt_level=3, num_threads=1)
    x = np.full((1, 16), 0.5, np.float32)
    mod.main(x)

    def once():
        workers = [threading.Thread(target=mod.main, args=(x,)) for _ in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    best = min(_timed(once) for _ in range(reps))
    return 2.0 * 16 * acc * iters * threads / best / 1e9


def _timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def worker(args):
    import numpy as np
    import torch

    import euler
    sys.path.insert(0, HERE)
    import workloads as W

    threads = args.worker
    torch.set_num_threads(threads)
    rng = np.random.default_rng(0)
    _emit({"kind": "peak", "threads": threads, "gflops": measure_peak(threads)})
    for w in W.all_workloads(quick=args.quick, rng=rng):
        if args.only and not any(s in w.name for s in args.only):
            continue
        want = w.numpy(*w.inputs)
        impls, info = {}, {}
        for level in args.levels:
            if level < 3 and w.flops > SLOW_LEVEL_MAX_FLOPS and not args.quick:
                info[f"euler -O{level}"] = {"skipped": "naive loops: minutes per call"}
                continue
            t0 = time.perf_counter()
            try:
                mod = euler.compile(w.ir, opt_level=level, num_threads=threads)
            except euler.errors.CompileError as exc:  # reported in the table, not fatal
                info[f"euler -O{level}"] = {"skipped": "compile failed: "
                                            + str(exc).splitlines()[-2][:150]}
                print(f"{w.name} -O{level}: {exc}", file=sys.stderr)
                continue
            compile_s = time.perf_counter() - t0
            got = mod.main(*w.inputs)
            err = float(np.max(np.abs(got - want)) / max(1e-30, np.max(np.abs(want))))
            out = np.empty_like(got)
            impls[f"euler -O{level}"] = (lambda m=mod, o=out: m.main(*w.inputs, out=[o]))
            impls[f"euler -O{level} fresh"] = (lambda m=mod: m.main(*w.inputs))
            info[f"euler -O{level}"] = {"compile_s": compile_s, "rel_err": err}
        impls["numpy"] = lambda: w.numpy(*w.inputs)
        tin = [torch.from_numpy(a) for a in w.inputs]
        impls["torch"] = lambda: w.torch(*tin)
        if not args.no_torch_compile:
            try:
                t0 = time.perf_counter()
                compiled = torch.compile(w.torch)
                compiled(*tin)
                impls["torch.compile"] = lambda: compiled(*tin)
                info["torch.compile"] = {"compile_s": time.perf_counter() - t0}
            except Exception as exc:  # inductor needs a working C compiler
                info["torch.compile"] = {"skipped": f"{type(exc).__name__}: {exc}"[:200]}
        _emit({"kind": "workload", "threads": threads, "name": w.name, "flops": w.flops,
               "bytes": w.bytes, "info": info, "times": _time_all(impls, args.reps)})
        del impls, tin


def _time_all(impls, reps):
    """Best time of each implementation, interleaved round-robin after a warm-up.
    Slow implementations (over a second) get fewer rounds."""
    first = {}
    for name, fn in impls.items():
        first[name] = _timed(fn)
    best = dict(first)
    for rnd in range(reps):
        for name, fn in impls.items():
            if first[name] > 1.0 and rnd >= 1:
                continue
            time.sleep(0.02 if first[name] < 0.1 else 0.1)
            best[name] = min(best[name], _timed(fn))
    return best


def _emit(record):
    print("RESULT " + json.dumps(record), flush=True)


# --- the driver: subprocesses, then tables and a plot ---------------------------------------

def run_threads(threads, argv):
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads), EULER_NUM_THREADS=str(threads))
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", str(threads)] + argv
    records = []
    with subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True) as proc:
        for line in proc.stdout:
            if line.startswith("RESULT "):
                rec = json.loads(line[len("RESULT "):])
                records.append(rec)
                _progress(rec)
    if proc.returncode:
        print(f"warning: the {threads}-thread worker exited with {proc.returncode}",
              file=sys.stderr)
    return records


def _progress(rec):
    if rec["kind"] == "peak":
        print(f"[{rec['threads']}T] FMA peak {rec['gflops']:.1f} GFLOP/s", flush=True)
        return
    t = rec["times"]
    cells = "  ".join(f"{k} {v * 1e3:.2f}ms" for k, v in t.items() if "fresh" not in k)
    print(f"[{rec['threads']}T] {rec['name']}: {cells}", flush=True)


def baseline_best(times):
    names = [n for n in ("numpy", "torch", "torch.compile") if n in times]
    return min(names, key=lambda n: times[n])


def tables(records, levels):
    peaks = {r["threads"]: r["gflops"] for r in records if r["kind"] == "peak"}
    rows = []
    for r in (r for r in records if r["kind"] == "workload"):
        t = r["times"]
        best_base = baseline_best(t)
        for level in levels:
            key = f"euler -O{level}"
            inf = r["info"].get(key, {})
            row = {"workload": r["name"], "threads": r["threads"], "level": f"O{level}"}
            if key not in t:
                row["note"] = inf.get("skipped", "not run")
                rows.append(row)
                continue
            sec = t[key]
            row.update({
                "ms": sec * 1e3, "ms_fresh_out": t[key + " fresh"] * 1e3,
                "gflops": r["flops"] / sec / 1e9, "gbs": r["bytes"] / sec / 1e9,
                "pct_peak": 100 * r["flops"] / sec / 1e9 / peaks.get(r["threads"], float("nan")),
                "vs_numpy": t["numpy"] / sec, "vs_torch": t["torch"] / sec,
                "vs_torch_compile": t["torch.compile"] / sec if "torch.compile" in t else None,
                "vs_best": t[best_base] / sec, "best_baseline": best_base,
                "numpy_ms": t["numpy"] * 1e3, "torch_ms": t["torch"] * 1e3,
                "torch_compile_ms": t["torch.compile"] * 1e3 if "torch.compile" in t else None,
                "compile_s": inf.get("compile_s"), "rel_err": inf.get("rel_err"), "note": ""})
            rows.append(row)
    return peaks, rows


COLUMNS = ["workload", "threads", "level", "ms", "ms_fresh_out", "gflops", "gbs", "pct_peak",
           "vs_numpy", "vs_torch", "vs_torch_compile", "vs_best", "best_baseline", "numpy_ms",
           "torch_ms", "torch_compile_ms", "compile_s", "rel_err", "note"]


def write_csv(rows, path):
    import csv
    with open(path, "w", newline="") as f:
        out = csv.DictWriter(f, COLUMNS)
        out.writeheader()
        for row in rows:
            out.writerow({k: (f"{v:.4g}" if isinstance(v, float) else v)
                          for k, v in row.items()})


def _f(v, fmt):
    return "" if v is None else format(v, fmt)


def write_markdown(peaks, rows, path, quick):
    lines = ["# euler CPU benchmark" + (" (--quick)" if quick else ""), "",
             "Ratios are baseline time / euler time (>1: euler faster), euler into a "
             "preallocated output; `fresh` is euler allocating its output as the baselines do. "
             "`best` is the fastest of numpy, PyTorch eager and torch.compile. "
             "% peak: GFLOP/s over the FMA micro-benchmark's.", ""]
    from euler.pipelines.heuristics import host_description
    lines += [f"CPU: {host_description()}", ""]
    lines += [f"FMA peak, {t} thread(s): {g:.1f} GFLOP/s" for t, g in sorted(peaks.items())]
    lines += ["", "| workload | thr | opt | ms | ms fresh | GFLOP/s | GB/s | % peak | vs numpy "
              "| vs torch | vs torch.compile | vs best | compile s |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if "ms" not in r:
            lines.append(f"| {r['workload']} | {r['threads']} | {r['level']} | skipped: "
                         f"{r['note']} ||||||||||")
            continue
        lines.append(
            f"| {r['workload']} | {r['threads']} | {r['level']} | {r['ms']:.3f} | "
            f"{r['ms_fresh_out']:.3f} | {r['gflops']:.1f} | {r['gbs']:.1f} | "
            f"{r['pct_peak']:.1f} | {r['vs_numpy']:.2f} | {r['vs_torch']:.2f} | "
            f"{_f(r['vs_torch_compile'], '.2f')} | {r['vs_best']:.2f} ({r['best_baseline']}) | "
            f"{_f(r['compile_s'], '.2f')} |")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def write_plot(rows, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib missing (pip install -e .[bench]): no plot", file=sys.stderr)
        return
    threads = sorted({r["threads"] for r in rows})
    fig, axes = plt.subplots(len(threads), 1, figsize=(12, 4.5 * len(threads)), squeeze=False)
    for ax, t in zip(axes[:, 0], threads):
        names = list(dict.fromkeys(r["workload"] for r in rows if r["threads"] == t))
        levels = list(dict.fromkeys(r["level"] for r in rows))
        width = 0.8 / max(1, len(levels))
        for k, level in enumerate(levels):
            ys = []
            for n in names:
                r = next((r for r in rows if r["threads"] == t and r["workload"] == n
                          and r["level"] == level), None)
                ys.append(r["vs_best"] if r and "vs_best" in r else 0.0)
            ax.bar([i + k * width for i in range(len(names))], ys, width, label=level)
        ax.axhline(1.0, color="k", lw=0.8)
        ax.set_yscale("log")
        ax.set_xticks([i + 0.4 - width / 2 for i in range(len(names))])
        ax.set_xticklabels(names, rotation=30, ha="right", fontsize=8)
        ax.set_ylabel("speed vs best baseline (log)")
        ax.set_title(f"{t} thread(s): euler vs best of numpy / PyTorch / torch.compile")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small shapes, 2 repetitions")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--levels", type=int, nargs="+", default=[0, 1, 2, 3])
    ap.add_argument("--reps", type=int, default=None, help="timed rounds (default 5, quick 2)")
    ap.add_argument("--only", nargs="+", help="workloads whose name contains one of these")
    ap.add_argument("--no-torch-compile", action="store_true")
    ap.add_argument("--out", default=RESULTS)
    ap.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.reps is None:
        args.reps = 2 if args.quick else 5
    if args.worker:
        worker(args)
        sys.stdout.flush()
        os._exit(0)  # skip engine teardown (async runtime) at interpreter exit
    argv = ["--levels", *map(str, args.levels), "--reps", str(args.reps)]
    argv += ["--quick"] * args.quick + ["--no-torch-compile"] * args.no_torch_compile
    argv += ["--only", *args.only] if args.only else []
    records = []
    for t in args.threads:
        records += run_threads(t, argv)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "cpu.json"), "w") as f:
        json.dump(records, f, indent=1)
    peaks, rows = tables(records, args.levels)
    write_csv(rows, os.path.join(args.out, "cpu.csv"))
    write_markdown(peaks, rows, os.path.join(args.out, "cpu.md"), args.quick)
    write_plot(rows, os.path.join(args.out, "cpu.png"))
    print(f"wrote {args.out}/cpu.{{json,csv,md,png}}")


if __name__ == "__main__":
    main()
