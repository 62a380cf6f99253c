"""What produced a report, so that it can be reproduced from the file alone.

``report.provenance`` holds the options as resolved, every model that ran (name and
sha256), the library versions, the CPU and the input's size and sha256. The input's path
is left out unless asked (a report is often shared; the path may name a person).
:func:`options_from_report` reads the options back for ``emochat analyze --options``.
"""

from __future__ import annotations

import base64
import importlib.metadata
import platform
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from emochat._version import __version__
from emochat.core.errors import EmochatError
from emochat.core.files import file_sha256
from emochat.core.machine import cpu_flags, cpu_model
from emochat.models import registry
from emochat.options import AnalyzeOptions

PIPELINE_MODELS = ("face_detector", "face_landmarker", "silero_vad", "e5_encoder", "whisper_base")
"""The dependencies' models every analysis runs, beside the slots' (``registry.SLOTS``)."""
ASR_MODEL_ENTRIES = {"base": "whisper_base", "tiny.en": "whisper_tiny_en"}
LIBRARIES = (
    "numpy",
    "onnxruntime",
    "ai-edge-litert",
    "ctranslate2",
    "faster-whisper",
    "av",
    "opencv-contrib-python",
    "opencc",
    "torch",
)
"""Libraries whose version can change a number in the report."""


def file_summary(path: str | Path, *, with_path: bool = False) -> dict[str, Any]:
    """A file as provenance names it: name, bytes, sha256 (and its absolute path if asked)."""
    p = Path(path)
    summary: dict[str, Any] = {
        "name": p.name,
        "bytes": p.stat().st_size,
        "sha256": file_sha256(p),
    }
    if with_path:
        summary["path"] = str(p.resolve())
    return summary


@cache
def _recorded_sha256(entry: registry.ModelEntry, relative: str) -> str | None:
    """A dependency's file hash as its wheel's RECORD lists it (no need to read 145 MB of
    whisper again); None when the distribution does not list it. Read once per process:
    batch and serve stamp every report."""
    if entry.kind != registry.PYPI:  # emochat's own files: no dependency's RECORD lists them
        return None
    for requirement in entry.source.split(","):
        dist_name = requirement.strip().split("==")[0].split(" ")[0]
        try:
            files = importlib.metadata.distribution(dist_name).files or []
        except importlib.metadata.PackageNotFoundError:
            continue
        for file in files:
            if str(file) == relative and file.hash is not None and file.hash.mode == "sha256":
                return base64.urlsafe_b64decode(file.hash.value + "==").hex()
    return None


def _model_files(name: str, path: Path | None = None) -> list[dict[str, Any]]:
    entry = registry.entry(name)
    files = []
    for i, relative in enumerate(entry.files):
        file = path if (i == 0 and path is not None) else registry.file_path(relative)
        digest = None if path is not None else _recorded_sha256(entry, relative)
        if digest is None and file.is_file():
            digest = registry.sha256(file)
        files.append({"file": relative if file != path else str(file), "sha256": digest})
    return files


def models_used(options: AnalyzeOptions) -> dict[str, dict[str, Any]]:
    """Every model an analysis with ``options`` runs: name, version and each file's sha256;
    a slot filled with the user's file is named by that file."""
    used: dict[str, dict[str, Any]] = {}
    chosen = options.models or {}
    for slot in registry.SLOTS:
        if slot == "emochat_llm":
            continue
        value = chosen.get(slot, slot)
        if value == slot:
            used[slot] = {"name": slot, "version": registry.entry(slot).version}
            used[slot]["files"] = _model_files(slot)
        else:
            used[slot] = {"name": None, "files": _model_files(slot, Path(value))}
    names = [*PIPELINE_MODELS, ASR_MODEL_ENTRIES[options.asr_model]]
    if options.reasoner is not None and options.reasoner.kind == "emochat-llm":
        names.append("emochat_llm")
    for name in dict.fromkeys(names):
        used[name] = {"name": name, "version": registry.entry(name).version}
        used[name]["files"] = _model_files(name)
    return used


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def software() -> dict[str, str | None]:
    """emochat's, Python's, the numeric libraries' and ffmpeg's versions (a copy: looked up
    once per process)."""
    return dict(_software())


@cache
def _software() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"emochat": __version__, "python": platform.python_version()}
    versions.update({name: _version(name) for name in LIBRARIES})
    try:
        import av

        codec = av.library_versions["libavcodec"]
        versions["ffmpeg"] = "libavcodec " + ".".join(str(part) for part in codec)
    except (ImportError, KeyError):
        versions["ffmpeg"] = None
    return versions


def collect(
    path: str | Path, options: AnalyzeOptions, *, with_paths: bool = False
) -> dict[str, Any]:
    """``report.provenance`` for an analysis of ``path`` with ``options``."""
    plain = options.to_mapping()
    if options.transcript is not None:
        plain["transcript"] = file_summary(options.transcript, with_path=with_paths)
    return {
        "input": file_summary(path, with_path=with_paths),
        "options": plain,
        "models": models_used(options),
        "software": software(),
        "machine": {
            "cpu": cpu_model(),
            "cpu_flags": cpu_flags(),
            "system": f"{platform.system()} {platform.machine()}",
        },
    }


def options_from_report(
    report: Mapping[str, Any], source: str | Path
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The options a report was made with, as :meth:`AnalyzeOptions.from_mapping` reads
    them, and the transcript it named (name, bytes, sha256; None: none). ``source`` names
    the file in errors."""
    provenance = report.get("provenance")
    if not isinstance(provenance, Mapping) or not isinstance(provenance.get("options"), Mapping):
        raise EmochatError(
            Path(source),
            "this report has no provenance (an older emochat made it): no options to re-run",
        )
    options = dict(provenance["options"])
    transcript = options.pop("transcript", None)
    return options, transcript if isinstance(transcript, Mapping) else None


def transcript_matches(summary: Mapping[str, Any], path: str | Path) -> bool:
    """Whether ``path`` is the transcript a report's provenance names (by sha256)."""
    return file_sha256(path) == summary.get("sha256")
