"""Batch building blocks: inputs, ids, markers, the summary table; one small real run."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from emochat.apps.arguments import analysis_options
from emochat.apps.jobs import ClipOutput, write_outputs
from emochat.batch.cli import add_arguments
from emochat.batch.runner import Clip, OutputDir, discover, run_batch
from emochat.batch.summary import SCHEMA, combine_parts, segment_rows, write_part
from emochat.core.errors import DataError
from emochat.report.model import Emotion, FaceEvidence, Report, Segment, VoiceEvidence
from emochat.testing.synth import tone, write_media


def _report(n_segments: int = 2) -> dict:
    r = Report(
        media={
            "path": "x.mp4",
            "duration_s": 2.0 * n_segments,
            "has_audio": True,
            "has_video": True,
        }
    )
    for i in range(n_segments):
        r.segments.append(
            Segment(
                2.0 * i,
                2.0 * i + 2,
                text="hi",
                face_id=0,
                emotion=Emotion(
                    "happy", {"happy": 0.8, "neutral": 0.2}, 0.5, 0.6, ["cheerful"], "t"
                ),
                evidence={
                    "face": FaceEvidence(
                        face_id=0,
                        n_frames=10,
                        mean_confidence=1.0,
                        au_mean={"AU12": 2.0},
                        active_aus=[{"au": "AU12", "mean": 2.0}],
                        events=[],
                        emotion=Emotion("happy", {"happy": 1.0}),
                    ),
                    "voice": VoiceEvidence(
                        start_s=2.0 * i,
                        end_s=2.0 * i + 2,
                        text="hi",
                        emotion=Emotion("calm", {"calm": 1.0}),
                    ),
                },
            )
        )
    r.overall = Emotion("happy", {"happy": 0.8, "neutral": 0.2}, 0.5, 0.6, source="t")
    return r.to_dict()


def test_discover_folder_recursive_sorted_unique_ids(tmp_path):
    files = ("b/clip.mp4", "a/clip.mp4", "a/clip.MOV", "x.wav", ".hidden/y.mp4", "notes.txt")
    for rel in (*files, "KA.SU1.36.tiff"):  # JAFFE's photos are TIFFs
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    clips = discover(tmp_path).clips
    assert [c.id for c in clips] == [
        "KA.SU1.36.tiff",
        "a__clip.MOV",
        "a__clip.mp4",
        "b__clip.mp4",
        "x.wav",
    ]
    assert len({c.id for c in clips}) == len(clips)


def test_folder_oddities_are_recorded_not_fatal(tmp_path):
    """FIFOs, symlink loops, links up the tree, hidden folders and files: each recorded
    with its reason (a loop once aborted the batch with a traceback)."""
    (tmp_path / "sub").mkdir()
    (tmp_path / ".cache").mkdir()
    for rel in ("ok.mp4", "anim.gif", ".cache/h.mp4", "._ok.mp4", "notes.txt"):
        (tmp_path / rel).write_bytes(b"x")
    os.mkfifo(tmp_path / "pipe.mp4")
    (tmp_path / "loop1.mp4").symlink_to(tmp_path / "loop2.mp4")
    (tmp_path / "loop2.mp4").symlink_to(tmp_path / "loop1.mp4")
    (tmp_path / "sub" / "up").symlink_to(tmp_path)
    found = discover(tmp_path)
    assert [c.id for c in found.clips] == ["anim.gif", "ok.mp4"]
    assert {(Path(s.input).name, s.reason) for s in found.skipped} == {
        (".cache", "hidden folder: not scanned"),
        ("._ok.mp4", "hidden file"),
        ("pipe.mp4", "not a regular file (a FIFO, socket or device)"),
        ("loop1.mp4", "symlink loop"),
        ("loop2.mp4", "symlink loop"),
    }


def test_manifest_rows_naming_one_file_twice_are_refused(tmp_path):
    (tmp_path / "a.mp4").write_bytes(b"x")
    (tmp_path / "link.mp4").symlink_to(tmp_path / "a.mp4")
    (tmp_path / "m.txt").write_text("a.mp4\nb.mp4\n./a.mp4\nlink.mp4\n")
    with pytest.raises(
        DataError, match=r"1 media file\(s\) listed more than once \(lines 1, 3, 4: "
    ):
        discover(tmp_path / "m.txt")
    (tmp_path / "ids.csv").write_text("path,id,transcript\na.mp4,plain,\na.mp4,subtitled,a.srt\n")
    assert [c.id for c in discover(tmp_path / "ids.csv").clips] == ["plain", "subtitled"]


def test_manifests(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "list.txt").write_text("# clips\nsub/a.mp4\n\n/abs/b.mp4\nother/a.mp4\n")
    clips = discover(tmp_path / "m" / "list.txt").clips
    assert clips[0].path == tmp_path / "m" / "sub" / "a.mp4" and clips[1].path == Path("/abs/b.mp4")
    assert clips[0].id != clips[2].id and clips[0].id.startswith("a.mp4-")
    (tmp_path / "m.csv").write_text("path,id,transcript,language\nv.mp4,first,v.srt,en\nw.mp4,,,\n")
    c = discover(tmp_path / "m.csv").clips
    assert (c[0].id, c[0].transcript, c[0].language) == ("first", tmp_path / "v.srt", "en")
    assert c[1].id == "w.mp4" and c[1].transcript is None
    (tmp_path / "m.jsonl").write_text(
        '{"path": "v.mp4", "id": "k"}\n{"path": "w.mp4", "id": "k"}\n'
    )
    with pytest.raises(DataError, match="unique"):
        discover(tmp_path / "m.jsonl")
    (tmp_path / "bad.csv").write_text("file\nv.mp4\n")
    with pytest.raises(DataError, match="path"):
        discover(tmp_path / "bad.csv")
    with pytest.raises(DataError):
        discover(tmp_path / "missing")


def test_summary_rows_follow_the_schema():
    rows = segment_rows("c", "/in/c.mp4", _report(3))
    assert [r["segment"] for r in rows] == [0, 1, 2]
    r = rows[0]
    assert (r["label"], r["p_label"], r["p_happy"], r["p_sad"]) == ("happy", 0.8, 0.8, None)
    assert (r["face_label"], r["voice_label"], r["open_vocab"]) == ("happy", "calm", "cheerful")
    assert r["active_aus"] == "AU12:2.00" and r["clip_label"] == "happy"
    # each modality's own distribution, folded to the basic labels (calm is neutral)
    assert (r["face_p_happy"], r["face_p_sad"]) == (1.0, 0.0)
    assert (r["voice_p_neutral"], r["text_label"], r["text_p_happy"]) == (1.0, None, None)
    assert r["uncertain"] is None and r["face_weight"] is None  # no fusion block here
    assert set(r) == set(SCHEMA.names)


def test_an_older_part_without_the_new_columns_still_combines(tmp_path):
    """A batch resumed by a newer emochat: earlier clips' parts lack the probability columns."""
    rows = segment_rows("c", "/in/c.mp4", _report(2))
    old = pa.Table.from_pylist(rows, schema=SCHEMA).drop_columns(["uncertain", "face_p_happy"])
    pq.write_table(old, tmp_path / "old.parquet")
    assert combine_parts([tmp_path / "old.parquet"], tmp_path / "summary.parquet") == 2
    summary = pq.read_table(tmp_path / "summary.parquet")
    assert summary.schema == SCHEMA and summary["face_p_happy"].null_count == 2


def test_redone_clip_appears_once(tmp_path):
    """A crash after a clip's outputs but before its marker: it is redone, counted once."""
    out = OutputDir(tmp_path)
    clip = Clip("c1", Path("/in/c1.mp4"))
    output = ClipOutput(_report(2), "<html></html>", 0.1)
    out.record_done(clip, output)
    out.marker("c1").unlink()  # as if killed just before the marker
    assert not out.is_finished("c1", retry_failed=False)
    out.record_done(clip, output)
    assert out.is_finished("c1", retry_failed=False)
    assert combine_parts([out.part("c1")], tmp_path / "summary.parquet") == 2
    out.record_failed(Clip("c2", Path("/in/c2.mp4")), "bad file", "MediaError")
    assert out.is_finished("c2", retry_failed=False) and not out.is_finished(
        "c2", retry_failed=True
    )
    assert combine_parts([], tmp_path / "empty.parquet") == 0
    assert pq.read_schema(tmp_path / "empty.parquet").names == SCHEMA.names


def test_cli_arguments():
    import argparse

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["in", "-o", "out", "--workers", "3", "--engine", "ray"])
    assert (args.workers, args.engine, analysis_options(args).fps) == (3, "ray", 10.0)
    with pytest.raises(SystemExit):
        parser.parse_args(["in", "-o", "out", "--workers", "0"])


def test_small_local_run_and_retry_failed(tmp_path):
    src = tmp_path / "in"
    write_media(src / "a.mp4", 0.6, width=64, height=48, fps=10, audio=tone(0.6))
    (src / "b.mp4").write_bytes(b"junk")
    seen = []
    result = run_batch(
        src,
        tmp_path / "out",
        workers=1,
        options={"fps": 2},
        on_clip=lambda clip, rec, n, total: seen.append((clip.id, rec["ok"], n, total)),
    )
    assert sorted(seen) == [("a.mp4", True, 1, 2), ("b.mp4", False, 2, 2)] or sorted(seen) == [
        ("a.mp4", True, 2, 2),
        ("b.mp4", False, 1, 2),
    ]
    assert (result.done, result.failed, result.rows) == (1, 1, 1)
    html = (tmp_path / "out" / "clips" / "a.mp4" / "report.html").read_text()
    frames = pq.read_table(tmp_path / "out" / "clips" / "a.mp4" / "frames.parquet")
    assert {"time_s", "frame", "face_id"} <= set(frames.column_names)  # no face: no rows
    assert '"video_src":"../../../in/a.mp4"' in html  # plays in place
    again = run_batch(src, tmp_path / "out", workers=1, options={"fps": 2}, retry_failed=True)
    assert (again.processed, again.skipped, again.failed) == (1, 1, 1)
    assert json.loads((tmp_path / "out" / "failures.json").read_text())[0]["id"] == "b.mp4"


def test_one_batch_per_output_folder(tmp_path):
    import fcntl

    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()
    stale = tmp_path / "out" / "clips" / "a" / ".report.json.x.tmp"
    stale.parent.mkdir(parents=True)
    stale.write_text("half")
    with open(tmp_path / "out" / ".lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        with pytest.raises(DataError, match="another batch"):
            run_batch(tmp_path / "in", tmp_path / "out")
    assert run_batch(tmp_path / "in", tmp_path / "out").total == 0
    assert not stale.exists()


def test_rewriting_a_clip_removes_a_killed_attempts_temporaries(tmp_path):
    """kill -9 mid-write leaves `.report.html.*.tmp`; the next attempt leaves none behind."""
    out = tmp_path / "clip"
    out.mkdir()
    (out / ".report.html.k1ll3d.tmp").write_text("<html>half")
    (out / ".report.json.k1ll3d.tmp").write_text("{")
    (out / "notes.txt").write_text("the user's own file")
    written = write_outputs(out, ClipOutput(_report(), "<html></html>", 1.0))
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt", "report.html", "report.json"]
    assert [p.name for p in written] == ["report.html", "report.json"]
    assert json.loads((out / "report.json").read_text())["segments"]


def _two_speaker_report() -> dict:
    """Schema 2.3: S1 (face 0) speaks while face 1 listens, then S2 (face 1) while S1
    listens; each utterance has a speaking and a listening segment."""
    report = _report(4)
    segs = report["segments"]
    for seg, (speaker, role, face, conf) in zip(
        segs,
        [("S1", "speaking", 0, 0.92), ("S1", "listening", 1, None)]
        + [("S2", "speaking", 1, 0.81), ("S2", "listening", 0, None)],
        strict=True,
    ):
        seg.update(speaker=speaker, role=role, face_id=face)
        if conf is not None:
            seg["speaker_face_confidence"] = conf
    report["speakers"] = [
        {
            "id": "S1",
            "face_id": 0,
            "talk_time_s": 3.0,
            "n_segments": 2,
            "attribution": "av-sync",
            "overall": {"label": "happy", "probs": {"happy": 0.6, "sad": 0.4}},
        },
        {
            "id": "S2",
            "face_id": 1,
            "talk_time_s": 5.0,
            "n_segments": 2,
            "attribution": "av-sync",
            "overall": {"label": "sad", "probs": {"happy": 0.3, "sad": 0.7}},
        },
    ]
    return report


def test_summary_rows_say_who_speaks_and_who_listens():
    """Schema 2.3: a speaking and a listening row per utterance, each tied to its person."""
    rows = segment_rows("c", "/in/c.mp4", _two_speaker_report())
    who = [(r["speaker"], r["role"], r["face_id"], r["person"], r["person_label"]) for r in rows]
    assert who == [
        ("S1", "speaking", 0, "S1", "happy"),
        ("S1", "listening", 1, "S2", "sad"),
        ("S2", "speaking", 1, "S2", "sad"),
        ("S2", "listening", 0, "S1", "happy"),
    ]
    assert [r["speaker_face_confidence"] for r in rows] == [0.92, None, 0.81, None]
    assert {r["n_speakers"] for r in rows} == {2}
    # without a speaker analysis the columns are null
    plain = segment_rows("c", "/in/c.mp4", _report(2))
    assert {(r["role"], r["person"], r["person_label"], r["n_speakers"]) for r in plain} == {
        (None, None, None, None)
    }


def test_an_older_part_without_the_speaker_columns_still_combines(tmp_path):
    """A batch resumed by this emochat: parts written before schema 2.3 lack the columns."""
    old = pa.Table.from_pylist(segment_rows("a", "/in/a.mp4", _report(2)), schema=SCHEMA)
    old = old.drop_columns(
        ["role", "person", "speaker_face_confidence", "person_label", "n_speakers"]
    )
    pq.write_table(old, tmp_path / "a.parquet")
    write_part(segment_rows("b", "/in/b.mp4", _two_speaker_report()), tmp_path / "b.parquet")
    assert (
        combine_parts([tmp_path / "a.parquet", tmp_path / "b.parquet"], tmp_path / "s.parquet") == 6
    )
    summary = pq.read_table(tmp_path / "s.parquet").to_pandas()
    assert summary["n_speakers"].isna().tolist() == [True] * 2 + [False] * 4
    assert summary["role"].tolist()[2:] == ["speaking", "listening", "speaking", "listening"]
