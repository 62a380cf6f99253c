"""Audio that is not 16 kHz is resampled with scipy (no librosa at analysis time, #28)."""

from __future__ import annotations

import numpy as np
import pytest

from emochat.voice.analysis import SAMPLE_RATE, resample


@pytest.mark.parametrize("rate", [8000, 22050, 44100, 48000])
def test_resample_keeps_length_and_pitch(rate):
    t = np.arange(int(1.5 * rate)) / rate
    tone = (0.5 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)
    out = resample(tone, rate)
    assert out.dtype == np.float32
    assert abs(out.size - int(1.5 * SAMPLE_RATE)) <= 1
    spectrum = np.abs(np.fft.rfft(out))
    assert np.fft.rfftfreq(out.size, 1 / SAMPLE_RATE)[spectrum.argmax()] == pytest.approx(
        440, abs=1
    )
    assert np.sqrt(np.mean(out[1000:-1000] ** 2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.01)
