"""The composites' third voice from given samples (``voice_audio``), as the speaker bench's
fit muted composites use it for real corpus recordings."""

from __future__ import annotations

import numpy as np
import pytest

from emochat.ingest import load_audio
from emochat.testing.composites import SAMPLE_RATE, build_composite
from emochat.testing.synth import espeak


@pytest.fixture(scope="module")
def talking(media_dir):
    return media_dir / "talking"


def test_voice_audio_is_the_muted_composites_only_voice(talking, tmp_path):
    voice = espeak("One two three four five six seven eight nine ten.", voice="en-gb")
    out = tmp_path / "muted.mp4"
    comp = build_composite(
        talking / "hdtf_aoc.mp4",
        talking / "retalking_1.mp4",
        out,
        duration_s=5.0,
        seed=3,
        height=120,
        voice_audio=voice,
        voice_label="espeak en-gb samples",
    )
    assert comp.voice == "espeak en-gb samples"
    assert comp.turns and all(t.side is None for t in comp.turns)
    heard = load_audio(out, sample_rate=SAMPLE_RATE)
    first = comp.turns[0]
    a, b = int(first.start_s * SAMPLE_RATE), int(first.end_s * SAMPLE_RATE)
    n = min(b - a, voice.size)
    # the first turn carries the given samples from their start (AAC: compare envelopes)
    env = [
        np.sqrt(np.convolve(x**2, np.ones(400) / 400, mode="valid"))
        for x in (heard[a : a + n], voice[:n])
    ]
    assert np.corrcoef(env[0], env[1])[0, 1] > 0.8
    # the gaps between turns are silent: neither clip's own audio is heard
    gap = heard[int((first.end_s + 0.2) * SAMPLE_RATE) : int((first.end_s + 0.8) * SAMPLE_RATE)]
    assert np.abs(gap).max() < 0.01
