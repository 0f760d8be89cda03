"""Row kernels under other settings than the defaults, side by side on the GPU.

    python benchmarks/row_variants.py [--plan confirm|explore|rows] [--reps 40] [--rounds 3]
                                      [--only layer_norm,softmax] [--out DIR]

A script, not a test: the evidence for euler-gpu-lower-groups' module
constants (STORE_AHEAD, WARP_ROW_LOAD, ...) and, with `--plan explore`, for
row schedules (`tile_sizes={"gpu_row": ...}`) around the heuristic's. Each
variant of a softmax / layer_norm / reduction workload of benchmarks/cuda.py
compiles in a worker process into a disk cache of its own (the constants are
no cache key; every job resets them to their defaults first); the main
process loads each, checks it against float64 torch with a NaN-poisoned
output, and times all variants, torch eager and torch.compile with
benchmarks/cuda.py's kernel_time in `--rounds` interleaved rounds. A
difference smaller than the spread between rounds is noise.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import json
import multiprocessing
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def _knobs(spec):
    """'STORE_AHEAD=0,WARP_ROW_LOAD=None' -> {name: value} (values as Python literals)."""
    return {name: ast.literal_eval(value)
            for name, value in (item.split("=", 1) for item in filter(None, spec.split(",")))}


def variants(plan="confirm"):
    """(workload name, [(label, tiles or None, knobs spec)]) of `plan`."""
    if plan == "explore":  # schedules around the heuristic's
        return _explore()
    if plan == "rows":  # every softmax / layer_norm row at its heuristic; f32 32k explored
        explored = dict(_explore())
        return [(f"{op} {shape}{dtype}", explored[f"{op} {shape}"]
                 if shape == "4096x32768" and not dtype else [("heuristic", None, "")])
                for op in ("softmax", "layer_norm")
                for shape in [f"4096x{n}" for n in (1024, 4096, 8192, 16384, 32768)] + ["512x131072"]
                for dtype in ("", " f16", " bf16")
                if not dtype or shape in ("4096x1024", "4096x8192", "4096x32768")]
    ahead = [("heuristic", None, "")] + [(f"STORE_AHEAD={n}", None, f"STORE_AHEAD={n}")
                                         for n in (0, 1, 2, 7)]
    out = [("layer_norm 4096x1024", ahead + [
        ("no L1 bypass", None, "WARP_ROW_LOAD=None"), ("32x8", (32, 8), ""),
        ("32x4", (32, 4), "")])]
    out += [(f"layer_norm 4096x{n}", ahead) for n in (4096, 8192, 16384, 32768)]
    out += [("softmax 4096x1024", [
        ("heuristic", None, ""), ("no L1 bypass", None, "WARP_ROW_LOAD=None"),
        ("32x4", (32, 4), ""), ("32x4 no L1 bypass", (32, 4), "WARP_ROW_LOAD=None")])]
    out += [("softmax 4096x4096", [("heuristic", None, ""), ("128x2", (128, 2), "")])]
    out += [("bias+gelu+residual 4096x4096", ahead[:2])]
    for name in ("softmax 4096x8192", "softmax 4096x16384", "softmax 4096x32768",
                 "softmax 512x131072", "layer_norm 512x131072", "sum rows 4096x8192",
                 "max rows 4096x8192", "sum cols 4096x8192"):
        out.append((name, [("heuristic", None, "")]))
    return out


def _explore():
    ln = [
        ("layer_norm 4096x1024", [None, (32, 4), (32, 16), (64, 4)]),
        ("layer_norm 4096x4096", [None, (128, 2), (128, 1), (512, 1), (256, 2), (64, 4)]),
        ("layer_norm 4096x8192", [None, (256, 1), (256, 2), (1024, 1), (256, 1, 2), (128, 1, 4)]),
        ("layer_norm 4096x16384", [None, (1024, 1), (512, 1, 2), (256, 1, 4), (256, 1, 2)]),
        ("layer_norm 4096x32768", [None, (512, 1, 2), (512, 1, 4), (1024, 1, 2), (1024, 1, 4),
                                   (256, 1, 4), (256, 1, 8), (1024, 1, 8)]),
    ]
    sm = [
        ("softmax 4096x1024", [None, (32, 4), (32, 16), (32, 2), (64, 4), (128, 2)]),
        ("softmax 4096x4096", [None, (128, 2), (512, 1)]),
        ("softmax 4096x8192", [None, (256, 1), (256, 1, 2)]),
        ("softmax 4096x16384", [None, (512, 1, 2), (256, 1, 4)]),
        ("softmax 4096x32768", [None, (512, 1, 2), (512, 1, 4), (1024, 1, 2), (256, 1, 4)]),
    ]
    return [(name, [("heuristic" if t is None else "x".join(map(str, t)), t, "")
                     for t in schedules]) for name, schedules in ln + sm]


_DEFAULTS = {}


def _compile_job(src, tiles, spec, cache_dir):
    """In a worker: set the knobs, compile into `cache_dir`; (seconds, error).
    A worker runs many jobs: every knob is first reset to its default."""
    from euler.passes.gpu import lower_groups as gpu_lower_groups
    if not _DEFAULTS:
        _DEFAULTS.update({k: v for k, v in vars(gpu_lower_groups).items() if k.isupper()})
    for name, value in {**_DEFAULTS, **_knobs(spec)}.items():
        setattr(gpu_lower_groups, name, value)
    import euler
    t = time.perf_counter()
    try:
        euler.compile(src, target="cuda", cache_dir=cache_dir,
                      **({"tile_sizes": {"gpu_row": tiles}} if tiles else {}))
    except Exception as exc:  # noqa: BLE001
        return time.perf_counter() - t, f"{type(exc).__name__}: {str(exc)[:300]}"
    return time.perf_counter() - t, None


def main():
    import torch

    import cuda as bench
    import euler
    from euler import cache
    p = argparse.ArgumentParser()
    p.add_argument("--reps", type=int, default=40)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--out", default=".")
    p.add_argument("--only", default="")
    p.add_argument("--plan", default="confirm", choices=("confirm", "explore", "rows"))
    p.add_argument("--no-inductor", action="store_true")
    p.add_argument("--workers", type=int, default=12)
    args = p.parse_args()
    loads = {name: (src, inputs, eager, nbytes)
             for name, src, inputs, eager, nbytes in bench.workloads()
             if not name.startswith(("mlp", "encoder"))}
    plan = [(n, vs) for n, vs in variants(args.plan) if n in loads and (not args.only or any(
        o in n for o in args.only.split(",")))]
    root = tempfile.mkdtemp(prefix="euler-variants-")
    jobs = {}
    t0 = time.perf_counter()
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(args.workers, mp_context=ctx) as pool:
        for name, vs in plan:
            for label, tiles, spec in vs:
                d = os.path.join(root, f"{len(jobs)}")
                jobs[(name, label)] = (d, tiles, spec,
                                       pool.submit(_compile_job, loads[name][0], tiles, spec, d))
        # torch.compile meanwhile, in this process.
        inductor = {}
        if not args.no_inductor:
            for name, _ in plan:
                _, inputs, eager, _ = loads[name]
                try:
                    fn = torch.compile(eager, dynamic=False)
                    fn(*inputs)
                    inductor[name] = fn
                except Exception as exc:  # noqa: BLE001
                    print(f"torch.compile {name}: {type(exc).__name__}: {exc}"[:300], flush=True)
        results = {k: j[3].result() for k, j in jobs.items()}
    print(f"compiled {len(jobs)} variants + {len(inductor)} torch.compile in "
          f"{time.perf_counter() - t0:.1f} s", flush=True)
    mods, rows = {}, []
    for (name, label), (d, tiles, spec, _) in jobs.items():
        secs, err = results[(name, label)]
        if err:
            print(f"{name} {label}: compile failed: {err}", flush=True)
            continue
        cache._memory.clear()  # the knobs are no key: load this variant's own entry
        mod = euler.compile(loads[name][0], target="cuda", cache_dir=d,
                            **({"tile_sizes": {"gpu_row": tiles}} if tiles else {}))
        _, inputs, eager, _ = loads[name]
        want = eager(*(x.double() for x in inputs))
        out = torch.full(want.shape, float("nan"), device="cuda", dtype=inputs[0].dtype)
        try:
            mod.main(*inputs, out=out)
            torch.cuda.synchronize()
        except Exception as exc:  # noqa: BLE001
            print(f"{name} {label}: run failed: {type(exc).__name__}: {exc}"[:300], flush=True)
            continue
        rel = float((out.double() - want).norm() / want.norm())
        mods[(name, label)] = (mod, rel)
    timings = {}
    for r in range(args.rounds):
        for name, vs in plan:
            _, inputs, eager, nbytes = loads[name]
            fns = [("eager", lambda: eager(*inputs))]
            if name in inductor:
                fns.append(("torch.compile", (lambda f: lambda: f(*inputs))(inductor[name])))
            for label, _, _ in vs:
                if (name, label) in mods:
                    fns.append((label, (lambda m: lambda: m.main(*inputs))(mods[(name, label)][0])))
            for label, fn in fns:
                timings.setdefault((name, label), []).append(bench.kernel_time(fn, args.reps))
    copy = bench.copy_bandwidth(args.reps)
    print(f"{torch.cuda.get_device_name()}: copy {copy / 1e12:.2f} TB/s; ms per round "
          f"(median of {args.reps} CUDA-event intervals, L2 flushed)")
    print("| workload | variant | ms (rounds) | vs best torch (worst round) | % copy | rel err |")
    print("|---|---|---|---|---|---|")
    for name, vs in plan:
        nbytes = loads[name][3]
        best = [min(timings[(name, "eager")][r], timings.get((name, "torch.compile"),
                    [float("inf")] * args.rounds)[r]) for r in range(args.rounds)]
        for label in ["eager", "torch.compile"] + [v[0] for v in vs]:
            if (name, label) not in timings:
                continue
            ts = timings[(name, label)]
            worst = min(b / t for b, t in zip(best, ts))
            rel = f"{mods[(name, label)][1]:.1e}" if (name, label) in mods else ""
            rows.append({"workload": name, "variant": label, "ms": [t * 1e3 for t in ts],
                         "ratio_worst": worst, "rel_err": rel})
            print(f"| {name} | {label} | {' / '.join(f'{t * 1e3:.4f}' for t in ts)} | "
                  f"{worst:.3f} | {100 * nbytes / min(ts) / copy:.0f}% | {rel} |", flush=True)
    with open(os.path.join(args.out, "row_variants.json"), "w") as f:
        json.dump({"device": torch.cuda.get_device_name(), "copy_Bps": copy, "rows": rows}, f,
                  indent=1)


if __name__ == "__main__":
    main()
