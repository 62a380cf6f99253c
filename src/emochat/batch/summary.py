"""The batch summary table: one row per segment of every finished clip (Parquet).

Each clip's rows are written to their own part file as the clip finishes; the
summary is rebuilt from the parts of finished clips, so a clip that ran twice
(crash between its outputs and its marker) still appears exactly once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from emochat.core.files import atomic_path
from emochat.core.labels import BASIC_LABELS

SCHEMA = pa.schema(
    [
        ("clip_id", pa.string()),
        ("input", pa.string()),
        ("segment", pa.int32()),
        ("start_s", pa.float64()),
        ("end_s", pa.float64()),
        ("clip_duration_s", pa.float64()),
        ("face_id", pa.int32()),
        ("speaker", pa.string()),
        ("text", pa.string()),
        ("label", pa.string()),
        ("p_label", pa.float64()),
        ("valence", pa.float64()),
        ("arousal", pa.float64()),
        ("source", pa.string()),
        ("open_vocab", pa.string()),
        *[(f"p_{label}", pa.float64()) for label in BASIC_LABELS],
        ("face_label", pa.string()),
        ("voice_label", pa.string()),
        ("text_label", pa.string()),
        ("active_aus", pa.string()),
        ("face_description", pa.string()),
        ("clip_label", pa.string()),
        ("n_warnings", pa.int32()),
    ]
)


def _label(evidence: Mapping[str, Any] | None) -> str | None:
    if not evidence:
        return None
    emo = evidence.get("emotion") if isinstance(evidence.get("emotion"), dict) else evidence
    label = emo.get("label") if isinstance(emo, dict) else None
    return str(label) if label is not None else None


def segment_rows(clip_id: str, input_path: str, report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The summary rows of one report (one per segment)."""
    media = report.get("media", {})
    overall = report.get("overall") or {}
    rows = []
    for i, seg in enumerate(report.get("segments", [])):
        emo = seg.get("emotion") or {}
        probs = emo.get("probs") or {}
        ev = seg.get("evidence") or {}
        face = ev.get("face") or {}
        active = face.get("active_aus") or []
        row = {
            "clip_id": clip_id,
            "input": input_path,
            "segment": i,
            "start_s": seg.get("start_s"),
            "end_s": seg.get("end_s"),
            "clip_duration_s": media.get("duration_s"),
            "face_id": seg.get("face_id"),
            "speaker": seg.get("speaker"),
            "text": seg.get("text"),
            "label": emo.get("label"),
            "p_label": probs.get(emo.get("label")) if emo else None,
            "valence": emo.get("valence"),
            "arousal": emo.get("arousal"),
            "source": emo.get("source"),
            "open_vocab": ", ".join(emo.get("open_vocab") or []) or None,
            **{f"p_{label}": probs.get(label) for label in BASIC_LABELS},
            "face_label": _label(face),
            "voice_label": _label(ev.get("voice")),
            "text_label": _label(ev.get("text")),
            "active_aus": ", ".join(f"{a.get('au')}:{a.get('mean', 0):.2f}" for a in active)
            or None,
            "face_description": face.get("description"),
            "clip_label": overall.get("label"),
            "n_warnings": len(report.get("warnings", [])),
        }
        rows.append(row)
    return rows


def _atomic_parquet(table: pa.Table, path: Path) -> Path:
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
    return path


def write_part(rows: list[dict[str, Any]], path: Path) -> Path:
    """One clip's rows, atomically."""
    return _atomic_parquet(pa.Table.from_pylist(rows, schema=SCHEMA), path)


def combine_parts(parts: Iterable[Path], path: Path) -> int:
    """Concatenate part files into the summary table (atomically); returns its row count."""
    tables = [pq.read_table(p, schema=SCHEMA) for p in parts]
    table = pa.concat_tables(tables) if tables else SCHEMA.empty_table()
    _atomic_parquet(table, path)
    return table.num_rows
