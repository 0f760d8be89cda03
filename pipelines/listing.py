"""`describe(target, opt_level)`: each stage's passes, as text (`euler pipeline --show`).

Every stage is built into a fresh PassManager exactly as the driver builds it,
so the listing is what runs. Upstream passes print as their textual pipeline
(with every option, pasteable into mlir-opt); euler's Python passes print
with the options the stage gave them, which the PassManager cannot show.
"""

from __future__ import annotations

import contextlib

from mlir import passmanager

from .. import dialects, passes
from ..options import from_env
from . import stages


def describe(target="cpu", opt_level=None, **options) -> str:
    """The passes of each of `target`'s stages at `opt_level`, one per line."""
    opts = from_env(target=target, opt_level=opt_level, **options)
    ctx = dialects.context()
    lines = [f"# target {opts.target}, -O{opts.opt_level}, {opts.num_threads} thread(s)"]
    for name, stage in stages(opts.target):
        pm = passmanager.PassManager("builtin.module", context=ctx)
        with _recording() as euler_options:
            stage(pm, opts)
        lines.append(f"{name}:")
        elements = list(passes._split_top_level(_strip_module(str(pm))))
        for element in elements or ["(no passes)"]:
            lines.append("  " + euler_options.pop(0) if element in passes.REGISTRY
                         and euler_options else "  " + element)
    return "\n".join(lines) + "\n"


def _strip_module(text):
    prefix = "builtin.module("
    return text[len(prefix):-1] if text.startswith(prefix) else text


@contextlib.contextmanager
def _recording():
    """Record euler passes with their options, in the order a stage adds them."""
    recorded, add = [], passes.add

    def recording_add(pm, name, **options):
        shown = " ".join(f"{k.replace('_', '-')}={_format(v)}" for k, v in options.items()
                         if v is not None and v != "")
        recorded.append(f"{name}{{{shown}}}" if shown else name)
        add(pm, name, **options)

    passes.add = recording_add
    try:
        yield recorded
    finally:
        passes.add = add


def _format(value):
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (tuple, list)):
        return ",".join(map(str, value))
    return str(value)
