"""The models registry: every model by name, its files hashed, one load per process, and
user files put in a slot (checked before use)."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest

from emochat.core.errors import EmochatError
from emochat.models import registry


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_shipped_model_has_its_files_card_and_recipe():
    shipped = [e for e in registry.REGISTRY.values() if e.kind == registry.SHIPPED]
    assert {e.name for e in shipped} >= {
        "face_expression",
        "speech_emotion",
        "text_emotion",
        "aggregator",
        "emochat_llm",
    }
    for e in shipped:
        assert all(registry.file_path(f).is_file() for f in e.files), e.name
        assert registry.card_path(e.name).is_file(), e.name
        assert e.recipe.startswith(f"python -m emochat.train.{e.name}"), e.name
    assert set(registry.SLOTS) == {
        "face_expression",
        "speech_emotion",
        "text_emotion",
        "aggregator",
        "fusion",
    }


def test_the_registry_is_where_the_modules_find_their_weights():
    from emochat.face.expression import MODEL_FILE as face_file
    from emochat.fusion.aggregator import MODEL_FILE as aggregator_file
    from emochat.text.model import default_model_path
    from emochat.voice.speech_emotion import MODEL_FILE as speech_file

    assert face_file == registry.weight_file("face_expression")
    assert speech_file == registry.weight_file("speech_emotion")
    assert default_model_path() == registry.weight_file("text_emotion")
    assert aggregator_file == registry.weight_file("aggregator")


def test_described_sha256_is_the_files_own():
    for name in ("face_expression", "speech_emotion", "face_detector"):
        for f in registry.describe(name)["files"]:
            path = Path(f["path"])
            assert f["bytes"] == path.stat().st_size
            assert f["sha256"] == _sha256(path), f["file"]


def test_a_model_is_loaded_once_per_process():
    import emochat
    from emochat.face.expression import ExpressionModel

    first = registry.load("face_expression")
    assert isinstance(first, ExpressionModel)
    assert registry.load("face_expression") is first
    assert registry.load(registry.weight_file("face_expression"), slot="face_expression") is first
    assert emochat.load_model("face_expression") is first


@pytest.mark.parametrize(
    ("value", "slot", "message"),
    [
        ("face_expression", "gaze", "unknown slot 'gaze'"),
        ("missing.onnx", "face_expression", "face_expression: no such file"),
        ("text_emotion", "speech_emotion", "is a text_emotion model, not a speech_emotion"),
        ("no_such_model", None, "no model named 'no_such_model'"),
    ],
)
def test_bad_choices_are_named(value, slot, message):
    with pytest.raises(EmochatError, match=message):
        registry.choose(value, slot)


def test_a_file_of_the_wrong_kind_is_refused(tmp_path):
    wrong_suffix = tmp_path / "head.npz"
    shutil.copy(registry.weight_file("speech_emotion"), wrong_suffix)
    with pytest.raises(EmochatError, match=r"face_expression: expected a \.onnx file"):
        registry.choose(wrong_suffix, "face_expression")
    not_a_head = tmp_path / "other.npz"
    np.savez(not_a_head, weights=np.zeros(3))
    with pytest.raises(EmochatError, match="speech_emotion: not a compatible speech_emotion"):
        registry.load(not_a_head, slot="speech_emotion")


def test_a_copy_of_the_text_head_finds_the_shipped_encoder_graph(tmp_path):
    """Only the .npz is the slot's file: its fine-tuned graph is found by name and sha256."""
    copy = tmp_path / "text_emotion.npz"
    shutil.copy(registry.weight_file("text_emotion"), copy)
    texts = ["I am so happy today", "this is infuriating"]
    shipped = registry.load("text_emotion").predict_proba(texts)
    np.testing.assert_array_equal(
        registry.load(copy, slot="text_emotion").predict_proba(texts), shipped
    )
