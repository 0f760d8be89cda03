"""The exceptions euler raises, and how MLIR diagnostics become them.

Every user-facing failure is an `EulerError`: `CompileError` for bad IR
(parse, verify, lowering), `InputError` for bad arguments to a compiled
function, `InternalError` for a bug in euler itself. Each carries MLIR-style
diagnostics, `file:line:col: error: message`, which the CLIs print as is.
"""

from __future__ import annotations

import re

REPRODUCER_HINT = ("this is a bug in euler: set EULER_DUMP_DIR=DIR (or pass --dump-dir DIR) "
                   "to save the input and every stage's IR as a reproducer, and report it")


class EulerError(Exception):
    """Base of all euler errors."""


class CompileError(EulerError):
    """The program is invalid or cannot be compiled. `diagnostics` holds the
    formatted `file:line:col: error: ...` lines."""

    def __init__(self, diagnostics):
        if isinstance(diagnostics, str):
            diagnostics = [diagnostics]
        self.diagnostics = list(diagnostics)
        super().__init__("\n".join(self.diagnostics))


class ParseError(CompileError):
    """The input is not valid MLIR."""


class VerifyError(CompileError):
    """An euler op breaks its shape or attribute rules."""


class InputError(EulerError, ValueError):
    """Arguments passed to a compiled function do not match its signature."""


class InternalError(EulerError):
    """A failure inside euler (a pass crashed, the JIT failed): never the user's fault."""

    def __init__(self, message):
        super().__init__(f"internal error: {message}\nnote: {REPRODUCER_HINT}")


_LOC = re.compile(r'loc\((?:callsite\()?"(?P<file>[^"]*)":(?P<line>\d+):(?P<col>\d+)')
_NAME_LOC = re.compile(r'loc\("(?P<name>[^"]*)"\)')


def format_location(loc) -> str:
    """An MLIR location as `file:line:col` (or the name of a named location)."""
    text = str(loc)
    m = _LOC.search(text)
    if m:
        return f"{m['file']}:{m['line']}:{m['col']}"
    m = _NAME_LOC.search(text)
    return m["name"] if m else "<unknown>"


def format_diagnostic(location, message: str, severity: str = "error") -> str:
    return f"{format_location(location)}: {severity}: {message}"


def from_mlir_error(err, cls=CompileError) -> CompileError:
    """Turn an `ir.MLIRError` (with its captured diagnostics) into `cls`."""
    lines = []
    for d in getattr(err, "error_diagnostics", []):
        lines.append(format_diagnostic(d.location, d.message))
        lines.extend(format_diagnostic(n.location, n.message, "note") for n in d.notes
                     if not n.message.startswith("see current operation"))
    if not lines:
        lines = [f"<unknown>: error: {err}"]
    return cls(lines)
