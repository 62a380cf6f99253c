"""Who is speaking (issue 26): the abstention thresholds swept on captured stage inputs.

Replays :func:`emochat.fusion.speakers.attribute` once per composite (no thresholds) on
the speaker stage's own inputs, captured from real runs of ``bench_active_speaker.py``'s
attribution pipeline (``bench_active_speaker_null.dump``; with two faces on screen these
are the native-rate mouth tracks), then applies every ``(min_sync, min_margin)`` pair of a
grid to the pooled synchronies: on the 2-person composites right / wrong / abstained, on
the muted ones (both faces silent, a third voice) how many utterances were given a face.
Also prints each muted voice group's pooled best synchrony and lead, and the weakest true
speakers', so the gap the thresholds have to sit in is visible.

    cd bench && nice -n 10 python bench_active_speaker_thresholds.py --sets fit \\
        --dump-dir /tmp/asd3/native

The native-rate read is not in the shipped stage (BENCHMARKS.md, issue 26): to capture
its inputs, check out commit bc6d7b9 and run ``bench_active_speaker_why.py --sets fit
--dump-dir DIR`` there; on main the capture holds the 10-fps landmark tracks.
"""

from __future__ import annotations

import argparse
import pickle
from pathlib import Path

import numpy as np

from emochat.fusion import speakers as S


def pooled_points(d: dict) -> list[tuple[str, str, float, float, str | None, str, float]]:
    """Per scored utterance: (composite, truth, best pooled, lead, best side, group, dur)."""
    kept = S.MIN_SYNC, S.MIN_MARGIN
    S.MIN_SYNC, S.MIN_MARGIN = -9.0, -9.0  # no thresholds: the pooled values are wanted
    try:
        atts, _ = S.attribute(d["tracks"], d["env"], d["spans"], d["groups"])
    finally:
        S.MIN_SYNC, S.MIN_MARGIN = kept
    groups = d["groups"] or [None] * len(d["spans"])
    out = []
    for (a, b), w, att, g in zip(d["spans"], d["want"], atts, groups, strict=True):
        if w is None or not att.sync:
            if w is not None:
                out.append((w, -9.0, -9.0, None, str(g), b - a))
            continue
        order = sorted(att.sync, key=lambda k: -att.sync[k])
        best = att.sync[order[0]]
        lead = best - (att.sync[order[1]] if len(order) > 1 else 0.0)
        out.append((w, best, lead, d["sides"][order[0]], str(g), b - a))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", nargs="*", default=["fit"])
    ap.add_argument("--dump-dir", type=Path, default=Path("/tmp/asd3/native"))
    ap.add_argument("--min-sync", type=float, default=None, help="report one pair only")
    ap.add_argument("--min-margin", type=float, default=None)
    args = ap.parse_args()
    pts = []
    for name in args.sets:
        for f in sorted(args.dump_dir.glob(f"{name}*.pkl")):
            for p in pooled_points(pickle.loads(f.read_bytes())):
                pts.append((f.stem, *p))
    muted = [p for p in pts if p[1] == "off"]
    talk = [p for p in pts if p[1] != "off"]
    print(f"{len(talk)} 2-person utterances, {len(muted)} muted utterances")
    print("muted voice groups (composite, group: best pooled, lead, n utterances):")
    seen = {}
    for c, _, best, lead, _, g, _ in muted:
        seen.setdefault((c, g), [best, lead, 0])[2] += 1
    for (c, g), (best, lead, n) in sorted(seen.items(), key=lambda kv: -kv[1][0]):
        print(f"  {c} {g}: best {best:+.3f} lead {lead:+.3f} ({n})")
    print("2-person utterances whose best pooled face is the right one (weakest first):")
    for c, w, best, lead, side, g, dur in sorted(talk, key=lambda p: min(p[2], 3 * p[3])):
        if side == w:
            print(f"  {c} {g} {dur:.1f}s: best {best:+.3f} lead {lead:+.3f}")
    print("2-person utterances whose best pooled face is the WRONG one:")
    for c, w, best, lead, side, g, dur in talk:
        if side != w:
            print(f"  {c} {g} {dur:.1f}s truth {w}: best {best:+.3f} lead {lead:+.3f}")

    def score(ms: float, mm: float) -> tuple[int, int, int, int]:
        right = wrong = leak = 0
        for _, w, best, lead, side, _, _ in pts:
            speaks = best >= ms and lead >= mm
            if w == "off":
                leak += speaks
            elif speaks:
                right += side == w
                wrong += side != w
        return right, wrong, len(talk) - right - wrong, leak

    if args.min_sync is not None:
        r, w, a, leak = score(args.min_sync, args.min_margin)
        print(
            f"min_sync {args.min_sync} min_margin {args.min_margin}: {r}/{len(talk)} right, "
            f"{w} wrong, {a} abstained; muted {len(muted) - leak}/{len(muted)} abstained"
        )
        return
    grid = [
        (round(ms, 2), round(mm, 2), *score(ms, mm))
        for ms in np.arange(0.0, 0.51, 0.01)
        for mm in np.arange(0.0, 0.31, 0.01)
    ]
    for tol in (0, 1, 2):
        ok = [g for g in grid if g[5] <= tol and g[3] == 0]
        if not ok:
            print(f"muted leaks <= {tol}, 0 wrong: no threshold pair")
            continue
        top = max(g[2] for g in ok)
        best = [g for g in ok if g[2] == top]
        ms = sorted({g[0] for g in best})
        mm = sorted({g[1] for g in best})
        print(
            f"muted leaks <= {tol}, 0 wrong: best {top}/{len(talk)} right at min_sync "
            f"{ms[0]:.2f}-{ms[-1]:.2f}, min_margin {mm[0]:.2f}-{mm[-1]:.2f} ({len(best)} pairs)"
        )


if __name__ == "__main__":
    main()
