"""Fit the Correlation Aggregator on your own labelled clips: the ``manifest`` step.

The manifest is the eval one (``path,label[,transcript]``, see
:func:`emochat.data.manifest.read_manifest`). Each clip runs through the voice stage once (ASR
word times, or its transcript laid over the speech) and its features are cached beside
the manifest, so a second run with other settings starts at once. Labels are mapped into
the basic label space. The output is the torch ``.pt`` and, beside it, its ONNX export
(same name, ``.onnx``); ``emochat analyze`` uses either when ``EMOCHAT_AGGREGATOR_MODEL``
names it or ``--model aggregator=FILE.onnx`` (the ``.pt`` needs torch at run time).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from emochat.core.errors import DataError


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="emochat.train.aggregator manifest", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("manifest", type=Path, help="CSV: path,label[,transcript]")
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        help="model file (.pt; its .onnx export is written beside it)",
    )
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--fusion-policy",
        choices=["evidence_only", "ensemble", "replace"],
        default="evidence_only",
        help="how fusion uses the model's emotion with the speech model's (default: not at all)",
    )
    parser.add_argument("--language", default="auto", help="ASR language (auto: detect)")
    parser.add_argument(
        "--cache", type=Path, help="feature cache folder (default: beside the manifest)"
    )
    args = parser.parse_args(argv)
    summary = train_from_manifest(
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


def train_from_manifest(
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

    from emochat.core.labels import BASIC_LABELS
    from emochat.data.manifest import read_manifest
    from emochat.fusion.aggregator import AggregatorConfig
    from emochat.train.aggregator.features import build_cache
    from emochat.train.aggregator.training import TrainSettings, load_inputs, train

    df = read_manifest(manifest_path)
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
            "script": "emochat train aggregator manifest",
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
    from emochat.train.aggregator.export import export

    output.parent.mkdir(parents=True, exist_ok=True)
    weights = output.with_suffix(".pt") if output.suffix.lower() == ".onnx" else output
    model.save(weights)
    graph = export(model, weights.with_suffix(".onnx"))
    return {
        "output": str(weights),
        "onnx": str(graph),
        "clips": len(df),
        "used": len(keep),
        "labels": list(BASIC_LABELS),
        "epochs": epochs,
        "losses": [round(x, 4) for x in losses],
    }
