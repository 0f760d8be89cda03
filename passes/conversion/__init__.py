"""Conversions out of the euler dialect (to linalg on tensors).

One pass per module; the registry in `euler.passes` stays one flat table
of pass names.
"""
