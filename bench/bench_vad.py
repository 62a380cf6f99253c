"""How much speech the VAD keeps at a few Silero thresholds (issue #23).

Real media (every talking and conversation clip, plus clips with no speech) and acted
emotional speech: RAVDESS strong-intensity angry, fearful, sad and surprised clips of the
training actors 1-20 (shouting, crying-like and breathy speech), and EmoDB's anger, fear
and sadness of its training speakers. The ASR transcribes only what the VAD keeps
(``vad_filter=False`` in voice/asr.py), so these spans are all the speech an analysis sees.

    python bench/bench_vad.py
"""

from __future__ import annotations

import numpy as np
from common import row

from emochat.core.settings import media_root
from emochat.data.corpora import emodb, ravdess
from emochat.ingest import load_audio
from emochat.voice.vad import speech_probabilities, speech_segments

THRESHOLDS = (0.5, 0.35)
SR = 16_000


def kept(audio: np.ndarray, threshold: float) -> float:
    """Fraction of the clip inside speech spans."""
    return sum(e - s for s, e in speech_segments(audio, threshold=threshold)) / (audio.size / SR)


def media() -> list[str]:
    root = media_root()
    clips = sorted((root / "talking").glob("*.mp4")) + sorted((root / "conversation").glob("*"))
    lines = []
    for path in [*clips, root / "no_face.mp4", root / "single_face.mp4"]:
        audio = load_audio(path)
        peak = float(speech_probabilities(audio).max())
        fractions = ", ".join(f"{kept(audio, t):.2f}" for t in THRESHOLDS)
        lines.append(f"{path.parent.name}/{path.name}: Silero max {peak:.2f}, kept {fractions}")
    return lines


def acted() -> list[str]:
    rav = ravdess.load("train")
    rav = rav[
        (rav["intensity"] == "strong") & rav["label"].isin(["angry", "fearful", "sad", "surprised"])
    ]
    emo = emodb.load("train")
    emo = emo[emo["label"].isin(["anger", "fear", "sadness"])]
    lines = []
    for name, df in (("RAVDESS strong", rav), ("EmoDB", emo)):
        for t in THRESHOLDS:
            fractions = np.array([kept(load_audio(p), t) for p in df["path"]])
            lines.append(
                f"{name} (n={len(df)}) threshold {t}: no speech in {int(np.sum(fractions == 0))}, "
                f"mean kept {fractions.mean():.2f}, min {fractions.min():.2f}"
            )
    return lines


def main() -> None:
    lines = media() + acted()
    print("\n".join(lines))
    print(row(f"thresholds {', '.join(map(str, THRESHOLDS))}: " + "; ".join(lines)))


if __name__ == "__main__":
    main()
