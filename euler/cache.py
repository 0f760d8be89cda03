"""The compile cache: compiled modules by a hash of everything that shapes them.

`euler.compile` asks here before running a pipeline (Triton's cache is the
model). `key` names the input IR, the options that change the code, the
machine (the GPU's chip) and euler itself: a hash of its sources, which
changes with every release and with every edit between releases, so that
an edited euler never reuses old code. Two levels:

  * in process, the compiled module itself (a second compile costs a hash);
  * on disk, under `Options.cache_dir` (`EULER_CACHE_DIR`, default
    ~/.cache/euler), the final LLVM-dialect IR with its embedded PTX, the
    signatures and the stage dumps: another process skips the pipeline and
    only JITs the host code.

`Options.cache=False` (`EULER_CACHE=0`) turns both off.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import tempfile

# Options that never change the generated code.
_IGNORED = {"dump_dir", "emit", "print_ir_after_all", "timing", "cache", "cache_dir"}
_FORMAT = 1
_memory = {}


def source_files() -> list:
    """euler's Python and IRDL sources (the package's folders, see pyproject.toml's
    package-dir, with their subpackages, such as passes/gpu/), sorted."""
    from . import dialects, passes, pipelines, runtime
    folders = {os.path.dirname(os.path.abspath(m.__file__))
               for m in (dialects, passes, pipelines, runtime)}
    folders.add(os.path.dirname(os.path.abspath(__file__)))
    return sorted({os.path.join(sub, name) for folder in folders  # installed: nested
                   for sub, _, files in os.walk(folder) for name in files
                   if name.endswith((".py", ".mlir"))})


@functools.lru_cache(maxsize=None)
def _euler_hash() -> str:
    # The sources, not importlib.metadata's version number: importing that
    # alone costs 25 ms, half a cached compile's budget, in every process.
    h = hashlib.sha256(f"format {_FORMAT}".encode())
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for path in source_files():
        with open(path, "rb") as f:  # relative: the same key in every checkout
            h.update(os.path.relpath(path, root).encode() + b"\0" + f.read())
    return h.hexdigest()


def key(input_ir: str, opts, machine: str) -> str:
    """The cache key of `input_ir` compiled with `opts` for `machine`."""
    settings = {k: v for k, v in dataclasses.asdict(opts).items() if k not in _IGNORED}
    blob = json.dumps({"format": _FORMAT, "ir": input_ir, "options": settings,
                       "machine": machine, "euler": _euler_hash()},
                      sort_keys=True, default=repr)
    return hashlib.sha256(blob.encode()).hexdigest()


def lookup(k: str, opts):
    """(compiled module or None, on-disk entry or None) for key `k`."""
    if k in _memory:
        return _memory[k], None
    path = os.path.join(opts.cache_dir, k[:2], k + ".json")
    try:
        with open(path) as f:
            return None, json.load(f)
    except (OSError, ValueError):
        return None, None


def store(k: str, opts, compiled, entry: dict | None) -> None:
    """Remember `compiled`; write `entry` (JSON-able) to disk if given."""
    _memory[k] = compiled
    if entry is None:
        return
    folder = os.path.join(opts.cache_dir, k[:2])
    try:
        os.makedirs(folder, exist_ok=True)
        # Atomic: a concurrent reader sees the whole entry or none.
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            json.dump(entry, f)
        os.replace(tmp, os.path.join(folder, k + ".json"))
    except OSError:
        pass  # a read-only or full cache only costs the next process a compile
