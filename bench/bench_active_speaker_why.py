"""Who is speaking (issue 26): why the speaker stage abstains, utterance by utterance.

Replays :func:`emochat.fusion.speakers.attribute` (the shipped rule) on the speaker
stage's own inputs, captured from real runs of ``bench_active_speaker.py``'s attribution
pipeline on its composites (``bench_active_speaker_null.dump``, cached as pickles in
``--dump-dir``), and prints a Markdown row per utterance: the truth, the stage's answer,
the utterance's voice group and the truths of the group's members, the synchrony of each
face on its own and pooled over the group, the best lag of the utterance alone, and the
reasons it abstained:

- (a) the voice group holds utterances of both people (the clustering merged them), so
  the pooled synchrony mixes both faces;
- (b) the pooled best synchrony is under ``MIN_SYNC``; (c) its lead is under
  ``MIN_MARGIN``;
- "per-utt best is the other face": on its own, at the clip's lag, the utterance
  already prefers the face that does not speak;
- (d) the utterance's own best lag would pick the right face where the clip's lag
  picks the other (one offset per clip).

    cd bench && nice -n 10 python bench_active_speaker_why.py --sets eval
"""

from __future__ import annotations

import argparse
import pickle
from pathlib import Path

import numpy as np
from bench_active_speaker_null import dump

from emochat.fusion import speakers as S


def _fmt(values: dict[str, float]) -> str:
    return " ".join(f"{k[0].upper()} {v:+.2f}" for k, v in sorted(values.items()))


def explain(d: dict) -> tuple[float, list[str], dict]:
    tracks, env, spans = d["tracks"], d["env"], d["spans"]
    groups = d["groups"] or [None] * len(spans)
    want, sides = d["want"], d["sides"]
    atts, lag = S.attribute(tracks, env, spans, d["groups"])
    m = S.sync_matrix(tracks, env, spans, lag)
    fids = [t.face_id for t in tracks]
    lags = np.arange(-S.MAX_LAG_S, S.MAX_LAG_S + 1e-9, S.LAG_STEP_S)
    rows, counts = [], {}
    for i, ((a, b), g, w, att) in enumerate(zip(spans, groups, want, atts, strict=True)):
        if w is None:
            continue
        got = None if att.face_id is None else sides[att.face_id]
        members = sorted({want[k] for k in range(len(spans)) if groups[k] == g and g})
        per = {sides[fids[j]]: float(m[i, j]) for j in range(len(fids)) if not np.isnan(m[i, j])}
        pooled = {sides[k]: v for k, v in att.sync.items()}
        why = []
        if got == w or (w == "off" and got is None):
            why.append("right")
        elif got is not None:
            why.append("WRONG")
        elif pooled:
            order = sorted(pooled, key=lambda k: -pooled[k])
            best = pooled[order[0]]
            lead = best - (pooled[order[1]] if len(order) > 1 else 0.0)
            alone = [S.sync_matrix(tracks, env, [(a, b)], float(x))[0] for x in lags]
            k = int(np.nanargmax([np.nanmax(v) if not np.all(np.isnan(v)) else -9 for v in alone]))
            own = {sides[fids[j]]: float(alone[k][j]) for j in range(len(fids))}
            per_best = max(per, key=per.get) if per else None
            if len(members) > 1:
                why.append("(a) voice group merged")
            if per_best != w:
                why.append("per-utt best is the other face")
            if best < S.MIN_SYNC:
                why.append(f"(b) pooled best {best:.2f}")
            if lead < S.MIN_MARGIN:
                why.append(f"(c) lead {lead:.2f}")
            if max(own, key=own.get) == w and per_best != w:
                why.append(f"(d) own lag {lags[k]:+.2f} picks it")
        else:
            why.append("no face seen")
        for reason in why:
            key = reason.split(" ")[0] if reason.startswith("(") else reason
            counts[key] = counts.get(key, 0) + 1
        rows.append(
            f"| {a:.1f}-{b:.1f} | {w} | {got} | {g}: {'/'.join(x[0].upper() for x in members)} "
            f"| {_fmt(per)} | {_fmt(pooled)} | {'; '.join(why)} |"
        )
    return lag, rows, counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", nargs="*", default=["eval"])
    ap.add_argument("--dump-dir", type=Path, default=Path("/tmp/emochat-bench-asd/inputs"))
    args = ap.parse_args()
    dump(args.sets, args.dump_dir)
    for name in args.sets:
        total: dict[str, int] = {}
        print(
            "| utterance (s) | truth | stage | voice group: members | per utterance | pooled | why |"
        )
        print("|---|---|---|---|---|---|---|")
        for f in sorted(args.dump_dir.glob(f"{name}*.pkl")):
            lag, rows, counts = explain(pickle.loads(f.read_bytes()))
            print(f"| **{f.stem}** (clip lag {lag:+.2f} s) | | | | | | |")
            print("\n".join(rows))
            for k, v in counts.items():
                total[k] = total.get(k, 0) + v
        print(f"{name}: {total}")


if __name__ == "__main__":
    main()
