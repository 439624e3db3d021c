"""Fixtures of the hardening tests."""
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    """One scratch folder per test module, reused by every example of a fuzzing test."""
    return tmp_path_factory.mktemp("fuzz")
