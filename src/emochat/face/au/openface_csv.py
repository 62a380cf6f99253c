"""OpenFace-2-compatible per-frame CSV, so existing analysis scripts read it unchanged.

Same column names, order, ", " separator and number formats as OpenFace 2.2's
RecorderCSV (frame 1-based, timestamp 3 decimals, confidence 2, pose 3, AU_r 2, AU_c 1),
limited to what we estimate: no gaze, landmarks, pose translation or AU28_c. A
processed frame without any face gets one row with success 0, as FeatureExtraction writes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emochat.core.action_units import AU_CODES
from emochat.face.au.analysis import FaceAnalysis

HEADER = (
    ["frame", "face_id", "timestamp", "confidence", "success", "pose_Rx", "pose_Ry", "pose_Rz"]
    + [f"{code}_r" for code in AU_CODES]
    + [f"{code}_c" for code in AU_CODES]
)


def openface_csv(analysis: FaceAnalysis) -> str:
    """The CSV's text: one row per (frame, face), frames in order."""
    rows = []  # (frame_index, face_id, text)
    seen_frames = set()
    for face_id, track in analysis.au.tracks.items():
        pose = np.radians(np.column_stack([track.pitch, track.yaw, track.roll]).astype(np.float64))
        for i in range(len(track)):
            frame = int(track.frame_index[i])
            seen_frames.add(frame)
            values = (
                [
                    f"{frame + 1}",
                    f"{face_id}",
                    f"{track.t_s[i]:.3f}",
                    f"{track.confidence[i]:.2f}",
                    "1",
                ]
                + [f"{v:.3f}" for v in pose[i]]
                + [f"{v:.2f}" for v in track.intensity[i]]
                + [f"{float(v):.1f}" for v in track.presence[i]]
            )
            rows.append((frame, face_id, ", ".join(values)))
    empty_tail = ", ".join(["0.000"] * 3 + ["0.00"] * len(AU_CODES) + ["0.0"] * len(AU_CODES))
    for t_s, index in analysis.frame_times:
        if int(index) not in seen_frames:
            rows.append((int(index), 0, f"{int(index) + 1}, 0, {t_s:.3f}, 0.00, 0, {empty_tail}"))
    rows.sort(key=lambda r: (r[0], r[1]))
    return "".join(line + "\n" for line in [", ".join(HEADER), *(text for _, _, text in rows)])


def write_openface_csv(analysis: FaceAnalysis, path: str | Path) -> Path:
    """Write :func:`openface_csv` to ``path``; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(openface_csv(analysis))
    return path
