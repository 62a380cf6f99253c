"""Who is speaking (issue 26): a shift-null significance test tried in place of the fixed
thresholds of :mod:`emochat.fusion.speakers` (not shipped: it did worse on fit and eval).

The speaker stage's own inputs (mouth tracks, loudness envelope, utterance spans, voice
groups) are captured from real runs of the attribution pipeline of
``bench_active_speaker.py`` on its composites (cached as pickles in ``--dump-dir``), and
the decision is replayed offline:

- per utterance group and face, the duration-weighted mean synchrony (Pearson correlation
  of ``|d mouth opening|`` with ``|d loudness|`` over the utterance +- 0.5 s) at the clip's
  lag (searched over +- 0.4 s, the stage's rule), or at a lag per face (``--lag face``),
  or at lag 0 (``--lag zero``);
- a null: the same statistic with the audio circularly shifted by every 0.5 s from 2 s to
  (length - 2) s, the lag searched again for each shift (so the lag search's selection is
  in the null too);
- ``z = (r - mean_null) / sd_null`` for the best face and the same for its lead over the
  second face (their difference against the difference's null); attribute when
  ``z >= --z`` and the lead's ``z >= --zd``, else off-screen.

Features (``--mode``): ``absdiff`` (the stage's: loudness read at the frame time),
``absdiffavg`` (loudness averaged over +- 40 ms, the 10-fps frame interval), ``level``
(opening against loudness), ``hp5``/``hp9`` (both high-passed by a 5/9-frame moving mean).

    cd bench && nice -n 10 python bench_active_speaker_null.py --sets fit \
        --mode absdiffavg --lag clip --z 1.645 --zd 1.645 [--verbose]
"""

from __future__ import annotations

import argparse
import os
import pickle
from pathlib import Path

import numpy as np

PAD_S, MAX_LAG_S, LAG_STEP_S, MIN_FRAMES = 0.5, 0.4, 0.02, 8


def dump(sets: list[str], out_dir: Path, fps: float = 10.0) -> None:
    """Run the real attribution pipeline on each composite and pickle the speaker
    stage's inputs with each utterance's truth ("left", "right", "off" or None)."""
    import bench_active_speaker as bench

    import emochat.fusion.speaker_stage as stage
    from emochat.options import AnalyzeOptions
    from emochat.testing.composites import truth_for

    captured = {}
    original = stage.attribute

    def capture(tracks, envelope, spans, groups=None, lag_s=None, **thresholds):
        captured["args"] = (tracks, envelope, spans, groups)
        return original(tracks, envelope, spans, groups, lag_s, **thresholds)

    stage.attribute = capture
    pipe = bench.attribution_pipeline()
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in sets:
        for job in bench.composite_jobs()[name]:
            path_out = out_dir / f"{job[0]}.pkl"
            if path_out.exists():
                continue
            captured.clear()
            path, turns = bench.build(job)
            ctx = pipe.run(path, AnalyzeOptions(fps=fps), None, [])
            tracks, env, spans, groups = captured["args"]
            want = []
            for a, b in spans:
                t = truth_for(turns, a, b)
                side = None if t is None else "off" if t[0] is None else ("left", "right")[t[0]]
                want.append(side)
            data = dict(tracks=tracks, env=env, spans=spans, groups=groups, want=want)
            data["sides"] = bench.face_sides(ctx)
            path_out.write_bytes(pickle.dumps(data))


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    den = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / den) if den > 1e-12 else 0.0


def _features(track, env, a, b, lag, shift, length, mode):
    i = int(np.searchsorted(track.t_s, a - PAD_S))
    j = int(np.searchsorted(track.t_s, b + PAD_S, side="right"))
    if j - i < MIN_FRAMES:
        return None
    m = track.opening[i:j]
    t = track.t_s[i:j] + lag + shift
    if shift:
        t = np.mod(t - env.t_s[0], length) + env.t_s[0]

    def loud(times):
        return np.interp(times, env.t_s, env.loudness, left=0.0, right=0.0)

    if mode == "absdiff":
        return np.abs(np.diff(m)), np.abs(np.diff(loud(t)))
    v = np.mean([loud(t + o) for o in (-0.04, -0.02, 0.0, 0.02, 0.04)], axis=0)
    if mode == "absdiffavg":
        return np.abs(np.diff(m)), np.abs(np.diff(v))
    if mode == "level":
        return m, loud(t)
    k = int(mode[2:])  # hp5 / hp9
    ker = np.ones(k) / k
    mm, vv = m - np.convolve(m, ker, "same"), v - np.convolve(v, ker, "same")
    return mm[k // 2 : len(mm) - k // 2], vv[k // 2 : len(vv) - k // 2]


def _matrices(d, lag, shift, mode):
    """Per-utterance and group-pooled synchrony, (utterances, faces)."""
    spans, tracks, groups = d["spans"], d["tracks"], d["groups"]
    m = np.full((len(spans), len(tracks)), np.nan)
    for u, (a, b) in enumerate(spans):
        for f, tr in enumerate(tracks):
            x = _features(tr, d["env"], a, b, lag, shift, d["length"], mode)
            if x is not None:
                m[u, f] = _corr(*x)
    dur = np.array([max(b - a, 0.1) for a, b in spans])
    pooled = m.copy()
    for key in {g for g in (groups or []) if g is not None}:
        rows = [i for i, g in enumerate(groups) if g == key]
        w = dur[rows][:, None] * ~np.isnan(m[rows])
        tot = w.sum(axis=0)
        mean = np.nansum(np.nan_to_num(m[rows]) * w, axis=0) / np.maximum(tot, 1e-9)
        pooled[rows] = np.where(tot > 0, mean, np.nan)
    return m, pooled


def _statistic(d, shift, mode, lag_mode):
    lags = np.arange(-MAX_LAG_S, MAX_LAG_S + 1e-9, LAG_STEP_S)
    if lag_mode == "zero":
        return _matrices(d, 0.0, shift, mode)[1]
    runs = [_matrices(d, float(lag), shift, mode) for lag in lags]
    if lag_mode == "clip":  # the stage's rule: best-face synchrony summed over utterances
        scores = []
        for m, _ in runs:
            seen = ~np.all(np.isnan(m), axis=1)
            scores.append(np.nanmax(m[seen], axis=1).sum() if seen.any() else -np.inf)
        return runs[int(np.argmax(scores))][1]
    dur = np.array([max(b - a, 0.1) for a, b in d["spans"]])
    out = np.full(runs[0][0].shape, np.nan)
    for f in range(out.shape[1]):
        best = int(np.argmax([np.nansum(m[:, f] * dur) for m, _ in runs]))
        out[:, f] = runs[best][1][:, f]
    return out


def _tally(res: dict, want: str, got: str | None) -> None:
    """Count one scored utterance: ``want`` "off" is a muted one (right = abstained)."""
    if want == "off":
        res["muted"] += 1
        res["muted_abstained"] += got is None
    elif got is None:
        res["abstained"] += 1
    else:
        res["right" if got == want else "wrong"] += 1


def score(files, mode, lag_mode, z_min, zd_min, verbose=False) -> dict:
    res = dict(right=0, wrong=0, abstained=0, muted_abstained=0, muted=0)
    for fn in files:
        d = pickle.loads(Path(fn).read_bytes())
        t = d["env"].t_s
        d["length"] = float(t[-1] - t[0] + (t[1] - t[0]))
        obs = _statistic(d, 0.0, mode, lag_mode)
        shifts = np.arange(2.0, d["length"] - 2.0 + 1e-9, 0.5)
        null = np.array([_statistic(d, float(s), mode, lag_mode) for s in shifts])
        ids = [tr.face_id for tr in d["tracks"]]
        for u, want in enumerate(d["want"]):
            if want is None:
                continue
            row = obs[u]
            idx = np.where(~np.isnan(row))[0]
            got, z, zd = None, np.nan, np.nan
            if idx.size:
                order = idx[np.argsort(-row[idx])]
                b = order[0]
                z = (row[b] - np.nanmean(null[:, u, b])) / max(
                    np.nanstd(null[:, u, b], ddof=1), 1e-9
                )
                zd = np.inf
                if order.size > 1:
                    diff = null[:, u, b] - null[:, u, order[1]]
                    lead = row[b] - row[order[1]]
                    zd = (lead - np.nanmean(diff)) / max(np.nanstd(diff, ddof=1), 1e-9)
                if z >= z_min and zd >= zd_min:
                    got = d["sides"][ids[b]]
            _tally(res, want, got)
            if verbose:
                print(
                    f"  {Path(fn).stem} {d['spans'][u]} want={want} got={got} "
                    f"z={z:.2f} zd={zd:.2f} sync={np.round(row, 3)}"
                )
    return res


def score_shipped(files, verbose=False) -> dict:
    """The shipped decision (:func:`emochat.fusion.speakers.attribute`, fixed thresholds)
    replayed on the same captured inputs."""
    from emochat.fusion.speakers import attribute

    res = dict(right=0, wrong=0, abstained=0, muted_abstained=0, muted=0)
    for fn in files:
        d = pickle.loads(Path(fn).read_bytes())
        atts, lag = attribute(d["tracks"], d["env"], d["spans"], d["groups"])
        for span, want, att in zip(d["spans"], d["want"], atts, strict=True):
            if want is None:
                continue
            got = None if att.face_id is None else d["sides"][att.face_id]
            _tally(res, want, got)
            if verbose:
                print(f"  {Path(fn).stem} {span} want={want} got={got} lag={lag} sync={att.sync}")
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", nargs="*", default=["fit"])
    ap.add_argument("--dump-dir", type=Path, default=Path("/tmp/emochat-bench-asd/inputs"))
    ap.add_argument("--mode", default="absdiffavg")
    ap.add_argument("--lag", default="clip", choices=["clip", "face", "zero"])
    ap.add_argument("--decision", default="null", choices=["null", "shipped"])
    ap.add_argument("--z", type=float, default=1.645)
    ap.add_argument("--zd", type=float, default=1.645)
    ap.add_argument("--fps", type=float, default=10.0, help="face frames analysed per second")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()}")
    if args.fps != 10.0:
        args.dump_dir = args.dump_dir / f"fps{args.fps:g}"
    dump(args.sets, args.dump_dir, args.fps)
    for name in args.sets:
        files = sorted(args.dump_dir.glob(f"{name}*.pkl"))
        if args.decision == "shipped":
            r = score_shipped(files, args.verbose)
            print(f"{name} (shipped thresholds, {args.fps:g} fps): {r}")
            continue
        r = score(files, args.mode, args.lag, args.z, args.zd, args.verbose)
        print(
            f"{name} ({args.fps:g} fps, {args.mode}, lag {args.lag}, z >= {args.z}, "
            f"lead z >= {args.zd}): {r}"
        )
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
