"""Passes of the CPU pipeline: convs as matmuls, the matmul schedule and its
microkernel, packed weights, vectorization, polynomial math, unroll limits,
bare-pointer calls.

One pass per module; the registry in `euler.passes` stays one flat table
of pass names.
"""
