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
    from emochat.ingest import load_audio
    from emochat.voice.vad import speech_segments

    speech: SpeechEmotionModel = registry.load(model or "speech_emotion")
    for path in paths:
        try:
            audio = load_audio(path)
        except EmochatError as exc:
            yield exc
            continue
        if audio.size == 0:
            yield MediaError(path, "no audio track")
            continue
        if float(abs(audio).max()) < 1e-4:
            yield MediaError(path, "audio is silent")
            continue
        if vad and not speech_segments(audio):
            yield NoSpeech()
            continue
        yield speech.predict([audio])[0]
