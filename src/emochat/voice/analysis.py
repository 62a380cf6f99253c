"""The voice stage: VAD -> utterances -> ASR words (or a user transcript) -> prosody -> emotion.

:func:`analyze_voice` is what the pipeline calls. Utterances are VAD windows (pauses
under 0.6 s merged, over-long ones split at their longest pause) refined by the words
recognised in them; they are the pipeline's segments. Times are seconds from media start.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from emochat.core.chinese_script import dominant_script, to_script
from emochat.ingest.audio import AudioTrack
from emochat.models import registry
from emochat.report.model import Emotion, VoiceEvidence
from emochat.voice import prosody as pros
from emochat.voice.asr import Word, transcribe
from emochat.voice.speech_emotion import (
    EncoderFrames,
    FrameStore,
    SpeechEmotion,
    SpeechEmotionModel,
)
from emochat.voice.transcript import Transcript
from emochat.voice.vad import speech_segments, utterance_windows

SAMPLE_RATE = 16_000
SILENCE_RMS = 1e-4  # about -80 dBFS: digital silence / no energy at all
EMOTION_MODEL = "whisper-base encoder + linear head, RAVDESS + EmoDB + URDU, basic labels"
WORD_TOLERANCE_S = 0.08
"""Word prosody also reads frames up to this far outside the word's ASR span, with a
weight tapering to 0: whisper's word boundaries are off by tens of milliseconds."""


@dataclass
class Utterance:
    start_s: float
    end_s: float
    text: str
    language: str | None
    words: list[Word] = field(default_factory=list)
    asr_confidence: float | None = None  # mean word probability (None for user transcripts)
    source: str = "asr"  # asr | transcript
    speaker: str | None = None  # as the transcript names them


@dataclass
class WordProsody:
    word: Word
    prosody: pros.Prosody


@dataclass
class UtteranceFrames:
    """Per utterance, the speech model's encoder states as ``keep_frames`` left them: the
    voice stage's artifact for the aggregator, apart from :class:`VoiceAnalysis` so that it
    can be released once read (the biggest thing an analysis holds)."""

    frames: Sequence[EncoderFrames]  # a FrameStore: on disk, read one at a time


@dataclass
class VoiceAnalysis:
    speech_segments: list[tuple[float, float]]
    utterances: list[Utterance]
    language: str | None
    language_probability: float | None
    prosody: list[pros.Prosody]  # one per utterance
    word_prosody: list[list[pros.Prosody]]  # per utterance, one per word
    emotion: list[SpeechEmotion]  # one per utterance
    warnings: list[tuple[str, str]] = field(default_factory=list)
    timings_s: dict[str, float] = field(default_factory=dict)
    duration_s: float = 0.0
    lld: pros.Frames | None = None  # the clip's eGeMAPS LLD frames (prosody's one pass)
    encoder_frames: Sequence[EncoderFrames] = field(default_factory=list)
    """Per utterance, the speech model's encoder states as ``keep_frames`` left them (a
    :class:`~emochat.voice.speech_emotion.FrameStore`: spilled to disk as they come)."""

    @property
    def has_speech(self) -> bool:
        return bool(self.utterances)

    def cue_vector(self, utterance_index: int) -> dict:
        """``{"voice": pooled encoder states}`` of one utterance, or {} when not computed."""
        emo = self.emotion[utterance_index] if utterance_index < len(self.emotion) else None
        feats = emo.extra.get("features") if emo is not None else None
        return {} if feats is None else {"voice": feats}

    def to_evidence(self, utterance_index: int) -> VoiceEvidence:
        """The voice evidence of one utterance (segment)."""
        u = self.utterances[utterance_index]
        emo = self.emotion[utterance_index] if utterance_index < len(self.emotion) else None
        p = self.prosody[utterance_index]
        word_p = self.word_prosody[utterance_index]
        words = []
        for w, wp in zip(u.words, word_p, strict=True):
            words.append(
                {
                    "text": w.text,
                    "start_s": w.start_s,
                    "end_s": w.end_s,
                    "probability": w.probability,
                    "window_s": [
                        round(max(0.0, w.start_s - WORD_TOLERANCE_S), 3),
                        round(w.end_s + WORD_TOLERANCE_S, 3),
                    ],
                    "prosody": {
                        k: v
                        for k, v in wp.to_dict().items()
                        if k in ("pitch_mean_st", "loudness", "pause_before_s", "z")
                    },
                }
            )
        return VoiceEvidence(
            start_s=u.start_s,
            end_s=u.end_s,
            text=u.text,
            language=u.language,
            source=u.source,
            asr_confidence=u.asr_confidence,
            emotion=(
                Emotion(emo.label, emo.probs, emo.valence, emo.arousal) if emo is not None else None
            ),
            emotion_model=EMOTION_MODEL,
            domain_distance=emo.domain_distance if emo is not None else None,
            prosody=p.to_dict(),
            words=words,
        )


def _rms(audio: AudioTrack, block: int = 1 << 20) -> float:
    """Root mean square in float64, a block at a time (no whole-track float64 copy)."""
    total = sum(float(np.dot(b, b)) for b in (c.astype(np.float64) for c in audio.chunks(block)))
    return float(np.sqrt(total / max(audio.size, 1)))


def _group_words(windows: list[tuple[float, float]], words: list[Word]) -> list[list[Word]]:
    """Each word to the window holding its middle (else the nearest one)."""
    groups: list[list[Word]] = [[] for _ in windows]
    if not windows:
        return groups
    for w in words:
        mid = (w.start_s + w.end_s) / 2
        dist = [0.0 if s <= mid <= e else min(abs(mid - s), abs(mid - e)) for s, e in windows]
        groups[int(np.argmin(dist))].append(w)
    return groups


def _join(words: list[Word], language: str | None) -> str:
    if language in ("zh", "ja", "yue"):
        return "".join(w.text for w in words)
    return " ".join(w.text for w in words)


CHINESE_LANGUAGES = ("zh", "yue")
"""Languages whose words :func:`write_chinese_in` may convert (not Japanese kanji)."""


def write_chinese_in(utterances: list[Utterance], script: str, *, recognised: bool) -> None:
    """Write Chinese utterances in one script (``AnalyzeOptions.chinese_script``): ``auto``
    puts recognised speech in its dominant script and leaves a transcript as written."""
    chinese = [u for u in utterances if u.language in CHINESE_LANGUAGES]
    if script == "auto":
        if not recognised:
            return
        script = dominant_script("".join(u.text for u in chinese)) or ""
    if not script:
        return
    for u in chinese:
        u.text = to_script(u.text, script)
        for w in u.words:
            w.text = to_script(w.text, script)


def _asr_utterances(
    audio, spans, language, asr_model, beam_size, check, progress=None
) -> tuple[list[Utterance], str | None, float]:
    result = transcribe(
        audio,
        spans,
        language=language,
        model=asr_model,
        beam_size=beam_size,
        check=check,
        progress=progress,
    )
    windows = utterance_windows(spans)
    out = []
    for (s, e), ws in zip(windows, _group_words(windows, result.words), strict=True):
        conf = round(float(np.mean([w.probability for w in ws])), 4) if ws else None
        start = min([s] + [w.start_s for w in ws])
        end = max([e] + [w.end_s for w in ws])
        out.append(
            Utterance(
                round(start, 3),
                round(end, 3),
                _join(ws, result.language),
                result.language,
                ws,
                conf,
            )
        )
    return out, result.language, result.language_probability


def _transcript_utterances(path, spans, duration_s, language):
    from emochat.voice.transcript import align_to_speech, guess_language, read_transcript

    tr = path if isinstance(path, Transcript) else read_transcript(path)
    lang = language if language not in (None, "auto", "") else guess_language(tr.text)
    out = []
    for cue in align_to_speech(tr, spans, duration_s):
        words = [Word(w.start_s, w.end_s, w.text, w.probability) for w in cue.words]
        out.append(
            Utterance(
                round(cue.start_s, 3),
                round(cue.end_s, 3),
                cue.text,
                lang,
                words,
                None,
                "transcript",
                cue.speaker,
            )
        )
    return out, lang


def resample(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """``audio`` at :data:`SAMPLE_RATE`: polyphase (scipy), so that analysis needs no
    librosa (which pulls numba and llvmlite) for a clip that is not 16 kHz."""
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(int(sample_rate), SAMPLE_RATE)
    out = resample_poly(audio, SAMPLE_RATE // g, int(sample_rate) // g)
    return out.astype(np.float32, copy=False)


def analyze_voice(
    audio: np.ndarray | AudioTrack,
    sample_rate: int = SAMPLE_RATE,
    language: str | None = None,
    transcript: str | Path | Transcript | None = None,
    asr_model: str = "base",
    beam_size: int = 5,
    chinese_script: str = "auto",
    emotion: bool = True,
    keep_frames: Callable[[EncoderFrames], EncoderFrames] | None = None,
    check: Callable[[], None] = lambda: None,
    speech_model: registry.ModelChoice | None = None,
    progress: Callable[[float], None] = lambda fraction: None,
) -> VoiceAnalysis:
    """Run the voice stages on a clip's audio (mono float32; resampled if not 16 kHz),
    an array or an :class:`AudioTrack` (16 kHz) that is read chunk by chunk and span by
    span, so that memory does not grow with the media's length.

    ``keep_frames``: when given, each utterance's encoder frame states (which the speech
    model computes anyway) pass through it and are kept in ``encoder_frames``: the
    Correlation Aggregator's input, reduced to what it reads so long media stay small.
    ``check`` is called between steps and inside the long loops (the pipeline's
    deadline check: it raises to stop the stage). ``speech_model``: the speech emotion
    model (None: the registered one), loaded only when there is speech. ``progress`` is
    told the fraction done (0..1) as the steps go: VAD up to 0.4 (by the media's length),
    ASR up to 0.8 (by the speech's), prosody to 0.85, speech emotion to 1 (by utterance),
    so a long media's voice stage shows it is moving.
    """
    timings: dict[str, float] = {}
    if not isinstance(audio, AudioTrack):
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        if sample_rate != SAMPLE_RATE and audio.size:
            audio = resample(audio, sample_rate)
        audio = AudioTrack.from_array(audio)
    duration = audio.duration_s
    if language in ("auto", ""):
        language = None
    empty = VoiceAnalysis([], [], language, None, [], [], [], [], timings, duration)
    if audio.size == 0:
        empty.warnings.append(("no_audio", "no audio track: voice cues unavailable"))
        return empty
    rms = _rms(audio)
    if rms < SILENCE_RMS:
        empty.warnings.append(("no_speech", f"audio is silent (RMS {rms:.1e}): no voice cues"))
        return empty

    t0 = time.perf_counter()
    spans = speech_segments(audio, progress=lambda f: progress(0.4 * f))
    timings["vad"] = round(time.perf_counter() - t0, 3)
    check()
    warnings: list[tuple[str, str]] = []
    if not spans and transcript is None:
        empty.speech_segments = []
        empty.warnings.append(("no_speech", "no speech detected in the audio: no voice cues"))
        return empty

    t0 = time.perf_counter()
    lang_prob = None
    if transcript is not None:
        utterances, lang = _transcript_utterances(transcript, spans, duration, language)
        timings["transcript"] = round(time.perf_counter() - t0, 3)
    else:
        utterances, lang, lang_prob = _asr_utterances(
            audio, spans, language, asr_model, beam_size, check, lambda f: progress(0.4 + 0.4 * f)
        )
        timings["asr"] = round(time.perf_counter() - t0, 3)
        if not any(u.words for u in utterances):
            warnings.append(("no_words", "speech detected but no words recognised"))

    write_chinese_in(utterances, chinese_script, recognised=transcript is None)
    progress(0.8)
    check()
    t0 = time.perf_counter()
    frames = pros.lld_frames(audio)
    base = pros.frame_baseline(frames)
    utt_p, word_p = [], []
    for u in utterances:
        check()
        p = pros.utterance_prosody(frames, u.start_s, u.end_s, u.words, spans)
        pros.add_z(p, base)
        utt_p.append(p)
        wps = []
        prev_end = None
        for w in u.words:
            wp = pros.summarize(frames, w.start_s, max(w.end_s, w.start_s + 0.03), WORD_TOLERANCE_S)
            if prev_end is not None:
                wp.pause_before_s = round(max(0.0, w.start_s - prev_end), 3)
            prev_end = w.end_s
            pros.add_z(wp, base)
            wps.append(wp)
        word_p.append(wps)
    pros.add_utterance_z(utt_p)
    timings["prosody"] = round(time.perf_counter() - t0, 3)
    progress(0.85)

    emotions: list[SpeechEmotion] = []
    kept = FrameStore()  # on disk: 92 MB per hour of speech would otherwise stay in memory
    if emotion and utterances:
        t0 = time.perf_counter()
        model: SpeechEmotionModel = registry.load(speech_model or "speech_emotion")
        starts = [max(0, int((u.start_s - 0.1) * SAMPLE_RATE)) for u in utterances]
        stops = [int((u.end_s + 0.1) * SAMPLE_RATE) for u in utterances]
        offsets = [a / SAMPLE_RATE for a in starts]
        for i in range(0, len(starts), 16):  # batches: full encoder states never pile up
            check()
            clips = [
                audio.read(a, b) for a, b in zip(starts[i : i + 16], stops[i : i + 16], strict=True)
            ]
            batch, batch_frames = model.predict_with_frames(clips, offsets[i : i + 16])
            emotions += batch
            if keep_frames is not None:
                for f in batch_frames:
                    kept.append(keep_frames(f))
            progress(0.85 + 0.15 * min(1.0, (i + 16) / len(starts)))
        timings["speech_emotion"] = round(time.perf_counter() - t0, 3)
        unlike = sum(e.out_of_domain for e in emotions)
        if unlike:
            warnings.append(
                (
                    "voice_out_of_domain",
                    f"{unlike} of {len(emotions)} utterances sound unlike the speech the "
                    "emotion model was trained on: their voice emotion is less trustworthy",
                )
            )
    return VoiceAnalysis(
        spans,
        utterances,
        lang,
        lang_prob,
        utt_p,
        word_p,
        emotions,
        warnings,
        timings,
        duration,
        frames,
        kept,
    )
