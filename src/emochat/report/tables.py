"""A report as tidy pandas tables: one row per face per analysed frame, per segment, per word.

What py-feat's ``Fex`` and OpenFace's CSV give, read from report.json (or a
:class:`~emochat.report.model.Report`), so that a per-frame plot is two lines:
``emochat.analyze("clip.mp4").frames().plot(x="time_s", y="AU12_r")``.

Units: times in seconds from media start; head pose in degrees (yaw left-right, pitch
up-down, roll in-plane); face boxes in pixels of the analysed frame; gaze as OpenFace
names it: unit vectors ``gaze_0_*`` (the eye on the image's left) and ``gaze_1_*`` in
camera coordinates (x right, y down, z away from the camera) and ``gaze_angle_x/y`` in
radians (positive towards the image's right and down); AU intensities ``AUxx_r`` on FACS's 0-5 scale and presence
``AUxx_c`` 0/1 (OpenFace's column names); probabilities in 0..1; valence in -1..1 and
arousal in 0..1 (the probability-weighted circumplex position, :func:`valence_arousal`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emochat.core.labels import valence_arousal

if TYPE_CHECKING:
    import pandas as pd

TABLES = ("frames", "utterances", "words")
_GAZE = tuple(tuple(f"gaze_{eye}_{axis}" for axis in "xyz") for eye in (0, 1))


def report_data(report: Any) -> dict[str, Any]:
    """report.json's content from a :class:`Report`, a mapping, or a report.json path."""
    if isinstance(report, str | Path):
        return json.loads(Path(report).read_text(encoding="utf-8"))
    if isinstance(report, Mapping):
        return dict(report)
    return report.to_dict()


def frames(report: Any) -> pd.DataFrame:
    """One row per face per analysed frame: ``time_s``, ``frame`` (the source video's frame
    number, from the time and the stream's frame rate), ``face_id``, ``confidence`` (the
    tracker's), ``pose_yaw/pitch/roll`` (degrees), ``pose_tx_mm/ty_mm/tz_mm`` (the head's position in
    mm, camera frame, from an average face size and a guessed focal length: not validated), ``box_x/y/w/h`` (pixels),
    ``gaze_0_x`` .. ``gaze_1_z`` and ``gaze_angle_x/y`` (radians), ``AUxx_r``/``AUxx_c``, ``expr_<label>``
    (the expression model's probabilities), ``valence`` and ``arousal`` of those."""
    import pandas as pd

    data = report_data(report)
    au, expression = data.get("au") or {}, data.get("expression") or {}
    names = au.get("names") or []
    labels = expression.get("labels") or []
    expr_tracks = {t["face_id"]: t for t in expression.get("tracks") or []}
    fps = (data.get("media") or {}).get("fps")
    rows: dict[tuple[int, float], dict[str, Any]] = {}

    def row(face_id: int, t: float) -> dict[str, Any]:
        key = (face_id, round(float(t), 4))
        if key not in rows:
            frame = round(float(t) * fps) if fps else None
            rows[key] = {"time_s": float(t), "frame": frame, "face_id": face_id}
        return rows[key]

    for track in au.get("tracks") or []:
        pose, box, gaze = track.get("pose") or {}, track.get("box"), track.get("gaze")
        for i, t in enumerate(track["t_s"]):
            r = row(track["face_id"], t)
            r["confidence"] = track["confidence"][i]
            for axis in ("yaw", "pitch", "roll", "tx_mm", "ty_mm", "tz_mm"):
                if axis in pose:
                    r[f"pose_{axis}"] = pose[axis][i]
            if box:
                r.update(zip(("box_x", "box_y", "box_w", "box_h"), box[i], strict=True))
            if gaze:
                for eye in (0, 1):
                    r.update(zip(_GAZE[eye], gaze[f"eye{eye}"][i], strict=True))
                r["gaze_angle_x"], r["gaze_angle_y"] = gaze["angle_x"][i], gaze["angle_y"][i]
            r.update({f"{n}_r": v for n, v in zip(names, track["intensity"][i], strict=True)})
            r.update({f"{n}_c": v for n, v in zip(names, track["presence"][i], strict=True)})
    for face_id, track in expr_tracks.items():
        for t, probs in zip(track["t_s"], track["probs"], strict=True):
            r = row(face_id, t)
            named = dict(zip(labels, probs, strict=True))
            r.update({f"expr_{k}": v for k, v in named.items()})
            r["valence"], r["arousal"] = valence_arousal(named)
    table = pd.DataFrame(list(rows.values()))
    if table.empty:
        return pd.DataFrame(columns=["time_s", "frame", "face_id"])
    table = table.sort_values(["time_s", "face_id"], kind="stable").reset_index(drop=True)
    return table.astype({"frame": "Int64", "face_id": "int64"})


def _emotion_columns(prefix: str, emotion: Mapping[str, Any] | None) -> dict[str, Any]:
    if not emotion:
        return {}
    out = {f"{prefix}label": emotion.get("label")}
    out.update({f"{prefix}p_{k}": v for k, v in (emotion.get("probs") or {}).items()})
    for key in ("valence", "arousal", "uncertain"):
        if key in emotion:
            out[f"{prefix}{key}"] = emotion[key]
    return out


def utterances(report: Any) -> pd.DataFrame:
    """One row per segment: ``start_s``, ``end_s``, ``face_id``, ``speaker``, ``role``
    (speaking / listening, empty without the speaker stage), ``text``; the
    fused ``label``, ``p_<label>``, ``valence``, ``arousal`` and (when the fusion abstains)
    ``uncertain``; each modality's ``<modality>_label``, ``<modality>_p_<label>`` and
    ``<modality>_weight`` (its share in the fusion)."""
    import pandas as pd

    rows = []
    for seg in report_data(report).get("segments") or []:
        emotion = seg.get("emotion") or {}
        row: dict[str, Any] = {
            "start_s": seg.get("start_s"),
            "end_s": seg.get("end_s"),
            "face_id": seg.get("face_id"),
            "speaker": seg.get("speaker"),
            "role": seg.get("role"),
            "text": seg.get("text"),
        }
        row.update(_emotion_columns("", emotion))
        for modality, evidence in (seg.get("evidence") or {}).items():
            row.update(_emotion_columns(f"{modality}_", evidence.get("emotion")))
            weight = (emotion.get("weights") or {}).get(modality)
            if weight is not None:
                row[f"{modality}_weight"] = weight
        rows.append(row)
    return pd.DataFrame(rows, columns=None if rows else ["start_s", "end_s", "label"])


def words(report: Any) -> pd.DataFrame:
    """One row per spoken word: ``segment`` (its row in :func:`utterances`), ``start_s``,
    ``end_s``, ``text``, ``probability`` (the recogniser's; empty for a transcript),
    ``attention_s`` (where the aggregator looked for it), ``loudness``, ``pitch_mean_st``
    (semitones re 27.5 Hz) and the per-utterance z-scores ``z_<feature>``."""
    import pandas as pd

    rows = []
    for index, seg in enumerate(report_data(report).get("segments") or []):
        voice = (seg.get("evidence") or {}).get("voice") or {}
        for word in voice.get("words") or []:
            prosody = word.get("prosody") or {}
            row = {
                "segment": index,
                "start_s": word.get("start_s"),
                "end_s": word.get("end_s"),
                "text": word.get("text"),
                "probability": word.get("probability"),
                "attention_s": word.get("attention_s"),
            }
            row.update({k: v for k, v in prosody.items() if k != "z"})
            row.update({f"z_{k}": v for k, v in (prosody.get("z") or {}).items()})
            rows.append(row)
    return pd.DataFrame(rows, columns=None if rows else ["segment", "start_s", "end_s", "text"])


def table(report: Any, name: str) -> pd.DataFrame:
    """The table ``name`` (:data:`TABLES`)."""
    if name not in TABLES:
        raise ValueError(f"no table {name!r}; the tables are {', '.join(TABLES)}")
    return {"frames": frames, "utterances": utterances, "words": words}[name](report)
