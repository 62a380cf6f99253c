"""The batch summary table: one row per segment of every finished clip (Parquet), with the
fused and each modality's probabilities (``p_<label>``, ``face_p_<label>``, ...) and
weights, so a study can compare modalities without opening every report.

Who (schema 2.3, issue #26): ``speaker`` is who speaks in the segment, ``role`` whether the
row's face is ``speaking`` or ``listening``, ``person`` the speaker id of the person the
row is about (the speaker, or the listener whose face it is), ``person_label`` that
person's overall emotion, ``n_speakers`` the clip's number of speakers; all null when no
speaker analysis ran.

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
from emochat.core.labels import BASIC_LABELS, fold_to_basic

MODALITIES = ("face", "voice", "text")

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
        ("role", pa.string()),
        ("person", pa.string()),
        ("speaker_face_confidence", pa.float64()),
        ("text", pa.string()),
        ("label", pa.string()),
        ("p_label", pa.float64()),
        ("valence", pa.float64()),
        ("arousal", pa.float64()),
        ("source", pa.string()),
        ("open_vocab", pa.string()),
        *[(f"p_{label}", pa.float64()) for label in BASIC_LABELS],
        ("uncertain", pa.string()),
        *[
            column
            for m in MODALITIES
            for column in (
                (f"{m}_label", pa.string()),
                (f"{m}_weight", pa.float64()),
                *[(f"{m}_p_{label}", pa.float64()) for label in BASIC_LABELS],
            )
        ],
        ("active_aus", pa.string()),
        ("face_description", pa.string()),
        ("clip_label", pa.string()),
        ("person_label", pa.string()),
        ("n_speakers", pa.int32()),
        ("n_warnings", pa.int32()),
    ]
)


def _label(evidence: Mapping[str, Any] | None) -> str | None:
    if not evidence:
        return None
    emo = evidence.get("emotion") if isinstance(evidence.get("emotion"), dict) else evidence
    label = emo.get("label") if isinstance(emo, dict) else None
    return str(label) if label is not None else None


def _modality_columns(modality: str, evidence: Mapping[str, Any] | None, weights) -> dict:
    """``<modality>_label``, ``_weight`` (its share in the fusion) and ``_p_<label>`` (its
    own distribution, folded to the basic labels)."""
    emo = (evidence or {}).get("emotion") or {}
    probs = fold_to_basic(emo["probs"]) if emo.get("probs") else {}
    return {
        f"{modality}_label": _label(evidence),
        f"{modality}_weight": (weights or {}).get(modality),
        **{f"{modality}_p_{label}": probs.get(label) for label in BASIC_LABELS},
    }


def _person(seg: Mapping[str, Any], speakers: list[Mapping[str, Any]]) -> Mapping[str, Any]:
    """The ``speakers`` entry a segment is about: the listener whose face it shows for a
    listening segment, else the speaker ({} when none)."""
    for p in speakers:
        if seg.get("role") == "listening":
            if p.get("face_id") is not None and p.get("face_id") == seg.get("face_id"):
                return p
        elif seg.get("speaker") is not None and p.get("id") == seg.get("speaker"):
            return p
    return {}


def segment_rows(clip_id: str, input_path: str, report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The summary rows of one report (one per segment)."""
    media = report.get("media", {})
    overall = report.get("overall") or {}
    speakers = report.get("speakers")
    rows = []
    for i, seg in enumerate(report.get("segments", [])):
        person = _person(seg, speakers or [])
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
            "role": seg.get("role"),
            "person": person.get("id"),
            "speaker_face_confidence": seg.get("speaker_face_confidence"),
            "text": seg.get("text"),
            "label": emo.get("label"),
            "p_label": probs.get(emo.get("label")) if emo else None,
            "valence": emo.get("valence"),
            "arousal": emo.get("arousal"),
            "source": emo.get("source"),
            "open_vocab": ", ".join(emo.get("open_vocab") or []) or None,
            **{f"p_{label}": probs.get(label) for label in BASIC_LABELS},
            "uncertain": (emo.get("uncertain") or {}).get("reason"),
            **{
                k: v
                for m in MODALITIES
                for k, v in _modality_columns(m, ev.get(m), emo.get("weights")).items()
            },
            "active_aus": ", ".join(f"{a.get('au')}:{a.get('mean', 0):.2f}" for a in active)
            or None,
            "face_description": face.get("description"),
            "clip_label": overall.get("label"),
            "person_label": (person.get("overall") or {}).get("label"),
            "n_speakers": len(speakers) if speakers is not None else None,
            "n_warnings": len(report.get("warnings", [])),
        }
        rows.append(row)
    return rows


def _atomic_parquet(table: pa.Table, path: Path) -> Path:
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
    return path


def write_frames_table(path: Path, report: Mapping[str, Any]) -> Path:
    """The clip's per-frame table (:func:`emochat.report.tables.frames`: one row per face per
    analysed frame), atomically, beside its report."""
    from emochat.report.tables import frames

    return _atomic_parquet(pa.Table.from_pandas(frames(report), preserve_index=False), path)


def write_part(rows: list[dict[str, Any]], path: Path) -> Path:
    """One clip's rows, atomically."""
    return _atomic_parquet(pa.Table.from_pylist(rows, schema=SCHEMA), path)


def _with_schema(table: pa.Table) -> pa.Table:
    """A part in :data:`SCHEMA`: a part an older emochat wrote gets its missing columns as
    nulls, so a resumed batch still combines."""
    for field in SCHEMA:
        if field.name not in table.column_names:
            table = table.append_column(field, pa.nulls(table.num_rows, field.type))
    return table.select(SCHEMA.names).cast(SCHEMA)


def combine_parts(parts: Iterable[Path], path: Path) -> int:
    """Concatenate part files into the summary table (atomically); returns its row count."""
    tables = [_with_schema(pq.read_table(p)) for p in parts]
    table = pa.concat_tables(tables) if tables else SCHEMA.empty_table()
    _atomic_parquet(table, path)
    return table.num_rows
