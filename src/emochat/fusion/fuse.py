"""Reliability-weighted fusion of per-modality emotion estimates, with conflict detection.

Each modality brings a distribution over the basic labels and a reliability in
0..1, both from its evidence (``report.model``; face: tracking confidence and frames
seen; voice: speech presence; text: ASR confidence or 1 for a user transcript); a
modality without a prior here gets 1. The fused distribution is the
weighted linear pool ``sum(w_m * p_m) / sum(w_m)`` with ``w_m = prior_m *
reliability_m``: linear pooling keeps a confident minority modality visible
instead of letting one near-zero probability veto it, which matters when cues
disagree. A conflict is flagged when two modalities are each confident in
labels of opposite valence (a smile with sad words), and both cues are kept.
"""

from __future__ import annotations

from dataclasses import dataclass

from emochat.core.labels import BASIC_LABELS, CIRCUMPLEX, fold_to_basic
from emochat.report.model import Emotion

MODALITY_PRIOR: dict[str, float] = {"face": 1.0, "voice": 0.8, "text": 1.0}
"""Prior trust per modality before reliability; equal-ish until a labelled
multimodal set exists to learn them (documented in the model card of fusion)."""

CONFIDENT = 0.5
"""A modality is 'confident' when its top non-neutral label has at least this probability."""


@dataclass(frozen=True)
class ModalityCue:
    modality: str
    emotion: Emotion
    reliability: float


def _valence_sign(label: str) -> int:
    v = CIRCUMPLEX.get(label, (0.0, 0.0))[0]
    return 0 if abs(v) < 0.3 else (1 if v > 0 else -1)


def find_conflict(cues: list[ModalityCue]) -> dict | None:
    """Confident modalities whose labels lie on both sides of the valence axis.

    All confident modalities are listed (not just the first disagreeing pair), so a
    smile with sad words and an angry voice names all three.
    """
    confident = []
    for cue in cues:
        probs = fold_to_basic(cue.emotion.probs)
        label = max((k for k in probs if k != "neutral"), key=probs.get)
        if probs[label] >= CONFIDENT and _valence_sign(label) != 0:
            confident.append((cue.modality, label, round(probs[label], 4)))
    if len({_valence_sign(label) for _, label, _ in confident}) < 2:
        return None
    return {
        "modalities": [m for m, _, _ in confident],
        "labels": [label for _, label, _ in confident],
        "probs": [p for _, _, p in confident],
    }


def fuse(cues: list[ModalityCue]) -> tuple[Emotion, dict[str, float], dict | None]:
    """Fused emotion, the normalised weight of each modality, and the conflict (or None)."""
    weights = {
        c.modality: MODALITY_PRIOR.get(c.modality, 1.0) * max(c.reliability, 0.0) for c in cues
    }
    total = sum(weights.values())
    if total <= 0:
        raise ValueError("fusion needs at least one cue with positive reliability")
    fused = dict.fromkeys(BASIC_LABELS, 0.0)
    for cue in cues:
        for label, p in fold_to_basic(cue.emotion.probs).items():
            fused[label] += weights[cue.modality] / total * p
    probs = {k: round(v, 4) for k, v in fused.items()}
    open_vocab = [w for c in cues for w in c.emotion.open_vocab]
    emotion = Emotion.from_probs(
        probs,
        source="fusion(" + "+".join(sorted(weights)) + ")",
        open_vocab=list(dict.fromkeys(open_vocab))[:5],
    )
    return emotion, {m: round(w / total, 4) for m, w in weights.items()}, find_conflict(cues)
