"""euler-dce: erase euler ops whose results are never used.

IRDL-defined ops carry no memory-effect interface, so MLIR must assume they
have side effects: upstream `canonicalize` and the greedy rewrite driver never
erase them, dead or not. Every euler op is pure (value semantics, no state),
so an unused one can always go. Runs at -O1 and above at the end of the
`euler` stage, and is called by the rewriting passes to sweep up what they
leave behind.
"""

from mlir import ir

from .. import euler_ops

NAME = "euler-dce"
SUMMARY = "Erase euler ops whose results have no uses"


def _unused(op: ir.Operation) -> bool:
    return all(not any(True for _ in r.uses) for r in op.results)


def erase_dead(module: ir.Operation) -> int:
    """Erase every unused euler op under `module`; return how many went."""
    erased = 0
    while True:
        # Users come after their operands in pre-order, so walking backwards
        # kills a whole dead chain in one sweep; the loop catches chains that
        # cross region boundaries.
        dead = 0
        for op in reversed(euler_ops(module)):
            if _unused(op):
                op.erase()
                dead += 1
        erased += dead
        if not dead:
            return erased


def run(module):
    erase_dead(module)
