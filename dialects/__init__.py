"""The euler dialect: its IRDL definition, shape rules and Python builders.

`load(ctx)` makes euler ops parseable and verifiable in an upstream MLIR
context; `context()` returns a fresh context with euler and every upstream
dialect loaded, which is what the compiler drivers use.
"""

import os

from mlir import ir
from mlir._mlir_libs import _mlir
from mlir.dialects import irdl

IRDL_FILE = os.path.join(os.path.dirname(__file__), "euler.irdl.mlir")

with open(IRDL_FILE) as f:
    _IRDL_TEXT = f.read()


# The bindings' module for the euler namespace (see euler.py in this package).
if __name__ not in _mlir.globals.dialect_search_modules:
    _mlir.globals.append_dialect_search_prefix(__name__)


def load(ctx: ir.Context) -> None:
    """Load the euler dialect (from its IRDL file) into `ctx`."""
    with ctx:
        irdl.load_dialects(ir.Module.parse(_IRDL_TEXT))


def context() -> ir.Context:
    """A new MLIR context with the euler dialect loaded."""
    ctx = ir.Context()
    load(ctx)
    return ctx
