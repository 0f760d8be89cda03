"""euler-mangle-symbols: give public functions names libm cannot clash with.

Runs at the start of the `llvm` stage. A user function called `@exp` would
otherwise capture `convert-math-to-libm`'s calls to `exp` (and the JIT's symbol
lookup of libm's), silently computing garbage or crashing. Every public
function `@f` becomes `@euler_f`; the JIT looks functions up through
`symbol_name`.
"""

from mlir import ir

NAME = "euler-mangle-symbols"
SUMMARY = "Prefix public function names so they cannot clash with runtime libraries"

PREFIX = "euler_"


def symbol_name(name: str) -> str:
    """The symbol a public function `name` has after this pass."""
    return PREFIX + name


def run(module):
    renames = {}
    for op in module.regions[0].blocks[0].operations:
        op = op.operation
        if op.name == "func.func" and "sym_visibility" not in op.attributes:
            old = op.attributes["sym_name"].value
            renames[old] = symbol_name(old)
    for old, new in renames.items():
        ir.SymbolTable.replace_all_symbol_uses(old, new, module)
        ir.SymbolTable(module)[old].attributes["sym_name"] = ir.StringAttr.get(new)
