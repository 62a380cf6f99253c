"""A photo's answer on FER2013 PrivateTest: the face alone through fusion, as a photo is.

Each of the 3,589 PrivateTest photos (split 2, never trained on nor used for selection)
goes through the shipped expression model (``face_pool("test")``, the fusion recipe's
cache) and then through :func:`emochat.fusion.fuse.fuse` alone, at the reliability a
one-frame :class:`~emochat.report.model.FaceEvidence` gives it: as a photo
(``still_image``) and as a single frame of video. Accuracy, expected calibration error
(top label, 15 bins) and the mean top probability show whether the photo's reported
probability means what it says.

    python bench/bench_photo_fusion.py
"""

from __future__ import annotations

import numpy as np
from common import row

from emochat.core.labels import BASIC_LABELS
from emochat.eval.metrics import expected_calibration_error
from emochat.fusion.fuse import ModalityCue, fuse
from emochat.report.model import Emotion, FaceEvidence
from emochat.train.fusion.predictions import face_pool


def fused(probs: np.ndarray, still_image: bool) -> np.ndarray:
    """Each row of ``probs`` (N, 7) as fusion answers for one face frame."""
    out = []
    for p in probs:
        emotion = Emotion.from_probs(
            dict(zip(BASIC_LABELS, map(float, p), strict=True)), "face-cnn"
        )
        evidence = FaceEvidence(
            face_id=0,
            n_frames=1,
            mean_confidence=1.0,
            au_mean={},
            active_aus=[],
            events=[],
            emotion=emotion,
            still_image=still_image,
        )
        answer, _, _ = fuse([ModalityCue("face", emotion, evidence.reliability)])
        out.append([answer.probs[k] for k in BASIC_LABELS])
    return np.asarray(out)


def scores(probs: np.ndarray, labels: np.ndarray) -> str:
    accuracy = float((probs.argmax(1) == labels).mean())
    ece = expected_calibration_error(probs, labels)
    return f"accuracy {accuracy:.4f}, ECE {ece:.3f}, mean top p {probs.max(1).mean():.3f}"


def main() -> int:
    pool = face_pool("test")
    n = len(pool.labels)
    print(row(f"FER2013 PrivateTest (n={n}), the model alone: {scores(pool.probs, pool.labels)}"))
    for still, name in ((True, "as a photo"), (False, "as one frame of video")):
        probs = fused(pool.probs, still)
        print(row(f"fused face only, {name}: {scores(probs, pool.labels)}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
