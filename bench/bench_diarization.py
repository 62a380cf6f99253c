"""Audio-only diarisation (issue 26): the clustering's choice, DER, speaker counts, speed.

    python bench/bench_diarization.py --choose                  # score the rules (dev set)
    python bench/bench_diarization.py --choose --devset clean   # the first, clean dev set
    python bench/bench_diarization.py                           # evaluate the shipped rule

``--choose`` scores clustering rules on conversations built from corpus *training*
speakers only: by default the realistic set of ``diarization_devset.py`` (EmoDB, RAVDESS
and URDU training speakers in conversational registers, 1-3 speakers, 14 turns with short
fragments and some overlap, synthetic rooms, levels, band limits and noise; 144
conversations), or ``--devset clean``, the first set (12 studio utterances each, 0.3-0.8 s
of silence between; how ``emochat.voice.diarize.THRESHOLD`` was first chosen). The rules:
the fixed average-linkage threshold over a grid, and the per-recording counts of
``diarization_candidates.py`` (NME-SC, silhouette-gated partitions, a threshold relative
to the recording's local scale, within-recording centring) over theirs; mean DER (0.25-s
collar) and speaker count right per true count, on the windows and on one embedding per
turn. Nothing evaluated below took part.

The evaluation: the pyannote sample (``media/diarization``, 2 speakers, RTTM reference;
DER with a 0.25-s collar, overlap scored, optimal speaker map), and the speaker count on
the four two-person ``media/conversation`` clips (expect 2) and the seven single-speaker
``media/talking`` clips (expect 1). Speech spans come from emochat's VAD. The candidates
that were not shipped are also run on the pyannote sample at their best dev setting, as a
diagnostic only (nothing is chosen from it). ``--long`` times a 10-minute recording (the
pyannote sample 20 times over).
"""

from __future__ import annotations

import argparse
import os
import pickle
import time
from pathlib import Path

import diarization_candidates as cand
import diarization_devset as devset
import numpy as np
from common import row

from emochat.core.settings import media_root
from emochat.data.corpora import emodb, ravdess, urdu
from emochat.eval.diarization import diarization_error, read_rttm
from emochat.ingest import load_audio
from emochat.voice import diarize as dz
from emochat.voice.vad import speech_segments

SR = 16_000
GRID = np.round(np.arange(0.25, 0.651, 0.025), 3)


def conversations(n_per_k: int = 20, seed: int = 0):
    """Yield (corpus, k, audio, reference turns) built from training speakers."""
    rng = np.random.default_rng(seed)
    spontaneous = urdu.load("train").rename(columns={"speaker": "who"})
    many = spontaneous.groupby("who")["path"].transform("size") >= 6
    corpora = {
        "emodb": emodb.load("train").rename(columns={"speaker": "who"}),
        "ravdess": ravdess.load("train").rename(columns={"actor": "who"}),
        "urdu": spontaneous[many],  # speakers with 6+ utterances: 8 of 23, all male
    }
    cache: dict[str, tuple[np.ndarray, list]] = {}

    def utterance(path: str):
        if path not in cache:
            wav = load_audio(path)
            spans = speech_segments(wav)
            if spans:  # trim the leading and trailing silence (RAVDESS: ~1 s each)
                a, b = int(spans[0][0] * SR), int(spans[-1][1] * SR)
                wav = wav[a:b]
                spans = [(s - a / SR, e - a / SR) for s, e in spans]
            cache[path] = (wav, spans)
        return cache[path]

    for corpus, table in corpora.items():
        speakers = sorted(table["who"].unique())
        for k in (1, 2, 3):
            for _ in range(n_per_k):
                who = rng.choice(speakers, size=k, replace=False)
                order = list(who) + list(rng.choice(who, size=12 - k))
                rng.shuffle(order)
                parts, ref, t = [], [], 0.0
                for w in order:
                    rows = table[table["who"] == w]
                    wav, spans = utterance(rows["path"].iloc[rng.integers(len(rows))])
                    gap = np.zeros(int(rng.uniform(0.3, 0.8) * SR), np.float32)
                    parts += [gap, wav]
                    t += gap.size / SR
                    ref += [(t + s, t + e, f"{corpus}{w}") for s, e in spans]
                    t += wav.size / SR
                yield corpus, k, np.concatenate(parts), ref


CACHE_DIR = Path(__file__).resolve().parents[1] / ".cache"


def _cache(corpus: str) -> Path:
    return CACHE_DIR / f"diarization_choose_{corpus}.pkl"


def embedded_conversations() -> list[dict]:
    """Each conversation's VAD spans, windows, window embeddings and reference (cached in
    .cache/: the embeddings do not depend on the clustering being chosen)."""
    cached = {
        c: pickle.loads(_cache(c).read_bytes())
        for c in ("emodb", "ravdess", "urdu")
        if _cache(c).is_file()
    }
    made: dict[str, list] = {}
    for corpus, k, audio, ref in conversations():
        if corpus in cached:
            continue  # drawn all the same, so that the later corpora get the same draws
        spans = sorted(speech_segments(audio))
        windows = dz.diarization_windows(spans)
        emb = dz.speaker_embeddings(audio, windows)
        item = dict(corpus=corpus, k=k, spans=spans, windows=windows, emb=emb, ref=ref)
        made.setdefault(corpus, []).append(item)
    for corpus, items in made.items():
        CACHE_DIR.mkdir(exist_ok=True)
        _cache(corpus).write_bytes(pickle.dumps(items))
    return [c for corpus in ("emodb", "ravdess", "urdu") for c in {**cached, **made}[corpus]]


GATES = np.round(np.arange(0.15, 0.501, 0.025), 3)
ALPHAS = (1.6, 1.8, 2.0, 2.2, 2.4, 2.6, 2.8, 3.0)
CENTRED = [(b, round(t, 2)) for b in (0.5, 0.75, 1.0) for t in np.arange(0.6, 1.41, 0.1)]


def rules(fine: bool = True) -> dict:
    """Name -> rule(embeddings, durations) -> labels: the shipped fixed threshold and the
    per-recording candidates (``diarization_candidates.py``) over their grids."""
    out = {f"threshold {dz.THRESHOLD}": lambda e, d: dz.cluster_speakers(e, d)}
    for th in GRID if fine else ():
        if th != dz.THRESHOLD:
            out[f"threshold {th:.3f}"] = lambda e, d, t=float(th): dz.cluster_speakers(
                e, d, threshold=t
            )
    out["NME-SC eigengap"] = cand.nme_only
    for part in ("spectral", "nme", "ahc"):
        for g in GATES if fine else (0.5,):
            out[f"{part} silhouette >= {g:.3f}"] = lambda e, d, p=part, g=float(g): (
                cand.silhouette_gated(e, d, p, g)
            )
    for capped in (False, True):
        for a in ALPHAS if fine else ((3.0,) if capped else (2.8,)):
            name = f"min({dz.THRESHOLD}, {a} x local scale)" if capped else f"{a} x local scale"
            out[name] = lambda e, d, a=a, c=capped: cand.relative_threshold(e, d, a, c)
    for beta, t in CENTRED if fine else ((0.5, 0.8),):
        out[f"centred {beta} x mean, threshold {t}"] = lambda e, d, b=beta, t=t: (
            cand.centred_threshold(e, d, b, t)
        )
    return out


def choose(version: str = "realistic") -> None:
    """Score the clustering rules on the development conversations (mean DER at a 0.25-s
    collar; speaker count right) on the windows (:func:`diarize`) and on one embedding
    per turn (as the speaker stage clusters utterances)."""
    items = devset.embedded() if version == "realistic" else embedded_conversations()
    found = rules()
    results: dict[str, list] = {name: [] for name in found}
    for c in items:
        if not c["windows"]:
            continue
        durations = [e - s for s, e in c["windows"]]
        turn_d = [e - s for s, e, _ in c.get("turns", [])]
        for name, rule in found.items():
            hyp = dz.turns_from_windows(c["spans"], c["windows"], rule(c["emb"], durations))
            der = diarization_error(c["ref"], hyp, collar_s=0.25).der
            n_hyp = len({w for *_, w in hyp})
            n_turn = len(set(rule(c["turn_emb"], turn_d))) if turn_d else -1
            results[name].append((c["corpus"], c["k"], der, n_hyp == c["k"], n_turn == c["k"]))
    print(
        "rule | mean DER (collar 0.25) | count right, windows: all / k=1,2,3 | "
        "count right, one embedding per turn: all / k=1,2,3"
    )
    for name, rs in results.items():
        der = np.mean([r[2] for r in rs])
        by_k = " ".join(f"{np.mean([r[3] for r in rs if r[1] == k]):.2f}" for k in (1, 2, 3))
        by_k_t = " ".join(f"{np.mean([r[4] for r in rs if r[1] == k]):.2f}" for k in (1, 2, 3))
        print(
            f"{name} | {der:.3f} | {np.mean([r[3] for r in rs]):.2f} / {by_k} | "
            f"{np.mean([r[4] for r in rs]):.2f} / {by_k_t}"
        )


def known_count(version: str = "realistic") -> None:
    """With the speaker count given (``cluster_speakers(n_speakers=k)``, as a caller who
    knows it would), which partition is best: the shipped average-linkage cut into k, or
    spectral clustering (NME-pruned affinity, k eigenvectors, k-means), spherical k-means
    or Ward's linkage, each at the true k; mean DER at a 0.25-s collar."""
    from scipy.cluster.hierarchy import fcluster, linkage

    def unit(e):
        return dz._normalise(np.asarray(e, np.float32)).astype(np.float64)

    def spectral(e, d, k):
        x = unit(e)
        if k == 1 or len(x) <= k:
            return dz.cluster_speakers(e, d, n_speakers=k)
        return cand.spectral_labels(cand.nme_spectral(x @ x.T)[1], k).tolist()

    partitions = {
        "average linkage cut into k (shipped)": lambda e, d, k: dz.cluster_speakers(
            e, d, n_speakers=k
        ),
        "spectral (NME-pruned affinity)": spectral,
        "spherical k-means": lambda e, d, k: (
            [0] * len(e) if k == 1 else cand._kmeans(unit(e), k).tolist()
        ),
        "Ward linkage": lambda e, d, k: (
            [0] * len(e)
            if k == 1 or len(e) < 2
            else (fcluster(linkage(unit(e), "ward"), t=k, criterion="maxclust") - 1).tolist()
        ),
    }
    items = devset.embedded() if version == "realistic" else embedded_conversations()
    print("partition at the true k | mean DER (collar 0.25) | k=1 / 2 / 3")
    for name, partition in partitions.items():
        rs = []
        for c in items:
            if not c["windows"]:
                continue
            d = [e - s for s, e in c["windows"]]
            labels = partition(c["emb"], d, c["k"])
            hyp = dz.turns_from_windows(c["spans"], c["windows"], labels)
            rs.append((c["k"], diarization_error(c["ref"], hyp, collar_s=0.25).der))
        ks, ders = np.array([r[0] for r in rs]), np.array([r[1] for r in rs])
        by_k = " / ".join(f"{ders[ks == k].mean():.3f}" for k in (1, 2, 3))
        print(f"{name} | {ders.mean():.3f} | {by_k}")


def count(path) -> tuple[int, float, float, int]:
    """(speakers found, audio seconds, diarisation seconds excluding the VAD, the count
    NME-SC would give: a diagnostic)."""
    audio = load_audio(path)
    spans = speech_segments(audio)
    t = time.perf_counter()
    turns = dz.diarize(audio, spans)
    took = time.perf_counter() - t
    windows = dz.diarization_windows(sorted(spans))
    emb = dz.speaker_embeddings(audio, windows)
    nme = len(set(cand.nme_only(emb, [e - s for s, e in windows]))) if windows else 0
    return len({w for *_, w in turns}), audio.size / SR, took, nme


def evaluate() -> None:
    root = media_root()
    wav = root / "diarization" / "pyannote_sample.wav"
    audio = load_audio(wav)
    spans = speech_segments(audio)
    t = time.perf_counter()
    hyp = dz.diarize(audio, spans)
    took = time.perf_counter() - t
    ref = read_rttm(wav.with_suffix(".rttm"))
    score = diarization_error(ref, hyp, collar_s=0.25)
    no_collar = diarization_error(ref, hyp, collar_s=0.0)
    print(
        f"pyannote_sample: DER {score.der:.3f} (missed {score.missed_s:.2f} s, false alarm "
        f"{score.false_alarm_s:.2f} s, confusion {score.confusion_s:.2f} s of "
        f"{score.total_s:.2f} s; without collar {no_collar.der:.3f}); speakers "
        f"{score.n_hypothesis_speakers} (reference {score.n_reference_speakers}); "
        f"{took:.2f} s for {audio.size / SR:.0f} s"
    )
    given = diarization_error(ref, dz.diarize(audio, spans, n_speakers=2), collar_s=0.25)
    print(
        f"  diagnostic, the count given (n_speakers=2, as the faces could give it): DER "
        f"{given.der:.3f} (confusion {given.confusion_s:.2f} s)"
    )
    oracle = diarization_error(ref, [(s, e, "x") for s, e in spans])
    print(
        f"  VAD alone as one speaker: missed {oracle.missed_s:.2f} s, FA {oracle.false_alarm_s:.2f} s"
    )
    print("  turns:", [(s, e, w) for s, e, w in hyp])
    windows = dz.diarization_windows(sorted(spans))
    emb = dz.speaker_embeddings(audio, windows)
    durations = [e - s for s, e in windows]
    print("  diagnostic, the candidates not shipped (each at its best setting on the dev set):")
    for name, rule in list(rules(fine=False).items())[1:]:
        h = dz.turns_from_windows(sorted(spans), windows, rule(emb, durations))
        sc = diarization_error(ref, h, collar_s=0.25)
        print(f"    {name}: DER {sc.der:.3f}, speakers {sc.n_hypothesis_speakers}")
    audio_s = diar_s = 0.0
    lines = []
    for folder, expect in (("conversation", 2), ("talking", 1)):
        right = 0
        clips = sorted(p for p in (root / folder).iterdir() if p.suffix in (".mp4", ".avi"))
        for p in clips:
            n, secs, took, nme = count(p)
            right += n == expect
            audio_s += secs
            diar_s += took
            lines.append(
                f"  {folder}/{p.name}: {n} speakers (expect {expect}), {took:.2f} s for "
                f"{secs:.0f} s (diagnostic: NME-SC would say {nme})"
            )
        print(f"{folder}: speaker count right {right}/{len(clips)}")
    print("\n".join(lines))
    load = os.getloadavg()[0]
    print(
        f"speed: {diar_s:.1f} s of diarisation for {audio_s:.0f} s of audio ({diar_s / audio_s * 60:.2f} s per minute), load {load:.1f}"
    )
    print(row(f"DER {score.der:.3f}, speakers {score.n_hypothesis_speakers}/2"))


def long_recording(repeats: int = 20) -> None:
    """Embedding and clustering time on the pyannote sample repeated (10 min): the
    clustering sees at most ``MAX_POINTS`` windows, the rest join their centroids."""
    audio = load_audio(media_root() / "diarization" / "pyannote_sample.wav")
    long = np.tile(audio, repeats)
    spans = sorted(speech_segments(long))
    t = time.perf_counter()
    windows = dz.diarization_windows(spans)
    emb = dz.speaker_embeddings(long, windows)
    t_emb = time.perf_counter() - t
    t = time.perf_counter()
    labels = dz.cluster_speakers(emb, [e - s for s, e in windows])
    t_cluster = time.perf_counter() - t
    print(
        f"{long.size / SR / 60:.1f} min: {len(windows)} windows, embedding {t_emb:.1f} s, "
        f"clustering {t_cluster:.2f} s, {len(set(labels))} speakers; "
        f"load {os.getloadavg()[0]:.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--choose", action="store_true", help="score the clustering rules")
    parser.add_argument(
        "--devset",
        choices=("realistic", "clean"),
        default="realistic",
        help="--choose on diarization_devset.py's conversations or the first clean ones",
    )
    parser.add_argument("--long", action="store_true", help="time a 10-minute recording")
    parser.add_argument(
        "--known-count", action="store_true", help="partitions at the true speaker count"
    )
    args = parser.parse_args()
    if args.long:
        long_recording()
    elif args.known_count:
        known_count(args.devset)
    else:
        choose(args.devset) if args.choose else evaluate()


if __name__ == "__main__":
    main()
