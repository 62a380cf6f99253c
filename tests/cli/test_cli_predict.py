"""`emochat predict {face,speech,text}`: one JSON line per input, bad inputs reported."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from emochat.cli import main
from emochat.core.settings import data_root
from emochat.face.predict import predict_face_arrays


def _lines(capsys) -> tuple[list[dict], str]:
    captured = capsys.readouterr()
    return [json.loads(line) for line in captured.out.splitlines()], captured.err


def test_predict_speech_and_a_bad_file(tmp_path, capsys):
    clip = data_root() / "ravdess-speech" / "Actor_21" / "03-01-05-02-01-01-21.flac"  # angry
    code = main(["predict", "speech", str(clip), str(tmp_path / "missing.wav")])
    rows, err = _lines(capsys)
    assert code == 1  # one input failed, the other was still predicted
    assert rows[0]["input"] == str(clip) and rows[0]["label"] == "angry"
    assert abs(sum(rows[0]["probs"].values()) - 1) < 1e-3
    assert f"{tmp_path / 'missing.wav'}: file not found" in err


def test_predict_text(capsys):
    assert main(["predict", "text", "I am so happy today"]) == 0
    rows, _ = _lines(capsys)
    assert rows[0]["label"] == "happy"


# --- face crops (issue 20): FER2013-style images classified whole ---------------------


@pytest.fixture(scope="module")
def fer_crops(tmp_path_factory) -> tuple[Path, list[np.ndarray]]:
    """200 PublicTest crops (a fixed sample: the npz is sorted by class) as grey PNGs."""
    from emochat.core.errors import DataError
    from emochat.data.corpora import fer2013

    try:
        df = fer2013.load("val", images=True).sample(200, random_state=0)
    except DataError as exc:
        pytest.skip(f"FER2013 not available: {exc}")
    folder = tmp_path_factory.mktemp("fer_crops")
    images = [np.asarray(im, np.uint8) for im in df["image"]]
    for i, image in enumerate(images):
        assert cv2.imwrite(str(folder / f"{i:03d}.png"), image)
    return folder, images


def _same_as_arrays(rows: list[dict], images: list[np.ndarray]) -> None:
    expected = predict_face_arrays(images)
    assert [r["label"] for r in rows] == [e["label"] for e in expected]
    assert [r["probs"] for r in rows] == [e["probs"] for e in expected]


def test_predict_face_crops_folder_scores_like_eval_fer2013(fer_crops, capsys):
    folder, images = fer_crops
    assert main(["predict", "face", "--crops", str(folder), "--format", "jsonl"]) == 0
    rows, err = _lines(capsys)
    assert err == ""
    assert [r["input"] for r in rows] == [str(folder / f"{i:03d}.png") for i in range(200)]
    assert all(r["face_source"] == "crop" and r["crop_reason"] == "crops_flag" for r in rows)
    assert all(r["bbox"] == [0.0, 0.0, 48.0, 48.0] for r in rows)
    _same_as_arrays(rows, images)


def test_small_square_images_without_a_face_are_taken_as_crops(fer_crops, capsys):
    folder, images = fer_crops
    assert main(["predict", "face", str(folder)]) == 0
    rows, _ = _lines(capsys)
    assert len({r["input"] for r in rows}) == 200
    crops = [r for r in rows if r["face_source"] == "crop"]
    # MTCNN finds the face in most crops: a lone face filling a small square image is a
    # crop all the same; the few others (a second face, a small one) take the photo path
    assert len(crops) >= 190
    reasons = {r["crop_reason"] for r in crops}
    assert reasons <= {"no_face_small_square", "face_fills_small_square"}
    assert "face_fills_small_square" in reasons
    for r in rows:
        if r["face_source"] != "crop":
            assert r["face_source"] == "detected" and "crop_reason" not in r
    index = [int(Path(r["input"]).stem) for r in crops]
    _same_as_arrays(crops, [images[i] for i in index])


def test_predict_face_on_a_photo_detects_it_unless_told_it_is_a_crop(media_dir, capsys):
    photo = media_dir / "single_face.jpg"
    height, width = cv2.imread(str(photo)).shape[:2]
    assert main(["predict", "face", str(photo)]) == 0
    rows, _ = _lines(capsys)
    assert len(rows) == 1 and rows[0]["label"] == "happy"
    assert rows[0]["face_source"] == "detected"
    assert "crop_reason" not in rows[0]
    x, y, w, h = rows[0]["bbox"]
    assert 0 <= x and 0 <= y and 0 < w < width and 0 < h < height
    assert main(["predict", "face", "--crops", str(photo)]) == 0
    rows, _ = _lines(capsys)
    assert rows[0]["face_source"] == "crop" and rows[0]["crop_reason"] == "crops_flag"
    assert rows[0]["bbox"] == [0.0, 0.0, float(width), float(height)]


def test_bad_files_in_a_folder_are_named_and_the_rest_classified(fer_crops, tmp_path, capsys):
    source, _ = fer_crops
    (tmp_path / "sub").mkdir()
    good = [tmp_path / "a.png", tmp_path / "c.png", tmp_path / "sub" / "d.PNG"]
    for i, path in enumerate(good):
        path.write_bytes((source / f"{i:03d}.png").read_bytes())
    png = (source / "003.png").read_bytes()
    (tmp_path / "b_corrupt.png").write_bytes(png[: len(png) // 2])
    (tmp_path / "notes.jpg").write_text("not an image\n")
    (tmp_path / "labels.csv").write_text("file,label\n")  # not an image extension: ignored
    code = main(["predict", "face", "--crops", str(tmp_path)])
    rows, err = _lines(capsys)
    assert code == 1
    assert [r["input"] for r in rows] == [str(p) for p in good]
    assert err.splitlines() == [
        f"emochat: error: {tmp_path / 'b_corrupt.png'}: not a readable image",
        f"emochat: error: {tmp_path / 'notes.jpg'}: not a readable image",
    ]


# --- no speech (issue 24): the VAD speaks before the speech model ---------------------


def _sine_wav(path: Path, seconds: float, hz: float = 440.0) -> Path:
    import wave

    t = np.arange(int(16_000 * seconds)) / 16_000
    samples = (0.5 * np.sin(2 * np.pi * hz * t) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16_000)
        w.writeframes(samples.tobytes())
    return path


def test_predict_speech_says_no_speech_instead_of_an_emotion(tmp_path, capsys):
    """A 0.1-s tone (once "fear 1.000") and a clip without speech (per analyze: fear 0.998)."""
    tone = _sine_wav(tmp_path / "tone.wav", 0.1)
    clip = Path(__file__).resolve().parents[2] / "samples" / "single_face.mp4"
    assert main(["predict", "speech", str(tone), str(clip)]) == 0
    rows, _ = _lines(capsys)
    for row in rows:
        assert (row["status"], row["label"], row["probs"]) == ("no_speech", None, None)
    speech = data_root() / "ravdess-speech" / "Actor_21" / "03-01-05-02-01-01-21.flac"
    assert main(["predict", "speech", str(speech)]) == 0
    rows, _ = _lines(capsys)
    assert (rows[0]["status"], rows[0]["label"]) == ("speech", "angry")


def test_predict_face_refuses_a_decompression_bomb_from_its_header(tmp_path, capsys):
    """A 20000x20000 PNG of 400 KB once took 2.45 GB here; analyze refused it already."""
    from emochat.testing.synth import huge_png

    bomb = huge_png(tmp_path / "bomb.png", 20_000, 20_000)
    assert main(["predict", "face", str(bomb)]) == 1
    _, err = _lines(capsys)
    assert err.strip() == (
        f"emochat: error: {bomb}: image is 20000x20000 (400 Mpx), over the 150 Mpx limit"
    )
