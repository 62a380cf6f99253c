"""Scoring a trained adapter on held-out samples, beside the pipeline's fusion head and
the single-cue models (what a reasoner calls at run time is in
:mod:`emochat.models.emochat_llm.infer`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from emochat.core.labels import BASIC_LABELS, to_basic
from emochat.eval.metrics import accuracy, weighted_f1
from emochat.models.emochat_llm.cues import MODALITIES
from emochat.models.emochat_llm.model import EmoChatLM
from emochat.train.emochat_llm.data import InstructionSample


def cue_model_label(sample: InstructionSample, modality: str | None = None) -> str:
    """The single-modality models' answer: the most confident present cue's top label
    (or that of ``modality``'s model)."""
    cues = sample.cues.by_modality
    best = cues[modality] if modality else max(cues.values(), key=lambda c: c.top[1])
    return to_basic(best.top[0]) or best.top[0]


def fusion_label(sample: InstructionSample) -> str:
    """The pipeline's fusion head on the sample's cues (every cue fully reliable).

    The face cue is what the pipeline fuses: the expression CNN averaged with the EMFACS
    reading of the AUs when they were measured, else the CNN alone.
    """
    from emochat.fusion.face_emotion import average_face_readers, emotion_from_aus
    from emochat.fusion.fuse import ModalityCue, fuse
    from emochat.report.model import Emotion

    cues = []
    for m, cue in sample.cues.by_modality.items():
        emotion = Emotion.from_probs(dict(cue.probs), source=m)
        if m == "face" and cue.au:
            emotion = average_face_readers(emotion, emotion_from_aus(cue.au))
        cues.append(ModalityCue(m, emotion, 1.0))
    return fuse(cues)[0].label


def evaluate(model: EmoChatLM, samples: Sequence[InstructionSample]) -> dict:
    """Label accuracy and weighted F1 of the LLM and, beside it, of the pipeline's fusion
    head and of the most confident single cue model, on the same samples."""
    gold = [s.basic for s in samples]
    pred = [BASIC_LABELS[int(np.argmax(model.label_scores(s.cues)))] for s in samples]
    fused = [fusion_label(s) for s in samples]
    base = [cue_model_label(s) for s in samples]
    single = {}  # each modality's own model, on the samples that have it
    for m in MODALITIES:
        have = [s for s in samples if m in s.cues.by_modality]
        if have:
            top = [cue_model_label(s, m) for s in have]
            truth = [s.basic for s in have]
            single[m] = {
                "n": len(have),
                "accuracy": round(accuracy(truth, top), 4),
                "weighted_f1": round(weighted_f1(truth, top), 4),
            }
    return {
        "n": len(samples),
        "llm_accuracy": round(accuracy(gold, pred), 4),
        "llm_weighted_f1": round(weighted_f1(gold, pred), 4),
        "fusion_accuracy": round(accuracy(gold, fused), 4),
        "fusion_weighted_f1": round(weighted_f1(gold, fused), 4),
        "cue_model_accuracy": round(accuracy(gold, base), 4),
        "cue_model_weighted_f1": round(weighted_f1(gold, base), 4),
        "single_modality": single,
        "predictions": pred,
    }
