"""Training configs: the shipped one parses and is relative-only; bad ones name the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from emochat.cli import main
from emochat.core.errors import EmochatError
from emochat.data.registry import HELD_OUT
from emochat.train.emochat_llm.config import TrainConfig

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "configs").glob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_shipped_configs_parse_and_use_relative_paths_only(path):
    cfg = TrainConfig.load(path)
    paths = [cfg.cache_dir, cfg.output_dir, cfg.lm or ""]
    paths += [s.manifest or s.file or "" for s in cfg.sources]
    assert not [p for p in paths if Path(p).is_absolute()]
    assert all(s.split != HELD_OUT[s.corpus] for s in cfg.sources if s.corpus)


def test_there_is_a_shipped_config():
    assert [p.name for p in CONFIGS] == ["mllm.yaml", "mllm_cpu.yaml", "mllm_cpu_reduced.yaml"]


@pytest.mark.parametrize(
    "text, problem",
    [
        ("sources: [{corpus: meld}]\nstep: 3\n", "unknown settings: step"),
        ("steps: 3\n", "no sources"),
        ("sources: [{corpus: meld, file: x.npz}]\n", "exactly one of"),
        ("sources: [{corpus: meld}]\nmodel: {lora_rank: 3}\n", "unknown model settings"),
        ("- a\n- b\n", "a mapping of settings"),
        ("sources: [\n", "not valid YAML"),
    ],
)
def test_bad_configs_are_one_line_errors_naming_the_file(tmp_path, text, problem):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(EmochatError, match=problem) as info:
        TrainConfig.load(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_cli_reports_a_missing_config_in_one_line(tmp_path, capsys):
    assert main(["train", "emochat_llm", "train", "--config", str(tmp_path / "none.yaml")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("none.yaml: config file not found") and "\n" not in err
