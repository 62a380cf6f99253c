"""core/settings.py is the runtime's one reader of the environment."""

from __future__ import annotations

import ast
import os
from pathlib import Path

from emochat.core import settings

RUNTIME = Path(__file__).resolve().parents[2] / "src" / "emochat"
ALLOWED = {RUNTIME / "core" / "settings.py"}
NOT_RUNTIME = RUNTIME / "testing"
ENV_NAMES = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}


def env_reads(tree: ast.AST) -> list[int]:
    """Lines that touch the process environment: ``os.environ``, ``os.getenv(...)`` and
    the like, or those names imported from ``os``."""
    lines = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in ENV_NAMES
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        ):
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            if any(alias.name in ENV_NAMES for alias in node.names):
                lines.append(node.lineno)
    return lines


def test_the_scan_finds_every_form_of_environment_access():
    source = (
        "import os\nfrom os import getenv\n"
        "a = os.environ['X']\nb = os.getenv('Y')\nos.environ.setdefault('Z', '1')\n"
    )
    assert env_reads(ast.parse(source)) == [2, 3, 4, 5]


def test_only_core_settings_reads_the_environment():
    offenders = [
        f"{path.relative_to(RUNTIME.parent)}:{line}"
        for path in sorted(RUNTIME.rglob("*.py"))
        if path not in ALLOWED and not path.is_relative_to(NOT_RUNTIME)
        for line in env_reads(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert not offenders, (
        "read the environment through emochat.core.settings, not here: " + ", ".join(offenders)
    )


def test_settings_keep_their_variables(monkeypatch, tmp_path):
    monkeypatch.setenv("EMOCHAT_DATA_ROOT", str(tmp_path / "data"))
    monkeypatch.delenv("EMOCHAT_MEDIA_ROOT", raising=False)
    monkeypatch.setenv("EMOCHAT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("EMOCHAT_THREADS", "3")
    monkeypatch.setenv("EMOCHAT_AGGREGATOR_MODEL", str(tmp_path / "agg.pt"))
    monkeypatch.setenv("EMOCHAT_SERVE_TOKEN", "t0k")
    monkeypatch.setenv("MY_KEY", "sk-1")
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("RANK", "2")
    monkeypatch.setenv("LOCAL_RANK", "0")
    assert settings.data_root() == tmp_path / "data"
    assert settings.media_root() == tmp_path / "media"
    assert settings.cache_dir() == tmp_path / "cache"
    assert settings.cpu_threads() == 3
    assert settings.aggregator_model_override() == tmp_path / "agg.pt"
    assert settings.serve_token() == "t0k"
    assert settings.secret("MY_KEY") == "sk-1" and settings.secret("") is None
    assert settings.torchrun() == settings.Torchrun(rank=2, world_size=4, local_rank=0)


def test_unset_settings_fall_back(monkeypatch):
    for var in ("EMOCHAT_THREADS", "EMOCHAT_AGGREGATOR_MODEL", "EMOCHAT_SERVE_TOKEN", "RANK"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("EMOCHAT_THREADS", "0")  # not a thread count: the usable cores
    assert settings.cpu_threads() >= 1
    assert settings.aggregator_model_override() is None
    assert settings.serve_token() is None
    assert settings.torchrun().rank == 0


def test_limit_native_threads_keeps_the_users_choice(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    settings.limit_native_threads()
    assert os.environ["OMP_NUM_THREADS"] == "4"
    assert os.environ["MKL_NUM_THREADS"] == "1"
