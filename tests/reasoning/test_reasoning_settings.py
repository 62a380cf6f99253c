"""Reasoner settings: TOML config files, CLI flags on top, one-line errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from emochat.cli import main
from emochat.core.errors import EmochatError
from emochat.options import ReasonerSettings, load_reasoner_config, reasoner_settings

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "conf" / "reasoner.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path


def test_relative_model_path_resolves_against_the_config_folder(tmp_path):
    path = _write(tmp_path, '[reasoner]\nkind = "llama-cpp"\nmodel_path = "models/m.gguf"\n')
    assert load_reasoner_config(path).model_path == str(tmp_path / "conf" / "models" / "m.gguf")
    absolute = tmp_path / "elsewhere.gguf"
    path = _write(tmp_path, f'[reasoner]\nkind = "llama-cpp"\nmodel_path = "{absolute}"\n')
    assert load_reasoner_config(path).model_path == str(absolute)


def test_integers_are_accepted_for_float_settings(tmp_path):
    path = _write(tmp_path, '[reasoner]\nkind = "openai"\ntimeout_s = 5\nretries = 3\n')
    settings = load_reasoner_config(path)
    assert settings.timeout_s == 5.0 and settings.retries == 3 and settings.kind == "openai"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('[reasoner]\nkind = "gpt"\n', "unknown reasoner 'gpt'"),
        ('[reasoner]\nkind = "openai"\nurl = "x"\n', "unknown reasoner setting 'url'"),
        ('[reasoner]\nkind = "openai"\nretries = "two"\n', "'retries' must be a int"),
        ('[reasoner]\nkind = "openai"\ntimeout_s = 0\n', "timeout_s and max_tokens must be > 0"),
        ('kind = "openai"\n', "no [reasoner] table"),
        ("[reasoner\n", "not a valid TOML file"),
    ],
)
def test_bad_configs_name_the_file_and_the_problem(tmp_path, text, problem):
    path = _write(tmp_path, text)
    with pytest.raises(EmochatError) as info:
        load_reasoner_config(path)
    assert info.value.path == str(path) and problem in info.value.problem


def test_flags_override_the_config_and_grounded_means_none(tmp_path):
    path = _write(tmp_path, '[reasoner]\nkind = "openai"\nmodel = "a"\ntimeout_s = 9.0\n')
    settings = reasoner_settings(None, path, "http://127.0.0.1:1/v1", "b")
    assert (settings.kind, settings.model, settings.base_url) == (
        "openai",
        "b",
        "http://127.0.0.1:1/v1",
    )
    assert settings.timeout_s == 9.0
    assert reasoner_settings("llama-cpp", path, None, "x.gguf").model_path == "x.gguf"
    assert reasoner_settings("grounded", path) is None
    assert reasoner_settings() is None
    with pytest.raises(EmochatError, match="need --reasoner"):
        reasoner_settings(None, None, "http://127.0.0.1:1/v1")


def test_shipped_configs_load_and_hold_no_absolute_paths():
    files = sorted(CONFIGS.glob("*.toml"))
    assert {f.name for f in files} >= {"reasoner-openai.toml", "reasoner-llama-cpp.toml"}
    for path in files:
        assert isinstance(load_reasoner_config(path), ReasonerSettings)
        assert not re.search(r"""["'](/|[A-Za-z]:\\)""", path.read_text()), path


def test_cli_reports_a_missing_config_in_one_line(sample_clip, tmp_path, capsys):
    missing = tmp_path / "nope.toml"
    code = main(
        ["analyze", str(sample_clip), "-o", str(tmp_path), "--reasoner-config", str(missing)]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert str(missing) in err and "cannot read reasoner config" in err
