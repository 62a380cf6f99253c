"""The analysis report: typed in Python, plain JSON on disk, checked against a schema.

report.json has a stable shape: every top-level key of the schema is always there, and a
block no stage produced (``overall``, ``faces``, ``au``, ``expression``, ``explanation``)
is ``null`` rather than a placeholder, so a reader can index any key and still tell "not
measured" from "measured as nothing". Inside the blocks a field that is None is left
out instead (a segment without text has no ``text`` key): the schema keeps those nested
fields optional and never null.

A segment's ``evidence`` holds one typed block per modality that measured something there
(:class:`FaceEvidence`, :class:`VoiceEvidence`, :class:`TextEvidence`), each with its own
``emotion`` and ``reliability``: fusion, the reasoners and the HTML lanes loop over whatever
is present, so a new modality is a new :class:`ModalityEvidence` subclass, not an edit of
each of them.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from copy import deepcopy
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Self

from emochat.core.files import atomic_write_text
from emochat.core.labels import fold_to_basic, valence_arousal
from emochat.core.words import word_count

SCHEMA_VERSION = "2.3.0"
"""Semantic: 2.0 made the top-level keys required and nullable, which 1.x readers reject;
2.1 added the optional ``uncertain`` block of fused emotions and the ``provenance`` key;
2.2 the optional per-frame ``box`` and ``gaze`` (:class:`FaceGaze`) of ``au.tracks``;
2.3 the ``speakers`` key (:class:`Speaker`) and each segment's optional ``role`` and
``speaker_face_confidence``."""


@dataclass
class Warning:
    """Something a stage could not do; the rest of the analysis went on."""

    stage: str
    code: str
    message: str


@dataclass
class Emotion:
    """One emotion estimate: the one result type of every emotion model and every report
    block (a label set of its own where the model has one: the aggregator's 8 RAVDESS
    classes).

    A model may return a subclass that carries what only it knows (the text model's
    sentence and lexicon cues, the speech model's features); :meth:`to_json` still
    writes these fields only.
    """

    label: str
    probs: dict[str, float]
    valence: float | None = None
    arousal: float | None = None
    open_vocab: list[str] = field(default_factory=list)
    source: str = ""
    weights: dict[str, float] | None = None
    """Fusion only: each modality's share of the answer."""
    conflict: dict[str, Any] | None = None
    """Fusion only: the confident modalities whose labels disagree, each with its label."""
    uncertain: dict[str, Any] | None = None
    """Fusion and overall only: why ``label`` is not to be taken as the answer (``reason``
    ``flat``, ``disagreement`` or ``segments``, with the two most probable ``labels`` and
    their ``probs``); None: the answer stands."""

    @classmethod
    def from_probs(cls, probs: dict[str, float], source: str, **extra: Any) -> Emotion:
        """The top label and the circumplex valence/arousal of a distribution."""
        valence, arousal = valence_arousal(probs)
        label = max(probs, key=probs.get)
        return cls(label, probs, valence, arousal, source=source, **extra)

    @property
    def confidence(self) -> float:
        """The probability of the top label."""
        return self.probs[self.label]

    def to_json(self, keys: Collection[str] | None = None) -> dict[str, Any]:
        """report.json's form; ``keys`` keeps only those fields, in field order (the evidence
        blocks of some modalities have always held a subset)."""
        data = (
            asdict(self)
            if type(self) is Emotion
            else {f.name: deepcopy(getattr(self, f.name)) for f in fields(Emotion)}
        )
        return data if keys is None else {k: v for k, v in data.items() if k in keys}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Emotion:
        return cls(**data)


class _JsonBlock:
    """A dataclass written to report.json field by field, in field order.

    ``nested`` names the fields that hold typed blocks (an :class:`Emotion`, an
    :class:`AggregatorEvidence`); every other field is plain JSON already.
    """

    nested: ClassVar[Mapping[str, type]] = {}
    emotion_keys: ClassVar[tuple[str, ...] | None] = None
    """The :class:`Emotion` fields this block's emotions have always held (None: all)."""

    def to_json(self) -> dict[str, Any]:
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Emotion):
                value = value.to_json(self.emotion_keys)
            elif isinstance(value, _JsonBlock):
                value = value.to_json()
            out[f.name] = value
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            **{
                k: cls.nested[k].from_json(v) if k in cls.nested and v is not None else v
                for k, v in data.items()
            }
        )


@dataclass
class FaceGaze(_JsonBlock):
    """Per-frame eye gaze of one face track (``au.tracks[].gaze``), OpenFace 2's conventions.

    Unit direction vectors in camera coordinates, x right, y down, z away from the camera,
    so (0, 0, -1) looks into the lens; eye 0 is the eye on the image's left (the person's
    right), eye 1 the other. ``angle_x = atan2(x, -z)`` and ``angle_y = atan2(y, -z)`` of the
    two eyes' mean vector, radians (OpenFace's gaze_angle_x/y): positive looking towards the
    image's right and down. From the iris landmarks and the head pose, no gaze model
    (:mod:`emochat.face.gaze`; docs/au_validity.md says what is validated).
    """

    eye0: list[list[float]]
    eye1: list[list[float]]
    angle_x: list[float]
    angle_y: list[float]


EVIDENCE_TYPES: dict[str, type[ModalityEvidence]] = {}
"""Modality name -> its evidence class, in the order fusion and the reasoners read them."""


class ModalityEvidence(_JsonBlock):
    """What one modality measured in one segment, and how far to trust its emotion there.

    A subclass (a dataclass) registers itself under its ``modality`` name, which is its key
    in ``Segment.evidence`` and report.json. Its producer fills it; ``reliability`` (0..1) is
    computed from what it measured, so fusion weighs any modality without knowing it.
    """

    modality: ClassVar[str]
    nested: ClassVar[Mapping[str, type]] = {"emotion": Emotion}
    emotion: Emotion | None
    """The modality's own estimate (a subclass declares it as a dataclass field)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "modality" in cls.__dict__:
            EVIDENCE_TYPES[cls.modality] = cls

    @property
    def reliability(self) -> float:
        """How far to trust ``emotion`` here, 0..1 (by default fully, until a rule is known)."""
        return 1.0

    @property
    def emotion_for_fusion(self) -> Emotion | None:
        """The estimate fusion pools (by default the modality's own ``emotion``)."""
        return self.emotion


@dataclass(kw_only=True)
class FaceEvidence(ModalityEvidence):
    """The dominant face of a segment: AUs above its neutral baseline, events, its emotion."""

    modality: ClassVar[str] = "face"
    nested: ClassVar[Mapping[str, type]] = {
        "emotion": Emotion,
        "expression": Emotion,
        "au_emotion": Emotion,
    }

    face_id: int
    n_frames: int
    mean_confidence: float
    """Mean tracking confidence over the segment's frames."""
    au_mean: dict[str, float]
    active_aus: list[dict[str, Any]]
    events: list[dict[str, Any]]
    description: str | None = None
    """The AU Agent's words for the segment."""
    emotion: Emotion | None = None
    """The face readers' ensemble (expression CNN + AU prototypes), or the AUs' alone."""
    expression: Emotion | None = None
    au_emotion: Emotion | None = None
    still_image: bool = False
    """The media is a photo: its one frame is the whole look (written only when true)."""

    @property
    def reliability(self) -> float:
        """Five frames of video make a full look, a photo's one frame is one (the face
        readers are calibrated on single photos); a shaky track counts for less."""
        frames = 1.0 if self.still_image else min(1.0, self.n_frames / 5.0)
        return frames * self.mean_confidence

    def to_json(self) -> dict[str, Any]:
        out = super().to_json()
        if not self.still_image:
            del out["still_image"]
        return out


@dataclass(kw_only=True)
class AggregatorEvidence(_JsonBlock):
    """Correlation Aggregator token of an utterance: words x audio frames cross-attention."""

    nested: ClassVar[Mapping[str, type]] = {"emotion": Emotion}
    emotion_keys: ClassVar[tuple[str, ...]] = ("label", "probs", "valence", "arousal", "source")

    emotion: Emotion
    agreement: float
    vector: list[float]
    model: str
    fusion_policy: str
    """How fusion uses the token beside the speech model (see ``VoiceEvidence``)."""


@dataclass(kw_only=True)
class VoiceEvidence(ModalityEvidence):
    """One utterance: its words with prosody, the speech model's emotion, the aggregator's."""

    modality: ClassVar[str] = "voice"
    nested: ClassVar[Mapping[str, type]] = {"emotion": Emotion, "aggregator": AggregatorEvidence}
    emotion_keys: ClassVar[tuple[str, ...]] = ("label", "probs", "valence", "arousal")

    start_s: float
    end_s: float
    text: str
    language: str | None = None
    source: str = "asr"
    """``asr`` or ``transcript`` (the user's)."""
    asr_confidence: float | None = None
    emotion: Emotion | None = None
    """The speech-emotion model's (basic labels)."""
    emotion_model: str = ""
    domain_distance: float | None = None
    """How far this voice lies from the speech the emotion model was trained on (over 1:
    out of domain, its emotion is less trustworthy; the voice stage warns)."""
    prosody: dict[str, Any] = field(default_factory=dict)
    words: list[dict[str, Any]] = field(default_factory=list)
    aggregator: AggregatorEvidence | None = None

    @property
    def reliability(self) -> float:
        """Under a second of voiced speech says little about emotion: the utterance's
        length times the voiced fraction the prosody measured (the length alone when it
        measured none), so pauses and unvoiced noise do not count as voice."""
        voiced = self.prosody.get("voiced_fraction")
        seconds = (self.end_s - self.start_s) * (1.0 if voiced is None else float(voiced))
        return min(1.0, seconds / 1.0)

    @property
    def emotion_for_fusion(self) -> Emotion | None:
        """The speech model's emotion, or with it the aggregator's.

        Both read the same encoder states of the same audio, so they are one cue, never two
        (that would count the voice twice). The aggregator model's ``fusion_policy``, chosen
        on validation actors (models/aggregator/CARD.md), says how: ``replace`` takes the
        aggregator's distribution, ``ensemble`` the mean of both, ``evidence_only`` keeps the
        speech model's and leaves the aggregator as evidence.
        """
        token, speech = self.aggregator, self.emotion
        if token is None or speech is None or token.fusion_policy not in ("replace", "ensemble"):
            return speech
        if token.fusion_policy == "replace":
            return token.emotion
        a, b = fold_to_basic(speech.probs), fold_to_basic(token.emotion.probs)
        probs = {k: round((a[k] + b[k]) / 2, 4) for k in a}
        return Emotion.from_probs(probs, source="speech+aggregator")


@dataclass(kw_only=True)
class TextEvidence(ModalityEvidence):
    """A segment's words: the text model's emotion, open-vocabulary words, lexicon cues."""

    modality: ClassVar[str] = "text"
    emotion_keys: ClassVar[tuple[str, ...]] = (
        "label",
        "probs",
        "valence",
        "arousal",
        "open_vocab",
        "source",
    )

    text: str
    language: str | None = None
    asr_confidence: float | None = None
    """The recogniser's mean word probability (None: the user's transcript)."""
    emotion: Emotion | None = None
    open_vocab_scores: list[list[Any]] = field(default_factory=list)
    """[word, score] pairs of the open-vocabulary emotion words."""
    lexicon_words: list[str] = field(default_factory=list)
    vader_compound: float | None = None
    nrc: dict[str, Any] = field(default_factory=dict)

    @property
    def reliability(self) -> float:
        """Three words make a full sentence, counted in any script (a Chinese sentence is
        not one word: :func:`~emochat.core.words.word_count`); misheard words count for less."""
        confidence = 1.0 if self.asr_confidence is None else self.asr_confidence
        return min(1.0, word_count(self.text) / 3.0) * confidence


def evidence_from_json(data: Mapping[str, Mapping[str, Any]]) -> dict[str, ModalityEvidence]:
    """A segment's report.json ``evidence`` back as typed blocks."""
    unknown = set(data) - set(EVIDENCE_TYPES)
    if unknown:
        raise ValueError(f"unknown modalities {sorted(unknown)}; known: {list(EVIDENCE_TYPES)}")
    return {m: EVIDENCE_TYPES[m].from_json(block) for m, block in data.items()}


@dataclass
class Segment:
    """A stretch of media (an utterance, or a fixed window when there is no speech)."""

    start_s: float
    end_s: float
    text: str | None = None
    speaker: str | None = None
    """The segment's person as :attr:`Speaker.id`: the transcript's name (WebVTT
    ``<v Name>``, an ``ALICE:`` prefix, WhisperX's segment ``speaker``) when it names
    speakers, else S1, S2, ...; for a listening segment the listening face's person (None
    when that face never speaks); None when unknown."""
    face_id: int | None = None
    """The face this segment's face evidence is about (role speaking: the speaking face,
    None when the voice belongs to no visible face)."""
    emotion: Emotion | None = None
    evidence: dict[str, ModalityEvidence] = field(default_factory=dict)
    """Modality name -> what that modality measured here, in the order the stages added it."""
    role: str | None = None
    """``"speaking"`` (an utterance) or ``"listening"`` (a visible face that is not the
    speaker, same window, its face evidence only); None without the speaker stage."""
    speaker_face_confidence: float | None = None
    """0-1: how sure the speaking-face attribution is; None when not attributed."""
    cue_vectors: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """The segment emotion tokens the stages computed (voice: pooled whisper-base states,
    text: the e5 embedding), for the multimodal LLM reasoner; not written to report.json."""

    def ordered_evidence(self) -> list[ModalityEvidence]:
        """The evidence in the registered modality order (face, voice, text, ...): the order
        fusion weighs and the reasoners read it, whichever stage ran first."""
        rank = {m: i for i, m in enumerate(EVIDENCE_TYPES)}
        return sorted(self.evidence.values(), key=lambda ev: rank[ev.modality])


ATTRIBUTIONS = ("av-sync", "transcript", "only-face", "none")
"""How a speaker was tied to a face (:attr:`Speaker.attribution`)."""


@dataclass
class Speaker:
    """One person who speaks: the ``speakers`` block of report.json."""

    id: str
    """The transcript's name when it names speakers, else S1, S2, ... in order of first speech."""
    face_id: int | None = None
    """The face track that speaks for this speaker; None when no visible face does."""
    name: str | None = None
    """The transcript's name; None when the transcript names no speakers."""
    talk_time_s: float = 0.0
    """Seconds of this speaker's utterances."""
    n_segments: int = 0
    overall: Emotion | None = None
    """This person's emotion over their segments (speaking and listening)."""
    attribution: str = "none"
    """One of :data:`ATTRIBUTIONS`."""


@dataclass
class Explanation:
    text: str
    cites: list[dict[str, Any]] = field(default_factory=list)
    """The measured cues behind the explanation (the grounded reasoner's, for every reasoner)."""
    reasoner: str = "grounded"
    model: str | None = None
    """LLM reasoners: backend and model that wrote ``text``."""
    grounded_text: str | None = None
    """LLM reasoners: the built-in explanation of the same cues, kept beside the LLM's."""
    unmeasured_cues: list[str] | None = None
    """LLM reasoners: AUs the LLM's text names that the analysis never measured."""
    segments: list[dict[str, Any]] | None = None
    """emochat-llm: its answer per segment it read (label, probs, words, rationale)."""


@dataclass
class Report:
    media: dict[str, Any]
    segments: list[Segment] = field(default_factory=list)
    overall: Emotion | None = None
    speakers: list[Speaker] | None = None
    """Who speaks (the speaker stage); None when no speaker analysis ran."""
    faces: list[dict[str, Any]] | None = None
    au: dict[str, Any] | None = None
    expression: dict[str, Any] | None = None
    """Per-frame facial expression probabilities per face (the FER2013 CNN)."""
    explanation: Explanation | None = None
    warnings: list[Warning] = field(default_factory=list)
    timings_s: dict[str, float] = field(default_factory=dict)
    stages: list[str] = field(default_factory=list)
    emochat_version: str = ""
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    schema_version: str = SCHEMA_VERSION
    provenance: dict[str, Any] | None = None
    """What produced the report (``emochat.provenance.collect``): options, models, versions."""

    def warn(self, stage: str, code: str, message: str) -> None:
        self.warnings.append(Warning(stage, code, message))

    def to_dict(self) -> dict[str, Any]:
        # shallow copies without the cue vectors (asdict would deep-copy them first), the
        # evidence already in its JSON form (each block knows which fields it writes)
        light = replace(
            self,
            segments=[
                replace(
                    s,
                    cue_vectors={},
                    evidence={m: ev.to_json() for m, ev in s.evidence.items()},
                )
                for s in self.segments
            ],
        )
        # top-level keys stay (null: not produced); Nones inside the blocks are left out
        out = {k: _drop_none(v) for k, v in asdict(light, dict_factory=_json_fields).items()}
        if self.speakers is not None:  # a speaker's face_id, name and overall stay (null)
            out["speakers"] = [
                {k: v if k != "overall" else _drop_none(v) for k, v in asdict(sp).items()}
                for sp in self.speakers
            ]
        return out

    def frames(self):
        """One row per face per analysed frame (:func:`emochat.report.tables.frames`)."""
        from emochat.report.tables import frames

        return frames(self)

    def utterances(self):
        """One row per segment (:func:`emochat.report.tables.utterances`)."""
        from emochat.report.tables import utterances

        return utterances(self)

    def words(self):
        """One row per spoken word (:func:`emochat.report.tables.words`)."""
        from emochat.report.tables import words

        return words(self)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def write_json(self, path: str | Path) -> Path:
        return atomic_write_text(path, self.to_json())


def _json_fields(items: list[tuple[str, Any]]) -> dict[str, Any]:
    """A dataclass's fields as report.json has them: segments' cue vectors stay in memory."""
    return {k: v for k, v in items if k != "cue_vectors"}


def _drop_none(value: Any) -> Any:
    """Remove keys whose value is None, recursively (inside a block: absent = not measured)."""
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


@cache
def report_schema() -> dict[str, Any]:
    """The JSON Schema of report.json shipped with the package."""
    text = resources.files("emochat.report").joinpath("report.schema.json").read_text("utf-8")
    return json.loads(text)


def validate_report(data: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` if ``data`` is not a valid report."""
    import jsonschema

    jsonschema.validate(data, report_schema())
