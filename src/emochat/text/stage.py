"""The text stage as the pipeline runs it: emotion of each segment's words."""

from __future__ import annotations

import numpy as np

from emochat.models import registry
from emochat.pipeline.contract import AnalysisContext, StageSkipped
from emochat.report.model import Emotion, TextEvidence

CONTEXT_UTTERANCES = 2
"""Previous utterances given to the model as dialogue context (as ERC systems do)."""


class TextStage:
    """Text emotion, valence/arousal, open-vocabulary words and lexicon cues per segment."""

    name = "text"

    def __init__(self, model: registry.ModelChoice | None = None):
        """``model``: the text emotion model (None: the registered one)."""
        self.model = model

    def run(self, ctx: AnalysisContext) -> None:
        spoken = [s for s in ctx.segments if s.text and s.text.strip()]
        if not spoken:
            raise StageSkipped("no_text", "no words (no speech recognised, no transcript)")
        texts = [s.text for s in spoken]
        context = [texts[max(0, i - CONTEXT_UTTERANCES) : i] for i in range(len(texts))]
        model = registry.load(self.model or "text_emotion")
        predictions = model.predict(texts, context=context)
        # the multimodal LLM's text cue (frozen encoder; the same vectors if not tuned)
        cues = model.cue_embed(texts, embedded=np.stack([p.embedding for p in predictions]))
        for seg, pred, cue in zip(spoken, predictions, cues, strict=True):
            voice = seg.evidence.get("voice")  # the recogniser's language and confidence
            lexicon = pred.lexicon
            seg.cue_vectors = {**seg.cue_vectors, "text": cue}
            seg.evidence["text"] = TextEvidence(
                text=seg.text,
                language=voice.language if voice else None,
                asr_confidence=voice.asr_confidence if voice else None,
                emotion=Emotion(
                    label=pred.label,
                    probs={k: round(v, 4) for k, v in pred.probs.items()},
                    valence=round(pred.valence, 4),
                    arousal=round(pred.arousal, 4),
                    open_vocab=list(pred.open_vocab),
                    source=pred.source,
                ),
                open_vocab_scores=[[w, s] for w, s in pred.open_vocab_scores],
                lexicon_words=[w for w, _ in lexicon.vader_words] if lexicon else [],
                vader_compound=lexicon.vader_compound if lexicon else None,
                nrc=lexicon.nrc if lexicon else {},
            )
