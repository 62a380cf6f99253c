"""`emochat analyze` end to end on real media: outputs, warnings, exports, batches."""

from __future__ import annotations

import csv
import json
import re
import shutil

import pytest

from emochat.cli import main
from emochat.face.au.definitions import intensity_word
from emochat.reasoning.grounded import uncited_cues
from emochat.report.model import report_schema, validate_report


def _analyze(tmp_path, *args) -> tuple[int, dict | None]:
    out = tmp_path / "out"
    code = main(["analyze", *map(str, args), "-o", str(out), "-q"])
    report = out / "report.json"
    return code, json.loads(report.read_text()) if report.exists() else None


@pytest.fixture(scope="module")
def sample_run(sample_clip, tmp_path_factory):
    out = tmp_path_factory.mktemp("sample")
    code = main(["analyze", str(sample_clip), "-o", str(out), "--au-csv", "-q"])
    return code, out


def test_sample_clip_writes_valid_report_html_and_csv(sample_run):
    code, out = sample_run
    assert code == 0
    data = json.loads((out / "report.json").read_text())
    validate_report(data)
    assert data["media"]["duration_s"] == pytest.approx(2.42, abs=0.02)
    assert data["faces"] and data["au"]["tracks"]
    assert data["segments"] and data["segments"][0]["evidence"]["face"]["n_frames"] > 5
    assert data["overall"]["label"] == "happy"  # a broad smile
    assert set(data["timings_s"]) >= {"ingest", "face", "total"}
    html = (out / "report.html").read_text()
    assert "single_face.mp4" in html and "happy" in html
    with open(out / "au.csv", newline="") as fh:
        rows = list(csv.DictReader(fh, skipinitialspace=True))  # OpenFace writes ", "
    assert rows and {
        "frame",
        "face_id",
        "timestamp",
        "confidence",
        "success",
        "AU12_r",
        "AU12_c",
    } <= set(rows[0])


def test_every_cited_cue_is_in_the_report(sample_run):
    _, out = sample_run
    data = json.loads((out / "report.json").read_text())
    cites = data["explanation"]["cites"]
    assert cites, "a smiling face should yield cited AU cues"
    assert uncited_cues(data) == []
    for cite in cites:
        assert cite["cue"].split(":")[-1] in data["explanation"]["text"]


GRADED = re.compile(r"\((AU\d+)\) ([a-z ]+?) \((\w+) (\d+\.\d)\)")


def _graded(text: str) -> dict[str, tuple[str, str, float]]:
    """AU -> (word, statistic, value) for every AU a text grades; every (AUn) is graded."""
    found = {f"AU{int(au[2:]):02d}": (w, stat, float(v)) for au, w, stat, v in GRADED.findall(text)}
    assert len(found) == len(re.findall(r"\(AU\d+\)", text)), text
    return found


def test_explanation_and_face_description_grade_aus_alike(sample_run):
    """One vocabulary: each text names the statistic it grades, with the same words."""
    _, out = sample_run
    data = json.loads((out / "report.json").read_text())
    explained = data["explanation"]["text"]
    compared = 0
    for seg in data["segments"]:
        face = seg["evidence"]["face"]
        where = f"{seg['start_s']:.1f}-{seg['end_s']:.1f} s, face {face['face_id']}: "
        sentence = explained.split(where, 1)[1].split("->", 1)[0]
        said = _graded(sentence)
        described = _graded(face["description"])
        means = {a["au"]: a["mean"] for a in face["active_aus"]}
        for au in said.keys() & described.keys():
            (word, stat, value), (word2, stat2, value2) = said[au], described[au]
            assert (stat, stat2) == ("mean", "peak") and value == round(means[au], 1)
            peak = max(e["peak"] for e in face["events"] if e["au"] == au)
            assert value2 == round(peak, 1)
            assert (word, word2) == (intensity_word(value), intensity_word(value2))
            compared += 1
    assert compared >= 2, "a smile names its AUs in both texts"


def test_no_face_clip_warns_and_still_reports(media_dir, tmp_path):
    code, data = _analyze(tmp_path, media_dir / "no_face.mp4")
    assert code == 0
    validate_report(data)
    assert "no_face" in [w["code"] for w in data["warnings"]]
    assert data["faces"] is None and data["overall"] is None and data["au"] is None
    assert "no emotion is claimed" in data["explanation"]["text"]


@pytest.mark.parametrize("media", ["no_face.mp4", "sample"])
def test_report_has_every_top_level_key_of_the_schema(media, media_dir, sample_clip, tmp_path):
    """A stable shape: what a stage could not produce is null, never a missing key."""
    code, data = _analyze(tmp_path, sample_clip if media == "sample" else media_dir / media)
    assert code == 0
    validate_report(data)
    assert set(data) == set(report_schema()["properties"])
    produced = {k for k in ("overall", "faces", "au", "expression") if data[k] is not None}
    assert produced == (
        set() if media == "no_face.mp4" else {"overall", "faces", "au", "expression"}
    )


def test_hevc_mov_decodes_with_faces(media_dir, tmp_path):
    code, data = _analyze(tmp_path, media_dir / "face_noface.mov")
    assert code == 0 and data["media"]["video_codec"] == "hevc" and data["faces"]


@pytest.mark.parametrize("photo", ["single_face.jpg", "multi_face.jpg"])
def test_photos_are_analysed_as_one_frame(media_dir, tmp_path, photo):
    code, data = _analyze(tmp_path, media_dir / photo)
    assert code == 0 and data["media"]["is_image"]
    assert data["faces"] and data["segments"][0]["evidence"]["face"]["n_frames"] == 1


def test_batch_goes_past_a_bad_item_and_records_it(media_dir, tmp_path, capsys):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00" * 1000)
    out = tmp_path / "out"
    code = main(["analyze", str(bad), str(media_dir / "single_face.jpg"), "-o", str(out), "-q"])
    assert code == 1
    assert (out / "single_face" / "report.json").exists()
    assert not (out / "broken").exists()
    failures = json.loads((out / "failures.json").read_text())
    assert failures[0]["input"] == str(bad) and "not a media file" in failures[0]["error"]
    assert f"{bad}: " in capsys.readouterr().err


def test_json_flag_prints_the_report(media_dir, tmp_path, capsys):
    code = main(
        ["analyze", str(media_dir / "single_face.jpg"), "-o", str(tmp_path), "--json", "-q"]
    )
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads((tmp_path / "report.json").read_text())


def test_single_bad_file_is_one_line_exit_2(tmp_path, capsys):
    assert main(["analyze", str(tmp_path / "nope.mp4"), "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"emochat: error: {tmp_path / 'nope.mp4'}: file not found"


def test_expression_views_choices_are_the_models():
    """The CLI lists the names literally (importing the model would load OpenCV at start-up)."""
    import argparse
    import inspect

    from emochat.apps.arguments import add_analysis_options, analysis_options
    from emochat.face.expression import TTA_VIEWS, ExpressionModel

    parser = argparse.ArgumentParser()
    add_analysis_options(parser)
    (action,) = [a for a in parser._actions if a.dest == "expression_views"]
    assert sorted(action.choices) == sorted(TTA_VIEWS)
    # the flag defaults to "not given" (an --options file may set it); unset, the model's
    expected = inspect.signature(ExpressionModel.load).parameters["tta"].default
    assert analysis_options(parser.parse_args([])).expression_views == expected


def test_expression_views_option_reaches_the_model(media_dir, tmp_path):
    probs = {}
    for views in ("zoom", "none"):
        code, report = _analyze(
            tmp_path / views, media_dir / "single_face.jpg", "--expression-views", views
        )
        assert code == 0
        probs[views] = report["expression"]["tracks"][0]["probs"][0]
    assert max(abs(a - b) for a, b in zip(probs["zoom"], probs["none"], strict=True)) > 1e-3


def test_summary_names_the_overall_label_once(sample_clip, tmp_path, capsys):
    assert main(["analyze", str(sample_clip), "-o", str(tmp_path)]) == 0
    printed = " ".join(capsys.readouterr().out.split())  # rich wraps long lines
    overall = json.loads((tmp_path / "report.json").read_text())["overall"]
    label, probs = overall["label"], overall["probs"]
    line = re.search(r"overall: (.*?\(valence [^)]*\))", printed)
    assert line, printed
    runners_up = sorted((k for k in probs if k != label), key=lambda k: -probs[k])[:2]
    assert line[1] == (
        f"{label} ({probs[label]:.2f}), "
        + ", ".join(f"{k} {probs[k]:.2f}" for k in runners_up)
        + f" (valence {overall['valence']:+.2f}, arousal {overall['arousal']:.2f})"
    )


def test_inputs_sharing_a_stem_get_distinct_folders(sample_clip, media_dir, tmp_path):
    clip, photo, junk = tmp_path / "x.mp4", tmp_path / "x.jpg", tmp_path / "X.wav"
    shutil.copyfile(sample_clip, clip)
    shutil.copyfile(media_dir / "single_face.jpg", photo)
    junk.write_bytes(b"\x00" * 1000)
    out = tmp_path / "out"
    assert main(["analyze", str(clip), str(photo), str(junk), "-o", str(out), "-q"]) == 1
    for media, folder in ((clip, "x_mp4"), (photo, "x_jpg")):
        data = json.loads((out / folder / "report.json").read_text())
        assert data["media"]["path"] == str(media)
    failures = json.loads((out / "failures.json").read_text())
    assert [(f["input"], f["output"]) for f in failures] == [(str(junk), str(out / "X_wav"))]
    assert sorted(p.name for p in out.iterdir()) == ["failures.json", "x_jpg", "x_mp4"]


def test_json_with_several_inputs_prints_one_report_per_line(media_dir, tmp_path, capsys):
    photos = [media_dir / "single_face.jpg", media_dir / "multi_face.jpg"]
    assert main(["analyze", *map(str, photos), "-o", str(tmp_path), "--json", "-q"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line) for line in lines] == [
        json.loads((tmp_path / p.stem / "report.json").read_text()) for p in photos
    ]
