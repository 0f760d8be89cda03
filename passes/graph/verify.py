"""euler-verify: check every euler op against its shape and attribute rules.

IRDL only checks operand counts and tensor-ness; this pass runs the rules of
`dialects/shapes.py` and reports each violation as a diagnostic on the op.
It runs first in every pipeline.
"""

from ...dialects import ops
from ...dialects.shapes import ShapeError
from .. import PassFailure, euler_ops

NAME = "euler-verify"
SUMMARY = "Verify euler ops against their shape and attribute rules"


def run(module):
    failed = False
    for op in euler_ops(module):
        try:
            ops.verify_op(op)
        except ShapeError as err:
            op.location.emit_error(f"'{op.name}' op {err}")
            failed = True
    if failed:
        raise PassFailure()
