"""Fixtures for the evaluation-kit tests: real corpora from data_root(), skipped when absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from emochat.core.settings import data_root


@pytest.fixture(scope="session")
def corpus():
    """``corpus("meld")`` -> data_root()/meld, or skip the test naming the missing path."""

    def get(sub: str) -> Path:
        path = data_root() / sub
        if not path.is_dir():
            pytest.skip(f"corpus not available: {path}")
        return path

    return get


@pytest.fixture(scope="session")
def ovmer_dir(corpus) -> Path:
    return corpus("ov-mer")
