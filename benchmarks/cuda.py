"""euler's CUDA target against PyTorch eager and torch.compile, on device tensors.

    python benchmarks/cuda.py [--out DIR] [--reps 30] [--rounds 2] [--quick] [--no-inductor]
                              [--workloads mlp,...]
    python benchmarks/cuda.py --gemm [f16 bf16 f32 tf32] [--shapes 4096x4096x4096,...] [--compare-mma] [--split N]
    python benchmarks/cuda.py --sweep    # row kernels under other schedules
    python benchmarks/cuda.py --zoo      # the PyTorch models, by euler.torch.compile

A script, not a test; it needs a GPU and torch with CUDA. Every workload runs
on torch CUDA tensors already on the device (euler takes them without
copies). Each timing is the median of `--reps` CUDA-event intervals after
warm-up, one call per interval, the fastest of `--rounds` rounds that take
euler, eager and torch.compile in turn, with L2 flushed before each and the stream
kept busy (`torch.cuda._sleep`) while the host enqueues the call, so that
the interval is the kernels' time, not the host's. Bandwidths count bytes
read and written once, and are compared with a device-to-device copy timed
the same way in the same run. Compile times are euler's: cold (cache off),
cached in process, and cached on disk in a fresh process (after CUDA is up there).

Writes DIR/cuda.md (a markdown table), DIR/cuda.json and DIR/cuda.png.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

import euler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


# --- workloads: (name, euler IR, inputs, eager fn, bytes moved) ---------------------

def _t(*shape, dtype="f32"):
    return f"tensor<{'x'.join(map(str, shape))}x{dtype}>"


def softmax(m, n, dtype="f32"):
    t = _t(m, n, dtype=dtype)
    return (f'func.func @main(%a: {t}) -> {t} {{\n  %0 = "euler.softmax"(%a) {{axis = -1 : i64}}'
            f' : ({t}) -> {t}\n  return %0 : {t}\n}}')


def layer_norm(m, n, dtype="f32"):
    t, v = _t(m, n, dtype=dtype), _t(n, dtype=dtype)
    return (f'func.func @main(%a: {t}, %g: {v}, %b: {v}) -> {t} {{\n  %0 = "euler.layer_norm"'
            f'(%a, %g, %b) {{epsilon = 1.0e-5 : f32, axis = -1 : i64}} : ({t}, {v}, {v}) -> {t}\n'
            f'  return %0 : {t}\n}}')


def bias_gelu_residual(m, n):
    t, v = _t(m, n), _t(n)
    return (f'func.func @main(%a: {t}, %b: {v}, %r: {t}) -> {t} {{\n'
            f'  %0 = "euler.add"(%a, %b) : ({t}, {v}) -> {t}\n'
            f'  %1 = "euler.gelu"(%0) {{approximate = "tanh"}} : ({t}) -> {t}\n'
            f'  %2 = "euler.add"(%1, %r) : ({t}, {t}) -> {t}\n  return %2 : {t}\n}}')


def reduce(op, m, n, axis):
    t, r = _t(m, n), _t(n if axis == 0 else m)
    return (f'func.func @main(%a: {t}) -> {r} {{\n  %0 = "euler.{op}"(%a) '
            f'{{axes = array<i64: {axis}>}} : ({t}) -> {r}\n  return %0 : {r}\n}}')


def workloads(quick=False):
    import torch
    F = torch.nn.functional
    cols = (1024, 4096) if quick else (1024, 4096, 8192, 16384, 32768)
    rows = 4096
    out = []

    def rand(*s):
        return torch.randn(*s, device="cuda")

    for n in cols:
        x = rand(rows, n)
        out.append((f"softmax {rows}x{n}", softmax(rows, n), (x,),
                    lambda a: torch.softmax(a, -1), 8.0 * rows * n))
    for n in cols:
        x, g, b = rand(rows, n), rand(n), rand(n)
        out.append((f"layer_norm {rows}x{n}", layer_norm(rows, n), (x, g, b),
                    lambda a, g, b: F.layer_norm(a, (a.shape[-1],), g, b, 1e-5),
                    8.0 * rows * n))
    if not quick:  # rows longer than registers hold: each pass loops over the row
        m, n = 512, 131072
        x, g, b = rand(m, n), rand(n), rand(n)
        out.append((f"softmax {m}x{n}", softmax(m, n), (x,), lambda a: torch.softmax(a, -1),
                    8.0 * m * n))
        out.append((f"layer_norm {m}x{n}", layer_norm(m, n), (x, g, b),
                    lambda a, g, b: F.layer_norm(a, (a.shape[-1],), g, b, 1e-5), 8.0 * m * n))
    # 16-bit rows (the zoo's f16 models): statistics in f32, 2 bytes an element.
    for dtype, tdtype in (("f16", torch.float16), ("bf16", torch.bfloat16)):
        for n in (1024,) if quick else (1024, 8192, 32768):
            x, g, b = rand(rows, n).to(tdtype), rand(n).to(tdtype), rand(n).to(tdtype)
            out.append((f"softmax {rows}x{n} {dtype}", softmax(rows, n, dtype), (x,),
                        lambda a: torch.softmax(a, -1), 4.0 * rows * n))
            out.append((f"layer_norm {rows}x{n} {dtype}", layer_norm(rows, n, dtype), (x, g, b),
                        lambda a, g, b: F.layer_norm(a, (a.shape[-1],), g, b, 1e-5),
                        4.0 * rows * n))
    m, n = rows, 4096
    out.append((f"bias+gelu+residual {m}x{n}", bias_gelu_residual(m, n),
                (rand(m, n), rand(n), rand(m, n)),
                lambda a, b, r: F.gelu(a + b, approximate="tanh") + r, 12.0 * m * n))
    n = 8192
    out.append((f"sum rows {m}x{n}", reduce("reduce_sum", m, n, 1), (rand(m, n),),
                lambda a: a.sum(-1), 4.0 * m * n))
    out.append((f"max rows {m}x{n}", reduce("reduce_max", m, n, 1), (rand(m, n),),
                lambda a: a.amax(-1), 4.0 * m * n))
    out.append((f"sum cols {m}x{n}", reduce("reduce_sum", m, n, 0), (rand(m, n),),
                lambda a: a.sum(0), 4.0 * m * n))
    if not quick:
        import workloads as cpu_workloads
        rng = np.random.default_rng(0)
        for w in (cpu_workloads.mlp(4096, 1024, 4096, rng),
                  cpu_workloads.encoder_layer(128, 512, 8, 2048, rng),
                  cpu_workloads.mlp(4096, 1024, 4096, rng, np.float16),
                  cpu_workloads.encoder_layer(128, 512, 8, 2048, rng, np.float16)):
            dev = tuple(torch.from_numpy(a).cuda() for a in w.inputs)
            eager = w.torch if w.name.startswith("mlp") else _torch_encoder(w)
            out.append((w.name, w.ir, dev, eager, w.bytes))
    return out


def _torch_encoder(w):
    """The encoder layer of benchmarks/workloads.py in plain torch ops."""
    import torch
    F = torch.nn.functional
    seq, d = w.inputs[0].shape
    heads = int(w.name.split(" h")[1].split()[0])
    dh = d // heads

    def fn(x, wq, wk, wv, wo, w1, b1, w2, b2, g1, be1, g2, be2):
        def heads_of(t):
            return t.reshape(seq, heads, dh).transpose(0, 1)
        q, k, v = heads_of(x @ wq), heads_of(x @ wk), heads_of(x @ wv)
        a = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(dh), -1) @ v
        h = F.layer_norm(x + a.transpose(0, 1).reshape(seq, d) @ wo, (d,), g1, be1)
        return F.layer_norm(h + torch.relu(h @ w1 + b1) @ w2 + b2, (d,), g2, be2)
    return fn


# --- timing --------------------------------------------------------------------------

def kernel_time(fn, reps, warmup=3):
    """Median seconds of one call of `fn`, by CUDA events (see the docstring)."""
    import torch
    flush = torch.empty(256 << 20, dtype=torch.uint8, device="cuda")
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        flush.zero_()
        torch.cuda._sleep(2_000_000)  # ~1 ms: the host enqueues the call meanwhile
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) * 1e-3)
    return statistics.median(times)


def interleaved_times(fns, reps, rounds):
    """{key: seconds} for `fns` ({key: fn}): kernel_time of each in turn, in
    `rounds` rounds, the fastest round of each. The first timing after a pause
    (a compile) is not the GPU's steady state: H200, 2026-12-02, euler's
    kernels timed first after torch.compile had compiled the previous
    workload read 2-5% slower on short rows than after other timings
    (layer_norm 4096 x 4096 0.0373 against 0.0357 ms, softmax 0.0361 against
    0.0345), the same on long ones."""
    times = {key: [] for key in fns}
    for _ in range(rounds):
        for key, fn in fns.items():
            times[key].append(kernel_time(fn, reps))
    return {key: min(t) for key, t in times.items()}


# cuBLAS/CUTLASS kernel names (torch's matmuls), for the split below.
_LIBRARY_MATMUL = ("gemm", "gemv", "xmma", "cutlass", "cublas", "nvjet")


def euler_matmul_kernels(mod):
    """For each kernel launch of `mod`, in program order, whether it is one
    that euler-gpu-schedule-matmul built (the only ones using nvgpu: async
    copies, mma, TMA, wgmma). Every outlined kernel is named main_kernel,
    so the profiler's kernels are matched to launches by their order."""
    text = mod.stages["gpu"]
    modules = {c.split()[0]: "nvgpu." in c for c in text.split("gpu.module @")[1:]}
    launched = re.findall(r"gpu\.launch_func(?: async \[[^]]*\])? @([\w$.]+)::", text)
    return [modules.get(m, False) for m in launched]


def _device_events(fn, reps):
    """The device activities (kernels, memsets; no copies) of `reps` calls of
    `fn` after one warm-up call, in start order, by torch.profiler (CUPTI)."""
    import torch
    from torch.profiler import ProfilerActivity, profile
    fn()
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(reps):
            fn()
        torch.cuda.synchronize()
    return sorted((e for e in prof.events() if e.device_type.name == "CUDA"
                   and "memcpy" not in e.name.lower()), key=lambda e: e.time_range.start)


def kernel_split(fn, reps, matmul=None):
    """(matmul s, other s) per call of `fn`, summed over its kernels as
    torch.profiler (CUPTI) sees them (graph replays' kernels too): `matmul`
    says which of euler's launches are matmuls (euler_matmul_kernels);
    without it, cuBLAS's kernels are recognized by name."""
    events = _device_events(fn, reps)
    mm = other = 0.0
    launches = 0
    for e in events:
        t = e.time_range.elapsed_us() * 1e-6
        name = e.name.lower()
        if matmul is None:
            is_mm = any(k in name for k in _LIBRARY_MATMUL)
        elif "memset" in name:
            is_mm = False
        else:
            is_mm = bool(matmul) and matmul[launches % len(matmul)]
            launches += 1
        if is_mm:
            mm += t
        else:
            other += t
    return mm / reps, other / reps


def copy_bandwidth(reps):
    import torch
    src = torch.randn(4096, 8192, device="cuda")
    dst = torch.empty_like(src)
    return 2.0 * src.numel() * 4 / kernel_time(lambda: dst.copy_(src), reps)


def compile_times(src):
    """(cold s, cached in process s, cached on disk in a fresh process s)."""
    t = time.perf_counter()
    euler.compile(src, target="cuda", cache=False)
    cold = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as d:
        euler.compile(src, target="cuda", cache_dir=d)
        t = time.perf_counter()
        euler.compile(src, target="cuda", cache_dir=d)
        warm = time.perf_counter() - t
        # The fresh process starts CUDA first (context creation is no compile
        # time), and compiles another program, so that euler's imports and the
        # JIT's first use are paid before the clock starts.
        code = ("import sys, time, euler\nfrom euler.runtime import cuda\n"
                "src = sys.stdin.read()\ncuda.runtime()\n"
                "euler.compile(src.replace('4096x1024', '8x1024'), target='cuda', cache=False)\n"
                "t = time.perf_counter()\n"
                f"euler.compile(src, target='cuda', cache_dir={d!r})\n"
                "print(time.perf_counter() - t)")
        run = subprocess.run([sys.executable, "-c", code], input=src, capture_output=True,
                             text=True, check=True)
        disk = float(run.stdout.strip().splitlines()[-1])
    return cold, warm, disk


def sweep(reps):
    """Row-group kernels under other (threads, rows_per_block) than the
    heuristic's, side by side: the evidence for `gpu_row_schedule`."""
    from euler.pipelines.heuristics import gpu_row_schedule
    print("| workload | schedule (threads x rows/block, chunks[, cluster]) | ms | vs heuristic |")
    print("|---|---|---|---|")
    for name, src, inputs, _, _ in workloads():
        if name.startswith(("mlp", "encoder", "sum cols")):
            continue
        rows = math.prod(inputs[0].shape[:-1])
        cols = inputs[0].shape[-1]
        # As euler-gpu-form-groups plans it on sm_90 (clusters on).
        reduces, stores_rows = "gelu" not in name, not name.startswith(("sum", "max"))
        base = gpu_row_schedule(rows, cols, reduces=reduces, clusters=True,
                                stores_rows=stores_rows)
        results = []
        for threads in (base.threads // 4, base.threads // 2, base.threads, base.threads * 2):
            if not 32 <= threads <= 1024:
                continue
            per_block = max(1, min(1024 // threads, 256 // threads))
            tiles = (threads, per_block)
            if base.cluster > 1:  # the row over as many blocks as the heuristic's
                tiles = (threads, 1, base.cluster)
            s = gpu_row_schedule(rows, cols, reduces=reduces, override=tiles, clusters=True,
                                 stores_rows=stores_rows)
            if s is None:
                continue
            mod = euler.compile(src, target="cuda", cache=False, tile_sizes={"gpu_row": tiles})
            t = kernel_time(lambda: mod.main(*inputs), reps)
            results.append((threads, tiles[1], s.chunks, s.cluster, t))
        ref = next(t for th, _, _, _, t in results if th == base.threads)
        for threads, per_block, chunks, cluster, t in results:
            mark = " (heuristic)" if threads == base.threads else ""
            where = f", cluster {cluster}" if cluster > 1 else ""
            print(f"| {name} | {threads} x {per_block}, {chunks}{where}{mark} | {t * 1e3:.4f} | "
                  f"{ref / t:.2f} |", flush=True)


# --- GEMMs: euler-gpu-schedule-matmul against cuBLAS and torch.compile -----------------

GEMM_SHAPES = [(1024, 1024, 1024), (2048, 2048, 2048), (4096, 4096, 4096), (8192, 8192, 8192),
               (1, 4096, 4096), (16, 4096, 4096), (77, 4096, 4096)]


def _gemm_src(M, N, K, dtype):
    el = "f32" if dtype == "tf32" else dtype
    a, b, c = (f"tensor<{x}x{y}x{el}>" for x, y in ((M, K), (K, N), (M, N)))
    return (f"func.func @main(%a: {a}, %b: {b}) -> {c} {{\n"
            f'  %0 = "euler.matmul"(%a, %b) : ({a}, {b}) -> {c}\n  return %0 : {c}\n}}')


def _longest_kernel_s(fn, per_call, reps):
    """Median over calls of the longest of the `per_call` kernels each call of
    `fn` launches (CUPTI sees the kernels of MLIR's runtime too): the matmul
    without the kernels around it."""
    kernels = [e for e in _device_events(fn, reps) if "memset" not in e.name.lower()]
    times = [e.time_range.elapsed_us() * 1e-6 for e in kernels]
    calls = [max(times[i:i + per_call]) for i in range(0, len(times) - per_call + 1, per_call)]
    return statistics.median(calls)


def gemm(args):
    """One row per (shape, dtype): euler's kernel, cuBLAS (torch.matmul) and
    torch.compile on the same device tensors, TFLOP/s, and euler's error
    against float64. f32 is exact on both sides (allow_tf32 off in torch
    too); tf32 turns it on for both."""
    import torch
    dtypes = args.gemm or ["f16", "bf16", "f32", "tf32"]
    shapes = ([tuple(int(v) for v in s.split("x")) for s in args.shapes.split(",")]
              if args.shapes else GEMM_SHAPES)
    tdt = {"f16": torch.float16, "bf16": torch.bfloat16, "f32": torch.float32,
           "tf32": torch.float32}
    print(f"{torch.cuda.get_device_name()}: GEMMs, kernel time (CUDA events)", flush=True)
    rows = []
    for M, N, K in shapes:
        for dtype in dtypes:
            torch.backends.cuda.matmul.allow_tf32 = dtype == "tf32"
            a = torch.randn(M, K, device="cuda").to(tdt[dtype])
            b = torch.randn(K, N, device="cuda").to(tdt[dtype])
            args_ = (a, b)
            t = time.perf_counter()
            tiles = {"matmul": tuple(int(v) for v in args.tiles.split(","))} if args.tiles else {}
            if args.split:
                tiles["split_k"] = args.split
            mod = euler.compile(_gemm_src(M, N, K, dtype), target="cuda", cache=False,
                                allow_tf32=dtype == "tf32", tile_sizes=tiles)
            compile_s = time.perf_counter() - t
            want = a.double() @ b.double()
            got = mod.main(*args_)
            err = float((got.double() - want).abs().max() / want.abs().max())
            euler_s = kernel_time(lambda: mod.main(*args_), args.reps)
            kernels = mod.stages["gpu"].count("gpu.launch_func")
            if kernels > 1:  # the matmul kernel alone
                row_all_s = euler_s
                try:
                    euler_s = _longest_kernel_s(lambda: mod.main(*args_), kernels, args.reps)
                except Exception as exc:  # no CUPTI: the whole call, casts included
                    print(f"  profiler failed ({type(exc).__name__}: {exc}); whole call")
            row = {"shape": f"{M}x{N}x{K}", "dtype": dtype, "compile_s": compile_s,
                   "rel_err": err, "euler_s": euler_s, "kernels": kernels,
                   "euler_call_s": row_all_s if kernels > 1 else euler_s,
                   "tiles": args.tiles, "split_k": args.split,
                   "cublas_s": kernel_time(lambda: torch.matmul(a, b), args.reps)}
            if args.compare_mma and dtype in ("f16", "bf16"):
                # The same GEMM on mma.sync (sm_90 takes wgmma otherwise).
                mma = euler.compile(_gemm_src(M, N, K, dtype), target="cuda", cache=False,
                                    tile_sizes={**tiles, "wgmma": False})
                row["mma_sync_s"] = kernel_time(lambda: mma.main(*args_), args.reps)
            if not args.no_inductor:
                compiled = torch.compile(torch.matmul, dynamic=False)
                compiled(a, b)
                row["inductor_s"] = kernel_time(lambda: compiled(a, b), args.reps)
            flops = 2.0 * M * N * K
            row["euler_tflops"] = flops / euler_s / 1e12
            row["cublas_tflops"] = flops / row["cublas_s"] / 1e12
            rows.append(row)
            print(json.dumps(row), flush=True)
    torch.backends.cuda.matmul.allow_tf32 = False
    print(f"\n| GEMM | dtype | euler TFLOP/s | cuBLAS TFLOP/s | euler / cuBLAS | "
          f"mma.sync / cuBLAS | torch.compile / cuBLAS | euler max err / max |  "
          f"(tiles: {args.tiles or 'heuristic'})")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        inductor = (f"{r['cublas_s'] / r['inductor_s']:.2f}" if "inductor_s" in r else "-")
        mma = f"{r['cublas_s'] / r['mma_sync_s']:.2f}" if "mma_sync_s" in r else "-"
        print(f"| {r['shape']} | {r['dtype']} | {r['euler_tflops']:.1f} | "
              f"{r['cublas_tflops']:.1f} | {r['cublas_s'] / r['euler_s']:.2f} | {mma} | "
              f"{inductor} | {r['rel_err']:.1e} |")
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "cuda_gemm.json"), "w") as f:
        json.dump({"device": torch.cuda.get_device_name(), "rows": rows}, f, indent=1)


def zoo(reps, inductor=True):
    """euler.torch.compile(model, inputs, target="cuda") on the PyTorch models of
    examples/pytorch_models.py (bench sizes), on device tensors, with the
    weights on the device, against eager and torch.compile."""
    import torch
    import euler.torch as et
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                    "examples"))
    import pytorch_models
    print("| model | euler kernels | euler ms | eager ms | torch.compile ms | eager / euler "
          "| euler matmul / other ms | eager matmul / other ms | eager / euler, non-matmul "
          "| rel. err |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    ratios = []
    for name, (factory, make_inputs) in pytorch_models.models("bench").items():
        torch.manual_seed(0)
        model = factory().eval().cuda()
        inputs = tuple(x.cuda() for x in make_inputs())
        with torch.no_grad():
            try:
                compiled = et.compile(model, inputs, target="cuda")
            except euler.EulerError as exc:
                print(f"| {name} | euler failed: {str(exc).splitlines()[0][:120]} | | | | | |")
                continue
            want = model(*inputs)
            err = float((compiled(*inputs).double() - want.double()).norm()
                        / want.double().norm())
            euler_s = kernel_time(lambda: compiled(*inputs), reps)
            eager_s = kernel_time(lambda: model(*inputs), reps)
            ind = "-"
            if inductor:
                fast = torch.compile(model)
                fast(*inputs)
                ind = f"{kernel_time(lambda: fast(*inputs), reps) * 1e3:.3f}"
            em, eo = kernel_split(lambda: compiled(*inputs), reps,
                                     euler_matmul_kernels(compiled.compiled))
            tm, to = kernel_split(lambda: model(*inputs), reps)
        kernels = compiled.stages["gpu"].count("gpu.launch_func")
        ratios.append(eager_s / euler_s)
        print(f"| {name} | {kernels} | {euler_s * 1e3:.3f} | {eager_s * 1e3:.3f} | {ind} | "
              f"{eager_s / euler_s:.2f} | {em * 1e3:.3f} / {eo * 1e3:.3f} | "
              f"{tm * 1e3:.3f} / {to * 1e3:.3f} | {_ratio(to, eo)} | "
              f"{err:.1e} |", flush=True)
    if ratios:
        print(f"\ngeomean eager / euler over {len(ratios)} models: "
              f"{math.exp(statistics.fmean(map(math.log, ratios))):.2f}")


def main():
    import faulthandler

    import torch
    # A crash in compiled code (or the driver) says where, instead of ending
    # the table without a word.
    faulthandler.enable()
    p = argparse.ArgumentParser()
    p.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results"))
    p.add_argument("--reps", type=int, default=30)
    p.add_argument("--rounds", type=int, default=2,
                   help="interleaved rounds of euler / eager / torch.compile timings")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--no-inductor", action="store_true")
    p.add_argument("--sweep", action="store_true",
                   help="time row kernels under other schedules than the heuristic's")
    p.add_argument("--zoo", action="store_true",
                   help="the PyTorch models of examples/pytorch_models.py instead")
    p.add_argument("--gemm", nargs="*", metavar="DTYPE",
                   help="GEMM rows against cuBLAS instead (dtypes of f16 bf16 f32 tf32; "
                        "default all)")
    p.add_argument("--shapes", help="GEMM shapes MxNxK,... (default: GEMM_SHAPES)")
    p.add_argument("--tiles", help="GEMM tile override, bm,bn,bk[,wm,wn,stages]")
    p.add_argument("--split", type=int, help="GEMM slices of K (split_k; 1: none)")
    p.add_argument("--workloads", help="only the workloads whose names contain one of these "
                   "(comma-separated), e.g. mlp,encoder")
    p.add_argument("--compare-mma", action="store_true",
                   help="GEMM rows: also time f16/bf16 on mma.sync (wgmma off)")
    args = p.parse_args()
    if args.sweep:
        return sweep(args.reps)
    if args.zoo:
        return zoo(args.reps, not args.no_inductor)
    if args.gemm is not None:
        return gemm(args)
    os.makedirs(args.out, exist_ok=True)
    device = torch.cuda.get_device_name()
    copy_bw = copy_bandwidth(args.reps)
    print(f"{device}: device-to-device copy {copy_bw / 1e12:.2f} TB/s", flush=True)
    rows = []
    for name, src, inputs, eager, nbytes in workloads(args.quick):
        if args.workloads and not any(w in name for w in args.workloads.split(",")):
            continue
        print(f"  {name} ...", file=sys.stderr, flush=True)
        t = time.perf_counter()
        mod = euler.compile(src, target="cuda", cache=False)
        compile_s = time.perf_counter() - t
        kernels = mod.stages["gpu"].count("gpu.launch_func")
        got, want = mod.main(*inputs), eager(*inputs)
        err = float((got.double() - want.double()).norm() / want.double().norm())
        row = {"workload": name, "kernels": kernels, "compile_s": compile_s, "rel_err": err,
               "bytes": nbytes}
        fns = {"euler_s": lambda: mod.main(*inputs), "eager_s": lambda: eager(*inputs)}
        if not args.no_inductor:
            try:
                compiled = torch.compile(eager, dynamic=False)
                compiled(*inputs)
                fns["inductor_s"] = lambda: compiled(*inputs)
            except Exception as exc:  # Inductor missing a compiler, say
                print(f"  torch.compile failed: {type(exc).__name__}: {exc}"[:300])
        row.update(interleaved_times(fns, args.reps, args.rounds))
        if name.startswith(("mlp", "encoder")):
            row["euler_matmul_s"], row["euler_other_s"] = kernel_split(
                lambda: mod.main(*inputs), args.reps, euler_matmul_kernels(mod))
            row["eager_matmul_s"], row["eager_other_s"] = kernel_split(
                lambda: eager(*inputs), args.reps)
        rows.append(row)
        print(json.dumps(row), flush=True)
    cold, warm, disk = compile_times(softmax(4096, 1024))
    summary = {"device": device, "copy_Bps": copy_bw, "rows": rows,
               "compile_cold_s": cold, "compile_cached_memory_s": warm,
               "compile_cached_disk_s": disk}
    with open(os.path.join(args.out, "cuda.json"), "w") as f:
        json.dump(summary, f, indent=1)
    table = _markdown(summary)
    with open(os.path.join(args.out, "cuda.md"), "w") as f:
        f.write(table)
    _plot(summary, os.path.join(args.out, "cuda.png"))
    print(table)


def _ratio(a, b):
    """a / b; infinite where only b is 0 (every kernel of euler's is a matmul's)."""
    return f"{a / b:.2f}" if b else ("inf" if a else "-")


def _markdown(s):
    copy = s["copy_Bps"]
    lines = [f"euler CUDA target on {s['device']}: kernel time (CUDA events, median), "
             f"device-to-device copy {copy / 1e12:.2f} TB/s.", "",
             "| workload | euler kernels | euler ms | eager ms | torch.compile ms | euler GB/s "
             "| % of copy | euler / best torch | rel. err |", "|---|---|---|---|---|---|---|---|---|"]
    for r in s["rows"]:
        best = min(r["eager_s"], r.get("inductor_s", math.inf))
        bw = r["bytes"] / r["euler_s"]
        ind = f"{r['inductor_s'] * 1e3:.3f}" if "inductor_s" in r else "-"
        lines.append(f"| {r['workload']} | {r['kernels']} | {r['euler_s'] * 1e3:.3f} | "
                     f"{r['eager_s'] * 1e3:.3f} | {ind} | {bw / 1e9:.0f} | {100 * bw / copy:.0f}% | "
                     f"{best / r['euler_s']:.2f} | {r['rel_err']:.1e} |")
    split = [r for r in s["rows"] if "euler_matmul_s" in r]
    if split:
        lines += ["", "| workload | eager / euler | euler matmul / other ms | "
                  "eager matmul / other ms | eager / euler, non-matmul |", "|---|---|---|---|---|"]
        for r in split:
            lines.append(f"| {r['workload']} | {r['eager_s'] / r['euler_s']:.2f} | "
                         f"{r['euler_matmul_s'] * 1e3:.3f} / {r['euler_other_s'] * 1e3:.3f} | "
                         f"{r['eager_matmul_s'] * 1e3:.3f} / {r['eager_other_s'] * 1e3:.3f} | "
                         f"{_ratio(r['eager_other_s'], r['euler_other_s'])} |")
    lines += ["", "(euler / best torch > 1: euler is faster; bandwidths for the matmul rows "
              "count compulsory traffic only; matmul / other: kernel time per call by "
              "torch.profiler, split into matmul kernels and the rest.)", "",
              f"euler compile of softmax 4096x1024: cold {s['compile_cold_s'] * 1e3:.0f} ms, "
              f"cached in process {s['compile_cached_memory_s'] * 1e3:.1f} ms, "
              f"cached on disk (fresh process) {s['compile_cached_disk_s'] * 1e3:.0f} ms.", ""]
    return "\n".join(lines)


def _plot(s, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    rows = [r for r in s["rows"] if not r["workload"].startswith(("mlp", "encoder"))]
    names = [r["workload"] for r in rows]
    x = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(12, 5))
    for k, (key, label) in enumerate([("euler_s", "euler"), ("eager_s", "eager"),
                                      ("inductor_s", "torch.compile")]):
        vals = [r["bytes"] / r[key] / 1e12 if key in r else 0 for r in rows]
        ax.bar(x + (k - 1) * 0.27, vals, 0.27, label=label)
    ax.axhline(s["copy_Bps"] / 1e12, color="k", ls="--", lw=1, label="device copy")
    ax.set_xticks(x, names, rotation=45, ha="right")
    ax.set_ylabel("TB/s")
    ax.set_title(f"euler CUDA vs PyTorch on {s['device']}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
