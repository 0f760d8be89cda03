"""What euler's command-line tools share: reading input and reporting errors.

Every tool's `main` runs under `run_cli`, so a user error prints its
`file:line:col: error: ...` diagnostics and exits 1, and an unexpected
exception prints one line plus how to save a reproducer, never a traceback.
"""

from __future__ import annotations

import os
import sys

from ..errors import REPRODUCER_HINT, EulerError


def read_input(path: str):
    """(text, filename) of a file, or of stdin for '-'."""
    if path == "-":
        return sys.stdin.read(), "<stdin>"
    try:
        with open(path) as f:
            return f.read(), path
    except OSError as exc:
        raise EulerError(f"{path}: error: cannot read: {exc.strerror}") from None


def run_cli(main, argv=None) -> int:
    try:
        return main(argv) or 0
    except EulerError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # Output piped into `head` and friends: not an error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # a bug in euler: no traceback, but a way to report it
        if os.environ.get("EULER_TRACEBACK"):
            raise
        print(f"internal error: {type(exc).__name__}: {exc}\nnote: {REPRODUCER_HINT} "
              "(EULER_TRACEBACK=1 shows the Python traceback)", file=sys.stderr)
        return 1
