"""Where a Hugging Face model's time goes: euler's kernels next to Inductor's.

    python benchmarks/hf_profile.py --model bert --threads 1 [--top 20]

euler is compiled with profile=True (`euler-profile-kernels`: each kernel
call timed in the compiled code) and Inductor's run is read from
torch.profiler (its per-op self CPU time). Both run the same number of calls
after a warm-up; each table lists time per model call. A script, not a
benchmark of speed: the profiler costs some microseconds a kernel on either
side (use benchmarks/hf_models.py for speed).
"""

from __future__ import annotations

import argparse
import importlib.util
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="bert")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--iters", type=int, default=50)
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--no-inductor", action="store_true")
    args = p.parse_args(argv)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    import torch
    # examples/hf_models.py, not benchmarks/hf_models.py beside this script.
    spec = importlib.util.spec_from_file_location(
        "hf_models_examples", os.path.join(HERE, "..", "examples", "hf_models.py"))
    hf_models = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hf_models)
    import euler.torch as et
    from euler.runtime import profile

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model, inputs = hf_models.model(args.model, "bench")
    model = model.eval()
    with torch.no_grad():
        cm = et.compile(model, inputs, num_threads=args.threads, profile=True)
        for _ in range(3):
            cm(*inputs)
        cm.compiled.profile(reset=True)
        for _ in range(args.iters):
            cm(*inputs)
        rows = cm.compiled.profile()
        for r in rows:
            r.seconds /= args.iters
            r.calls //= args.iters
        print(f"## euler, {args.model}, {args.threads} thread(s), per model call\n")
        print(profile.table(rows, args.top))
        if args.no_inductor:
            return
        compiled = torch.compile(model)
        for _ in range(3):
            compiled(*inputs)
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
            for _ in range(args.iters):
                compiled(*inputs)
        events = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)
        total = sum(e.self_cpu_time_total for e in events) / args.iters
        print(f"\n## Inductor, {args.model}, {args.threads} thread(s), per model call "
              f"(self CPU time; total {total / 1e3:.3f} ms)\n")
        print("| op | calls | ms | % |\n|---|---:|---:|---:|")
        for e in events[:args.top]:
            print(f"| {e.key[:90]} | {e.count // args.iters} | "
                  f"{e.self_cpu_time_total / args.iters / 1e3:.3f} | "
                  f"{100 * e.self_cpu_time_total / args.iters / total:.1f} |")


if __name__ == "__main__":
    main()
