"""Reduced CPU run of the multimodal LLM: training throughput and held-out label scores.

Trains configs/mllm_cpu_reduced.yaml (the real gemma-3-270m, a dozen steps on a small
sample), then scores small class-balanced subsets of the held-out splits (RAVDESS actors
21-24, FER2013 PrivateTest, MELD test) by label likelihood, beside the single-modality
cue models' own answers on the same samples. A reduced CPU run, not the GPU training run.

    python bench/bench_mllm.py [--config C] [--eval-limit N]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time
from pathlib import Path

from common import peak_rss_mb, row

HERE = Path(__file__).resolve().parent
HELD_OUT = {"ravdess": "test", "fer2013": "test", "meld": "test"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, default=HERE.parent / "configs/mllm_cpu_reduced.yaml")
    ap.add_argument("--eval-limit", type=int, default=14, help="samples per held-out subset")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "mllm.json")
    args = ap.parse_args()

    from emochat.models.emochat_llm.infer import explain
    from emochat.models.emochat_llm.lm import load_lm
    from emochat.models.emochat_llm.model import EmoChatLM
    from emochat.train.emochat_llm.config import TrainConfig
    from emochat.train.emochat_llm.data import cached_corpus
    from emochat.train.emochat_llm.evaluate import evaluate
    from emochat.train.emochat_llm.trainer import ADAPTER, train

    cfg = TrainConfig.load(args.config)
    held = {
        c: cached_corpus(cfg.cache_dir, c, s, "eval", args.eval_limit, seed=0)
        for c, s in HELD_OUT.items()
    }
    t0 = time.perf_counter()
    lm, tok = load_lm(cfg.lm, cfg.gguf_file)
    load_s = time.perf_counter() - t0
    fresh = copy.deepcopy(lm)  # the trained adapter is re-attached to an untouched base
    summary = train(cfg, lm_and_tokenizer=(lm, tok))
    del lm
    model = EmoChatLM.load(Path(cfg.output_dir) / ADAPTER, fresh, tok)
    t1 = time.perf_counter()
    scores = {c: evaluate(model, samples) for c, samples in held.items()}
    eval_s = time.perf_counter() - t1
    n_eval = sum(len(s) for s in held.values())
    example = explain(model, held["ravdess"][0].cues, max_new_tokens=60)
    result = {
        "config": str(args.config),
        "lm_load_s": round(load_s, 1),
        "train": {k: v for k, v in summary.items() if k != "history"},
        "loss_first5": [h["loss"] for h in summary["history"][:5]],
        "loss_last5": [h["loss"] for h in summary["history"][-5:]],
        "eval": {c: {k: v for k, v in s.items() if k != "predictions"} for c, s in scores.items()},
        "eval_samples_per_s": round(n_eval / eval_s, 3),
        "example": example,
        "peak_rss_mib": round(peak_rss_mb(), 1),
        "load": os.getloadavg(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    print(json.dumps(result, indent=1, ensure_ascii=False))
    tr = result["train"]
    ev = " ".join(
        f"{c} acc {s['llm_accuracy']:.3f}/F1w {s['llm_weighted_f1']:.3f} "
        f"(cue models {s['cue_model_accuracy']:.3f}/{s['cue_model_weighted_f1']:.3f}, n={s['n']})"
        for c, s in result["eval"].items()
    )
    print(
        row(
            f"reduced CPU run, {tr['steps'][1]} steps x {cfg.batch_size}: "
            f"{tr['samples_per_s']} samples/s, {tr['tokens_per_s']} tokens/s, "
            f"peak RSS {result['peak_rss_mib']:.0f} MiB; {ev}"
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
