"""The voice path reads audio from a temporary file a chunk or a span at a time, so its
memory does not grow with the media's length (issue #24), with the results of the
whole-array run."""

from __future__ import annotations

import os
import subprocess
import sys
import wave

import numpy as np
import pytest

from emochat.ingest import AudioTrack, decode_audio, load_audio
from emochat.voice.analysis import analyze_voice
from emochat.voice.vad import speech_probabilities, speech_segments

SR = 16_000


class CountingTrack(AudioTrack):
    """An AudioTrack that remembers its longest read."""

    longest = 0

    def read(self, start: int, stop: int) -> np.ndarray:
        out = super().read(start, stop)
        self.longest = max(self.longest, out.size)
        return out


def test_decode_audio_gives_the_samples_of_load_audio(media_dir):
    path = media_dir / "conversation/visualvoice_interview.mp4"
    whole = load_audio(path)
    with decode_audio(path) as track:
        assert track.size == whole.size
        assert np.array_equal(np.concatenate(list(track.chunks(7_777))), whole)
        assert np.array_equal(track[1000:5000], whole[1000:5000])
        assert np.array_equal(track.read(whole.size - 10, whole.size + 99), whole[-10:])
        assert track[whole.size + 5 :].size == 0


def test_vad_over_chunks_equals_the_whole_array_run(media_dir):
    # 70 s of real speech: over two 30 s chunks, neither a whole number of 512-sample windows
    audio = np.tile(load_audio(media_dir / "conversation/visualvoice_interview.mp4"), 4)
    track = AudioTrack.from_array(audio)
    chunks = list(track.chunks())
    assert len(chunks) == 3 and chunks[0].size % 512
    assert np.array_equal(speech_probabilities(track), speech_probabilities(audio))
    spans = speech_segments(track)
    assert spans and spans == speech_segments(audio)


def test_analyze_voice_from_a_file_equals_the_array_run(media_dir):
    path = media_dir / "talking/retalking_5.mp4"
    audio = load_audio(path)
    whole = analyze_voice(audio, asr_model="tiny.en", beam_size=1)
    with decode_audio(path) as plain:
        track = CountingTrack(plain.size, file=plain._file)
        streamed = analyze_voice(track, asr_model="tiny.en", beam_size=1)
    assert whole.utterances and streamed.utterances == whole.utterances
    assert streamed.speech_segments == whole.speech_segments
    assert streamed.prosody == whole.prosody and streamed.word_prosody == whole.word_prosody
    assert [e.probs for e in streamed.emotion] == [e.probs for e in whole.emotion]
    assert np.array_equal(streamed.lld.values["pitch"], whole.lld.values["pitch"], equal_nan=True)


def _write_wav(path, seconds: float, seed: int = 0) -> None:
    """Low-level noise with a 0.5 s tone every 20 s: audible, no speech."""
    rng = np.random.default_rng(seed)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        for start in range(0, int(seconds), 60):
            n = int(min(60, seconds - start) * SR)
            x = rng.normal(0, 0.003, n)
            t = np.arange(n) / SR
            x += np.where((t % 20) < 0.5, 0.2 * np.sin(2 * np.pi * 440 * t), 0.0)
            w.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())


def test_analyze_voice_reads_a_long_track_a_chunk_at_a_time(tmp_path):
    path = tmp_path / "long.wav"
    _write_wav(path, 20 * 60)
    with decode_audio(path) as plain:
        track = CountingTrack(plain.size, file=plain._file)
        voice = analyze_voice(track)
    assert voice.duration_s == pytest.approx(1200.0)
    assert not voice.utterances
    assert 0 < track.longest <= 1 << 20  # the RMS blocks (65 s); VAD reads 30 s


_PEAK = """
import os, subprocess, sys
proc = subprocess.Popen([sys.executable, "-m", "emochat", "analyze", *sys.argv[1:], "--quiet"])
_, status, usage = os.wait4(proc.pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss // 1024)
"""


def _peak_rss_mb(media, out) -> int:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", _PEAK, str(media), "-o", str(out)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    code, peak = map(int, done.stdout.split())
    assert code == 0, done.stderr
    return peak


@pytest.mark.slow
def test_analyze_peak_rss_does_not_grow_with_audio_length(tmp_path):
    short, long = tmp_path / "short.wav", tmp_path / "long.wav"
    _write_wav(short, 60)
    _write_wav(long, 25 * 60)
    short_mb = _peak_rss_mb(short, tmp_path / "out_short")
    long_mb = _peak_rss_mb(long, tmp_path / "out_long")
    # the whole track held at 16 kHz float32 would add 92 MB (and its copies more)
    assert long_mb <= short_mb + 30, (short_mb, long_mb)
