"""A user's clip list: ``path,label[,transcript][,valence]`` or a folder of label folders,
for evaluation and training.

``emochat eval manifest`` scores the full pipeline on it; the aggregator and emochat-llm
recipes train on it. Paths are resolved against the manifest's folder, and every problem
is a one-line DataError naming the manifest and its line.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pandas as pd

from emochat.core.errors import DataError
from emochat.core.files import MEDIA_SUFFIXES, files_under
from emochat.core.labels import gold_to_basic
from emochat.data.csvio import read_rows

_MANIFEST_OWN = ("id", "basic")
"""Columns :func:`read_manifest` fills itself: a manifest may not bring its own."""


def _check_manifest_header(path: Path) -> None:
    """Duplicate or reserved column names would silently overwrite each other's values."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        header = [h.strip() for h in next(csv.reader(fh))]
    for name in header:
        if name and header.count(name) > 1:
            raise DataError(path, f"line 1: column {_shown(name)} appears twice")
        if name in _MANIFEST_OWN:
            raise DataError(path, f"line 1: column {name!r} is filled by emochat; rename it")


def _is_file(p: Path) -> bool:
    """Path.is_file that says False (not OSError) for names the OS refuses (too long, ...)."""
    try:
        return p.is_file()
    except (OSError, ValueError):
        return False


def _shown(name: str) -> str:
    """A name as typed, or quoted when it holds characters that would break the line."""
    return name if name.isprintable() else repr(name)


def read_manifest(path: str | Path, check_files: bool = True) -> pd.DataFrame:
    """A clip list CSV: ``path,label`` plus optional ``transcript`` and ``valence``; or a
    folder of clips in one folder per label (:func:`folder_manifest`).

    ``path`` and ``transcript`` (a transcript file) are resolved against the
    manifest's folder. Columns: id (row number), path, label, basic (missing when
    the label is not a basic label or alias), transcript (missing when none), valence
    (float or NaN), and any other columns as given. With ``check_files`` a missing
    media or transcript file raises DataError naming the manifest line.
    """
    path = Path(path)
    if path.is_dir():
        return folder_manifest(path)
    base = path.parent
    records = []
    rows = read_rows(path, ("path", "label"))
    _check_manifest_header(path)
    for n, (line, row) in enumerate(rows):
        clip = row["path"].strip()
        if not clip:
            raise DataError(path, f"line {line}: empty path")
        clip_path = (base / clip) if not Path(clip).is_absolute() else Path(clip)
        if check_files and not _is_file(clip_path):
            raise DataError(path, f"line {line}: no such file {_shown(clip)}")
        label = row["label"].strip().lower()
        if not label:
            raise DataError(path, f"line {line}: empty label")
        transcript = (row.get("transcript") or "").strip()
        transcript_path = None
        if transcript:
            transcript_path = (
                base / transcript if not Path(transcript).is_absolute() else Path(transcript)
            )
            if check_files and not _is_file(transcript_path):
                raise DataError(path, f"line {line}: no such transcript file {_shown(transcript)}")
        valence_cell = (row.get("valence") or "").strip()
        try:
            valence = float(valence_cell) if valence_cell else float("nan")
        except ValueError:
            raise DataError(
                path, f"line {line}: valence {valence_cell[:40]!r} is not a number"
            ) from None
        if math.isinf(valence):
            raise DataError(path, f"line {line}: valence {valence_cell[:40]!r} is not finite")
        extra = {
            k: v for k, v in row.items() if k not in ("path", "label", "transcript", "valence")
        }
        records.append(
            {
                "id": n,
                "path": str(clip_path),
                "label": label,
                "basic": gold_to_basic(label),
                "transcript": None if transcript_path is None else str(transcript_path),
                "valence": valence,
                **extra,
            }
        )
    if not records:
        raise DataError(path, "no clips listed")
    return pd.DataFrame.from_records(records)


def folder_manifest(root: str | Path) -> pd.DataFrame:
    """The clips of a folder laid out as ``root/<label>/...``, the way labelled face sets
    often come (``anger/``, ``happy/``, ...): every media file (:data:`MEDIA_SUFFIXES`) at
    any depth, labelled by the folder right under ``root``; hidden files and folders are
    skipped. Columns as :func:`read_manifest`'s; a media file in ``root`` itself has no
    label and raises DataError."""
    root = Path(root)
    records = []
    for file in files_under(root, MEDIA_SUFFIXES):
        parts = file.relative_to(root).parts
        if len(parts) == 1:
            raise DataError(
                root,
                f"{_shown(parts[0])} is not in a label folder: put each clip in a "
                "folder named after its label (anger/, happy/, ...)",
            )
        label = parts[0].strip().lower()
        records.append(
            {
                "id": len(records),
                "path": str(file),
                "label": label,
                "basic": gold_to_basic(label),
                "transcript": None,
                "valence": float("nan"),
            }
        )
    if not records:
        raise DataError(root, "no media files in label folders (anger/, happy/, ...)")
    return pd.DataFrame.from_records(records)
