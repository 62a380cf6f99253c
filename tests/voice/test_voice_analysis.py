"""Voice stage edge cases, prosody, the whisper model files and the speech emotion model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from emochat.core.files import file_sha256
from emochat.core.labels import BASIC_LABELS
from emochat.core.settings import data_root
from emochat.data.labels import RAVDESS_EMOTIONS, RAVDESS_TO_BASIC
from emochat.ingest import load_audio
from emochat.testing.synth import tone, write_media
from emochat.voice import SpeechEmotionModel, analyze_voice
from emochat.voice import prosody as pros

SR = 16_000


def harmonic(duration_s: float, f0: float, amp: float = 0.3) -> np.ndarray:
    """A voiced-like harmonic complex with a slow amplitude envelope."""
    t = np.arange(int(duration_s * SR)) / SR
    x = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 8))
    env = 0.6 + 0.4 * np.sin(2 * np.pi * 3 * t) ** 2
    return (amp * env * x / 2).astype(np.float32)


def test_audio_silence_gives_warning_and_no_evidence():
    va = analyze_voice(np.zeros(SR * 3, np.float32))
    assert [c for c, _ in va.warnings] == ["no_speech"]
    assert va.utterances == [] and va.emotion == [] and not va.has_speech
    with pytest.raises(IndexError):
        va.to_evidence(0)


def test_audio_tone_is_not_speech():
    va = analyze_voice(tone(3.0, 440.0))
    assert va.speech_segments == [] and va.utterances == []
    assert [c for c, _ in va.warnings] == ["no_speech"]


def test_audio_media_without_audio_track(tmp_path):
    clip = write_media(tmp_path / "mute.mp4", 1.0)
    va = analyze_voice(load_audio(clip))
    assert [c for c, _ in va.warnings] == ["no_audio"] and va.utterances == []


def test_audio_media_with_silent_track(tmp_path):
    clip = write_media(tmp_path / "silent.mp4", 2.0, audio=np.zeros(2 * SR, np.float32))
    va = analyze_voice(load_audio(clip))
    assert [c for c, _ in va.warnings] == ["no_speech"] and va.utterances == []


def test_audio_prosody_pitch_in_semitones_and_z():
    low, high = harmonic(1.0, 120.0), harmonic(1.0, 240.0)
    audio = np.concatenate([low, np.zeros(SR // 2, np.float32), high])
    frames = pros.lld_frames(audio)
    base = pros.frame_baseline(frames)
    p_low, p_high = pros.summarize(frames, 0.0, 1.0), pros.summarize(frames, 1.5, 2.5)
    expected = 12 * np.log2(120 / 27.5)
    assert p_low.pitch_mean_st == pytest.approx(expected, abs=1.0)
    assert p_high.pitch_mean_st - p_low.pitch_mean_st == pytest.approx(12.0, abs=1.0)
    pros.add_z(p_low, base)
    pros.add_z(p_high, base)
    assert p_low.z["pitch_mean_st"] < 0 < p_high.z["pitch_mean_st"]
    assert p_low.voiced_fraction > 0.8 and p_low.hnr_db is not None
    json.dumps(p_low.to_dict())


def test_audio_lld_chunks_give_the_frames_of_one_pass():
    """Long media are processed in chunks (bounded memory): same frames, same values."""
    rng = np.random.default_rng(0)
    parts = [harmonic(0.7, f0) for f0 in (110.0, 150.0, 220.0, 180.0)]
    gaps = [0.05 * rng.standard_normal(int(0.3 * SR)).astype(np.float32) for _ in parts]
    audio = np.concatenate([x for pair in zip(parts, gaps, strict=True) for x in pair])
    whole = pros.lld_frames(audio, chunk_s=1e9)
    chunked = pros.lld_frames(audio, chunk_s=0.9)  # boundaries inside voiced parts
    np.testing.assert_allclose(chunked.t_s, whole.t_s, atol=1e-9)
    for key, values in whole.values.items():
        np.testing.assert_allclose(chunked.values[key], values, atol=1e-9, err_msg=key)
    assert np.isfinite(whole.values["pitch"]).mean() > 0.3  # the check compares voiced frames


def test_audio_syllables():
    assert [pros.syllables(w) for w in ("cat", "window", "lovely", "我", "a")] == [1, 2, 2, 1, 1]


def test_audio_whisper_model_assembled_atomically_and_verified(tmp_path, monkeypatch):
    from emochat.voice import whisper_files as wf

    monkeypatch.setenv("EMOCHAT_CACHE_DIR", str(tmp_path))
    wf.whisper_model_dir.cache_clear()
    try:
        d = wf.whisper_model_dir("base")
        assert d == tmp_path / "whisper-base"
        assert (d / "model.bin.sha256").read_text() == wf.WHISPER_BASE_SHA256
        assert {p.name for p in d.iterdir()} == {
            "model.bin",
            "model.bin.sha256",
            "config.json",
            "tokenizer.json",
            "vocabulary.json",
        }
        # a damaged file of the right size is detected and rebuilt
        with open(d / "model.bin", "r+b") as fh:
            fh.seek(1000)
            fh.write(b"\0" * 16)
        (d / "model.bin.sha256").unlink()
        wf.whisper_model_dir.cache_clear()
        wf.whisper_model_dir("base")
        assert file_sha256(d / "model.bin") == wf.WHISPER_BASE_SHA256
        enc = wf.read_encoder_weights(d / "model.bin")
        assert enc["conv1/weight"].shape == (512, 80, 3)
    finally:
        wf.whisper_model_dir.cache_clear()


def test_audio_speech_emotion_model_shape_and_heldout_clips():
    model = SpeechEmotionModel.load()
    assert model.labels == BASIC_LABELS
    root = data_root() / "ravdess-speech"
    if not root.is_dir():
        pytest.skip(f"RAVDESS not found at {root}")
    # actor 21, statement 1, normal intensity, first repetition: one clip per emotion
    paths = [root / "Actor_21" / f"03-01-{e:02d}-01-01-01-21.flac" for e in range(1, 9)]
    truth = [RAVDESS_TO_BASIC[RAVDESS_EMOTIONS[f"{e:02d}"]] for e in range(1, 9)]
    audios = [load_audio(p) for p in paths]
    preds = model.predict(audios)
    assert len(preds) == 8
    for p in preds:
        assert set(p.probs) == set(BASIC_LABELS)
        assert sum(p.probs.values()) == pytest.approx(1.0, abs=1e-3)
        assert -1 <= p.valence <= 1 and 0 <= p.arousal <= 1
        label, probs = p  # tuple-like unpacking for the CLI
        assert label == max(probs, key=probs.get)
    # clearly better than chance (1/7) on these eight
    assert sum(p.label == lab for p, lab in zip(preds, truth, strict=True)) >= 3


def test_audio_transcript_replaces_asr(tmp_path):
    speech = harmonic(1.5, 150.0)
    audio = np.concatenate([np.zeros(SR // 2, np.float32), speech, np.zeros(SR // 2, np.float32)])
    srt = tmp_path / "t.srt"
    srt.write_text("1\n00:00:00,500 --> 00:00:02,000\nhello there friend\n", encoding="utf-8")
    va = analyze_voice(audio, transcript=srt)
    assert len(va.utterances) == 1
    u = va.utterances[0]
    assert u.source == "transcript" and [w.text for w in u.words] == ["hello", "there", "friend"]
    ev = va.to_evidence(0)
    json.dumps(ev.to_json())
    assert ev.emotion.label in BASIC_LABELS and len(ev.words) == 3


def test_audio_unlike_any_training_voice_is_flagged(tmp_path):
    """A synthetic harmonic 'voice' with a transcript: the speech model still answers, but
    the evidence carries its distance and the analysis warns."""
    audio = np.concatenate([np.zeros(SR // 2, np.float32), harmonic(1.5, 150.0)])
    srt = tmp_path / "t.srt"
    srt.write_text("1\n00:00:00,500 --> 00:00:02,000\nhello there friend\n", encoding="utf-8")
    va = analyze_voice(audio, transcript=srt)
    assert "voice_out_of_domain" in [c for c, _ in va.warnings]
    assert va.emotion[0].out_of_domain
    assert va.to_evidence(0).to_json()["domain_distance"] > 1.0


def test_audio_predict_speech_files(tmp_path):
    from emochat.core.errors import EmochatError
    from emochat.voice.predict import predict_speech_files

    root = data_root() / "ravdess-speech"
    if not root.is_dir():
        pytest.skip(f"RAVDESS not found at {root}")
    mute = write_media(tmp_path / "mute.mp4", 1.0)
    good = root / "Actor_22" / "03-01-05-02-01-01-22.flac"  # angry, strong
    out = list(predict_speech_files([good, tmp_path / "missing.wav", mute]))
    assert out[0].label in BASIC_LABELS and set(out[0].probs) == set(BASIC_LABELS)
    assert isinstance(out[1], EmochatError) and "not found" in str(out[1])
    assert isinstance(out[2], EmochatError) and "no audio" in str(out[2])


def test_audio_real_media(media_dir):
    """The near-silent AAC track of a real clip gives a warning and no voice evidence."""
    va = analyze_voice(load_audio(media_dir / "WolfgangLanger_Pexels.mp4"))
    assert va.utterances == [] and "no_speech" in [c for c, _ in va.warnings]
