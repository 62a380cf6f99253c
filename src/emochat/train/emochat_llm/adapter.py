"""Train, score and export the shipped emochat-llm adapter (``emochat/models/emochat_llm/llm_adapter``).

1. the ``train`` step with ``configs/mllm_cpu.yaml`` (resumes from its checkpoints);
2. the adapter, re-attached to an untouched gemma-3-270m, scores class-balanced subsets of
   the held-out splits (RAVDESS actors 21-24, FER2013 PrivateTest, MELD test) by label
   likelihood, beside the pipeline's fusion head and the best single cue model on the
   same samples;
3. the adapter files are copied into the package and the figures written to ``--metrics``.

    python -m emochat.train.emochat_llm adapter [--threads 2] [--eval-limit 210] [--no-export]

Seeded (the config's seed); the sample caches go to the config's ``cache_dir``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path

from emochat.train.paths import REPO

HELD_OUT_CORPORA = ("ravdess", "fer2013", "meld")
PACKAGE_ADAPTER = REPO / "src" / "emochat" / "models" / "emochat_llm" / "llm_adapter"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="emochat.train.emochat_llm adapter", description=__doc__.split("\n\n")[0]
    )
    ap.add_argument("--config", type=Path, default=REPO / "configs" / "mllm_cpu.yaml")
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    ap.add_argument("--eval-limit", type=int, default=210, help="samples per held-out subset")
    ap.add_argument("--metrics", type=Path, default=REPO / "bench" / "results" / "llm_adapter.json")
    ap.add_argument("--no-train", action="store_true", help="score the existing adapter only")
    ap.add_argument("--no-export", action="store_true", help="do not copy it into the package")
    a = ap.parse_args(argv)

    import torch

    torch.set_num_threads(a.threads)
    from emochat.data.registry import HELD_OUT
    from emochat.models.emochat_llm.model import CONFIG_FILE, TRAINABLE_FILE, EmoChatLM
    from emochat.train.emochat_llm.config import TrainConfig
    from emochat.train.emochat_llm.data import cached_corpus
    from emochat.train.emochat_llm.evaluate import evaluate
    from emochat.train.emochat_llm.trainer import ADAPTER, train

    cfg = TrainConfig.load(a.config)
    summary_file = Path(cfg.output_dir) / "train_summary.json"
    if not a.no_train:
        summary = train(cfg)
    else:
        summary = json.loads(summary_file.read_text())
    held = {
        c: cached_corpus(cfg.cache_dir, c, HELD_OUT[c], "eval", a.eval_limit, seed=cfg.seed)
        for c in HELD_OUT_CORPORA
    }
    adapter = Path(cfg.output_dir) / ADAPTER
    model = EmoChatLM.load(adapter)
    scores = {}
    for corpus, samples in held.items():
        t0 = time.perf_counter()
        result = evaluate(model, samples)
        result["seconds_per_sample"] = round((time.perf_counter() - t0) / len(samples), 3)
        result["gold"] = [s.basic for s in samples]
        scores[corpus] = result
        print(
            corpus,
            json.dumps({k: v for k, v in result.items() if k not in ("gold", "predictions")}),
            flush=True,
        )
    metrics = {
        "config": str(a.config.relative_to(REPO) if a.config.is_relative_to(REPO) else a.config),
        "device": summary["device"],
        "threads": a.threads,
        "train": {k: v for k, v in summary.items() if k != "history"},
        "loss_first10": [h["loss"] for h in summary["history"][:10]],
        "loss_last10": [h["loss"] for h in summary["history"][-10:]],
        "heldout": scores,
        "load": os.getloadavg(),
        "date": time.strftime("%Y-%m-%d"),
    }
    a.metrics.parent.mkdir(parents=True, exist_ok=True)
    a.metrics.write_text(json.dumps(metrics, indent=1) + "\n")
    if not a.no_export:
        PACKAGE_ADAPTER.mkdir(parents=True, exist_ok=True)
        for name in (TRAINABLE_FILE, CONFIG_FILE):
            shutil.copyfile(adapter / name, PACKAGE_ADAPTER / name)
        (PACKAGE_ADAPTER / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
        print(f"exported {adapter} -> {PACKAGE_ADAPTER}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
