"""The training loop: single process or DDP under torchrun, resumable, step-based.

Launch with ``emochat train emochat_llm train --config C`` (one process) or
``python -m torch.distributed.run --nproc_per_node N -m emochat.train.emochat_llm train
--config C``
(DDP: gloo on CPU, nccl on GPUs; bf16 autocast on CUDA). The batches of every step are
a pure function of (seed, step, rank), so a resumed run sees exactly the samples the
uninterrupted one would have; checkpoints hold the trainable weights, the optimizer and
scheduler state, the step and every rank's RNG states.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import random
import resource
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist

from emochat.core.errors import EmochatError
from emochat.core.settings import torchrun
from emochat.models.emochat_llm.model import EmoChatLM, Layout
from emochat.models.emochat_llm.prompt import target_text
from emochat.train.emochat_llm.config import SourceSpec, TrainConfig
from emochat.train.emochat_llm.data import (
    InstructionSample,
    build_manifest,
    cached_corpus,
    load_samples,
    save_samples,
)

CHECKPOINTS = "checkpoints"
ADAPTER = "adapter"


@dataclass(frozen=True)
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def setup_distributed() -> Dist:
    """Join the process group torchrun describes in the environment (if any)."""
    world = torchrun().world_size
    if world <= 1:
        return Dist()
    if not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend=backend)
    local = torchrun().local_rank
    if torch.cuda.is_available():
        torch.cuda.set_device(local)
    return Dist(dist.get_rank(), dist.get_world_size(), local)


def _barrier(d: Dist) -> None:
    if d.world > 1:
        dist.barrier()


# --- data -------------------------------------------------------------------------------


def load_sources(cfg: TrainConfig, log: Callable[[str], None] = print) -> list[InstructionSample]:
    """Every source's samples (corpus caches are built on first use)."""
    samples: list[InstructionSample] = []
    for spec in cfg.sources:
        samples += _source(spec, cfg, log)
    if not samples:
        raise EmochatError(None, "the sources gave no samples")
    return samples


def _source(spec: SourceSpec, cfg: TrainConfig, log) -> list[InstructionSample]:
    if spec.file:
        return load_samples(spec.file)
    if spec.manifest:
        path = Path(cfg.cache_dir) / f"manifest-{Path(spec.manifest).stem}.npz"
        if not path.is_file():
            save_samples(path, build_manifest(spec.manifest))
        return load_samples(path)
    return cached_corpus(
        cfg.cache_dir, spec.corpus, spec.split, "train", spec.limit, cfg.seed, log=log
    )


@lru_cache(maxsize=4)
def _permutation(n: int, seed: int, epoch: int) -> np.ndarray:
    return np.random.default_rng([seed, epoch]).permutation(n)


def batch_indices(
    n: int, seed: int, step: int, micro: int, accum: int, d: Dist, batch_size: int
) -> list[int]:
    """Sample indices of one micro-batch: a fresh permutation each pass over the data."""
    base = ((step * accum + micro) * d.world + d.rank) * batch_size
    out = []
    for g in range(base, base + batch_size):
        epoch, r = divmod(g, n)
        out.append(int(_permutation(n, seed, epoch)[r]))
    return out


# --- checkpoints ------------------------------------------------------------------------


def _rng_state() -> dict:
    state = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def latest_checkpoint(output_dir: str | Path) -> Path | None:
    """The newest complete checkpoint folder (``state.json`` is written last)."""
    folder = Path(output_dir) / CHECKPOINTS
    done = sorted(p for p in folder.glob("step-*") if (p / "state.json").is_file())
    return done[-1] if done else None


def save_checkpoint(model: EmoChatLM, opt, sched, step: int, cfg: TrainConfig, d: Dist) -> None:
    """All ranks call this (RNG states are gathered); rank 0 writes, then renames."""
    rngs = [None] * d.world
    if d.world > 1:
        dist.all_gather_object(rngs, _rng_state())
    else:
        rngs = [_rng_state()]
    if d.main:
        root = Path(cfg.output_dir) / CHECKPOINTS
        final = root / f"step-{step:07d}"
        tmp = root / f".tmp-step-{step:07d}"
        shutil.rmtree(tmp, ignore_errors=True)
        model.save_trainable(tmp)
        torch.save(
            {"optimizer": opt.state_dict(), "scheduler": sched.state_dict()}, tmp / "optim.pt"
        )
        torch.save(rngs, tmp / "rng.pt")
        (tmp / "state.json").write_text(
            json.dumps({"step": step, "world": d.world, "config": _plain(cfg)}, indent=1)
        )
        shutil.rmtree(final, ignore_errors=True)
        tmp.rename(final)
        kept = sorted(p for p in root.glob("step-*") if (p / "state.json").is_file())
        for old in kept[: -max(1, cfg.keep_checkpoints)]:
            shutil.rmtree(old, ignore_errors=True)
    _barrier(d)


def load_checkpoint(path: Path, model: EmoChatLM, opt, sched, d: Dist) -> int:
    """Restore weights, optimizer, scheduler and this rank's RNG; returns the step done."""
    from safetensors.torch import load_file

    from emochat.models.emochat_llm.model import TRAINABLE_FILE

    state = json.loads((path / "state.json").read_text())
    if state["world"] != d.world:
        raise EmochatError(path, f"saved with {state['world']} processes, resumed with {d.world}")
    model.load_trainable_state(load_file(str(path / TRAINABLE_FILE)))
    optim = torch.load(path / "optim.pt", weights_only=False)
    opt.load_state_dict(optim["optimizer"])
    sched.load_state_dict(optim["scheduler"])
    _set_rng_state(torch.load(path / "rng.pt", weights_only=False)[d.rank])
    return int(state["step"])


def _plain(cfg: TrainConfig) -> dict:
    return json.loads(json.dumps(asdict(cfg), default=str))


# --- loop -------------------------------------------------------------------------------


def _schedule(cfg: TrainConfig):
    def factor(step: int) -> float:
        if step < cfg.warmup_steps:
            return (step + 1) / cfg.warmup_steps
        rest = max(1, cfg.steps - cfg.warmup_steps)
        return 0.1 + 0.9 * 0.5 * (
            1 + math.cos(math.pi * min(1.0, (step - cfg.warmup_steps) / rest))
        )

    return factor


def _to(batch: dict, device) -> dict:
    out = {k: v.to(device) for k, v in batch.items() if torch.is_tensor(v)}
    out["vectors"] = {m: v.to(device) for m, v in batch["vectors"].items()}
    return out


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def train(
    cfg: TrainConfig,
    lm_and_tokenizer: tuple | None = None,
    log: Callable[[str], None] = print,
    stop_at: int | None = None,
) -> dict:
    """Train to ``cfg.steps`` (resuming from the latest checkpoint); returns the summary.

    ``stop_at`` ends this run early, checkpointed, at that step (a time-boxed job); the
    schedule still spans ``cfg.steps``, so a resumed run continues it unchanged.

    The adapter is written to ``output_dir/adapter`` and the summary (losses, samples/s,
    tokens/s, peak memory) to ``output_dir/train_summary.json``.
    """
    d = setup_distributed()
    say = log if d.main else (lambda _msg: None)
    torch.manual_seed(cfg.seed + d.rank)
    random.seed(cfg.seed + d.rank)
    np.random.seed(cfg.seed + d.rank)
    device = torch.device(f"cuda:{d.local_rank}" if torch.cuda.is_available() else "cpu")

    if d.main:  # rank 0 builds the feature caches; the others then read them
        samples = load_sources(cfg, say)
    _barrier(d)
    if not d.main:
        samples = load_sources(cfg, say)

    if lm_and_tokenizer is None:
        from emochat.models.emochat_llm.lm import load_lm

        lm_and_tokenizer = load_lm(cfg.lm, cfg.gguf_file)
    lm, tokenizer = lm_and_tokenizer
    model_cfg = replace(cfg.model, lm_source=cfg.lm, lm_gguf_file=cfg.gguf_file)
    model = EmoChatLM(lm, tokenizer, model_cfg).to(device)
    if cfg.gradient_checkpointing:
        model.lm.gradient_checkpointing_enable(
            gradient_checkpointing_kwargs={"use_reentrant": False}
        )
    layouts: list[Layout] = [
        model.layout(s.cues, target_text(s.basic, s.cues, s.native)) for s in samples
    ]
    vectors = [s.cues.vectors() for s in samples]
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, _schedule(cfg))

    start = 0
    ckpt = latest_checkpoint(cfg.output_dir) if cfg.resume else None
    if ckpt is not None:
        start = load_checkpoint(ckpt, model, opt, sched, d)
        say(f"resumed from {ckpt} at step {start}")
    net = model
    if d.world > 1:
        net = torch.nn.parallel.DistributedDataParallel(
            model,
            device_ids=[d.local_rank] if device.type == "cuda" else None,
            find_unused_parameters=True,  # a batch may lack a modality's projector
        )
    end = cfg.steps if stop_at is None else min(cfg.steps, stop_at)
    n_trainable = sum(p.numel() for p in params)
    say(
        f"{len(samples)} samples, {n_trainable:,} trainable parameters, "
        f"{d.world} process(es) on {device.type}, steps {start}..{end} of {cfg.steps}"
    )
    use_bf16 = cfg.bf16 if device.type == "cuda" else cfg.bf16_cpu
    history, seen, tokens = [], 0, 0
    model.train()
    t0 = time.perf_counter()
    for step in range(start, end):
        step_loss = 0.0
        for micro in range(cfg.grad_accum):
            idx = batch_indices(
                len(samples), cfg.seed, step, micro, cfg.grad_accum, d, cfg.batch_size
            )
            batch = _to(model.collate([layouts[i] for i in idx], [vectors[i] for i in idx]), device)
            sync = micro == cfg.grad_accum - 1 or d.world == 1
            with net.no_sync() if not sync else contextlib.nullcontext():
                with (
                    torch.autocast(device.type, dtype=torch.bfloat16)
                    if use_bf16
                    else contextlib.nullcontext()
                ):
                    loss = net(**batch).loss / cfg.grad_accum
                loss.backward()
            step_loss += float(loss.detach())
            seen += len(idx)
            tokens += int(batch["attention_mask"].sum())
        torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        if d.world > 1:
            t = torch.tensor([step_loss], device=device)
            dist.all_reduce(t)
            step_loss = float(t) / d.world
        history.append({"step": step + 1, "loss": round(step_loss, 5)})
        if d.main and ((step + 1) % cfg.log_every == 0 or step + 1 == end):
            say(f"step {step + 1}/{cfg.steps} loss {step_loss:.4f} lr {sched.get_last_lr()[0]:.2e}")
        if (step + 1) % cfg.save_every == 0 or step + 1 == end:
            save_checkpoint(model, opt, sched, step + 1, cfg, d)
    elapsed = time.perf_counter() - t0
    totals = torch.tensor([seen, tokens], dtype=torch.float64, device=device)
    if d.world > 1:
        dist.all_reduce(totals)
    summary = {
        "steps": [start, end],
        "processes": d.world,
        "device": device.type,
        "samples": len(samples),
        "trainable_parameters": n_trainable,
        "seconds": round(elapsed, 2),
        "samples_per_s": round(float(totals[0]) / elapsed, 3) if elapsed > 0 else None,
        "tokens_per_s": round(float(totals[1]) / elapsed, 1) if elapsed > 0 else None,
        "peak_rss_mib": round(peak_rss_mib(), 1),
        "peak_gpu_mib": round(torch.cuda.max_memory_allocated() / 2**20, 1)
        if device.type == "cuda"
        else None,
        "history": history,
    }
    if d.main:
        model.save_trainable(Path(cfg.output_dir) / ADAPTER)
        (Path(cfg.output_dir) / "train_summary.json").write_text(json.dumps(summary, indent=1))
    _barrier(d)
    return summary


def train_from_file(path: str | Path, overrides: Sequence[str] = ()) -> dict:
    """Load a config (``key=value`` overrides of top-level settings) and train."""
    cfg = TrainConfig.load(path)
    for item in overrides:
        key, _, value = item.partition("=")
        if not hasattr(cfg, key) or key in ("sources", "model"):
            raise EmochatError(path, f"cannot override {key!r}")
        import yaml

        setattr(cfg, key, yaml.safe_load(value))
    return train(cfg)


def main(argv: Sequence[str] | None = None) -> int:
    """The ``train`` step: train from a config file, or only build its sample caches."""
    parser = argparse.ArgumentParser(
        prog="emochat.train.emochat_llm train",
        description="Train the cue projectors and a LoRA adapter on a causal LM from a YAML "
        "config (see configs/mllm.yaml). Resumes from the latest checkpoint in output_dir. "
        "For several processes: python -m torch.distributed.run --nproc_per_node N "
        "-m emochat.train.emochat_llm train --config FILE",
    )
    parser.add_argument("--config", type=Path, required=True, help="YAML training config")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a top-level setting (e.g. --set steps=20); repeatable",
    )
    parser.add_argument(
        "--build-only", action="store_true", help="build the feature caches and stop"
    )
    args = parser.parse_args(argv)
    if args.build_only:
        samples = load_sources(TrainConfig.load(args.config))
        print(f"{len(samples)} samples ready")
        return 0
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
