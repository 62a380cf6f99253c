"""Development conversations for choosing the diarisation clustering (issue 26).

Built only from corpus *training* speakers (EmoDB 8, RAVDESS actors 1-20, URDU's 8 training
speakers with 6+ utterances), under conditions meant to look less like studio read speech:

* conversational registers only: EmoDB's neutral and bored takes, RAVDESS's neutral and
  calm ones, URDU's unscripted talk-show speech (every emotion);
* 1, 2 or 3 speakers, 14 turns; the speakers' shares of the turns are uneven (Dirichlet);
  a quarter of the turns are short fragments (0.5-1.5 s cut out of an utterance's speech);
* gaps of 0.1-0.8 s, and one turn in ten overlaps the previous one by 0.1-0.4 s;
* one room per recording (RT60 0.1-0.5 s): synthetic room responses (exponential decay,
  direct-to-reverberant ratio 3-15 dB), one shared by all speakers in half the recordings
  and one per speaker in the others; a level per speaker (+-6 dB, and +-2 dB per turn);
  half the recordings are band-limited (a 3.4-7 kHz low-pass, a phone or broadcast
  channel); stationary coloured noise (1/f^a, a in 0-2) at 12-35 dB SNR.

The reference is each turn's own VAD speech (on the clean utterance) tagged with its
speaker. Seeded, so the same conversations come back every time.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
from scipy.signal import fftconvolve

from emochat.data.corpora import emodb, ravdess, urdu
from emochat.ingest import load_audio
from emochat.voice import diarize as dz
from emochat.voice.vad import speech_segments

SR = 16_000
CORPORA = ("emodb", "ravdess", "urdu")
CACHE_DIR = Path(__file__).resolve().parents[1] / ".cache"


def _tables():
    spontaneous = urdu.load("train").rename(columns={"speaker": "who"})
    many = spontaneous.groupby("who")["path"].transform("size") >= 6
    acted_emodb = emodb.load("train").rename(columns={"speaker": "who"})
    acted_ravdess = ravdess.load("train").rename(columns={"actor": "who"})
    return {  # conversational registers: the acted corpora's neutral, bored and calm takes
        "emodb": acted_emodb[acted_emodb["label"].isin(["neutral", "boredom"])],
        "ravdess": acted_ravdess[acted_ravdess["label"].isin(["neutral", "calm"])],
        "urdu": spontaneous[many],  # unscripted talk-show speech, every emotion
    }


def _room_response(rng, rt60: float, drr_db: float) -> np.ndarray:
    n = int(rt60 * SR)
    t = np.arange(n) / SR
    tail = rng.standard_normal(n) * np.exp(-6.9 * t / rt60)
    tail[: int(0.003 * SR)] = 0.0  # the first reflections arrive after the direct path
    tail *= np.sqrt(10 ** (-drr_db / 10) / max(np.sum(tail**2), 1e-12))
    tail[0] = 1.0
    return tail.astype(np.float32)


def _coloured_noise(rng, n: int, alpha: float) -> np.ndarray:
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.maximum(np.fft.rfftfreq(n, 1 / SR), 20.0)
    noise = np.fft.irfft(spec / f ** (alpha / 2), n)
    return (noise / (np.std(noise) + 1e-12)).astype(np.float32)


def _low_pass(x: np.ndarray, cutoff: float) -> np.ndarray:
    spec = np.fft.rfft(x)
    f = np.fft.rfftfreq(x.size, 1 / SR)
    spec *= 1.0 / (1.0 + (f / cutoff) ** 8)
    return np.fft.irfft(spec, x.size).astype(np.float32)


def conversations(n_per_k: int = 16, seed: int = 1):
    """Yield (corpus, k, audio, reference turns, turn spans)."""
    rng = np.random.default_rng(seed)
    tables = _tables()
    clean: dict[str, tuple[np.ndarray, list]] = {}

    def utterance(path: str):
        if path not in clean:
            wav = load_audio(path)
            spans = speech_segments(wav)
            if spans:
                a, b = int(spans[0][0] * SR), int(spans[-1][1] * SR)
                wav = wav[a:b]
                spans = [(s - a / SR, e - a / SR) for s, e in spans]
            clean[path] = (wav, spans)
        return clean[path]

    for corpus in CORPORA:
        table = tables[corpus]
        speakers = sorted(table["who"].unique())
        for k in (1, 2, 3):
            for _ in range(n_per_k):
                who = list(rng.choice(speakers, size=k, replace=False))
                share = rng.dirichlet(np.full(k, 2.0))
                order = who + list(rng.choice(who, size=14 - k, p=share))
                rng.shuffle(order)
                rt60 = rng.uniform(0.1, 0.5)
                shared = _room_response(rng, rt60, rng.uniform(3, 15))
                same_room = rng.random() < 0.5  # one microphone position for all
                rooms = {
                    w: shared if same_room else _room_response(rng, rt60, rng.uniform(3, 15))
                    for w in who
                }
                gains = {w: 10 ** (rng.uniform(-6, 6) / 20) for w in who}
                pieces, ref, turns, t = [], [], [], 0.0
                for w in order:
                    rows = table[table["who"] == w]
                    wav, spans = utterance(rows["path"].iloc[rng.integers(len(rows))])
                    if not spans:
                        continue
                    if rng.random() < 0.25:  # a short fragment of the utterance's speech
                        length = rng.uniform(0.5, 1.5)
                        a = rng.uniform(0, max(wav.size / SR - length, 0.0))
                        b = min(a + length, wav.size / SR)
                        spans = [
                            (max(s, a) - a, min(e, b) - a) for s, e in spans if e > a and s < b
                        ]
                        spans = [(s, e) for s, e in spans if e - s > 0.05]
                        wav = wav[int(a * SR) : int(b * SR)]
                        if not spans:
                            continue
                    if pieces and rng.random() < 0.1:
                        t -= rng.uniform(0.1, 0.4)  # overlaps the previous turn
                    else:
                        t += rng.uniform(0.1, 0.8)
                    t = max(t, 0.0)
                    sig = fftconvolve(wav, rooms[w])[: wav.size + int(0.3 * SR)]
                    sig *= gains[w] * 10 ** (rng.uniform(-2, 2) / 20)
                    pieces.append((int(t * SR), sig.astype(np.float32)))
                    ref += [(t + s, t + e, f"{corpus}{w}") for s, e in spans]
                    turns.append((t + spans[0][0], t + spans[-1][1], f"{corpus}{w}"))
                    t += wav.size / SR
                n = max(a + s.size for a, s in pieces) + int(0.3 * SR)
                audio = np.zeros(n, np.float32)
                for a, s in pieces:
                    audio[a : a + s.size] += s
                if rng.random() < 0.5:
                    audio = _low_pass(audio, rng.uniform(3400, 7000))
                speech_rms = np.sqrt(np.mean(audio[audio != 0] ** 2))
                snr = rng.uniform(12, 35)
                noise = _coloured_noise(rng, n, rng.uniform(0, 2))
                audio = audio + noise * speech_rms * 10 ** (-snr / 20)
                audio *= 0.5 / max(np.abs(audio).max(), 1e-6) * rng.uniform(0.3, 1.0)
                yield corpus, k, audio.astype(np.float32), ref, turns


def embedded(n_per_k: int = 16) -> list[dict]:
    """Each conversation's VAD spans, windows, window embeddings, per-turn embeddings and
    reference (cached in .cache/: they do not depend on the clustering being chosen)."""
    path = CACHE_DIR / f"diarization_dev_realistic_v2_{n_per_k}.pkl"
    if path.is_file():
        return pickle.loads(path.read_bytes())
    items = []
    for corpus, k, audio, ref, turns in conversations(n_per_k):
        spans = sorted(speech_segments(audio))
        windows = dz.diarization_windows(spans)
        emb = dz.speaker_embeddings(audio, windows)
        turn_emb = dz.speaker_embeddings(audio, [(s, e) for s, e, _ in turns])
        items.append(
            dict(
                corpus=corpus,
                k=k,
                spans=spans,
                windows=windows,
                emb=emb,
                ref=ref,
                turns=turns,
                turn_emb=turn_emb,
                seconds=audio.size / SR,
            )
        )
        print(f"  {len(items)}: {corpus} k={k} {audio.size / SR:.0f} s", flush=True)
    CACHE_DIR.mkdir(exist_ok=True)
    path.write_bytes(pickle.dumps(items))
    return items


if __name__ == "__main__":
    embedded()
