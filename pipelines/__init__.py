"""Compilation pipelines: one ordered list of named stages per target.

`stages(target)` returns `[(name, fn)]`, where `fn(pm, options)` appends that
stage's passes to a PassManager. The driver in `driver.py` runs them.
"""


def stages(target: str):
    if target == "cpu":
        from .cpu import STAGES
        return STAGES
    if target == "cuda":
        from .cuda import STAGES
        return STAGES
    raise ValueError(f"unknown target '{target}' (expected 'cpu' or 'cuda')")


def describe(target: str = "cpu", opt_level=None, **options) -> str:
    """Each stage's pass list for `target` at `opt_level` (`euler pipeline --show`)."""
    from .listing import describe as _describe
    return _describe(target, opt_level, **options)
