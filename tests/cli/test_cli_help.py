"""`emochat --help` is what a new user reads first: its examples must run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from emochat.cli import main

REPO = Path(__file__).resolve().parents[2]


def _help(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--help"])
    assert exit_.value.code == 0
    return capsys.readouterr().out


def test_help_examples_name_sample_files_that_exist(capsys):
    text = _help(capsys)
    named = re.findall(r"samples/[\w./-]*\w", text)
    assert named, "the examples should run on a file the repository ships"
    assert [p for p in named if not (REPO / p).is_file()] == []
