"""Graph-level passes on the euler dialect, before lowering: verification,
simplification, constant folding, CSE and DCE.

One pass per module; the registry in `euler.passes` stays one flat table
of pass names.
"""
