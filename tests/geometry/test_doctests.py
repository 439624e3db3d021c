"""The `Example:` blocks in geometry's docstrings run and give what they say."""
import doctest
import importlib
import pkgutil

import pytest

import epicap.geometry

MODULES = [m.name for m in pkgutil.iter_modules(epicap.geometry.__path__, "epicap.geometry.")]


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
