"""Facial expression: 7 basic classes from a 48x48 grey face crop, aligned by landmarks.

The shipped model (``expression.onnx``, see models/face_expression/CARD.md; registered as
``face_expression``) is an int8 ensemble
of two compact CNNs trained on FER2013 by ``emochat.train.face_expression``, averaged inside one
graph; it runs on onnxruntime in batches and
returns probabilities in :data:`~emochat.core.labels.BASIC_LABELS` order. By default each
face is scored in four views averaged together (test-time augmentation ``"zoom"``: the
crop and its mirror image, each as is and zoomed in 8 %; +0.4 points on PublicTest and
+0.3 on PrivateTest over the mirror pair alone, at twice its cost); ``tta="mirror"`` and
``"none"`` are cheaper. Valence/arousal come from the class probabilities through
:func:`emochat.core.labels.valence_arousal` (a documented stand-in).

:func:`crop_aligned` turns a frame and a face's 478 landmarks into the crop the model
expects: eyes horizontal, a fixed 3-D inter-ocular distance (insensitive to yaw) and
the eyes where FER2013's face crops have them (measured by running the face stage on
FER2013 training images: eye centres at (15.3, 19.3) and (32.7, 19.3) of 48 px).
"""

from __future__ import annotations

import filecmp
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np

from emochat.core.labels import BASIC_LABELS, valence_arousal
from emochat.core.probabilities import soften
from emochat.face.pose import align
from emochat.models import registry
from emochat.models.onnx_session import cpu_session
from emochat.report.model import Emotion

MODEL_FILE = registry.weight_file("face_expression")
CALIBRATION_FILE = MODEL_FILE.parent / "reader_calibration.json"
"""The face reader's calibration, fitted on FER2013 PublicTest by ``emochat.train.face_reader``."""
CROP_SIZE = 48
TTA_VIEWS: dict[str, tuple[tuple[float, bool], ...]] = {
    "none": ((1.0, False),),
    "mirror": ((1.0, False), (1.0, True)),
    "zoom": ((1.0, False), (1.0, True), (1.08, False), (1.08, True)),
}
"""Test-time views averaged per face: (zoom about the crop centre, mirrored). The zoom was
chosen on PublicTest among 1.05-1.16 (69.4-70.0%); 1.08, the first candidate, is kept."""
LABELS: tuple[str, ...] = BASIC_LABELS
SOURCE = "face-cnn"
"""``Emotion.source`` of this model's predictions (the face stage's name for it)."""

# FER2013 framing, in continuous pixel coordinates of the 48 px crop (0 = left edge)
EYE_MID = (24.0, 19.3)
INTER_OCULAR = 17.3
# MediaPipe mesh eye corners: image-left eye (33 outer, 133 inner), image-right (263, 362)
_LEFT_EYE = (33, 133)
_RIGHT_EYE = (263, 362)


def _to_gray(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 3:
        image = cv2.cvtColor(image[:, :, :3], cv2.COLOR_RGB2GRAY)
    if image.ndim != 2:
        raise ValueError(f"expected an HxW or HxWx3 image, got shape {image.shape}")
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    return image


def aligning_transform(landmarks: np.ndarray, size: int = CROP_SIZE) -> np.ndarray:
    """2x3 affine (frame pixels -> crop pixels, OpenCV convention) of :func:`crop_aligned`."""
    pts = np.asarray(landmarks, dtype=np.float64)
    left = pts[list(_LEFT_EYE)].mean(axis=0)
    right = pts[list(_RIGHT_EYE)].mean(axis=0)
    d2 = right[:2] - left[:2]
    # 3-D distance when z is given: turning the head does not shrink it
    iod = float(np.linalg.norm(right - left)) if pts.shape[1] >= 3 else float(np.hypot(*d2))
    if iod < 1e-6:
        raise ValueError("eye landmarks coincide: cannot align this face")
    angle = np.arctan2(d2[1], d2[0])
    scale = INTER_OCULAR * size / CROP_SIZE / iod
    c, s = np.cos(-angle) * scale, np.sin(-angle) * scale
    rot = np.array([[c, -s], [s, c]])
    mid = (left[:2] + right[:2]) / 2
    target = np.array(EYE_MID) * size / CROP_SIZE
    # continuous coordinates -> OpenCV pixel-centre coordinates (both sides shift by 0.5)
    shift = (target - 0.5) - rot @ (mid - 0.5)
    return np.hstack([rot, shift[:, None]])


def crop_aligned(frame_rgb: np.ndarray, landmarks: np.ndarray, size: int = CROP_SIZE) -> np.ndarray:
    """Aligned grey face crop (size x size uint8) from a frame and its face's landmarks.

    ``landmarks`` are the face stage's (478, 3) pixel coordinates (only the eye corners
    are used). Large faces are warped to a multiple of ``size`` first and then area-
    averaged down, so the crop is anti-aliased like FER2013's downscaled images.
    """
    m = aligning_transform(landmarks, size)
    scale = float(np.hypot(m[0, 0], m[1, 0]))
    k = int(np.clip(np.floor(1.0 / max(scale, 1e-6)), 1, 8))
    if k > 1:
        big = m * k
        big[:, 2] = (m[:, 2] + 0.5) * k - 0.5
        warped = cv2.warpAffine(
            frame_rgb,
            big,
            (size * k, size * k),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        warped = cv2.resize(warped, (size, size), interpolation=cv2.INTER_AREA)
    else:
        warped = cv2.warpAffine(
            frame_rgb, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
    return _to_gray(warped)


def fit_crop(image: np.ndarray, size: int = CROP_SIZE) -> np.ndarray:
    """An already cropped face (any size, grey or RGB) as a size x size uint8 grey crop."""
    gray = _to_gray(image)
    if gray.shape != (size, size):
        interp = cv2.INTER_AREA if min(gray.shape) > size else cv2.INTER_LINEAR
        gray = cv2.resize(gray, (size, size), interpolation=interp)
    return gray


def zoom_crops(crops: np.ndarray, zoom: float) -> np.ndarray:
    """(N, 48, 48) float32 crops magnified by ``zoom`` about their centre, borders reflected
    (as training's augmentation pads)."""
    if zoom == 1.0:
        return crops
    c = (CROP_SIZE - 1) / 2
    m = cv2.getRotationMatrix2D((c, c), 0.0, zoom)
    size = (CROP_SIZE, CROP_SIZE)
    return np.stack(
        [
            cv2.warpAffine(a, m, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
            for a in crops
        ]
    )


@dataclass(frozen=True)
class ReaderCalibration:
    """The face reader's fitted constants (see models/face_expression/CARD.md)."""

    temperature: float
    """The CNN's (views-averaged) log-probabilities are divided by this."""
    au_sharpness: float
    """Logit per unit of an emotion's AU-prototype score (0-1) in the AU reader."""
    au_neutral_bias: float
    """The AU reader's neutral logit, in units of the sharpness, when no AU is active."""
    au_weight: float
    """Exponent of the AU reader's probabilities when pooled with the CNN's in log space."""


@cache
def reader_calibration() -> ReaderCalibration:
    data = json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))
    return ReaderCalibration(**{k: float(data[k]) for k in ReaderCalibration.__annotations__})


class ExpressionModel:
    """The shipped FER2013 expression model on onnxruntime; use :meth:`load`.

    ``temperature`` calibrates the views-averaged probabilities (1.0: as the network gives
    them); :meth:`load` takes the fitted one for the shipped file (or a byte-identical
    copy) and 1.0 for any other.
    """

    labels: tuple[str, ...] = LABELS

    def __init__(self, session, tta: str = "zoom", batch_size: int = 256, temperature: float = 1.0):
        if tta not in TTA_VIEWS:
            raise ValueError(f"unknown test-time augmentation {tta!r}; known: {list(TTA_VIEWS)}")
        self._session = session
        self._input = session.get_inputs()[0].name
        self.tta = tta
        self.batch_size = batch_size
        self.temperature = temperature

    @classmethod
    def load(
        cls,
        path: str | Path | None = None,
        num_threads: int = 2,
        tta: str = "zoom",
        batch_size: int = 256,
        temperature: float | None = None,
    ) -> ExpressionModel:
        """Load the ONNX model (default: the packaged ``expression.onnx``, calibrated)."""
        path = Path(path) if path is not None else MODEL_FILE
        if not path.is_file():
            raise FileNotFoundError(f"expression model not found: {path}")
        session = cpu_session(path, num_threads)
        if temperature is None:
            shipped = filecmp.cmp(path, MODEL_FILE, shallow=False)  # a copy is the same model
            temperature = reader_calibration().temperature if shipped else 1.0
        return cls(session, tta=tta, batch_size=batch_size, temperature=temperature)

    def with_views(self, tta: str) -> ExpressionModel:
        """The same network (one onnxruntime session, shared) with other test-time views:
        the registry loads a model once, each analysis picks its views."""
        return type(self)(
            self._session, tta=tta, batch_size=self.batch_size, temperature=self.temperature
        )

    def predict(self, gray_crops: np.ndarray) -> np.ndarray:
        """Class probabilities (N, 7) float32, BASIC_LABELS order, of (N, 48, 48) uint8 crops.

        A single (48, 48) crop is treated as N=1. Each crop's views (:data:`TTA_VIEWS`) go
        through the network in the same batch, their probabilities are averaged and then
        tempered by :attr:`temperature`.
        """
        x = np.asarray(gray_crops)
        if x.ndim == 2:
            x = x[None]
        if x.ndim != 3 or x.shape[1:] != (CROP_SIZE, CROP_SIZE):
            raise ValueError(f"expected (N, {CROP_SIZE}, {CROP_SIZE}) crops, got {x.shape}")
        n = x.shape[0]
        if n == 0:
            return np.zeros((0, len(LABELS)), dtype=np.float32)
        x = x.astype(np.float32, copy=False)
        views = TTA_VIEWS[self.tta]
        out = np.empty((n, len(LABELS)), dtype=np.float32)
        step = max(1, self.batch_size // len(views))
        for i in range(0, n, step):
            xb = x[i : i + step]
            zoomed = {z: zoom_crops(xb, z) for z in {z for z, _ in views}}
            batch = np.concatenate([zoomed[z][:, :, ::-1] if m else zoomed[z] for z, m in views])
            p = self._session.run(None, {self._input: np.ascontiguousarray(batch)})[0]
            out[i : i + len(xb)] = p.reshape(len(views), len(xb), -1).mean(0)
        return soften(out, self.temperature)

    def predict_emotions(self, gray_crops: np.ndarray) -> list[Emotion]:
        """One :class:`~emochat.report.model.Emotion` per crop (:meth:`predict`'s input):
        :func:`describe` of its probabilities."""
        return [Emotion(**describe(row), source=SOURCE) for row in self.predict(gray_crops)]

    def predict_frame(
        self, frame_rgb: np.ndarray, landmarks_list: Iterable[np.ndarray]
    ) -> np.ndarray:
        """Probabilities (N, 7) of the faces with these landmarks in one frame, each
        tempered by its :func:`frame_quality` (a poor view says less)."""
        return self.predict_views(*frame_views(frame_rgb, landmarks_list))

    def predict_views(self, crops: Sequence[np.ndarray], quality: Sequence[float]) -> np.ndarray:
        """Probabilities (N, 7) of :func:`frame_views`' crops, each tempered by its
        quality; crops of several frames may go in one call (the network sees each crop
        alone, so a batch gives the same probabilities as one call per frame, faster)."""
        if not len(crops):
            return np.zeros((0, len(LABELS)), dtype=np.float32)
        probs = self.predict(np.stack(crops))
        return np.stack([soften(p, 1.0 / q) for p, q in zip(probs, quality, strict=True)])


def frame_views(
    frame_rgb: np.ndarray, landmarks_list: Iterable[np.ndarray]
) -> tuple[list[np.ndarray], list[float]]:
    """The aligned crop and :func:`frame_quality` of each face in one frame: what
    :meth:`ExpressionModel.predict_views` reads (the frame itself need not be kept)."""
    landmarks_list = list(landmarks_list)
    crops = [crop_aligned(frame_rgb, lm) for lm in landmarks_list]
    return crops, [frame_quality(lm) for lm in landmarks_list]


MIN_QUALITY = 0.2
FRONTAL_DEG = 20.0
"""Head turns (yaw or pitch) up to this are as good as frontal for the CNN; FER2013's
faces are mostly frontal, so beyond it the view counts for less, linearly to nothing
30 degrees further (floored at :data:`MIN_QUALITY`)."""


def frame_quality(landmarks: np.ndarray) -> float:
    """How much one view of a face is worth to the CNN, in [MIN_QUALITY, 1]: the product of
    size (3-D inter-ocular distance against FER2013's 17.3 px: a smaller face is upscaled,
    its texture lost) and pose (:data:`FRONTAL_DEG`). Used as a power on the view's
    probabilities (p ** q, renormalised), so averaging views over a segment weights the
    clear ones most. Not fitted; blur is not measured."""

    pts = np.asarray(landmarks, dtype=np.float64)
    iod = float(np.linalg.norm(pts[list(_RIGHT_EYE)].mean(0) - pts[list(_LEFT_EYE)].mean(0)))
    size = min(1.0, iod / INTER_OCULAR)
    pitch, yaw, _ = align(pts).euler_deg()
    turn = max(abs(yaw), abs(pitch)) - FRONTAL_DEG
    pose = 1.0 - min(max(turn, 0.0) / 30.0, 1.0)
    return float(max(MIN_QUALITY, size * pose))


def describe(probs: np.ndarray) -> dict:
    """``label``, ``probs`` (label -> p), ``valence``, ``arousal`` of one probability row."""
    p = {label: round(float(v), 4) for label, v in zip(LABELS, probs, strict=True)}
    valence, arousal = valence_arousal(p)
    return {
        "label": LABELS[int(np.argmax(probs))],
        "probs": p,
        "valence": valence,
        "arousal": arousal,
    }


def clip_expression_summary(
    path: str | Path,
    fps: float = 5,
    model: ExpressionModel | None = None,
    tracker=None,
    start_s: float = 0.0,
    end_s: float | None = None,
) -> dict[str, float]:
    """Fraction of face observations (faces x sampled frames) whose top class is each label.

    Frames between ``start_s`` and ``end_s`` are sampled at ``fps``; every label of
    BASIC_LABELS is a key (0.0 when never top). A clip with no face gives all zeros.
    """
    from emochat.face.tracker import FaceTracker
    from emochat.ingest import iter_frames

    model = model or registry.load("face_expression")
    tracker = tracker or FaceTracker()
    counts = dict.fromkeys(LABELS, 0)
    crops = []
    for frame in iter_frames(path, fps=fps, start_s=start_s, end_s=end_s):
        for obs in tracker.process(frame):
            crops.append(crop_aligned(frame.rgb, obs.landmarks))
    if crops:
        for row in model.predict(np.stack(crops)):
            counts[LABELS[int(np.argmax(row))]] += 1
    total = sum(counts.values())
    return {label: (round(c / total, 4) if total else 0.0) for label, c in counts.items()}
