"""Where a CNN's time goes: each distinct conv layer of a model through euler
against eager PyTorch (oneDNN), the layers' own modules, in one process.

    python benchmarks/conv_layers.py [--model resnet,mobilenet_v2] [--threads 1]

The models are `examples/hf_models.py`'s at benchmark size. Every module that
holds one Conv2d and is called on one tensor (HF's conv + batch norm +
activation layers) is captured with the input it gets in the model, layers
of the same class, conv and input shape counted once. Each is compiled with
`euler.torch.compile` at -O3 and timed interleaved with eager, best of
`--repeat` rounds. The table gives ms per call, euler / eager (>1: euler
slower), the layer count and each layer kind's share of euler's total time
over all of the model's conv layers, the largest first: the layers to work on.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import torch

import euler.torch as et

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "examples"))
import hf_models  # noqa: E402


def conv_layers(model, inputs):
    """[(key, module, input, count)] for the model's distinct conv layers:
    the smallest modules holding exactly one Conv2d."""
    def one_conv(m):
        return sum(isinstance(c, torch.nn.Conv2d) for c in m.modules()) == 1

    found = {}
    hooks = []
    for name, m in model.named_modules():
        # The outermost module with one conv: it has the conv's epilogue too.
        parent = name.rsplit(".", 1)[0] if "." in name else ""
        if not one_conv(m) or (name and one_conv(model.get_submodule(parent))):
            continue

        def hook(mod, args, name=name):
            conv = next(c for c in mod.modules() if isinstance(c, torch.nn.Conv2d))
            x = args[0]
            key = (type(mod).__name__, tuple(x.shape), conv.out_channels, conv.kernel_size,
                   conv.stride, conv.groups)
            entry = found.setdefault(key, [mod, x.detach().clone(), 0])
            entry[2] += 1
        hooks.append(m.register_forward_pre_hook(hook))
    with torch.no_grad():
        model(*inputs)
    for h in hooks:
        h.remove()
    return [(k, m, x, n) for k, (m, x, n) in found.items()]


def _time(fn, x, iters):
    t0 = time.perf_counter()
    for _ in range(iters):
        fn(x)
    return (time.perf_counter() - t0) / iters


def describe(key):
    cls, shape, f, k, s, g = key
    kind = "dw" if g > 1 and g == shape[1] else (f"g{g}" if g > 1 else "")
    return (f"{cls.replace('Layer', '')} {shape[1]}x{shape[2]}x{shape[3]} -> {f} "
            f"{k[0]}x{k[1]}/{s[0]} {kind}").strip()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="resnet,mobilenet_v2")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--iters", type=int, default=10)
    p.add_argument("--only", default="", help="substring of the layers to time")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    for name in args.model.split(","):
        model, inputs = hf_models.model(name, "bench")
        rows = []
        for key, mod, x, count in conv_layers(model, inputs):
            if args.only not in describe(key):
                continue
            with torch.no_grad():
                compiled = et.compile(mod, (x,), opt_level=3, num_threads=args.threads)
                torch.testing.assert_close(compiled(x), mod(x), rtol=1e-3, atol=1e-4)
                best = {"eager": float("inf"), "euler": float("inf")}
                fns = {"eager": mod, "euler": compiled}
                for fn in fns.values():
                    _time(fn, x, 2)
                for _ in range(args.repeat):
                    for b, fn in fns.items():
                        best[b] = min(best[b], _time(fn, x, args.iters))
            rows.append((describe(key), count, best["eager"], best["euler"]))
        total = sum(n * u for _, n, _, u in rows)
        total_eager = sum(n * e for _, n, e, _ in rows)
        print(f"\n{name}, {args.threads} thread(s): conv layers euler {total * 1e3:.2f} ms, "
              f"eager {total_eager * 1e3:.2f} ms (x{total / total_eager:.2f})\n")
        print("| layer | count | eager ms | euler ms | euler / eager | share of euler |")
        print("|---|---:|---:|---:|---:|---:|")
        for desc, n, e, u in sorted(rows, key=lambda r: -r[1] * r[3]):
            print(f"| {desc} | {n} | {e * 1e3:.3f} | {u * 1e3:.3f} | {u / e:.2f} "
                  f"| {n * u / total:.0%} |")


if __name__ == "__main__":
    main()
