"""euler's CUDA target against PyTorch and CuPy on the GPU.

    python benchmarks/cuda.py [--json OUT.json]
    ncu --metrics gpu__time_duration.sum --csv python benchmarks/cuda.py --once
        # euler's kernels alone, one call of each workload
    python benchmarks/cuda.py --torch-models     # the models of torch_models.py

A script, not a test; it needs a GPU, torch with CUDA, and optionally CuPy.
An euler call takes and returns numpy arrays, so it always includes the
host-to-device copies of its inputs, the device allocations and the copy
back of its results. It is compared both with torch doing the same round
trip (pinned-less `torch.from_numpy(x).cuda()` ... `.cpu()`) and with torch
on tensors already on the device (kernels only). Median of N after warm-up.
"""

import argparse
import json
import statistics
import time

import numpy as np

import euler


def _mm(M, N, K):
    return (f'func.func @main(%a: tensor<{M}x{K}xf32>, %b: tensor<{K}x{N}xf32>) -> tensor<{M}x{N}xf32> {{\n'
            f'  %0 = "euler.matmul"(%a, %b) : (tensor<{M}x{K}xf32>, tensor<{K}x{N}xf32>) -> tensor<{M}x{N}xf32>\n'
            f'  return %0 : tensor<{M}x{N}xf32>\n}}')


def _bias_relu(M, N):
    return (f'func.func @main(%a: tensor<{M}x{N}xf32>, %b: tensor<{N}xf32>) -> tensor<{M}x{N}xf32> {{\n'
            f'  %0 = "euler.add"(%a, %b) : (tensor<{M}x{N}xf32>, tensor<{N}xf32>) -> tensor<{M}x{N}xf32>\n'
            f'  %1 = "euler.relu"(%0) : (tensor<{M}x{N}xf32>) -> tensor<{M}x{N}xf32>\n'
            f'  return %1 : tensor<{M}x{N}xf32>\n}}')


def _softmax(M, N):
    return (f'func.func @main(%a: tensor<{M}x{N}xf32>) -> tensor<{M}x{N}xf32> {{\n'
            f'  %0 = "euler.softmax"(%a) {{axis = -1 : i64}} : (tensor<{M}x{N}xf32>) -> tensor<{M}x{N}xf32>\n'
            f'  return %0 : tensor<{M}x{N}xf32>\n}}')


def workloads():
    import torch
    rng = np.random.default_rng(0)
    r = lambda *s: rng.standard_normal(s).astype(np.float32)  # noqa: E731
    return [
        ("matmul 1024^3", _mm(1024, 1024, 1024), (r(1024, 1024), r(1024, 1024)), torch.matmul,
         2 * 1024 ** 3),
        ("matmul 512x4096x1024", _mm(512, 1024, 4096), (r(512, 4096), r(4096, 1024)), torch.matmul,
         2 * 512 * 1024 * 4096),
        ("bias+relu 4096x1024", _bias_relu(4096, 1024), (r(4096, 1024), r(1024)),
         lambda a, b: torch.relu(a + b), None),
        ("softmax 4096x1024", _softmax(4096, 1024), (r(4096, 1024),),
         lambda a: torch.softmax(a, -1), None),
    ]


def _median(fn, reps, sync=lambda: None):
    fn()
    sync()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main():
    import torch
    p = argparse.ArgumentParser()
    p.add_argument("--json")
    p.add_argument("--reps", type=int, default=20)
    p.add_argument("--once", action="store_true", help="one euler call per workload (for ncu)")
    p.add_argument("--torch-models", action="store_true")
    args = p.parse_args()
    if args.torch_models:
        return torch_models(args)
    if args.once:
        for name, src, inputs, _, _ in workloads():
            euler.compile(src, target="cuda").main(*inputs)
        return
    try:
        import cupy
    except ImportError:
        cupy = None
    rows = []
    for name, src, inputs, torch_fn, flops in workloads():
        t = time.perf_counter()
        mod = euler.compile(src, target="cuda")
        compile_s = time.perf_counter() - t
        got = mod.main(*inputs)
        want = torch_fn(*[torch.from_numpy(x).cuda() for x in inputs]).cpu().numpy()
        err = float(np.max(np.abs(got - want)) / (np.max(np.abs(want)) or 1))
        euler_s = _median(lambda: mod.main(*inputs), args.reps)
        sync = torch.cuda.synchronize
        rt_s = _median(lambda: torch_fn(*[torch.from_numpy(x).cuda() for x in inputs]).cpu(),
                       args.reps, sync)
        dev = [torch.from_numpy(x).cuda() for x in inputs]
        dev_s = _median(lambda: torch_fn(*dev), args.reps, sync)
        row = {"workload": name, "compile_s": round(compile_s, 3), "rel_err": err,
               "euler_ms": euler_s * 1e3, "torch_roundtrip_ms": rt_s * 1e3,
               "torch_device_ms": dev_s * 1e3}
        if cupy is not None and "matmul" in name:
            cdev = [cupy.asarray(x) for x in inputs]
            row["cupy_device_ms"] = _median(lambda: cupy.matmul(*cdev), args.reps,
                                            cupy.cuda.Device().synchronize) * 1e3
        if flops:
            row["euler_gflops"] = flops / euler_s / 1e9
        rows.append(row)
        print(json.dumps(row), flush=True)
    print(f"\n{'workload':24} {'euler ms':>9} {'torch rt ms':>12} {'torch dev ms':>13} "
          f"{'euler/torch rt':>15}")
    for r in rows:
        print(f"{r['workload']:24} {r['euler_ms']:9.3f} {r['torch_roundtrip_ms']:12.3f} "
              f"{r['torch_device_ms']:13.3f} {r['euler_ms'] / r['torch_roundtrip_ms']:15.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


def torch_models(args):
    """euler.torch.compile(target="cuda") on torch_models.py's models against
    eager PyTorch on the GPU (round trip from CPU tensors, and on device)."""
    import os
    import sys
    import torch
    import euler.torch as et
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from torch_models import MODELS
    sync = torch.cuda.synchronize
    print(f"{'model':14} {'euler ms':>9} {'eager rt ms':>12} {'eager dev ms':>13} {'max err':>9}")
    for name, (factory, make_inputs) in MODELS.items():
        torch.manual_seed(0)
        model, inputs = factory().eval(), make_inputs()
        with torch.no_grad():
            want = model(*inputs)
            try:
                compiled = et.compile(model, inputs, target="cuda")
            except euler.EulerError as exc:
                print(f"{name:14} euler failed: {str(exc).splitlines()[0][:200]}")
                continue
            got = compiled(*inputs)
            err = float((got - want).abs().max())
            gpu_model = model.cuda()
            dev = [x.cuda() for x in inputs]
            euler_s = _median(lambda: compiled(*inputs), args.reps)
            rt_s = _median(lambda: gpu_model(*[x.cuda() for x in inputs]).cpu(), args.reps, sync)
            dev_s = _median(lambda: gpu_model(*dev), args.reps, sync)
        print(f"{name:14} {euler_s * 1e3:9.3f} {rt_s * 1e3:12.3f} {dev_s * 1e3:13.3f} {err:9.2e}",
              flush=True)


if __name__ == "__main__":
    main()
