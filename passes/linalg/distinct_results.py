"""euler-distinct-results: give every function result its own tensor.

Runs right before bufferization in the CPU pipeline. A function that returns
one value twice (`return %0, %0`, which euler-cse produces from two equal
ops) made upstream `buffer-results-to-out-params{hoist-static-allocs}` crash
(segfault in updateReturnOps, MLIR 22). Each repeat is replaced by a copy
(`bufferization.alloc_tensor() copy(%0)`), so every out-param gets its own
buffer. Found by `euler fuzz`; regression test in tests/lit/regressions/.
"""

from mlir import ir
from mlir.dialects import bufferization

from .. import ops_named

NAME = "euler-distinct-results"
SUMMARY = "Copy function results that repeat a value, so each result has its own buffer"


def run(module):
    for ret in ops_named(module, "func.return"):
        seen = set()
        for i, value in enumerate(list(ret.operands)):
            if not isinstance(value.type, ir.RankedTensorType):
                continue
            if value in seen:
                with ir.InsertionPoint(ret), ret.location:
                    copy = bufferization.AllocTensorOp(value.type, [], copy=value)
                ret.operands[i] = copy.result
            else:
                seen.add(value)
