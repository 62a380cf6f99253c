"""Fixtures for the evaluation-kit tests (``corpus`` is the shared one in tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def ovmer_dir(corpus) -> Path:
    return corpus("ov-mer")
