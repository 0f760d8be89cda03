"""Every registered pass is the module it names, and has its lit test."""

import os

import pytest

from euler import passes

LIT_PASSES = os.path.join(os.path.dirname(__file__), "..", "lit", "passes")


@pytest.mark.parametrize("name", sorted(passes.REGISTRY))
def test_registry_key_is_the_pass_name(name):
    mod = passes.get(name)
    assert mod.NAME == name
    assert mod.SUMMARY and callable(mod.run)


@pytest.mark.parametrize("name", sorted(passes.REGISTRY))
def test_every_pass_has_a_lit_test_named_after_it(name):
    assert os.path.exists(os.path.join(LIT_PASSES, f"{name}.mlir")), \
        f"tests/lit/passes/{name}.mlir is missing"
