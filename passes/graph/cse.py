"""euler-cse: common-subexpression elimination for euler ops.

Upstream `cse` only merges ops it knows to be free of side effects, and
IRDL-defined ops carry no such information, so it leaves euler ops alone
(three identical `euler.matmul`s survive `cse,canonicalize`). Every euler op
is pure, so two with the same name, operands, attributes and result types
compute the same value: the later one is replaced by the earlier one. Runs at
-O1 and above at the end of the `euler` stage, after simplification and
constant folding have made more ops identical.
"""

import collections

from mlir import ir

NAME = "euler-cse"
SUMMARY = "Merge identical euler ops (euler ops are pure)"

# Ops whose regions see the values of the enclosing block (not isolated from
# above); any other region starts with an empty table, which is always safe.
_TRANSPARENT_PREFIXES = ("scf.", "affine.")


def _key(op: ir.Operation):
    # Attributes and types are uniqued in the context: comparing them is a
    # pointer comparison, even for large dense constants.
    return (op.name, tuple(op.operands),
            tuple((name, op.attributes[name]) for name in sorted(op.attributes)),
            tuple(r.type for r in op.results))


def _cse_block(block: ir.Block, table: collections.ChainMap) -> int:
    merged = 0
    for op in list(block.operations):
        op = op.operation
        if op.name.startswith("euler."):
            key = _key(op)
            earlier = table.get(key)
            if earlier is not None:
                for old, new in zip(op.results, earlier.results):
                    old.replace_all_uses_with(new)
                op.erase()
                merged += 1
                continue
            table[key] = op
        for region in op.regions:
            for inner in region.blocks:
                scope = table.new_child() if op.name.startswith(_TRANSPARENT_PREFIXES) \
                    else collections.ChainMap()
                merged += _cse_block(inner, scope)
    return merged


def eliminate_common_subexpressions(module: ir.Operation) -> int:
    """Merge identical euler ops under `module`; return how many were merged."""
    merged = 0
    for region in module.regions:
        for block in region.blocks:
            merged += _cse_block(block, collections.ChainMap())
    return merged


def run(module):
    eliminate_common_subexpressions(module)
