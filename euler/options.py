"""Compiler settings: one dataclass, and the one place that reads the environment.

Environment variables (each overrides the default, an explicit argument
overrides it):
  EULER_DUMP_DIR     write each stage's IR as DIR/NN-<stage>.mlir
  EULER_OPT_LEVEL    default optimization level (0..3; 3 when unset)
  EULER_NUM_THREADS  threads for parallel loops at -O3 (default: all cores)
  EULER_CUDA_CHIP    the GPU to generate code for, e.g. sm_80 (default: the
                     GPU present, else sm_90)
  EULER_CACHE_DIR    where compiled modules are cached (default:
                     ~/.cache/euler)
  EULER_CACHE        0 turns the compile cache off
  EULER_CUDA_GRAPHS  0 turns CUDA graphs of repeated device calls off
  EULER_PROFILE      1 times every kernel call (CompiledModule.profile())
  EULER_CPU          the CPU vector unit the tile heuristics plan for: avx512,
                     avx2, sse or neon (default: the host's; the lit tests
                     pin avx512, so that their tile shapes never vary)
"""

from __future__ import annotations

import dataclasses
import os


@dataclasses.dataclass
class Options:
    target: str = "cpu"
    # -O3 is what users get; -O0..-O2 are for learning and bisecting.
    opt_level: int = 3
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
    # CUDA target: the chip, e.g. "sm_90"; None asks the GPU, or takes sm_90.
    chip: str | None = None
    # CUDA target: f32 matmuls on the tensor cores' TF32 mode (10-bit
    # mantissas in, f32 sums), as torch.backends.cuda.matmul.allow_tf32.
    allow_tf32: bool = False
    # CUDA target: device calls that repeat their pointers replay a CUDA
    # graph of the call (see runtime/cuda.py).
    cuda_graphs: bool = True
    # Time every kernel call into counters `CompiledModule.profile()` reads
    # (CPU; the code is otherwise unchanged, and nothing is emitted when off).
    profile: bool = False
    # Reuse compiled modules (in process, and from `cache_dir` across processes).
    cache: bool = True
    cache_dir: str | None = None

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
    if os.environ.get("EULER_CUDA_CHIP"):
        env["chip"] = os.environ["EULER_CUDA_CHIP"]
    if os.environ.get("EULER_CACHE_DIR"):
        env["cache_dir"] = os.environ["EULER_CACHE_DIR"]
    if os.environ.get("EULER_CACHE", "").strip().lower() in ("0", "off", "false", "no"):
        env["cache"] = False
    if os.environ.get("EULER_PROFILE", "").strip().lower() in ("1", "on", "true", "yes"):
        env["profile"] = True
    if os.environ.get("EULER_CUDA_GRAPHS", "").strip().lower() in ("0", "off", "false", "no"):
        env["cuda_graphs"] = False
    env["cache_dir"] = env.get("cache_dir") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "euler")
    env.update({k: v for k, v in overrides.items() if v is not None})
    return Options(**env)


def cpu_from_env() -> str | None:
    """$EULER_CPU (`pipelines/heuristics.host_vector_unit`), or None."""
    return os.environ.get("EULER_CPU", "").strip().lower() or None
