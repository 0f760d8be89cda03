"""Compilation pipelines: one ordered list of named stages per target.

`stages(target)` returns `[(name, fn)]`, where `fn(pm, options)` appends that
stage's passes to a PassManager. The driver in `driver.py` runs them.
"""


def stages(target: str):
    if target == "cpu":
        from .cpu import STAGES
        return STAGES
    raise ValueError(f"unknown target '{target}' (expected 'cpu')")
