"""Passes of the CUDA pipeline: fusion groups as kernels, the tensor-core matmul,
convs as matmuls, device memory, the grid mapping of the remaining loops.

One pass per module; the registry in `euler.passes` stays one flat table
of pass names.
"""
