"""Audio-only diarisation (issue 26): the threshold's choice, DER, speaker counts, speed.

    python bench/bench_diarization.py --choose   # pick the clustering threshold
    python bench/bench_diarization.py            # evaluate the shipped threshold

``--choose`` builds conversations from the *training* speakers of EmoDB (8), RAVDESS
(actors 1-20; both acted) and URDU (talk-show speech; the 8 training speakers with 6 or
more utterances): 1, 2 or 3 speakers, 12 utterances each conversation, the speakers taking
turns at random with 0.3-0.8 s of silence between utterances; the reference is each
utterance's own VAD speech tagged with its speaker. Every threshold of a grid is scored
(mean DER, speaker count right) and the best mean DER is printed: that is how
``emochat.voice.diarize.THRESHOLD`` was chosen. Nothing evaluated below took part.

The evaluation: the pyannote sample (``media/diarization``, 2 speakers, RTTM reference;
DER with a 0.25-s collar, overlap scored, optimal speaker map), and the speaker count on
the four two-person ``media/conversation`` clips (expect 2) and the seven single-speaker
``media/talking`` clips (expect 1). Speech spans come from emochat's VAD.
"""

from __future__ import annotations

import argparse
import os
import pickle
import time
from pathlib import Path

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


def choose() -> None:
    results = {th: [] for th in GRID}
    for c in embedded_conversations():
        durations = [e - s for s, e in c["windows"]]
        for th in GRID:
            labels = dz.cluster_speakers(c["emb"], durations, threshold=float(th))
            hyp = dz.turns_from_windows(c["spans"], c["windows"], labels)
            score = diarization_error(c["ref"], hyp)
            n_hyp = len({w for *_, w in hyp})
            results[th].append((c["corpus"], c["k"], score.der, n_hyp == c["k"]))
    print("threshold | mean DER | count right (all) | by k=1,2,3 | emodb / ravdess / urdu DER")
    best = None
    for th, rs in results.items():
        der = np.mean([r[2] for r in rs])
        right = np.mean([r[3] for r in rs])
        by_k = " ".join(f"{np.mean([r[3] for r in rs if r[1] == k]):.2f}" for k in (1, 2, 3))
        per = " / ".join(
            f"{np.mean([r[2] for r in rs if r[0] == c]):.3f}" for c in ("emodb", "ravdess", "urdu")
        )
        print(f"{th:.3f} | {der:.3f} | {right:.2f} | {by_k} | {per}")
        if best is None or der < best[1]:
            best = (th, der)
    print(f"lowest mean DER at threshold {best[0]:.3f} ({best[1]:.3f}); shipped {dz.THRESHOLD}")


def count(path) -> tuple[int, float, float]:
    """(speakers found, audio seconds, diarisation seconds excluding the VAD)."""
    audio = load_audio(path)
    spans = speech_segments(audio)
    t = time.perf_counter()
    turns = dz.diarize(audio, spans)
    return len({w for *_, w in turns}), audio.size / SR, time.perf_counter() - t


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
    audio_s = diar_s = 0.0
    lines = []
    for folder, expect in (("conversation", 2), ("talking", 1)):
        right = 0
        clips = sorted(p for p in (root / folder).iterdir() if p.suffix in (".mp4", ".avi"))
        for p in clips:
            n, secs, took = count(p)
            right += n == expect
            audio_s += secs
            diar_s += took
            lines.append(
                f"  {folder}/{p.name}: {n} speakers (expect {expect}), {took:.2f} s for {secs:.0f} s"
            )
        print(f"{folder}: speaker count right {right}/{len(clips)}")
    print("\n".join(lines))
    load = os.getloadavg()[0]
    print(
        f"speed: {diar_s:.1f} s of diarisation for {audio_s:.0f} s of audio ({diar_s / audio_s * 60:.2f} s per minute), load {load:.1f}"
    )
    print(row(f"DER {score.der:.3f}, speakers {score.n_hypothesis_speakers}/2"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--choose", action="store_true", help="score the threshold grid")
    args = parser.parse_args()
    choose() if args.choose else evaluate()


if __name__ == "__main__":
    main()
