"""Micro-expression false alarms on neutral talking footage: flagged events per minute.

The clips are people talking with no micro-expression to find (the 7 talking heads in
../shared/media/talking and the 3 MEAD neutral clips in mead-video), so every flagged
event is a false alarm. Each clip is analysed at its native frame rate (every frame)
and at the default 10 fps, where the short events found are re-read at the native rate
around them (:func:`emochat.face.au.refine_micro`, as the face stage does).
Two more sets are counted at 10 fps, apart: the 4 conversation clips, on which the
lip-rhythm window (``SPEECH_WINDOW_S``) was chosen, and the 18 posed MEAD clips (people
talking while posing a held expression: brief events there are not micro-expressions
either, but these clips were not in the issue's false-alarm set).
Printed per setting: flagged events, face minutes, the rate, and the short (< 0.5 s)
events the rule turned down, by AU. Evaluation media: nothing was tuned on them.

    python bench/bench_micro.py
"""

from __future__ import annotations

import time
from collections import Counter

from common import row

from emochat.core.settings import media_root
from emochat.face.au import AUAgent, analyze_faces, refine_micro
from emochat.face.au.events import MICRO_MAX_S
from emochat.face.au.micro import candidates, sampling_period
from emochat.ingest import iter_frames


def clips() -> list:
    root = media_root()
    return sorted((root / "talking").glob("*.mp4")) + sorted(
        (root / "mead-video").glob("*_neutral_*.mp4")
    )


def other_sets() -> dict[str, list]:
    root = media_root()
    posed = [p for p in sorted((root / "mead-video").glob("*.mp4")) if "_neutral_" not in p.name]
    return {
        "conversation clips (selection)": sorted((root / "conversation").glob("*.*")),
        "posed MEAD clips, talking": posed,
    }


def main() -> None:
    runs = [("neutral talking clips", clips(), fps) for fps in (None, 10.0)]
    runs += [(name, paths, 10.0) for name, paths in other_sets().items()]
    for name, paths, fps in runs:
        t0 = time.perf_counter()
        flagged, face_s, turned_down = [], 0.0, Counter()
        reread, reread_s = 0, 0.0
        for path in paths:
            agent = AUAgent()
            analysis = analyze_faces(iter_frames(path, fps=fps), agent=agent)
            period = sampling_period(analysis)
            reread += len(candidates(analysis.au, period)) if period else 0
            t1 = time.perf_counter()
            analysis = refine_micro(path, analysis, agent)
            reread_s += time.perf_counter() - t1
            for track in analysis.au.tracks.values():
                face_s += float(track.t_s[-1] - track.t_s[0]) if len(track) > 1 else 0.0
            for event in analysis.au.events:
                if event.micro:
                    flagged.append(f"{path.stem} {event.au} {event.onset_s:.2f}s")
                elif event.duration_s < MICRO_MAX_S:
                    turned_down[event.au] += 1
        minutes = face_s / 60
        setting = "native frame rate" if fps is None else f"{fps:g} fps"
        print(
            row(
                f"micro events, {len(paths)} {name} at {setting}: "
                f"{len(flagged)} in {minutes:.2f} face-min = {len(flagged) / minutes:.2f}/min; "
                f"short events not flagged: {sum(turned_down.values())} "
                f"({', '.join(f'{au} {n}' for au, n in turned_down.most_common())}); "
                f"candidates re-read at the native rate {reread} ({reread_s:.1f} s); "
                f"{time.perf_counter() - t0:.0f} s in all"
            )
        )
        for item in flagged:
            print("  flagged:", item)


if __name__ == "__main__":
    main()
