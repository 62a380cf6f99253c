"""Speech emotion: the basic seven from pooled whisper-base encoder states.

Representation (chosen by actor-grouped cross-validation on RAVDESS actors 1-20, see
models/speech_emotion/CARD.md): the utterance is trimmed of leading/trailing silence, run through the
whisper-base encoder at its own length (:mod:`emochat.voice.whisper_encoder`), and each
selected layer's frames are pooled to mean and standard deviation. A linear softmax head
(standardisation + multinomial logistic regression, stored in ``speech_emotion.npz``),
trained on RAVDESS, EmoDB and URDU and scaled by a temperature fitted on validation
speakers, gives the class probabilities; valence/arousal follow from them on the
circumplex. A distance to the training speech flags inputs unlike it (``out_of_domain``).

The shipped head is trained on RAVDESS (CC BY-NC-SA 4.0), EmoDB and URDU (research use):
non-commercial research use only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from emochat.core.labels import valence_arousal
from emochat.models import registry
from emochat.report.model import Emotion

RAVDESS_LABELS: tuple[str, ...] = (
    "neutral",
    "calm",
    "happy",
    "sad",
    "angry",
    "fear",
    "disgust",
    "surprise",
)
MODEL_FILE = registry.weight_file("speech_emotion")
SAMPLE_RATE = 16_000
MIN_SECONDS = 0.25
SOURCE = "speech-whisper"
_DOMAIN_ARRAYS = ("centre", "components", "spread")
"""``Emotion.source`` of this model's predictions."""


def speech_bounds(
    audio: np.ndarray, top_db: float = 35.0, margin_s: float = 0.1
) -> tuple[int, int]:
    """Sample range left after dropping leading/trailing frames ``top_db`` below the loudest."""
    audio = np.asarray(audio, dtype=np.float32)
    hop = 160
    n = audio.size // hop
    if n < 4:
        return 0, audio.size
    frames = audio[: n * hop].reshape(n, hop)
    rms = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-12)
    rms = np.convolve(rms, np.ones(3) / 3, mode="same")
    db = 20 * np.log10(rms / rms.max())
    loud = np.flatnonzero(db > -top_db)
    if loud.size == 0:
        return 0, audio.size
    margin = int(margin_s * SAMPLE_RATE)
    return max(0, loud[0] * hop - margin), min(audio.size, (loud[-1] + 1) * hop + margin)


@dataclass
class EncoderFrames:
    """whisper-base encoder states of one utterance with their media times.

    ``states`` is (layers, frames, 512) for the layers in ``layers``; ``t_s`` holds the
    frame centres (50 frames/s, after the silence trim the speech model applies). The
    Correlation Aggregator reads these, so the encoder runs once per utterance.
    """

    t_s: np.ndarray
    states: np.ndarray
    layers: tuple[int, ...]

    def select(self, layers: tuple[int, ...]) -> EncoderFrames:
        idx = [self.layers.index(i) for i in layers]
        return EncoderFrames(self.t_s, self.states[idx].astype(np.float16), tuple(layers))


class FrameStore(Sequence):
    """Per utterance, kept :class:`EncoderFrames`, spilled to an unnamed temporary file as
    they are appended and read back one at a time, so that what a long media's speech
    keeps for the Correlation Aggregator (25 frames/s x 512 float16: 92 MB per hour of
    speech) does not stay in memory. Reads are copies (``readinto``), not a memory map:
    mapped pages would count in the process's RSS. The values come back bit for bit.
    The file disappears when the store is closed or collected."""

    def __init__(self, directory: str | Path | None = None):
        self._directory = directory
        self._file = None
        self._end = 0
        self._index: list[tuple[int, tuple, str, tuple, str, tuple[int, ...]]] = []

    def append(self, frames: EncoderFrames) -> None:
        if self._file is None:
            import tempfile

            self._file = tempfile.TemporaryFile(dir=self._directory, prefix="emochat-frames-")
        t = np.ascontiguousarray(frames.t_s)
        x = np.ascontiguousarray(frames.states)
        self._file.seek(self._end)
        self._file.write(t.tobytes())
        self._file.write(x.tobytes())
        self._index.append((self._end, t.shape, t.dtype.str, x.shape, x.dtype.str, frames.layers))
        self._end += t.nbytes + x.nbytes

    def _read(self, offset: int, shape: tuple, dtype: str) -> np.ndarray:
        out = np.empty(shape, dtype=dtype)
        if out.nbytes:
            self._file.seek(offset)
            got = self._file.readinto(memoryview(out.reshape(-1)).cast("B"))
            if got != out.nbytes:
                raise OSError(f"encoder frames scratch file: read {got} of {out.nbytes} bytes")
        return out

    def __len__(self) -> int:
        return len(self._index)

    def __getitem__(self, key):
        if isinstance(key, slice):
            return [self[i] for i in range(*key.indices(len(self)))]
        offset, t_shape, t_dtype, x_shape, x_dtype, layers = self._index[key]
        t = self._read(offset, t_shape, t_dtype)
        return EncoderFrames(t, self._read(offset + t.nbytes, x_shape, x_dtype), layers)

    @property
    def nbytes(self) -> int:
        """Bytes on disk (what a list of the frames would hold in memory)."""
        return self._end

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._index, self._end = [], 0


def whisper_frames(
    audio: np.ndarray, offset_s: float = 0.0, max_layer: int | None = None
) -> EncoderFrames:
    """Encoder states of the silence-trimmed utterance, timed from ``offset_s`` (its start)."""
    from emochat.voice.whisper_encoder import hidden_states

    start, end = speech_bounds(audio)
    audio = np.asarray(audio, dtype=np.float32)[start:end]
    if audio.size < int(MIN_SECONDS * SAMPLE_RATE):
        audio = np.pad(audio, (0, int(MIN_SECONDS * SAMPLE_RATE) - audio.size))
    states = np.stack(hidden_states(audio, max_layer=max_layer))
    t = offset_s + start / SAMPLE_RATE + 0.02 * np.arange(states.shape[1]) + 0.01
    return EncoderFrames(t, states, tuple(range(states.shape[0])))


def pool_states(states: np.ndarray) -> np.ndarray:
    """(layers, frames, 512) -> (layers, 1024): mean and std over frames of each layer."""
    return np.concatenate([states.mean(1), states.std(1)], axis=1).astype(np.float32)


def pooled_whisper_states(
    audio: np.ndarray, trim: bool = True, max_layer: int | None = None
) -> np.ndarray:
    """(layers, 2*512): mean and std over frames of each whisper-base encoder state."""
    from emochat.voice.whisper_encoder import hidden_states

    if trim:
        return pool_states(whisper_frames(audio, max_layer=max_layer).states)
    audio = np.asarray(audio, dtype=np.float32)
    if audio.size < int(MIN_SECONDS * SAMPLE_RATE):
        audio = np.pad(audio, (0, int(MIN_SECONDS * SAMPLE_RATE) - audio.size))
    return pool_states(np.stack(hidden_states(audio, max_layer=max_layer)))


@dataclass
class SpeechEmotion(Emotion):
    """One prediction, an :class:`~emochat.report.model.Emotion`: ``label`` over
    the model's labels, ``probs`` label -> probability; ``extra`` holds what the pipeline reuses
    (``features``: the pooled encoder states, the multimodal LLM's voice token)."""

    valence: float = 0.0
    arousal: float = 0.0
    source: str = SOURCE
    extra: dict = field(default_factory=dict)
    domain_distance: float | None = None
    """How far the input lies from the training speech (1.0 = the threshold); None when
    the model has no domain check."""

    @property
    def out_of_domain(self) -> bool:
        """The input looks unlike the speech the model was trained on: trust it less."""
        return self.domain_distance is not None and self.domain_distance > 1.0

    def to_dict(self) -> dict:
        return {
            "label": self.label,
            "probs": self.probs,
            "valence": self.valence,
            "arousal": self.arousal,
        }

    # tuple-like access for ``label, probs = prediction``
    def __iter__(self):
        return iter((self.label, self.probs))


class SpeechEmotionModel:
    """Standardised pooled whisper states -> temperature-scaled softmax over ``labels``.

    ``domain`` (optional): ``centre``, ``components`` and ``spread`` of the training
    features' principal subspace (standardised space) and the distance ``threshold``
    above which an input is out of domain.
    """

    def __init__(
        self,
        layers: np.ndarray,
        mean: np.ndarray,
        scale: np.ndarray,
        coef: np.ndarray,
        intercept: np.ndarray,
        labels: tuple[str, ...],
        meta: dict | None = None,
        temperature: float = 1.0,
        domain: dict | None = None,
    ):
        self.layers = np.asarray(layers, dtype=int)
        self.mean = np.asarray(mean, dtype=np.float32)
        self.scale = np.asarray(scale, dtype=np.float32)
        self.coef = np.asarray(coef, dtype=np.float32)
        self.intercept = np.asarray(intercept, dtype=np.float32)
        self.labels = tuple(labels)
        self.meta = meta or {}
        self.temperature = float(temperature)
        self.domain = domain

    @classmethod
    def load(cls, path: str | Path | None = None) -> SpeechEmotionModel:
        """Read a head file (default: the shipped one). Uncached: analysis code loads it
        through :func:`emochat.models.registry.load`, once per process."""
        p = Path(path) if path else MODEL_FILE
        if not p.is_file():
            from emochat.core.errors import EmochatError

            raise EmochatError(
                p, "speech emotion model missing; run python -m emochat.train.speech_emotion all"
            )
        with np.load(p, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"])) if "meta" in z else {}
            domain = (
                {k: z[f"domain_{k}"] for k in _DOMAIN_ARRAYS}
                | {"threshold": float(z["domain_threshold"])}
                if "domain_threshold" in z
                else None
            )
            return cls(
                z["layers"],
                z["mean"],
                z["scale"],
                z["coef"],
                z["intercept"],
                tuple(str(x) for x in z["labels"]),
                meta,
                float(z["temperature"]) if "temperature" in z else 1.0,
                domain,
            )

    def save(self, path: str | Path) -> None:
        np.savez_compressed(
            path,
            layers=self.layers,
            mean=self.mean,
            scale=self.scale,
            coef=self.coef,
            intercept=self.intercept,
            labels=np.array(self.labels),
            meta=json.dumps(self.meta),
            temperature=np.float32(self.temperature),
            **(
                {f"domain_{k}": self.domain[k] for k in _DOMAIN_ARRAYS}
                | {"domain_threshold": np.float32(self.domain["threshold"])}
                if self.domain
                else {}
            ),
        )

    def features(self, audio: np.ndarray) -> np.ndarray:
        pooled = pooled_whisper_states(audio, max_layer=int(self.layers.max()))
        return pooled[self.layers].reshape(-1)

    def logits(self, feats: np.ndarray) -> np.ndarray:
        """(n, dim) features -> (n, classes) logits before the temperature."""
        x = (np.atleast_2d(feats) - self.mean) / self.scale
        return x @ self.coef.T + self.intercept

    def predict_features(self, feats: np.ndarray) -> np.ndarray:
        """(n, dim) features -> (n, classes) calibrated probabilities."""
        logits = self.logits(feats) / self.temperature
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def domain_distance(self, feats: np.ndarray) -> np.ndarray:
        """(n,) RMS whitened distance of the features from the training speech within its
        principal subspace, over the threshold (>1: out of domain); NaN without a check."""
        feats = np.atleast_2d(feats)
        if not self.domain:
            return np.full(len(feats), np.nan)
        d = (feats - self.mean) / self.scale - self.domain["centre"]
        proj = d @ self.domain["components"].T / self.domain["spread"]
        return np.sqrt(np.mean(proj**2, axis=1)) / self.domain["threshold"]

    def out_of_domain(self, feats: np.ndarray) -> np.ndarray:
        """(n,) True where the input lies beyond the threshold."""
        return self.domain_distance(feats) > 1.0

    def predict(self, audios: list[np.ndarray]) -> list[SpeechEmotion]:
        """One :class:`SpeechEmotion` per 16 kHz mono array."""
        return self.predict_with_frames(audios)[0]

    def predict_emotions(self, audios: list[np.ndarray]) -> list[SpeechEmotion]:
        """:meth:`predict` (the :class:`~emochat.models.registry.EmotionModel` surface)."""
        return self.predict(audios)

    def predict_with_frames(
        self, audios: list[np.ndarray], offsets_s: list[float] | None = None
    ) -> tuple[list[SpeechEmotion], list[EncoderFrames]]:
        """Predictions plus each utterance's timed encoder frames (for the aggregator)."""
        if not audios:
            return [], []
        offsets_s = offsets_s or [0.0] * len(audios)
        frames = [
            whisper_frames(a, o, max_layer=int(self.layers.max()))
            for a, o in zip(audios, offsets_s, strict=True)
        ]
        feats = np.stack([pool_states(f.states)[self.layers].reshape(-1) for f in frames])
        results = self.results(feats)
        for result, feat in zip(results, feats, strict=True):
            result.extra["features"] = feat.astype(np.float16)  # the LLM's voice token, 14 KB
        return results, frames

    def results(self, feats: np.ndarray) -> list[SpeechEmotion]:
        """One :class:`SpeechEmotion` per row of pooled features."""
        distances = self.domain_distance(feats)
        return [
            self._result(row, dist)
            for row, dist in zip(self.predict_features(feats), distances, strict=True)
        ]

    def _result(self, row: np.ndarray, distance: float = np.nan) -> SpeechEmotion:
        probs = {lab: round(float(p), 4) for lab, p in zip(self.labels, row, strict=True)}
        label = self.labels[int(np.argmax(row))]
        v, a = valence_arousal(probs)
        return SpeechEmotion(
            label=label,
            probs=probs,
            valence=v,
            arousal=a,
            domain_distance=None if np.isnan(distance) else round(float(distance), 3),
        )
