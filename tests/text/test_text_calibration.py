"""The text model's temperature: fitted for one head file, applied only to that file."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from emochat.models import registry
from emochat.text.model import CALIBRATION_FILE, TextEmotionModel


@pytest.fixture(scope="module")
def shipped():
    return registry.load("text_emotion")


def test_the_shipped_head_is_calibrated_by_its_own_file(shipped):
    calibration = json.loads(
        (registry.weight_file("text_emotion").parent / CALIBRATION_FILE).read_text("utf-8")
    )
    assert calibration["model_sha256"] == registry.sha256(registry.weight_file("text_emotion"))
    assert shipped.temperature == pytest.approx(calibration["temperature"])
    assert shipped.temperature > 1.0  # the head was overconfident on its selection splits


def test_a_copy_of_the_head_keeps_its_temperature_and_another_head_gets_none(tmp_path, shipped):
    copy = tmp_path / "text_emotion.npz"
    shutil.copy(registry.weight_file("text_emotion"), copy)
    assert TextEmotionModel.load(copy).temperature == shipped.temperature
    with np.load(copy) as z:
        params = {k: z[k] for k in z.files}
    params["b0"] = params["b0"] + 0.01  # another head: its logits are not the calibrated ones
    other = tmp_path / "other.npz"
    np.savez(other, **params)
    assert TextEmotionModel.load(other).temperature == 1.0


def test_calibration_softens_without_changing_the_label(shipped):
    texts = ["I can't believe you lied to me again!", "我今天真的很开心"]
    sharp = shipped.predict_proba(texts, calibrated=False)
    soft = shipped.predict_proba(texts)
    assert (sharp.argmax(1) == soft.argmax(1)).all()
    assert (soft.max(1) < sharp.max(1)).all()
    np.testing.assert_allclose(soft.sum(1), 1.0, atol=1e-5)
