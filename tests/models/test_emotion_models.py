"""One result type: each registered emotion model, loaded by name, answers real inputs with
:class:`~emochat.report.model.Emotion` instances (issue 21)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import emochat
from emochat.core.settings import data_root, media_root
from emochat.models import registry
from emochat.report.model import Emotion

PHOTO = media_root() / "single_face.jpg"
RAVDESS_CLIP = data_root() / "ravdess-speech" / "Actor_22" / "03-01-05-02-01-01-22.flac"


def _face_crops() -> np.ndarray:
    """The aligned crop of the face in single_face.jpg, as ``emochat predict face`` cuts it."""
    from emochat.face.expression import crop_aligned
    from emochat.face.predict import _read_rgb
    from emochat.face.tracker import FaceTracker
    from emochat.ingest import Frame

    if not PHOTO.is_file():
        pytest.skip(f"test media not found at {PHOTO}")
    rgb = _read_rgb(PHOTO)
    faces = FaceTracker().process(Frame(index=0, t_s=0.0, rgb=rgb))
    assert len(faces) == 1
    return np.stack([crop_aligned(rgb, f.landmarks) for f in faces])


def _speech() -> list[np.ndarray]:
    """A RAVDESS clip (angry, strong) where the corpus is, else espeak-ng speech."""
    from emochat.ingest import load_audio
    from emochat.testing.synth import espeak

    if RAVDESS_CLIP.is_file():
        return [load_audio(RAVDESS_CLIP)]
    return [espeak("I cannot believe you did this to me again")]


INPUTS = {
    "face_expression": _face_crops,
    "speech_emotion": _speech,
    "text_emotion": lambda: ["I am so happy today", "我好难过，一直在哭"],
}


def _check(emotion: Emotion, labels) -> None:
    assert isinstance(emotion, Emotion)
    assert list(emotion.probs) == list(labels)
    assert math.isclose(sum(emotion.probs.values()), 1.0, abs_tol=1e-3)
    assert emotion.probs[emotion.label] == max(emotion.probs.values())  # label == argmax
    assert emotion.confidence == emotion.probs[emotion.label]
    assert -1 <= emotion.valence <= 1 and 0 <= emotion.arousal <= 1
    assert emotion.source
    # report.json's form: the Emotion fields only, whatever the model adds
    assert list(emotion.to_json()) == list(Emotion.__dataclass_fields__)


def test_emotion_models_are_registered_slots():
    assert set(registry.EMOTION_MODELS) <= set(registry.SLOTS)


@pytest.mark.parametrize("name", registry.EMOTION_MODELS)
def test_load_model_yields_emotions_on_real_inputs(name):
    model = emochat.load_model(name)
    assert isinstance(model, registry.EmotionModel)
    inputs = INPUTS[name]()
    emotions = model.predict_emotions(inputs)
    assert len(emotions) == len(inputs)
    for emotion in emotions:
        _check(emotion, model.labels)


def test_text_and_speech_predict_return_emotions():
    text = emochat.load_model("text_emotion")
    (pred,) = text.predict(["I am so happy today"])
    _check(pred, text.labels)
    assert pred.open_vocab == [w for w, _ in pred.open_vocab_scores]
    speech = emochat.load_model("speech_emotion")
    (pred,) = speech.predict(_speech())
    _check(pred, speech.labels)
    assert "features" in pred.extra and set(pred.to_dict()) == {
        "label",
        "probs",
        "valence",
        "arousal",
    }


def test_face_emotions_are_what_predict_face_prints():
    from emochat.face.predict import predict_face_images

    (emotion,) = emochat.load_model("face_expression").predict_emotions(_face_crops())
    ((_, printed),) = list(predict_face_images([PHOTO]))
    assert (emotion.label, emotion.probs) == (printed["label"], printed["probs"])
    assert (emotion.valence, emotion.arousal) == (printed["valence"], printed["arousal"])
