"""The analysis report: typed in Python, plain JSON on disk, checked against a schema.

report.json has a stable shape: every top-level key of the schema is always there, and a
block no stage produced (``overall``, ``faces``, ``au``, ``expression``, ``explanation``)
is ``null`` rather than a placeholder, so a reader can index any key and still tell "not
measured" from "measured as nothing". Inside the blocks a field that is None is left
out instead (a segment without text has no ``text`` key): the schema keeps those nested
fields optional and never null, and nested dicts such as ``evidence`` vary by stage anyway.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from emochat.fsutil import atomic_write_text

SCHEMA_VERSION = "2.0.0"
"""Semantic: 2.0 made the top-level keys required and nullable, which 1.x readers reject."""


@dataclass
class Warning:
    """Something a stage could not do; the rest of the analysis went on."""

    stage: str
    code: str
    message: str


@dataclass
class Emotion:
    """One emotion estimate in the basic label space."""

    label: str
    probs: dict[str, float]
    valence: float | None = None
    arousal: float | None = None
    open_vocab: list[str] = field(default_factory=list)
    source: str = ""
    weights: dict[str, float] | None = None
    """Fusion only: each modality's share of the answer."""
    conflict: dict[str, Any] | None = None
    """Fusion only: confident modalities that disagree in valence."""

    @classmethod
    def from_probs(cls, probs: dict[str, float], source: str, **extra: Any) -> Emotion:
        """The top label and the circumplex valence/arousal of a distribution."""
        from emochat.emotions import valence_arousal

        valence, arousal = valence_arousal(probs)
        label = max(probs, key=probs.get)
        return cls(label, probs, valence, arousal, source=source, **extra)


@dataclass
class Segment:
    """A stretch of media (an utterance, or a fixed window when there is no speech)."""

    start_s: float
    end_s: float
    text: str | None = None
    speaker: str | None = None
    face_id: int | None = None
    emotion: Emotion | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    cue_vectors: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """The segment emotion tokens the stages computed (voice: pooled whisper-base states,
    text: the e5 embedding), for the multimodal LLM reasoner; not written to report.json."""


@dataclass
class Explanation:
    text: str
    cites: list[dict[str, Any]] = field(default_factory=list)
    """The measured cues behind the explanation (the grounded reasoner's, for every reasoner)."""
    reasoner: str = "grounded"
    model: str | None = None
    """LLM reasoners: backend and model that wrote ``text``."""
    grounded_text: str | None = None
    """LLM reasoners: the built-in explanation of the same cues, kept beside the LLM's."""
    unmeasured_cues: list[str] | None = None
    """LLM reasoners: AUs the LLM's text names that the analysis never measured."""
    segments: list[dict[str, Any]] | None = None
    """emochat-llm: its answer per segment it read (label, probs, words, rationale)."""


@dataclass
class Report:
    media: dict[str, Any]
    segments: list[Segment] = field(default_factory=list)
    overall: Emotion | None = None
    faces: list[dict[str, Any]] | None = None
    au: dict[str, Any] | None = None
    expression: dict[str, Any] | None = None
    """Per-frame facial expression probabilities per face (the FER2013 CNN)."""
    explanation: Explanation | None = None
    warnings: list[Warning] = field(default_factory=list)
    timings_s: dict[str, float] = field(default_factory=dict)
    stages: list[str] = field(default_factory=list)
    emochat_version: str = ""
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    schema_version: str = SCHEMA_VERSION

    def warn(self, stage: str, code: str, message: str) -> None:
        self.warnings.append(Warning(stage, code, message))

    def to_dict(self) -> dict[str, Any]:
        # shallow copies without the cue vectors: asdict would deep-copy them first
        light = replace(self, segments=[replace(s, cue_vectors={}) for s in self.segments])
        # top-level keys stay (null: not produced); Nones inside the blocks are left out
        return {k: _drop_none(v) for k, v in asdict(light, dict_factory=_json_fields).items()}

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def write_json(self, path: str | Path) -> Path:
        return atomic_write_text(path, self.to_json())


def _json_fields(items: list[tuple[str, Any]]) -> dict[str, Any]:
    """A dataclass's fields as report.json has them: segments' cue vectors stay in memory."""
    return {k: v for k, v in items if k != "cue_vectors"}


def _drop_none(value: Any) -> Any:
    """Remove keys whose value is None, recursively (inside a block: absent = not measured)."""
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


@cache
def report_schema() -> dict[str, Any]:
    """The JSON Schema of report.json shipped with the package."""
    text = resources.files("emochat.report").joinpath("report.schema.json").read_text("utf-8")
    return json.loads(text)


def validate_report(data: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` if ``data`` is not a valid report."""
    import jsonschema

    jsonschema.validate(data, report_schema())
