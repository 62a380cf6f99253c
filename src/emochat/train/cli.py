"""``emochat train``: train the models a user can train on their own data.

``emochat train llm --config configs/mllm.yaml`` trains the multimodal LLM (cue
projectors + LoRA); run it under torchrun for DDP.

``emochat train aggregator --manifest FILE`` fits the Correlation Aggregator on your
own labelled clips. The manifest is the eval one (``path,label[,transcript]``, see
:func:`emochat.eval.datasets.manifest`). Each clip runs through the voice stage once
(ASR word times, or its transcript laid over the speech) and its features are cached
beside the manifest, so a second run with other settings starts at once. Labels are
mapped into the basic label space; the trained file is used by ``emochat analyze``
when ``EMOCHAT_AGGREGATOR_MODEL`` names it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from emochat.core.settings import torchrun
from emochat.errors import DataError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="model", metavar="MODEL", required=True)
    llm = sub.add_parser(
        "llm",
        help="the multimodal LLM: cue projectors + LoRA on a causal LM",
        description="Train the cue projectors and a LoRA adapter on a causal LM from a YAML "
        "config (see configs/mllm.yaml). Resumes from the latest checkpoint in output_dir. "
        "For several processes: python -m torch.distributed.run --nproc_per_node N "
        "-m emochat train llm --config FILE",
    )
    llm.add_argument("--config", type=Path, required=True, help="YAML training config")
    llm.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a top-level setting (e.g. --set steps=20); repeatable",
    )
    llm.add_argument("--build-only", action="store_true", help="build the feature caches and stop")
    agg = sub.add_parser(
        "aggregator",
        help="the Correlation Aggregator (words x audio frames cross-attention)",
        description="Train the Correlation Aggregator on a manifest of labelled clips.",
    )
    agg.add_argument("--manifest", type=Path, required=True, help="CSV: path,label[,transcript]")
    agg.add_argument("-o", "--output", type=Path, required=True, help="model file to write (.pt)")
    agg.add_argument("--epochs", type=int, default=20)
    agg.add_argument("--batch-size", type=int, default=32)
    agg.add_argument("--lr", type=float, default=2e-3)
    agg.add_argument("--seed", type=int, default=0)
    agg.add_argument(
        "--fusion-policy",
        choices=["evidence_only", "ensemble", "replace"],
        default="evidence_only",
        help="how fusion uses the model's emotion with the speech model's (default: not at all)",
    )
    agg.add_argument("--language", default="auto", help="ASR language (auto: detect)")
    agg.add_argument(
        "--cache", type=Path, help="feature cache folder (default: beside the manifest)"
    )


def run(args: argparse.Namespace) -> int:
    if args.model == "llm":
        return _run_llm(args)
    if args.model == "aggregator":
        summary = train_aggregator_from_manifest(
            args.manifest,
            args.output,
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            seed=args.seed,
            fusion_policy=args.fusion_policy,
            language=None if args.language == "auto" else args.language,
            cache=args.cache,
        )
        print(json.dumps(summary))
        return 0
    raise DataError(args.model, "unknown model to train")


def _run_llm(args: argparse.Namespace) -> int:
    from emochat.train.mllm.config import TrainConfig

    if args.build_only:
        from emochat.train.mllm.trainer import load_sources

        samples = load_sources(TrainConfig.load(args.config))
        print(f"{len(samples)} samples ready")
        return 0
    import torch.distributed as dist

    from emochat.train.mllm.trainer import train_from_file

    try:
        summary = train_from_file(args.config, args.overrides)
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
    if torchrun().rank != 0:
        return 0  # rank 0 speaks for the run
    last = summary["history"][-1]["loss"] if summary["history"] else None
    print(
        f"done: steps {summary['steps'][0]}..{summary['steps'][1]}, last loss {last}, "
        f"{summary['samples_per_s']} samples/s, {summary['tokens_per_s']} tokens/s"
    )
    return 0


def train_aggregator_from_manifest(
    manifest_path: Path,
    output: Path,
    epochs: int = 20,
    batch_size: int = 32,
    lr: float = 2e-3,
    seed: int = 0,
    fusion_policy: str = "evidence_only",
    language: str | None = None,
    cache: Path | None = None,
) -> dict:
    """Build (or reuse) the clip features, train, save; returns a summary with the losses."""
    import numpy as np

    from emochat.emotions import BASIC_LABELS
    from emochat.eval.datasets import manifest
    from emochat.fusion.aggregator import AggregatorConfig
    from emochat.train.aggregator import TrainSettings, load_inputs, train
    from emochat.train.aggregator_features import build_cache

    df = manifest(manifest_path)
    unmapped = df[df["basic"].isna()]
    if len(unmapped):
        raise DataError(
            manifest_path, f"label {unmapped['label'].iloc[0]!r} is not a basic emotion label"
        )
    if epochs < 1:
        raise DataError(manifest_path, "--epochs must be at least 1")
    cache = cache or manifest_path.parent / ".emochat-aggregator-cache"
    transcripts = df["transcript"] if "transcript" in df else [None] * len(df)
    clips = [
        (p, t if isinstance(t, str) and t else None)
        for p, t in zip(df["path"], transcripts, strict=True)
    ]
    paths = build_cache(clips, cache, language=language, log=lambda m: None)
    cfg = AggregatorConfig(
        BASIC_LABELS,
        meta={
            "train": f"{manifest_path.name} ({len(df)} clips)",
            "epochs": epochs,
            "seed": seed,
            "fusion_policy": fusion_policy,
            "script": "emochat train aggregator",
        },
    )
    inputs = load_inputs(paths, cfg.layers)
    keep = [i for i, it in enumerate(inputs) if it.words and it.frame_t.size]
    if not keep:
        raise DataError(manifest_path, "no clip has recognised words and speech")
    y = np.array([BASIC_LABELS.index(b) for b in df["basic"]])[keep]
    model, losses = train(
        [inputs[i] for i in keep],
        y,
        cfg,
        TrainSettings(epochs=epochs, batch_size=batch_size, lr=lr, seed=seed),
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    model.save(output)
    return {
        "output": str(output),
        "clips": len(df),
        "used": len(keep),
        "labels": list(BASIC_LABELS),
        "epochs": epochs,
        "losses": [round(x, 4) for x in losses],
    }
