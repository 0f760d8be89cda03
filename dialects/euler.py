"""The Python module of the `euler` dialect namespace, for MLIR's bindings.

The bindings wrap each op in the OpView class of its dialect's module
(`<search prefix>.<namespace>`), and retry the import of a missing module on
every op they wrap: one failed search of sys.path per euler op, 0.5 s CPU of
a 12-layer GPT-2's compile. `load` adds this package to the search prefixes;
this module, found once and then remembered, defines no OpViews, so euler
ops stay generic `ir.OpView`s.
"""
