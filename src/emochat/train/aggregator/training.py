"""Training the Correlation Aggregator from cached clip features (RAVDESS or a user manifest).

One clip is one segment: all its words query all its encoder frames. The loss is the
emotion cross-entropy plus the agreement head's binary cross-entropy on the clip's
true words (1) against mismatched words (0): another clip's different sentence, or the
clip's own words moved in time by 0.3-0.8 s. Word times are jittered during training
(boundaries +-30 ms, whole utterance +-50 ms) so the model tolerates ASR timing error.
Seeded and single-threaded: the same inputs give the same weights.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emochat.fusion.aggregator import (
    Aggregator,
    AggregatorConfig,
    SegmentInput,
    build_net,
    collate,
    lld_at,
    normalise_word,
    premix,
    word_vectors,
)
from emochat.train.aggregator.features import ClipFeatures


@dataclass
class TrainSettings:
    epochs: int = 30
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 0.05
    agree_weight: float = 0.5
    seed: int = 0


def segment_input(f: ClipFeatures, layers: tuple[int, ...], vecs: dict[str, np.ndarray]):
    """A cached clip as one aggregator segment (encoder layers premixed)."""
    words = [w for w, _, _ in f.words]
    spans = np.array([[a, b] for _, a, b in f.words], np.float32).reshape(-1, 2)
    frame_t, frames = premix(f.frames, f.frame_t, tuple(range(f.frames.shape[0])), layers)
    return SegmentInput(
        words,
        spans,
        frame_t,
        frames,
        lld_at(frame_t, f.lld_t, f.lld),
        np.stack([vecs[normalise_word(w)] for w in words]) if words else np.zeros((0, 384)),
    )


def load_inputs(paths: list[Path], layers: tuple[int, ...]) -> list[SegmentInput]:
    feats = [ClipFeatures.load(p) for p in paths]
    vocab = sorted({normalise_word(w) for f in feats for w, _, _ in f.words})
    vecs = dict(zip(vocab, word_vectors(vocab), strict=True)) if vocab else {}
    return [segment_input(f, layers, vecs) for f in feats]


def _jitter(it: SegmentInput, rng: np.random.Generator, shift: float = 0.0) -> SegmentInput:
    spans = it.spans + rng.normal(0, 0.03, it.spans.shape) + rng.normal(0, 0.05) + shift
    spans[:, 1] = np.maximum(spans[:, 1], spans[:, 0] + 0.02)
    return SegmentInput(
        it.words, spans.astype(np.float32), it.frame_t, it.frames, it.lld, it.word_vecs
    )


def _negative(it: SegmentInput, other: SegmentInput, rng: np.random.Generator) -> SegmentInput:
    """Words that this audio does not carry: another sentence, or its own words moved."""
    own = " ".join(normalise_word(w) for w in it.words)
    theirs = " ".join(normalise_word(w) for w in other.words)
    if own != theirs and other.words and rng.random() < 0.5:
        spans = other.spans - other.spans[0, 0] + it.spans[0, 0] if len(it.spans) else other.spans
        return SegmentInput(other.words, spans, it.frame_t, it.frames, it.lld, other.word_vecs)
    shift = rng.uniform(0.3, 0.8) * rng.choice([-1.0, 1.0])
    return _jitter(it, rng, shift)


def train(
    inputs: list[SegmentInput],
    y: np.ndarray,
    cfg: AggregatorConfig,
    settings: TrainSettings,
    eval_at: tuple[int, ...] = (),
    evaluate: Callable[[Aggregator, int], None] | None = None,
    log: Callable[[str], None] | None = None,
) -> tuple[Aggregator, list[float]]:
    """Fit a fresh aggregator; returns it and the mean loss of each epoch."""
    import torch

    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    net = build_net(cfg)
    opt = torch.optim.AdamW(net.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    total_steps = settings.epochs * int(np.ceil(len(inputs) / settings.batch_size))
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=settings.lr, total_steps=max(1, total_steps), pct_start=0.1
    )
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    losses = []
    try:
        for epoch in range(1, settings.epochs + 1):
            net.train()
            order = rng.permutation(len(inputs))
            epoch_loss = []
            for s in range(0, len(order), settings.batch_size):
                idx = order[s : s + settings.batch_size]
                pos = [_jitter(inputs[i], rng) for i in idx]
                others = rng.permutation(idx)
                neg = [
                    _negative(inputs[i], inputs[j], rng) for i, j in zip(idx, others, strict=True)
                ]
                out_pos = net(collate(pos))
                out_neg = net(collate(neg))
                target = torch.from_numpy(y[idx]).long()
                loss = torch.nn.functional.cross_entropy(out_pos["logits"], target)
                agree = torch.cat([out_pos["agree_logit"], out_neg["agree_logit"]])
                labels = torch.cat([torch.ones(len(idx)), torch.zeros(len(idx))])
                loss = loss + settings.agree_weight * bce(agree, labels)
                opt.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
                opt.step()
                sched.step()
                epoch_loss.append(float(loss.detach()))
            losses.append(float(np.mean(epoch_loss)))
            if log:
                log(f"epoch {epoch}: loss {losses[-1]:.4f}")
            if evaluate and epoch in eval_at:
                net.eval()
                evaluate(Aggregator(cfg, net), epoch)
    finally:
        torch.set_num_threads(saved)
    return Aggregator(cfg, net), losses


def negative_inputs(inputs: list[SegmentInput], rng: np.random.Generator) -> list[SegmentInput]:
    """One mismatched version of each input (for the agreement check)."""
    others = rng.permutation(len(inputs))
    return [_negative(it, inputs[j], rng) for it, j in zip(inputs, others, strict=True)]


def predict_probs(model: Aggregator, inputs: list[SegmentInput], batch: int = 64) -> np.ndarray:
    """(n, classes) emotion probabilities."""
    out = []
    for s in range(0, len(inputs), batch):
        out += [
            [r.probs[k] for k in model.cfg.labels] for r in model.predict(inputs[s : s + batch])
        ]
    return np.array(out)


def agreement_scores(model: Aggregator, inputs: list[SegmentInput]) -> np.ndarray:
    return np.array([r.agreement for r in model.predict(inputs)])
