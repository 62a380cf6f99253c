"""Facial expression on single inputs: image files (``emochat predict face``) and face crops.

* :func:`predict_face_images` - image files and folders of them: find every face with the
  face stage (each photo on its own), align it by its landmarks, classify; one result per
  face. An image that is already a face crop (``crops=True``, or no face found in a
  small, roughly square image: :func:`looks_like_crop`) is classified whole instead,
  exactly as :func:`predict_face_arrays` classifies an array.
* :func:`predict_face_arrays` - already cropped faces (FER2013-style arrays), the
  predictor ``emochat eval fer2013`` calls through :mod:`emochat.eval.registry`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from emochat.core.errors import EmochatError, MediaError
from emochat.core.files import IMAGE_SUFFIXES, files_under, input_file_problem
from emochat.face.expression import ExpressionModel, crop_aligned, describe, fit_crop
from emochat.ingest.media import check_image_pixels, image_size
from emochat.models import registry

"""Files a folder input expands to (case-insensitive); a folder's other files are ignored,
so labels.csv or a README beside the images is not an error."""
CROP_MAX_SIDE = 256
"""A small image with no face found is taken as a face crop: FER2013 crops are 48 px, CK+
and most crop datasets well under 256; photos of people are larger."""
CROP_MAX_ASPECT = 1.25
"""... and roughly square (long side / short side at most this): crops are cut around a
face, which is about as wide as it is high."""
CROP_BATCH = 256
"""Crops classified per model call. A multiple of the model's own step (its batch of 256
images / 1, 2 or 4 test-time views), so onnxruntime sees the same sub-batches as in one
call over all crops (``emochat eval fer2013``) and the probabilities are identical; at
most this many 48x48 crops wait in memory."""

FROM_CROP_FLAG = "crops_flag"
"""``crop_reason`` of an image classified as a crop because the caller said so."""
FROM_SMALL_SQUARE = "no_face_small_square"
"""``crop_reason`` of an image taken as a crop by :func:`looks_like_crop`."""
FROM_FILLED_SQUARE = "face_fills_small_square"
"""``crop_reason`` of a small square image whose one face fills it (:data:`CROP_FILL`):
a crop the face stage can also find a face in (it finds one in most FER2013 crops: 162 of
the first 200 PrivateTest ones with RetinaFace as its second detector, 168 with MTCNN),
scored whole as the expression model was trained, not re-aligned from a 48-px face."""
CROP_FILL = 0.4
"""Share of a small square image a lone face's box covers from which the image is a crop."""


def _expression_model(model: registry.ModelChoice | None) -> ExpressionModel:
    return registry.load(model or "face_expression")


def _classify_crops(crops: Sequence[np.ndarray], model: ExpressionModel) -> list[dict]:
    if not crops:
        return []
    return [describe(row) for row in model.predict(np.stack(crops))]


def predict_face_arrays(
    images: Sequence[np.ndarray], model: registry.ModelChoice | None = None
) -> list[dict]:
    """One result per face crop: ``label``, ``probs`` (label -> p), ``valence``, ``arousal``.

    Each input is a face crop as HxW (grey) or HxWx3 (RGB) uint8; crops that are not
    48x48 are resized. This is the ``face`` predictor contract of the eval registry.
    ``model``: the expression model (None: the registered one).
    """
    return _classify_crops([fit_crop(im) for im in images], _expression_model(model))


def looks_like_crop(height: int, width: int) -> bool:
    """Whether an image with no face found is small and square enough to be a face crop."""
    short, long = sorted((height, width))
    return long <= CROP_MAX_SIDE and long <= CROP_MAX_ASPECT * short


def _read_rgb(path: Path) -> np.ndarray:
    import cv2

    problem = input_file_problem(path)
    if problem is not None:
        raise MediaError(path, problem)
    size = image_size(path)  # analyze's limit, read from the header before decoding
    if size is not None:
        check_image_pixels(path, *size)
    data = np.fromfile(str(path), dtype=np.uint8)
    # a grey file decodes to three equal channels, which fit_crop turns back into the
    # identical grey values (OpenCV's fixed-point RGB->grey weights sum to one)
    level = cv2.getLogLevel()
    cv2.setLogLevel(2)  # errors only: a broken file gets our one line, not OpenCV's warnings
    try:
        bgr = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    finally:
        cv2.setLogLevel(level)
    if bgr is None:
        raise MediaError(path, "not a readable image")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def expand_image_inputs(paths: Iterable[str | Path]) -> Iterator[str | EmochatError]:
    """Each input as given, except folders: their image files (:data:`IMAGE_SUFFIXES`),
    recursively, sorted by path, hidden files and folders skipped (macOS ``._x.png``
    files are not images). A folder holding no image file yields an error naming it."""
    for raw in paths:
        path = Path(raw)
        if not path.is_dir():
            yield str(raw)
            continue
        found = files_under(path, IMAGE_SUFFIXES)
        if not found:
            yield MediaError(path, "no image files in the folder")
        yield from (str(p) for p in found)


class _Crop(NamedTuple):
    """An image waiting in a batch to be classified whole; ``fields`` go into its result."""

    crop: np.ndarray
    fields: dict


def predict_face_images(
    paths: Iterable[str | Path],
    max_faces: int = 4,
    tracker=None,
    crops: bool = False,
    batch_size: int = CROP_BATCH,
    model: registry.ModelChoice | None = None,
) -> Iterator[tuple[str, dict | EmochatError]]:
    """``(path, result)`` per face in each image, or ``(path, EmochatError)``, in input order.

    Folders are expanded (:func:`expand_image_inputs`). ``result`` holds ``label``,
    ``probs``, ``valence``, ``arousal``, ``face_id`` (0, 1, ... within the image, in the
    order the face stage found them), ``bbox`` (x, y, w, h in pixels) and ``face_source``:
    ``"detected"`` (found by the face stage, aligned by its landmarks) or ``"crop"`` (the
    whole image is the face, bbox = the image, scored as :func:`predict_face_arrays`
    scores it; ``crop_reason`` says why: :data:`FROM_CROP_FLAG` with ``crops=True``, which
    skips detection, :data:`FROM_FILLED_SQUARE`, else :data:`FROM_SMALL_SQUARE`). Crops are classified
    ``batch_size`` at a time. An unreadable image, or a larger one with no face, yields
    an error naming the file; the other images go on. ``model``: the expression model
    (None: the registered one).
    """
    expression = _expression_model(model)
    # (input, error | results | _Crop) in input order, until the crops among them are scored
    pending: list[tuple[str, EmochatError | list[dict] | _Crop]] = []
    n_crops = 0
    for item in expand_image_inputs(paths):
        if isinstance(item, EmochatError):
            pending.append((str(item.path), item))
        else:
            if tracker is None and not crops:
                from emochat.face.tracker import FaceTracker

                tracker = FaceTracker(max_faces=max_faces, static_image_mode=True)
            outcome = _one_image(Path(item), None if crops else tracker, expression)
            pending.append((item, outcome))
            n_crops += isinstance(outcome, _Crop)
        if n_crops == 0 or n_crops >= batch_size:  # nothing waits on the model, or a batch
            yield from _score(pending, expression)
            n_crops = 0
    yield from _score(pending, expression)


def _one_image(path: Path, tracker, model: ExpressionModel) -> EmochatError | list[dict] | _Crop:
    """The faces the tracker finds in one image, or the image as a crop (no tracker: always)."""
    from emochat.ingest import Frame

    try:
        rgb = _read_rgb(path)
    except EmochatError as exc:
        return exc
    h, w = rgb.shape[:2]
    reason = FROM_CROP_FLAG
    if tracker is not None:
        tracker.reset()
        faces = tracker.process(Frame(index=0, t_s=0.0, rgb=rgb))
        filled = (
            len(faces) == 1
            and looks_like_crop(h, w)
            and faces[0].bbox[2] * faces[0].bbox[3] >= CROP_FILL * h * w
        )
        if faces and not filled:
            probs = model.predict(np.stack([crop_aligned(rgb, f.landmarks) for f in faces]))
            return [
                {
                    **describe(row),
                    "face_id": int(face.face_id),
                    "bbox": [round(float(v), 1) for v in face.bbox],
                    "face_source": "detected",
                }
                for face, row in zip(faces, probs, strict=True)
            ]
        if not filled and not looks_like_crop(h, w):
            return EmochatError(path, "no face found in the image (a face crop? use --crops)")
        reason = FROM_FILLED_SQUARE if filled else FROM_SMALL_SQUARE
    fields = {"face_id": 0, "bbox": [0.0, 0.0, float(w), float(h)], "face_source": "crop"}
    # reduced to 48x48 grey now, so a waiting batch stays small whatever the files' size
    return _Crop(fit_crop(rgb), {**fields, "crop_reason": reason})


def _score(pending: list, model: ExpressionModel) -> Iterator[tuple[str, dict | EmochatError]]:
    """Classify the waiting crops in one batch and hand out every pending result in order."""
    crops = [o.crop for _, o in pending if isinstance(o, _Crop)]
    scored = iter(_classify_crops(crops, model))
    for item, outcome in pending:
        if isinstance(outcome, _Crop):
            yield item, {**next(scored), **outcome.fields}
        elif isinstance(outcome, EmochatError):
            yield item, outcome
        else:
            yield from ((item, r) for r in outcome)
    pending.clear()
