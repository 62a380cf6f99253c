"""`emochat predict speech` and `emochat eval` for speech: audio files -> speech emotion."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from emochat.core.errors import EmochatError, MediaError
from emochat.models import registry
from emochat.voice.speech_emotion import SpeechEmotion, SpeechEmotionModel


def predict_speech_files(
    paths: Iterable[str | Path],
    model: registry.ModelChoice | None = None,
) -> Iterator[SpeechEmotion | EmochatError]:
    """One result per file, in order: a :class:`SpeechEmotion` (``label``, ``probs``,
    ``valence``, ``arousal``) or the one-line :class:`EmochatError` the file raised
    (unreadable, no audio track, silent). Each file is one utterance for the model
    (``model``; None: the registered speech emotion model)."""
    from emochat.ingest import load_audio

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
        yield speech.predict([audio])[0]
