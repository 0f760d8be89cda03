"""Module-level transforms independent of dialect and target: kernel
deduplication, flat constant globals, symbol mangling.

One pass per module; the registry in `euler.passes` stays one flat table
of pass names.
"""
