"""``emochat train``: train the models a user can train on their own data.

``emochat train llm --config configs/mllm.yaml`` trains the multimodal LLM (cue
projectors + LoRA); run it under torchrun for DDP.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="what", metavar="WHAT", required=True)
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


def run(args: argparse.Namespace) -> int:
    from emochat.train.mllm.config import TrainConfig

    if args.what != "llm":
        raise ValueError(args.what)
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
    if int(os.environ.get("RANK", "0")) != 0:
        return 0  # rank 0 speaks for the run
    last = summary["history"][-1]["loss"] if summary["history"] else None
    print(
        f"done: steps {summary['steps'][0]}..{summary['steps'][1]}, last loss {last}, "
        f"{summary['samples_per_s']} samples/s, {summary['tokens_per_s']} tokens/s"
    )
    return 0
