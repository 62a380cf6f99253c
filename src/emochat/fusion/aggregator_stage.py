"""The Correlation Aggregator as a pipeline stage: per-utterance voice-text tokens.

It reads what the voice stage kept (words with times, the speech model's encoder frames
premixed by :meth:`Aggregator.reduce_frames`, the eGeMAPS LLD frames) and writes, into
each speech segment's voice evidence, an ``aggregator`` block: the aligned emotion, the
audio-text agreement, the pooled segment vector, and per word where its attention
looked. The encoder frames (:class:`UtteranceFrames`) are released afterwards.
"""

from __future__ import annotations

import numpy as np

from emochat.core.labels import valence_arousal
from emochat.core.settings import aggregator_model_override
from emochat.models import registry
from emochat.pipeline.contract import AnalysisContext, StageSkipped
from emochat.report.model import AggregatorEvidence, Emotion
from emochat.voice.analysis import UtteranceFrames, VoiceAnalysis
from emochat.voice.speech_emotion import EncoderFrames

TOKEN_SOURCE = "aggregator: e5 words x whisper-base frames cross-attention, RAVDESS 8 classes"


def _choice(model: registry.ModelChoice | None) -> registry.ModelChoice:
    """``model``, else the file ``EMOCHAT_AGGREGATOR_MODEL`` names (a model trained by
    ``emochat train aggregator manifest``), else the registered one."""
    if model is not None:
        return model
    trained = aggregator_model_override()
    if trained:
        return registry.ModelChoice("aggregator", trained)
    return registry.choose("aggregator")


def shipped_model(model: registry.ModelChoice | None = None):
    """The aggregator to run (``model``, else :func:`_choice`'s default); None when its
    file does not exist."""
    choice = _choice(model)
    return registry.load(choice) if choice.path.is_file() else None


def frame_reducer(model: registry.ModelChoice | None = None):
    """The voice stage's ``keep_frames``, or None without a model file. The model (and
    torch) load on the first utterance's frames, so clips without speech never pay for it."""
    if not _choice(model).path.is_file():
        return None
    return lambda frames: shipped_model(model).reduce_frames(frames)


BATCH = 32
"""Utterances per aggregator call: their frames are widened to float32 and padded to the
longest, so one call over a long media's every utterance would hold several times the
kept float16 frames (over 1 GB for 6 h of speech); a short clip is one batch."""


def segment_inputs(
    voice: VoiceAnalysis,
    frames: list[EncoderFrames],
    start: int = 0,
    stop: int | None = None,
    lld: tuple[np.ndarray, np.ndarray] | None = None,
) -> list:
    """One aggregator input per utterance [start, stop) that has words and kept encoder
    ``frames`` (one per utterance, as the frame keeper left them). ``lld``: the clip's
    LLD frames as :func:`~emochat.models.aggregator.features.lld_frames` gives them."""
    from emochat.fusion.aggregator import SegmentInput, lld_at, lld_stats
    from emochat.models.aggregator.features import lld_frames

    lld_t, lld_x = lld if lld is not None else lld_frames(voice.lld)
    stats = lld_stats(lld_x, np.float64)  # the LLDs are float32 as openSMILE gives them
    out = []
    for u, kept in zip(voice.utterances[start:stop], frames[start:stop], strict=False):
        if not u.words or kept.t_s.size == 0:
            out.append(None)
            continue
        spans = np.array([[w.start_s, w.end_s] for w in u.words], np.float32)
        x = kept.states[0].astype(np.float32)
        t = kept.t_s.astype(np.float32)
        out.append(
            SegmentInput([w.text for w in u.words], spans, t, x, lld_at(t, lld_t, lld_x, stats))
        )
    return out


class AggregatorStage:
    """Aligned voice-text token per utterance (see :mod:`emochat.fusion.aggregator`)."""

    name = "aggregator"
    needs = (VoiceAnalysis, UtteranceFrames)
    makes = ()

    def __init__(self, model: registry.ModelChoice | None = None):
        """``model``: the aggregator to run (None: :func:`shipped_model`'s default)."""
        self.model = model

    def run(self, ctx: AnalysisContext) -> None:
        try:
            self._add_tokens(ctx)
        finally:
            held = ctx.find(UtteranceFrames)
            ctx.release(UtteranceFrames)  # the frames are held only until the tokens exist
            close = getattr(held.frames, "close", None) if held is not None else None
            if close is not None:
                close()  # the scratch file goes now, not at garbage collection

    def _add_tokens(self, ctx: AnalysisContext) -> None:
        voice = ctx.find(VoiceAnalysis)
        if voice is None or not voice.utterances:
            return  # no speech: the voice stage has said so
        model = shipped_model(self.model)
        if model is None:
            raise StageSkipped("no_aggregator", "aggregator model file missing: no aligned tokens")
        from emochat.models.aggregator.features import lld_frames

        frames, lld = ctx.get(UtteranceFrames).frames, lld_frames(voice.lld)
        results = {}
        for lo in range(0, len(voice.utterances), BATCH):
            inputs = segment_inputs(voice, frames, lo, lo + BATCH, lld)
            todo = [lo + i for i, it in enumerate(inputs) if it is not None]
            if todo:
                batch = model.predict([inputs[i - lo] for i in todo])
                results.update(zip(todo, batch, strict=True))
        if not results:
            return  # no words under the speech (the voice stage warned no_words)
        by_span = {(u.start_s, u.end_s): i for i, u in enumerate(voice.utterances)}
        for seg in ctx.segments:
            ev = seg.evidence.get("voice")
            if not ev:
                continue
            i = by_span.get((ev.start_s, ev.end_s))
            if i not in results:
                continue
            ev.aggregator = aggregator_evidence(results[i], model)
            for word, (centre, spread) in zip(ev.words, results[i].word_attention_s, strict=True):
                word["attention_s"] = centre
                word["attention_spread_s"] = spread


def aggregator_evidence(r, model) -> AggregatorEvidence:
    v, a = valence_arousal(r.probs)
    return AggregatorEvidence(
        emotion=Emotion(r.label, r.probs, v, a, source="aggregator"),
        agreement=r.agreement,
        vector=r.pooled,
        model=TOKEN_SOURCE,
        fusion_policy=model.cfg.meta.get("fusion_policy", "evidence_only"),
    )
