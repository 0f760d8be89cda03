"""Loop-level passes on linalg that both targets share: the fusion groups and
their tiling, blocked reductions, contraction and layout rewrites, bufferization prep.

One pass per module; the registry in `euler.passes` stays one flat table
of pass names.
"""
