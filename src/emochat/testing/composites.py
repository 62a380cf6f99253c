"""Side-by-side composites of real talking clips with known "who is speaking" ground truth.

Two clips are scaled to the same height and placed side by side; both keep playing (each
loops with its own audio, so its lips stay in sync with its own voice), but only one
clip's audio is heard at a time, in turns of 2-6 s separated by a short silence. The
other face keeps moving its lips: synchrony, not movement, tells the speaker. A
``muted`` composite plays both faces with neither's audio and a third voice instead
(another clip's audio or espeak-ng): the right answer there is "no visible face".

Written with PyAV (no system ffmpeg). Used by ``bench/bench_active_speaker.py`` and the
tests of the speaker stage.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from emochat.ingest import iter_frames, load_audio

SAMPLE_RATE = 16_000
FPS = 25
GAP_S = 1.0
"""Silence between two turns (a turn change in conversation is rarely shorter)."""


@dataclass
class Turn:
    start_s: float
    end_s: float
    side: int | None
    """0: the left clip's voice, 1: the right clip's, None: a voice of no visible face."""


@dataclass
class Composite:
    path: str
    left: str
    right: str
    voice: str | None
    """The third voice of a muted composite (a clip name or "espeak"); None otherwise."""
    turns: list[Turn] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)


class _Looped:
    """A clip's frames (scaled to ``height``) and 16-kHz mono audio, read at any time
    modulo the clip's length, so picture and voice stay in sync through a loop."""

    def __init__(self, path: str | Path, height: int):
        frames = list(iter_frames(path, fps=FPS, max_side=4096))
        self.times = np.array([f.t_s for f in frames])
        self.duration_s = float(self.times[-1] + 1.0 / FPS)
        import av

        self.images = []
        for f in frames:
            h, w = f.rgb.shape[:2]
            width = int(round(w * height / h / 2)) * 2
            frame = av.VideoFrame.from_ndarray(f.rgb, format="rgb24")
            self.images.append(frame.reformat(width=width, height=height).to_ndarray())
        self.audio = load_audio(path, sample_rate=SAMPLE_RATE)

    def image(self, t_s: float) -> np.ndarray:
        t = t_s % self.duration_s
        i = int(np.searchsorted(self.times, t + 1e-6, side="right")) - 1
        return self.images[max(0, min(i, len(self.images) - 1))]

    def audio_span(self, start_s: float, end_s: float) -> np.ndarray:
        n = int(round((end_s - start_s) * SAMPLE_RATE))
        first = int(round(start_s * SAMPLE_RATE))
        idx = (first + np.arange(n)) % self.audio.size
        return self.audio[idx]


def plan_turns(
    duration_s: float, seed: int, n_sides: int = 2, low_s: float = 2.0, high_s: float = 6.0
) -> list[Turn]:
    """Alternating turns of ``low_s``-``high_s`` seconds with :data:`GAP_S` of silence."""
    rng = np.random.default_rng(seed)
    turns, t, side = [], 0.3, int(rng.integers(n_sides))
    while t < duration_s - low_s:
        length = min(float(rng.uniform(low_s, high_s)), duration_s - t)
        turns.append(Turn(round(t, 3), round(t + length, 3), side))
        t += length + GAP_S
        side = (side + 1) % n_sides
    return turns


def build_composite(
    left: str | Path,
    right: str | Path,
    out: str | Path,
    *,
    duration_s: float = 16.0,
    seed: int = 0,
    height: int = 360,
    third_voice: str | Path | None = None,
    espeak_text: str | None = None,
    espeak_voice: str = "en-us",
    espeak_wpm: int = 160,
    voice_audio: np.ndarray | None = None,
    voice_label: str | None = None,
) -> Composite:
    """Write ``out`` (mp4, H.264 + AAC) and return its ground truth.

    With ``third_voice`` (a media file), ``espeak_text`` (spoken by ``espeak_voice`` at
    ``espeak_wpm``) or ``voice_audio`` (16-kHz mono samples, named ``voice_label``), both
    faces are muted and the turns carry that voice (side None)."""
    from emochat.testing.synth import espeak, even_sized, write_media

    clips = [_Looped(left, height), _Looped(right, height)]
    n = int(round(duration_s * FPS))
    images = [np.ascontiguousarray(np.hstack([c.image(i / FPS) for c in clips])) for i in range(n)]
    audio = np.zeros(int(round(duration_s * SAMPLE_RATE)), dtype=np.float32)
    muted = third_voice is not None or espeak_text is not None or voice_audio is not None
    turns = plan_turns(duration_s, seed)
    if muted:
        if third_voice is not None:
            voice = _Looped(third_voice, 32).audio
            voice_name = Path(third_voice).stem
        elif voice_audio is not None:
            voice = np.asarray(voice_audio, dtype=np.float32)
            voice_name = voice_label or "audio"
        else:
            voice = espeak(espeak_text, wpm=espeak_wpm, voice=espeak_voice)
            voice_name = "espeak" if espeak_voice == "en-us" else f"espeak {espeak_voice}"
        turns = [Turn(t.start_s, t.end_s, None) for t in turns]
        cursor = 0
        for t in turns:
            a, b = int(t.start_s * SAMPLE_RATE), int(t.end_s * SAMPLE_RATE)
            idx = (cursor + np.arange(b - a)) % voice.size
            audio[a:b] = voice[idx]
            cursor += b - a
    else:
        voice_name = None
        for t in turns:
            a = int(t.start_s * SAMPLE_RATE)
            span = clips[t.side].audio_span(t.start_s, t.end_s)
            audio[a : a + span.size] = span
    peak = float(np.abs(audio).max()) or 1.0
    audio = (audio * min(1.0, 0.9 / peak)).astype(np.float32)
    images = even_sized(images)
    h, w = images[0].shape[:2]
    write_media(
        out,
        duration_s,
        width=w,
        height=h,
        fps=FPS,
        images=images,
        audio=audio,
        audio_rate=SAMPLE_RATE,
    )
    return Composite(str(out), Path(left).stem, Path(right).stem, voice_name, turns)


def truth_for(turns: list[Turn], start_s: float, end_s: float) -> tuple[int | None, float] | None:
    """The side heard most in ``[start_s, end_s]`` and the fraction of the span it covers;
    None when no turn overlaps (an utterance in a silence)."""
    cover: dict[int | None, float] = {}
    for t in turns:
        overlap = min(end_s, t.end_s) - max(start_s, t.start_s)
        if overlap > 0:
            cover[t.side] = cover.get(t.side, 0.0) + overlap
    if not cover:
        return None
    side = max(cover, key=lambda k: cover[k])
    return side, cover[side] / max(end_s - start_s, 1e-6)
