"""Every recipe runs as ``python -m emochat.train.<model>`` and through ``emochat train``."""

from __future__ import annotations

import subprocess
import sys
from importlib import import_module

import pytest

from emochat.cli import main
from emochat.train.cli import MODELS


@pytest.mark.parametrize("model", MODELS)
def test_python_dash_m_help_works(model):
    run = subprocess.run(
        [sys.executable, "-m", f"emochat.train.{model}", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.startswith(f"usage: emochat.train.{model}")


@pytest.mark.parametrize("model", MODELS)
def test_every_listed_step_is_accepted(model, capsys):
    steps = import_module(f"emochat.train.{model}").STEPS
    for step in steps:
        with pytest.raises(SystemExit) as exited:
            main(["train", model, step, "--help"])
        assert exited.value.code == 0, f"{model} {step}: {capsys.readouterr().err}"
        assert capsys.readouterr().out.startswith("usage: emochat.train.")


def test_emochat_train_lists_every_model_and_step(capsys):
    assert main(["train"]) == 0
    listing = capsys.readouterr().out
    for model in MODELS:
        assert f"\n{model}: " in f"\n{listing}"
        for step in import_module(f"emochat.train.{model}").STEPS:
            assert f"  {step}  " in listing


def test_an_unknown_step_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["train", "text_emotion", "distil"])
    assert exited.value.code == 2
    assert "invalid choice: 'distil'" in capsys.readouterr().err
