"""Compiler settings: one dataclass, and the one place that reads the environment.

Environment variables (each overrides the default, an explicit argument
overrides it):
  EULER_DUMP_DIR     write each stage's IR as DIR/NN-<stage>.mlir
  EULER_OPT_LEVEL    default optimization level (0..3)
  EULER_NUM_THREADS  threads for parallel loops at -O3 (default: all cores)
"""

from __future__ import annotations

import dataclasses
import os


@dataclasses.dataclass
class Options:
    target: str = "cpu"
    opt_level: int = 2
    dump_dir: str | None = None
    # Stop after this stage (`--emit`); None runs the whole pipeline and JITs.
    emit: str | None = None
    # Print the IR after every pass to stderr (`--print-ir-after-all`).
    print_ir_after_all: bool = False
    # Print per-pass timing to stderr (`--mlir-timing`).
    timing: bool = False
    num_threads: int = dataclasses.field(default_factory=lambda: os.cpu_count() or 1)
    # Per-call overrides of the tile-size heuristic, e.g. {"matmul": (64, 256, 256)}.
    tile_sizes: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        if self.opt_level not in (0, 1, 2, 3):
            raise ValueError(f"opt_level must be 0, 1, 2 or 3, got {self.opt_level}")


def from_env(**overrides) -> Options:
    """Options from the environment, then from explicit (non-None) arguments."""
    env = {}
    if os.environ.get("EULER_DUMP_DIR"):
        env["dump_dir"] = os.environ["EULER_DUMP_DIR"]
    if os.environ.get("EULER_OPT_LEVEL"):
        env["opt_level"] = int(os.environ["EULER_OPT_LEVEL"])
    if os.environ.get("EULER_NUM_THREADS"):
        env["num_threads"] = int(os.environ["EULER_NUM_THREADS"])
    env.update({k: v for k, v in overrides.items() if v is not None})
    return Options(**env)
