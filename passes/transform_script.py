"""Transform-dialect scripts built as text and interpreted from Python.

The loop-level passes (`euler-tile-and-fuse`, `euler-vectorize`,
`euler-schedule-matmul`) each write a list of transform ops; `sequence` wraps
them in the `@__transform_main` named sequence and `apply` runs it on a
module. The script lives in its own module, so nothing needs erasing before
the JIT sees the payload.
"""

from mlir import ir
from mlir.dialects.transform import interpreter


def sequence(lines) -> str:
    """A transform module whose entry runs `lines` on `%root`."""
    body = "\n    ".join(lines)
    return f"""module attributes {{transform.with_named_sequence}} {{
  transform.named_sequence @__transform_main(%root: !transform.any_op {{transform.readonly}}) {{
    {body}
    transform.yield
  }}
}}"""


def apply(module, script_text: str) -> None:
    """Interpret the script's entry sequence on `module` (an operation)."""
    script = ir.Module.parse(script_text, module.context)
    entry = next(op for op in script.body.operations
                 if op.operation.name == "transform.named_sequence")
    interpreter.apply_named_sequence(module, entry, script)
