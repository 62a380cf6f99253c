"""Targets come from gold labels and measured cues only; answers parse back."""

from __future__ import annotations

import numpy as np

from emochat.models.emochat_llm.cues import Cues, ModalityCue, describe, face_vector
from emochat.models.emochat_llm.prompt import (
    SoftSlot,
    gold_words,
    parse_answer,
    prompt_parts,
    target_text,
)

SAD = {"sad": 0.7, "neutral": 0.2, "happy": 0.1}
HAPPY = {"happy": 0.8, "neutral": 0.2}


def _cues(face=True, text=True) -> Cues:
    by = {}
    if face:
        au = {"AU12": 2.4, "AU06": 1.3, "AU04": 0.4}
        by["face"] = ModalityCue(face_vector(au, np.full(7, 1 / 7)), HAPPY, au=au)
    if text:
        by["text"] = ModalityCue(np.zeros(4, np.float32), SAD, words="I miss her every day")
    return Cues(by)


def test_prompt_has_one_slot_per_present_modality_in_order():
    parts = prompt_parts(_cues())
    assert [p.modality for p in parts if isinstance(p, SoftSlot)] == ["face", "text"]
    assert [p.modality for p in prompt_parts(_cues(face=False)) if isinstance(p, SoftSlot)] == [
        "text"
    ]


def test_rationale_cites_agreeing_then_disagreeing_cues_and_nothing_absent():
    target = target_text("happy", _cues(), ["joy"])
    label, words, why = target.strip().split("\n")
    assert label == "happy" and words == "Words: joy, happy"
    assert why.startswith("Why: the face reads happy (0.80) with AU12 lip corner puller (2.4)")
    assert 'against it, the words "I miss her every day" read sad (0.70)' in why
    assert "AU04" not in why  # below the 1.0 shown threshold
    only_text = target_text("happy", _cues(face=False))
    assert "face" not in only_text and "AU" not in only_text
    assert "no measured cue reads happy first" in only_text


def test_describe_says_when_aus_were_not_measured():
    cue = ModalityCue(face_vector({}, np.full(7, 1 / 7)), HAPPY)
    assert describe("face", cue).startswith("AUs not measured")
    assert face_vector({}, np.full(7, 1 / 7))[17] == 0.0  # the observed flag


def test_answers_parse_back_and_unknown_labels_are_none():
    answer = parse_answer(target_text("sad", _cues(), ["grief"]))
    assert answer.label == "sad" and answer.words == ["grief", "sad"]
    assert answer.rationale.startswith('the words "I miss her every day" read sad')
    assert parse_answer(" calm\nWords: calm").label == "neutral"
    assert parse_answer(" banana\n").label is None
    assert gold_words("angry", ["annoyance"]) == ["annoyance", "mad"]
