"""`emochat models [NAME]` and `--model SLOT=NAME|PATH` on predict, analyze, batch and serve."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from emochat.cli import build_parser, main
from emochat.core.settings import data_root
from emochat.models import registry
from emochat.voice.speech_emotion import SpeechEmotionModel

ANGRY_CLIP = Path("ravdess-speech") / "Actor_21" / "03-01-05-02-01-01-21.flac"


@pytest.fixture(scope="module")
def angry_clip() -> Path:
    clip = data_root() / ANGRY_CLIP
    if not clip.is_file():
        pytest.skip(f"RAVDESS not found at {clip}")
    return clip


@pytest.fixture(scope="module")
def swapped_speech_head(tmp_path_factory) -> Path:
    """The shipped speech head with the happy and angry classes' weights swapped: a real,
    different weight file whose effect is known (those two probabilities trade places)."""
    head = SpeechEmotionModel.load()
    i, j = head.labels.index("happy"), head.labels.index("angry")
    for weights in (head.coef, head.intercept):
        weights[[i, j]] = weights[[j, i]]
    path = tmp_path_factory.mktemp("models") / "swapped.npz"
    head.save(path)
    return path


def _rows(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


# --- emochat models ------------------------------------------------------------------


def test_models_lists_every_model_with_the_sha256_of_its_files(capsys):
    assert main(["models", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [m["name"] for m in listed] == list(registry.REGISTRY)
    for model in listed:
        for f in model["files"]:
            if model["kind"] == registry.SHIPPED or f["sha256"] is not None:
                path = Path(f["path"])
                assert f["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest(), f["file"]

    assert main(["models"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:5] == ["NAME", "VERSION", "KIND", "SIZE", "SHA256"]
    by_name = {line.split()[0]: line for line in table[1:]}
    assert list(by_name) == list(registry.REGISTRY)
    speech = registry.describe("speech_emotion")["files"][0]["sha256"]
    assert speech[:12] in by_name["speech_emotion"]
    assert "emochat/models/speech_emotion/CARD.md" in by_name["speech_emotion"]


def test_models_name_prints_the_card_files_and_recipe(capsys):
    assert main(["models", "face_expression"]) == 0
    out = capsys.readouterr().out
    card = registry.card_path("face_expression").read_text(encoding="utf-8")
    assert card.strip() in out
    sha = hashlib.sha256(registry.weight_file("face_expression").read_bytes()).hexdigest()
    assert f"emochat/models/face_expression/expression.onnx  2.3 MB  {sha}" in out
    assert "recipe: python -m emochat.train.face_expression" in out


def test_models_face_detector_prints_its_card_and_sha256(capsys):
    """A vendored model shows its card (origin, licence) and each file's full sha256."""
    assert main(["models", "face_detector"]) == 0
    out = capsys.readouterr().out
    assert registry.card_path("face_detector").read_text(encoding="utf-8").strip() in out
    sha = hashlib.sha256(registry.weight_file("face_detector").read_bytes()).hexdigest()
    assert (
        f"emochat/models/face_detector/face_detection_full_range_sparse.tflite  661 KB  {sha}"
        in out
    )
    assert "face_detector 0.10.21 (vendored)" in out


def test_models_unknown_name_fails_listing_the_names(capsys):
    assert main(["models", "gaze"]) == 2
    err = capsys.readouterr().err
    assert "no model named 'gaze'" in err and "face_expression" in err


# --- --model on predict ----------------------------------------------------------------


def test_predict_face_with_a_copy_of_the_shipped_model_is_identical(media_dir, tmp_path, capsys):
    copy = tmp_path / "copy.onnx"
    shutil.copy(registry.weight_file("face_expression"), copy)
    photo = str(media_dir / "single_face.jpg")
    assert main(["predict", "face", photo]) == 0
    default = _rows(capsys)
    assert main(["predict", "face", photo, "--model", f"face_expression={copy}"]) == 0
    assert _rows(capsys) == default


def test_predict_speech_runs_the_file_given(angry_clip, swapped_speech_head, capsys):
    assert main(["predict", "speech", str(angry_clip)]) == 0
    (default,) = _rows(capsys)
    model = f"speech_emotion={swapped_speech_head}"
    assert main(["predict", "speech", str(angry_clip), "--model", model]) == 0
    (swapped,) = _rows(capsys)
    assert default["label"] == "angry" and swapped["label"] == "happy"
    assert swapped["probs"]["happy"] == default["probs"]["angry"]
    assert swapped["probs"]["angry"] == default["probs"]["happy"]


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("gaze=x.onnx", "--model: unknown slot 'gaze'"),
        ("face_expression=/no/such.onnx", "--model face_expression: no such file"),
        ("speech_emotion=speech_emotion", "emochat predict face runs only face_expression"),
    ],
)
def test_predict_with_a_bad_model_fails_clearly(media_dir, model, message, capsys):
    code = main(["predict", "face", str(media_dir / "single_face.jpg"), "--model", model])
    assert code == 2
    captured = capsys.readouterr()
    assert message in captured.err and captured.out == ""


def test_an_incompatible_file_is_named_with_its_slot(tmp_path, capsys):
    fake = tmp_path / "notes.onnx"
    fake.write_text("not a network")
    assert main(["predict", "text", "hello", "--model", f"text_emotion={fake}"]) == 2
    assert "text_emotion: expected a .npz file" in capsys.readouterr().err
    assert main(["predict", "face", "x.png", "--model", f"face_expression={fake}"]) == 2
    err = capsys.readouterr().err
    assert f"{fake}: --model face_expression: not a compatible face_expression model" in err


# --- --model on analyze, batch, serve --------------------------------------------------


def test_analyze_uses_the_chosen_models(angry_clip, swapped_speech_head, tmp_path):
    """A speech clip analysed with the swapped head: its voice evidence trades the happy
    and angry probabilities, everything else (words, times) stays."""
    reports = {}
    for name, extra in (
        ("default", []),
        ("swapped", ["--model", f"speech_emotion={swapped_speech_head}"]),
    ):
        out = tmp_path / name
        assert main(["analyze", str(angry_clip), "-o", str(out), "-q", *extra]) == 0
        reports[name] = json.loads((out / "report.json").read_text())
    default, swapped = (
        [s["evidence"]["voice"] for s in reports[k]["segments"] if "voice" in s["evidence"]]
        for k in ("default", "swapped")
    )
    assert default
    assert [v["words"] for v in swapped] == [v["words"] for v in default]
    for a, b in zip(default, swapped, strict=True):
        assert b["emotion"]["probs"]["happy"] == a["emotion"]["probs"]["angry"]
        assert b["emotion"]["probs"]["angry"] == a["emotion"]["probs"]["happy"]


def test_batch_and_serve_carry_the_models_to_their_workers(swapped_speech_head, tmp_path):
    from emochat.apps.arguments import analysis_options
    from emochat.options import AnalyzeOptions
    from emochat.serve.cli import settings_from

    model = ["--model", f"speech_emotion={swapped_speech_head}"]
    chosen = {"speech_emotion": str(swapped_speech_head.resolve())}
    args = build_parser().parse_args(["serve", "--data-dir", str(tmp_path), *model])
    assert settings_from(args).models == chosen
    args = build_parser().parse_args(["batch", str(tmp_path), "-o", str(tmp_path / "o"), *model])
    assert analysis_options(args).models == chosen
    assert AnalyzeOptions.from_mapping({"models": chosen}).models == chosen
