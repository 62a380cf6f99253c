"""The face path on the 24 MEAD clips (../shared/media/mead-video): clip accuracy and AUs.

Each clip (3 actors x 8 emotions, front camera, level 3 posed, silent; neutral at level
1) goes through ``emochat.analyze`` with the default options; its answer is the
report's ``overall`` label, which for these silent clips is the face's alone. These
clips are evaluation media: nothing was fitted or chosen on them.

Printed: clip-level accuracy over the 7 basic labels (the 3 contempt clips left out, as
no basic label is contempt), each clip's label and probability, the AU baseline's
source, and the prototype-AU check: each non-neutral clip's EMFACS prototype score
(:func:`emochat.fusion.face_emotion.prototype_scores` of the clip's mean AU
intensities) for its own emotion against the same actor's neutral clip.

    python bench/bench_mead.py
"""

from __future__ import annotations

import time

import numpy as np
from common import row

from emochat.api import Analyzer
from emochat.core.labels import BASIC_LABELS
from emochat.core.settings import media_root
from emochat.fusion.face_emotion import PROTOTYPES, prototype_scores

MEAD_TO_BASIC = {
    "angry": "angry",
    "disgusted": "disgust",
    "fear": "fear",
    "happy": "happy",
    "neutral": "neutral",
    "sad": "sad",
    "surprised": "surprise",
}


def clip_means(report) -> dict[str, float]:
    """Mean AU intensities of the clip's longest face track."""
    tracks = report.au["tracks"] if report.au else []
    if not tracks:
        return {}
    track = max(tracks, key=lambda t: len(t["t_s"]))
    means = np.asarray(track["intensity"], dtype=float).mean(axis=0)
    return dict(zip(report.au["names"], means.tolist(), strict=True)) | {
        "baseline": track.get("baseline", {}).get("source")
    }


def reader_labels(report) -> tuple[str, str]:
    """The clip's answer from each face reader alone (segment probabilities averaged,
    weighted by duration): the calibrated CNN's and the AU reader's."""
    answers = []
    for key in ("expression", "au_emotion"):
        total = dict.fromkeys(BASIC_LABELS, 0.0)
        for seg in report.segments:
            face = seg.evidence.get("face")
            emotion = getattr(face, key, None) if face is not None else None
            if emotion is not None:
                for label in BASIC_LABELS:
                    total[label] += emotion.probs.get(label, 0.0) * (seg.end_s - seg.start_s)
        answers.append(max(total, key=total.get) if any(total.values()) else "none")
    return answers[0], answers[1]


def per_au(results: dict) -> dict[str, tuple[int, int]]:
    """AU -> (clips where its mean beats the same actor's neutral clip, clips whose
    emotion's prototype holds it)."""
    tally: dict[str, tuple[int, int]] = {}
    for (actor, emotion), (_, means, _) in results.items():
        truth = MEAD_TO_BASIC.get(emotion)
        if truth in (None, "neutral"):
            continue
        neutral = results[(actor, "neutral")][1]
        for au in PROTOTYPES[truth]:
            up, n = tally.get(au, (0, 0))
            tally[au] = (up + (means.get(au, 0.0) > neutral.get(au, 0.0)), n + 1)
    return tally


def _acc(by_actor: dict, *actors: str) -> str:
    right = [hit for a in actors for hit in by_actor.get(a, [])]
    return f"{np.mean(right):.3f} ({sum(right)}/{len(right)})" if right else "n/a"


def main() -> None:
    folder = media_root() / "mead-video"
    analyzer = Analyzer()
    results = {}
    t0 = time.perf_counter()
    for path in sorted(folder.glob("*.mp4")):
        actor, _, emotion = path.stem.split("_")[:3]
        report = analyzer.run(path).report
        results[(actor, emotion)] = (report.overall, clip_means(report), reader_labels(report))
    seconds = time.perf_counter() - t0
    hits, cnn_hits, au_hits, lines, by_actor = [], [], [], [], {}
    for (actor, emotion), (overall, means, (cnn, au)) in sorted(results.items()):
        truth = MEAD_TO_BASIC.get(emotion)
        label = overall.label if overall else "none"
        p = overall.probs.get(label, 0.0) if overall else 0.0
        check = ""
        if truth not in (None, "neutral"):
            own = prototype_scores(means)[truth]
            neutral = prototype_scores(results[(actor, "neutral")][1])[truth]
            check = f", {'/'.join(PROTOTYPES[truth])} score {own:.2f} vs neutral {neutral:.2f}"
            check += " ok" if own > neutral else " NOT above"
        if truth is not None:
            hits.append(label == truth)
            by_actor.setdefault(actor, []).append(label == truth)
            cnn_hits.append(cnn == truth)
            au_hits.append(au == truth)
        lines.append(
            f"{actor} {emotion}: {label} ({p:.2f}; CNN alone {cnn}, AU reader alone {au}), "
            f"baseline {means.get('baseline')}{check}"
        )
    for line in lines:
        print(line)
    print("per AU, clips of an emotion whose prototype holds it, above the actor's neutral clip:")
    print("  " + ", ".join(f"{au} {up}/{n}" for au, (up, n) in sorted(per_au(results).items())))
    neutral_ok = sum(
        results[(a, "neutral")][0] is not None and results[(a, "neutral")][0].label == "neutral"
        for a in {a for a, _ in results}
    )
    print(
        row(
            f"MEAD 21 clips (7 classes, contempt left out): clip accuracy {np.mean(hits):.3f} "
            f"({sum(hits)}/{len(hits)}; CNN alone {np.mean(cnn_hits):.3f}, AU reader alone "
            f"{np.mean(au_hits):.3f}); chosen on M030+W009 {_acc(by_actor, 'M030', 'W009')}, "
            f"held-out W011 {_acc(by_actor, 'W011')}; neutral clips read neutral {neutral_ok}/3; "
            f"{len(results)} clips in {seconds:.0f} s"
        )
    )


if __name__ == "__main__":
    main()
