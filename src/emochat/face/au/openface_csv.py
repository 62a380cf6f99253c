"""OpenFace-2-compatible per-frame CSV, so existing analysis scripts read it unchanged.

Same column names, order, ", " separator and number formats as OpenFace 2.2's
RecorderCSV (frame 1-based, timestamp 3 decimals, confidence 2, gaze vectors 6
significant digits, gaze angles 3 decimals, pose_T 1 decimal in mm, pose_R 3 decimals in
radians, landmarks 1 decimal in pixels, AU_r 2, AU_c 1): frame, face_id, timestamp,
confidence, success, gaze_0_x .. gaze_angle_y, pose_Tx .. pose_Rz, x_0 .. x_67,
y_0 .. y_67, AUxx_r, AUxx_c. What we do not estimate is left out rather than faked: the
eye-region landmarks (eye_lmk_*), the 3D landmarks (X_/Y_/Z_), the shape model's
parameters (p_*) and AU28_c.

Measured differently from OpenFace: gaze from the iris landmarks (:mod:`emochat.face.gaze`);
pose_T from a pinhole with OpenFace's guessed focal length and an average face size
(:func:`emochat.face.pose.translation_mm`); the 68 points are mesh vertices at the iBUG
places (:mod:`emochat.face.ibug68`). Pixels are those of the analysed frame (the source
scaled so its longer side is at most ``max_side``). A processed frame without any face
gets one row with success 0 and zeros, as FeatureExtraction writes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emochat.core.action_units import AU_CODES
from emochat.face.au.analysis import FaceAnalysis
from emochat.face.gaze import gaze_angles
from emochat.face.pose import translation_mm

N_POINTS = 68
GAZE = [f"gaze_{eye}_{axis}" for eye in (0, 1) for axis in "xyz"] + [
    "gaze_angle_x",
    "gaze_angle_y",
]
POSE = ["pose_Tx", "pose_Ty", "pose_Tz", "pose_Rx", "pose_Ry", "pose_Rz"]
LANDMARKS = [f"x_{i}" for i in range(N_POINTS)] + [f"y_{i}" for i in range(N_POINTS)]
HEADER = (
    ["frame", "face_id", "timestamp", "confidence", "success"]
    + GAZE
    + POSE
    + LANDMARKS
    + [f"{code}_r" for code in AU_CODES]
    + [f"{code}_c" for code in AU_CODES]
)


def openface_csv(analysis: FaceAnalysis) -> str:
    """The CSV's text: one row per (frame, face), frames in order."""
    rows = []  # (frame_index, face_id, text)
    seen_frames = set()
    width, height = analysis.frame_size or (640, 480)
    for face_id, track in analysis.au.tracks.items():
        rotation = np.radians(
            np.column_stack([track.pitch, track.yaw, track.roll]).astype(np.float64)
        )
        translation = translation_mm(track.head[:, :2], track.head[:, 2], width, height)
        gaze = np.nan_to_num(track.gaze.astype(np.float64))
        angles = gaze_angles(gaze)
        for i in range(len(track)):
            frame = int(track.frame_index[i])
            seen_frames.add(frame)
            points = track.landmarks68[i]
            values = (
                [
                    f"{frame + 1}",
                    f"{face_id}",
                    f"{track.t_s[i]:.3f}",
                    f"{track.confidence[i]:.2f}",
                    "1",
                ]
                + [f"{v:.6g}" for v in gaze[i].ravel()]
                + [f"{v:.3f}" for v in angles[i]]
                + [f"{v:.1f}" for v in translation[i]]
                + [f"{v:.3f}" for v in rotation[i]]
                + [f"{v:.1f}" for v in points[:, 0]]
                + [f"{v:.1f}" for v in points[:, 1]]
                + [f"{v:.2f}" for v in track.intensity[i]]
                + [f"{float(v):.1f}" for v in track.presence[i]]
            )
            rows.append((frame, face_id, ", ".join(values)))
    empty_tail = ", ".join(
        ["0"] * 6
        + ["0.000"] * 2
        + ["0.0"] * 3
        + ["0.000"] * 3
        + ["0.0"] * len(LANDMARKS)
        + ["0.00"] * len(AU_CODES)
        + ["0.0"] * len(AU_CODES)
    )
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
