"""Compile time against depth: GPT-2 (d=256, 64 tokens) with 1..12 layers.

    python benchmarks/compile_time.py [--layers 1,2,4,8,12] [--threads 1] [--model gpt2|gpt_block]
                                      [--baseline | --against PYTHON] [--repeat N]
    python benchmarks/compile_time.py --model resnet,mobilenet_v2,bert,gpt2,llama --bench

Identical layers should cost once (euler-dedup-kernels), so compile time
should grow with the number of distinct kernels, not with depth. Each depth
compiles in a fresh process: the torch capture and import ("import"), each
pipeline stage and the JIT (`CompiledModule.stages.seconds`), and the total;
then the number of kernel functions left, and every total as a ratio to the
2-layer one. `gpt2` is Hugging Face GPT-2 built from its config with random
weights (needs `transformers`); `gpt_block` stacks the zoo's nanoGPT block.
`--bench` compiles instead each of the `--model` families of
examples/hf_models.py at benchmark size (issue 11's compile-time target),
one row per model; `export s` is torch.export's share of `import s`.
The machine's load average is printed, since the timings are wall-clock;
the compile's CPU time (`cpu s`, the process's, which a loaded machine
inflates less) is printed too, with its ratio to the 2-layer one, and
`--repeat N` keeps each depth's fastest of N runs (depths interleaved).
`--baseline` also compiles every depth with euler-dedup-kernels replaced by
a no-op (alternating with the real runs), and prints the ratio;
`--against PYTHON` compiles every case with the euler that another
interpreter imports instead (a venv on an earlier commit), alternating too,
for before/after figures from one run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def _model(kind, layers):
    import torch
    torch.manual_seed(0)
    if layers is None:  # --bench
        sys.path.insert(0, os.path.join(HERE, "..", "examples"))
        import hf_models
        return hf_models.FAMILIES[kind]("bench")
    if kind == "gpt_block":
        sys.path.insert(0, os.path.join(HERE, "..", "examples"))
        import pytorch_models
        model = torch.nn.Sequential(*[pytorch_models.GPTBlock(256, 4, 128) for _ in range(layers)])
        return model.eval(), (torch.randn(1, 64, 256),)
    import transformers

    config = transformers.GPT2Config(n_embd=256, n_layer=layers, n_head=4, n_positions=128,
                                     vocab_size=1000, use_cache=False)

    class LastHidden(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.gpt2 = transformers.GPT2Model(config)

        def forward(self, ids):
            return self.gpt2(ids, use_cache=False).last_hidden_state

    return LastHidden().eval(), (torch.randint(0, 1000, (1, 64)),)


def worker(kind, layers, threads, baseline):
    import torch

    import euler
    import euler.torch as et
    if baseline:
        from euler.passes.transforms import dedup_kernels
        dedup_kernels.run = lambda module, ops="": None
    model, inputs = _model(kind, layers)
    c0, t0 = time.process_time(), time.perf_counter()
    exported = et.export(model, inputs)
    te = time.perf_counter()
    program = et.import_exported(exported)
    t1 = time.perf_counter()
    compiled = euler.compile(program.module, opt_level=3, num_threads=threads)
    c2, t2 = time.process_time(), time.perf_counter()
    kernels = compiled.stages["tiled"].count("func.func private @__euler_kernel_")
    # Correctness is part of the measurement: a fast wrong compile is no result.
    args = [t.numpy() for t in inputs]
    with torch.no_grad():
        want = model(*inputs)
    want = getattr(want, "last_hidden_state", want).numpy()
    got = compiled.main(*args)
    got = got[0] if isinstance(got, tuple) else got  # the last hidden state comes first
    err = float(abs(got - want).max())
    return {"export": te - t0, "import": t1 - t0, "stages": dict(compiled.stages.seconds), "total": t2 - t0,
            "cpu": c2 - c0,
            "kernels": kernels, "max_err": err}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--layers", default="1,2,4,8,12")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--model", default="gpt2",
                   help="gpt2 or gpt_block; with --bench, examples/hf_models.py families")
    p.add_argument("--bench", action="store_true",
                   help="each --model family at benchmark size instead of depths")
    p.add_argument("--baseline", action="store_true",
                   help="also compile without euler-dedup-kernels")
    p.add_argument("--against", metavar="PYTHON",
                   help="also compile with another interpreter's euler (e.g. a venv of main)")
    p.add_argument("--repeat", type=int, default=1, help="best of N runs per depth")
    p.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker is not None:
        print(json.dumps(worker(args.model, None if args.bench else args.worker, args.threads,
                                args.baseline)))
        return
    if args.bench:  # each case a model, run at its benchmark size
        cases = [(name, ["--worker", "0", "--bench", "--model", name])
                 for name in args.model.split(",")]
    else:  # each case a depth of one model
        cases = [(int(n), ["--worker", n, "--model", args.model]) for n in args.layers.split(",")]
    rows, baseline = {}, {}
    other = "against" if args.against else "no dedup"
    for _ in range(args.repeat):
        for case, flags in cases:
            label = case if args.bench else f"{case} layers"
            for without in [False, True] if args.baseline or args.against else [False]:
                python = args.against if without and args.against else sys.executable
                proc = subprocess.run([python, __file__, *flags, "--threads", str(args.threads)]
                                      + ["--baseline"] * (without and args.baseline),
                                      capture_output=True, text=True)
                if proc.returncode:
                    print(f"  {label} failed: {proc.stderr.strip().splitlines()[-1:]}",
                          file=sys.stderr)
                    continue
                row = json.loads(proc.stdout.strip().splitlines()[-1])
                table = baseline if without else rows
                if case not in table or row["total"] < table[case]["total"]:
                    table[case] = row
                print(f"  {label}{f' ({other})' * without}: {row['total']:.1f} s "
                      f"({row['cpu']:.1f} s CPU)", file=sys.stderr, flush=True)
    if not rows:
        return 1
    stages = list(next(iter(rows.values()))["stages"])
    base = rows.get(2, next(iter(rows.values())))
    sizes = "benchmark sizes" if args.bench else "d=256, 64 tokens"
    print(f"\n{args.model} {sizes}, -O3, {args.threads} thread(s); "
          f"load average {' '.join(f'{v:.1f}' for v in os.getloadavg())}\n")
    # Ratios to the 2-layer compile only mean something between depths.
    vs = "" if args.bench else " vs 2 layers |"
    print(f"| {'model' if args.bench else 'layers'} | export s | import s | "
          + " | ".join(f"{s} s" for s in stages)
          + f" | total s |{vs} cpu s |{vs} kernels | max err | {other}: total s | speedup |")
    print("|---:|---:|---:|" + "---:|" * len(stages) + "---:|" * (6 + 2 * (not args.bench)))
    for case, r in rows.items():
        b = baseline.get(case)
        total = "" if args.bench else f" {r['total'] / base['total']:.2f}x |"
        cpu = "" if args.bench else f" {r['cpu'] / base['cpu']:.2f}x |"
        print(f"| {case} | {r['export']:.2f} | {r['import']:.2f} | "
              + " | ".join(f"{r['stages'].get(s, 0):.2f}" for s in stages)
              + f" | {r['total']:.2f} |{total} {r['cpu']:.2f} |{cpu} {r['kernels']} "
              f"| {r['max_err']:.1e} | " + (f"{b['total']:.2f} | {b['total'] / r['total']:.2f}x |"
                                          if b else " | |"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
