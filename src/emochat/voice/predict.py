"""`emochat predict speech` and `emochat eval` for speech: audio files -> speech emotion."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from emochat.core.errors import EmochatError, MediaError
from emochat.models import registry
from emochat.voice.speech_emotion import SpeechEmotion, SpeechEmotionModel


@dataclass(frozen=True)
class NoSpeech:
    """A file whose audio holds no speech (per the VAD ``analyze`` uses): no emotion to tell.

    The speech model answers every input, a sine tone included (once "fear 1.000"), so
    the verdict that there is nothing to read comes first.
    """

    def to_dict(self) -> dict:
        return {"label": None, "probs": None, "valence": None, "arousal": None}


def predict_speech_files(
    paths: Iterable[str | Path],
    model: registry.ModelChoice | None = None,
    *,
    vad: bool = True,
) -> Iterator[SpeechEmotion | NoSpeech | EmochatError]:
    """One result per file, in order: a :class:`SpeechEmotion` (``label``, ``probs``,
    ``valence``, ``arousal``), :class:`NoSpeech` when the VAD finds none, or the one-line
    :class:`EmochatError` the file raised (unreadable, no audio track, silent). Each file
    is one utterance for the model (``model``; None: the registered speech emotion model).

    ``vad=False`` classifies every audible file (an emotion corpus is speech by
    construction, and its metrics count every clip).
    """
    from emochat.ingest import decode_audio
    from emochat.voice.vad import speech_segments

    speech: SpeechEmotionModel = registry.load(model or "speech_emotion")
    for path in paths:
        try:
            track = decode_audio(path)
        except EmochatError as exc:
            yield exc
            continue
        with track:
            if track.size == 0:
                yield MediaError(path, "no audio track")
                continue
            if max(float(abs(c).max()) for c in track.chunks()) < 1e-4:
                yield MediaError(path, "audio is silent")
                continue
            spans = speech_segments(track) if vad else None
            if vad and not spans:
                yield NoSpeech()
                continue
            yield speech.predict([_model_input(track, spans)])[0]


WHOLE_S = 600.0
"""Files up to this long go to the model whole, as always. The model reads 30 s after its
silence trim, so a longer file gives it this much from its first speech: memory stays
bounded whatever the length."""


def _model_input(track, spans):
    n = int(WHOLE_S * 16_000)
    if track.size <= n:
        return track.read(0, track.size)
    start = max(0, int((spans[0][0] - 0.1) * 16_000)) if spans else 0
    return track.read(start, start + n)
