"""Resident memory across many compiles in one process (issue 4).

Compiles N small fuzz programs (a fixed-seed stream, so different IR each
time), runs each once, and prints RSS every `--every` compiles. A compiler
that leaks grows without bound here; a bounded one flattens out.

    python benchmarks/compile_memory.py --count 1000 -O 2
"""

import argparse
import resource
import time


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--every", type=int, default=100)
    p.add_argument("-O", dest="opt_level", type=int, default=2)
    p.add_argument("--same", action="store_true", help="compile one program over and over")
    args = p.parse_args()

    import euler
    from euler.fuzz.generate import program_and_inputs, to_mlir

    t0 = time.perf_counter()
    start = None
    print(f"{'compiles':>8} {'RSS MiB':>9} {'s':>7}")
    for i in range(args.count):
        program, inputs = program_and_inputs(99, 0 if args.same else i, 5)
        mod = euler.compile(to_mlir(program), opt_level=args.opt_level)
        mod.main(*inputs)
        del mod
        if i == 9:
            start = rss_mib()  # after warm-up: imports, first JIT
        if (i + 1) % args.every == 0:
            print(f"{i + 1:8d} {rss_mib():9.1f} {time.perf_counter() - t0:7.1f}", flush=True)
    end = rss_mib()
    print(f"growth after warm-up: {end - start:.1f} MiB over {args.count - 10} compiles "
          f"({(end - start) * 1024 / max(1, args.count - 10):.1f} KiB per compile)")


if __name__ == "__main__":
    main()
