"""One clip's job: analyse, write report.json + report.html (+ au.csv), or say why not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emochat.apps.jobs import (
    ClipOutput,
    error_record,
    relative_video_src,
    run_job,
    safe_analyze,
    write_outputs,
)
from emochat.core.errors import EmochatError, MediaError, TranscriptError
from emochat.options import AnalyzeOptions
from emochat.testing.synth import tone, write_media


def test_a_photo_gets_its_report_page_and_au_table(media_dir, tmp_path):
    out = tmp_path / "out"
    output, written = run_job(media_dir / "single_face.jpg", out, {"max_faces": 1}, au_csv=True)
    assert [p.name for p in written] == ["au.csv", "report.html", "report.json"]
    assert json.loads((out / "report.json").read_text("utf-8")) == output.report
    assert output.report["faces"] and output.report["media"]["path"].endswith("single_face.jpg")
    assert (out / "report.html").read_text("utf-8") == output.html
    assert relative_video_src(media_dir / "single_face.jpg", out) in output.html
    assert "data:image/jpeg;base64," in output.html  # the face's thumbnail, from its boxes
    header, *rows = (out / "au.csv").read_text("utf-8").splitlines()
    assert header.startswith("frame, face_id, timestamp") and len(rows) == 1


def test_au_table_asked_of_sound_only_media_is_a_warning(tmp_path):
    clip = write_media(
        tmp_path / "tone.wav", 0.6, video=False, audio=tone(0.6), audio_codec="pcm_s16le"
    )
    output, written = run_job(clip, tmp_path / "out", au_csv=True, media_name="tone.wav")
    assert [p.name for p in written] == ["report.html", "report.json"]
    codes = [(w["stage"], w["code"]) for w in output.report["warnings"]]
    assert ("export", "no_au_csv") in codes
    assert output.report["media"]["path"] == "tone.wav"


def test_a_killed_attempts_temporaries_go_before_rewriting(tmp_path):
    (tmp_path / ".au.csv.k1ll3d.tmp").write_text("frame")
    (tmp_path / ".report.json.k1ll3d.tmp").write_text("{")
    written = write_outputs(tmp_path, ClipOutput({"segments": []}, "<html></html>", 0.1, "a\n"))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in written)


def test_video_src_is_relative_and_quoted(tmp_path):
    media = tmp_path / "in" / "c d#1.mp4"
    assert relative_video_src(media, tmp_path / "out" / "clip") == "../../in/c%20d%231.mp4"


def test_error_record_tells_input_problems_from_bugs():
    try:
        raise MediaError("x.mp4", "cannot decode")
    except MediaError as exc:
        assert error_record(exc) == {"error": "cannot decode", "kind": "MediaError"}
    try:
        raise ZeroDivisionError("oops")
    except ZeroDivisionError as exc:
        record = error_record(exc)
    assert record["error"] == "internal error: ZeroDivisionError: oops"
    assert record["kind"] == "internal" and "ZeroDivisionError" in record["traceback"]


def test_safe_analyze_returns_the_error_record(tmp_path):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video")
    record = safe_analyze(str(junk), {"fps": 2})
    assert record["ok"] is False and record["kind"] == "MediaError" and record["seconds"] >= 0
    with pytest.raises(EmochatError, match="junk.mp4: unknown analysis option 'fsp'"):
        run_job(junk, tmp_path / "out", {"fsp": 2})
    assert not Path(tmp_path / "out").exists()


class _MustNotRun:
    """A stage that fails the test if the pipeline gets as far as running it."""

    name = "must_not_run"

    def run(self, ctx) -> None:
        raise AssertionError("an input that cannot be analysed reached the stages")


@pytest.mark.parametrize(
    ("media", "transcript", "error", "says"),
    [
        ("", None, MediaError, "empty path: name a media file"),
        ("clip.mp4", "bin.srt", TranscriptError, "bin.srt: line 1: binary data"),
        ("clip.mp4", "nope.srt", TranscriptError, "nope.srt: transcript file not found"),
    ],
)
def test_bad_inputs_are_refused_before_any_stage_runs(tmp_path, media, transcript, error, says):
    from emochat.api import Analyzer
    from emochat.pipeline.runner import Pipeline

    (tmp_path / "bin.srt").write_bytes(bytes(range(256)))
    write_media(tmp_path / "clip.mp4", 0.5)
    options = AnalyzeOptions(transcript=tmp_path / transcript if transcript else None)
    with pytest.raises(error, match=says):
        Analyzer(options, pipeline=Pipeline([_MustNotRun()])).run(tmp_path / media if media else "")


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"language": "xx"}, "clip.mp4: language must be auto or a language code"),
        ({"segment_s": 0}, "clip.mp4: segment_s must be a number >= 0.5, not 0"),
    ],
)
def test_a_jobs_option_out_of_range_is_a_user_error_naming_the_clip(tmp_path, options, says):
    """A manifest row's or a form's value: one line for failures.json, not a traceback."""
    from emochat.apps.jobs import analyze_clip

    with pytest.raises(EmochatError, match=says):
        analyze_clip(tmp_path / "clip.mp4", options)
