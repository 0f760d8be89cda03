"""Differential check of compiled euler code against the reference interpreter.

`check(text, inputs, opt_levels)` compiles a program at each opt level, runs
it, and compares every result with `runtime.interpreter`; the fuzzer, the
reducer, `euler bisect` and `euler compare` all judge programs through it,
so "agrees with the interpreter" means one thing everywhere.

Tolerance is dtype-aware and scaled by how ill-conditioned the program is:
the interpreter also runs in float64, and with every op's result moved by
one ulp; the larger distance between these and its op-dtype result (rounding
alone) widens the tolerance element by element. The float64 run alone is not
enough: where it happens to agree with the op-dtype run, a compiled libm call
one ulp away can still move an ill-conditioned result far (softmax of
exp(8 * tanh(x)) near tanh's saturation, fuzz seed 5 program 724).
Elements whose value rounding alone can push across a NaN/Inf boundary are
not compared; everywhere else NaN and Inf positions (and Inf signs) must match.
"""

from __future__ import annotations

import dataclasses
import traceback

import numpy as np

from ..errors import EulerError
from ..runtime.interpreter import interpret_text

# (rtol, atol) per result element type.
TOLERANCES = {"float64": (1e-7, 1e-9), "float32": (1e-4, 1e-5), "float16": (1e-2, 1e-2)}
# How many times the interpreter's own rounding error a compiled result may be off.
ROUNDING_SLACK = 8.0


@dataclasses.dataclass
class Failure:
    """One disagreement: `kind` is "crash" or "mismatch"."""
    kind: str
    opt_level: int
    message: str
    signature: str  # what must stay the same while reducing

    def __str__(self):
        return f"{self.kind} at -O{self.opt_level}: {self.message}"


def reference(text: str, inputs, func: str = "main"):
    """(op-dtype results, differently rounded results) of the interpreter: per
    element, the farther from the op-dtype result of the float64 run and the
    run nudged by one ulp per op (NaN counts as farthest)."""
    ref = interpret_text(text, func, *inputs)
    ref64 = interpret_text(text, func, *inputs, precision="f64")
    nudged = interpret_text(text, func, *inputs, precision="ulp")
    alt = []
    for r, r64, rn in zip(ref, ref64, nudged):
        if not np.issubdtype(r.dtype, np.floating):
            alt.append(r64)
            continue
        with np.errstate(invalid="ignore", over="ignore"):
            r, r64, rn = (a.astype(np.float64) for a in (r, r64, rn))
            d64, dn = (np.nan_to_num(np.abs(a - r), nan=np.inf) for a in (r64, rn))
            alt.append(np.where(dn > d64, rn, r64))
    return ref, tuple(alt)


def compare(out, ref, ref64) -> str | None:
    """None if `out` matches `ref` within tolerance, else a one-line reason."""
    out = np.asarray(out)
    if out.shape != ref.shape or out.dtype != ref.dtype:
        return f"got {out.dtype}{list(out.shape)}, expected {ref.dtype}{list(ref.shape)}"
    if not np.issubdtype(ref.dtype, np.floating):
        bad = out != ref
        return f"{int(bad.sum())} elements differ" if bad.any() else None
    o, r, r64 = (a.astype(np.float64) for a in (out, ref, ref64))
    # Where rounding alone decides between finite and NaN/Inf, anything goes.
    stable = np.isfinite(r) == np.isfinite(r64)
    nan_bad = stable & (np.isnan(o) != np.isnan(r))
    inf_bad = stable & np.isinf(r) & (o != r)
    finite = stable & np.isfinite(r)
    rtol, atol = TOLERANCES.get(ref.dtype.name, (1e-4, 1e-5))
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.where(finite, np.abs(o - r), 0.0)
        allowed = atol + rtol * np.abs(r) + ROUNDING_SLACK * np.abs(r - r64)
        val_bad = finite & ~(err <= allowed)  # NaN in `o` counts as bad
    for name, bad in (("NaN positions differ", nan_bad), ("Inf values differ", inf_bad),
                      ("values differ", val_bad)):
        if bad.any():
            i = np.unravel_index(np.argmax(bad), bad.shape)
            return (f"{name} at {int(bad.sum())} of {bad.size} elements; first at "
                    f"{tuple(int(k) for k in i)}: got {out[i]!r}, expected {ref[i]!r}")
    return None


def run_compiled(text: str, inputs, opt_level: int, target: str = "cpu", func: str = "main"):
    """Compile and run; always a tuple of results."""
    from .. import compile as euler_compile
    mod = euler_compile(text, target=target, opt_level=opt_level)
    out = mod[func](*inputs)
    return out if isinstance(out, tuple) else (out,)


def _crash(exc: BaseException, opt_level: int) -> Failure:
    first = (str(exc).strip().splitlines() or [""])[0]
    where = ""
    if not isinstance(exc, EulerError):
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        where = f" ({frame.filename.rsplit('/', 1)[-1]}:{frame.lineno})"
    return Failure("crash", opt_level, f"{type(exc).__name__}: {first}{where}",
                   f"crash:{type(exc).__name__}")


def check(text: str, inputs, opt_levels=(0, 1, 2, 3), target: str = "cpu", func: str = "main",
          ref=None) -> list:
    """Compile `text` at each opt level and compare with the interpreter.

    Returns the list of `Failure`s (empty when every level agrees). A program
    the interpreter itself rejects raises that error: it is not a compiler bug.
    """
    ref, ref64 = ref or reference(text, inputs, func)
    failures = []
    for level in opt_levels:
        try:
            outs = run_compiled(text, inputs, level, target, func)
        except Exception as exc:  # any exception on a valid program is a bug
            failures.append(_crash(exc, level))
            continue
        if len(outs) != len(ref):
            failures.append(Failure("mismatch", level, f"{len(outs)} results, expected {len(ref)}",
                                    "mismatch"))
            continue
        for k, (o, r, r64) in enumerate(zip(outs, ref, ref64)):
            reason = compare(o, r, r64)
            if reason:
                failures.append(Failure("mismatch", level, f"result {k}: {reason}", "mismatch"))
                break
    return failures
