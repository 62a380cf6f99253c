"""Who is speaking (issue 26) on real talking faces: side-by-side composites of two real
clips with one voice heard at a time, a composite whose faces are both muted under a
third voice, and the report through the CLI with a speaker-tagged transcript."""

from __future__ import annotations

import json

import numpy as np
import pytest

from emochat.face.au import FaceAnalysis
from emochat.face.stage import FaceStage
from emochat.fusion.speaker_stage import SpeakerStage
from emochat.fusion.speakers import Envelope, MouthTrack, estimate_lag, mouth_opening
from emochat.fusion.stages import SegmentStage
from emochat.options import AnalyzeOptions
from emochat.pipeline.runner import Pipeline
from emochat.report.model import validate_report
from emochat.testing.composites import build_composite, truth_for
from emochat.voice.stage import VoiceStage


@pytest.fixture(scope="module")
def talking(media_dir):
    folder = media_dir / "talking"
    if not folder.is_dir():
        pytest.fail(f"test media missing: {folder}")
    return folder


@pytest.fixture(scope="module")
def pipeline():
    return Pipeline([FaceStage(), VoiceStage(), SegmentStage(), SpeakerStage()])


def _sides(ctx) -> dict[int, int]:
    face = ctx.find(FaceAnalysis)
    width = face.frame_size[0]
    return {
        fid: int(float(np.mean(t.bbox[:, 0] + t.bbox[:, 2] / 2)) >= width / 2)
        for fid, t in face.au.tracks.items()
    }


@pytest.fixture(scope="module")
def composite(talking, tmp_path_factory, pipeline):
    # a composite of bench_active_speaker's fit set (the thresholds were chosen on these
    # clips): a regression test; the held-out rate is the bench's to measure
    out = tmp_path_factory.mktemp("asd") / "two.mp4"
    comp = build_composite(talking / "hdtf_aoc.mp4", talking / "retalking_1.mp4", out, seed=0)
    return comp, pipeline.run(out, AnalyzeOptions(), None, [])


def test_composite_utterances_go_to_the_face_whose_voice_is_heard(composite):
    comp, ctx = composite
    sides = _sides(ctx)
    assert len(sides) == 2
    speaking = [s for s in ctx.segments if s.role == "speaking"]
    judged = right = 0
    for seg in speaking:
        truth = truth_for(comp.turns, seg.start_s, seg.end_s)
        if truth is None:
            continue
        judged += 1
        right += seg.face_id is not None and sides[seg.face_id] == truth[0]
    assert judged >= 3
    # the bench measures the rate over many composites; one clip allows one miss
    assert right >= judged - 1, [(s.start_s, s.end_s, s.face_id) for s in speaking]
    # both sides speak in this composite, so both faces become speakers
    assert {sp.face_id for sp in ctx.report.speakers if sp.face_id is not None} == set(sides)


def test_composite_listener_gets_its_own_face_only_segment(composite):
    _, ctx = composite
    for seg in ctx.segments:
        if seg.role != "speaking" or seg.face_id is None:
            continue
        listeners = [
            s
            for s in ctx.segments
            if s.role == "listening" and (s.start_s, s.end_s) == (seg.start_s, seg.end_s)
        ]
        assert [s.face_id for s in listeners] == [f for f in _sides(ctx) if f != seg.face_id]
        assert all("voice" not in s.evidence and s.text is None for s in listeners)
        assert 0.5 <= seg.speaker_face_confidence <= 1.0


def test_muted_faces_under_a_third_voice_are_not_the_speaker(talking, tmp_path, pipeline):
    # the fit set's muted composite (bench_active_speaker): both faces silent, a third
    # clip's voice. The held-out muted composites are the bench's to measure: there the
    # stage abstains less often (BENCHMARKS.md, "Who is speaking")
    out = tmp_path / "muted.mp4"
    build_composite(
        talking / "hdtf_aoc.mp4",
        talking / "retalking_1.mp4",
        out,
        seed=200,
        third_voice=talking / "retalking_2.mp4",
    )
    ctx = pipeline.run(out, AnalyzeOptions(), None, [])
    speaking = [s for s in ctx.segments if s.role == "speaking"]
    assert len(speaking) >= 3
    off = [s for s in speaking if s.face_id is None]
    # one utterance of slack: two silent faces can lead each other by chance (about 0.1-0.2
    # correlation points at 10 analysed frames a second)
    assert len(off) >= len(speaking) - 1, [(s.start_s, s.end_s, s.face_id) for s in speaking]
    assert all(s.speaker_face_confidence is None for s in off)
    off_screen = [sp for sp in ctx.report.speakers if sp.face_id is None]
    assert [(sp.attribution, sp.n_segments) for sp in off_screen] == [("none", len(off))]
    assert any(w.code == "speaker_off_screen" for w in ctx.report.warnings)
    # both faces are listeners of the off-screen voice
    for seg in off:
        listening = [
            s.face_id
            for s in ctx.segments
            if s.role == "listening" and (s.start_s, s.end_s) == (seg.start_s, seg.end_s)
        ]
        assert sorted(listening) == sorted(_sides(ctx))


def test_lone_talking_face_keeps_its_utterances(talking, pipeline):
    # a real single-person talking clip: every utterance goes to the one face, never to
    # nobody or to a face that is not there (the "0 wrong on lone faces")
    ctx = pipeline.run(talking / "retalking_2.mp4", AnalyzeOptions(), None, [])
    (face_id,) = ctx.find(FaceAnalysis).au.tracks
    speaking = [s for s in ctx.segments if s.role == "speaking"]
    assert speaking
    assert all(s.face_id == face_id for s in speaking), [(s.start_s, s.face_id) for s in speaking]
    assert not [s for s in ctx.segments if s.role == "listening"]


def test_lag_search_finds_a_known_offset():
    t = np.arange(0, 12, 0.1)
    rng = np.random.default_rng(0)
    opening = np.convolve(rng.random(t.size), np.ones(3) / 3, mode="same")
    grid = np.arange(0, 12, 0.01)
    # the voice follows the mouth by 0.2 s
    loud = np.interp(grid - 0.2, t, opening)
    lag = estimate_lag([MouthTrack(0, t, opening)], Envelope(grid, loud), [(1.0, 5.0), (6, 11)])
    assert lag == pytest.approx(0.2, abs=0.021)


def test_mouth_opening_does_not_depend_on_face_size():
    lm = np.zeros((1, 68, 2))
    lm[0, 36], lm[0, 45] = (0, 0), (100, 0)
    for up, down in ((61, 67), (62, 66), (63, 65)):
        lm[0, up], lm[0, down] = (50, 50), (50, 70)
    assert mouth_opening(lm)[0] == pytest.approx(0.2)
    assert mouth_opening(lm * 3)[0] == pytest.approx(0.2)


def test_cli_report_has_speakers_roles_and_transcript_names(composite, tmp_path):
    from emochat.cli import main

    comp, _ = composite

    def stamp(s: float) -> str:
        ms = int(round(s * 1000))
        return f"00:{ms // 60_000:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"

    names = {0: "Alex", 1: "Rita"}
    cues = "".join(
        f"{stamp(t.start_s)} --> {stamp(t.end_s)}\n<v {names[t.side]}>words of turn {i}</v>\n\n"
        for i, t in enumerate(comp.turns)
    )
    vtt = tmp_path / "two.vtt"
    vtt.write_text("WEBVTT\n\n" + cues)
    out = tmp_path / "out"
    assert main(["analyze", comp.path, "--transcript", str(vtt), "-o", str(out), "-q"]) == 0
    report = json.loads((out / "report.json").read_text())
    validate_report(report)
    assert report["schema_version"] == "2.3.0"
    speakers = {sp["id"]: sp for sp in report["speakers"]}
    assert set(speakers) == {"Alex", "Rita"}
    assert all(sp["name"] == sp["id"] and sp["talk_time_s"] > 0 for sp in speakers.values())
    assert all(sp["overall"] is not None for sp in speakers.values())
    # the transcript's names are pooled and tied to the faces on their side
    boxes = {
        t["face_id"]: np.mean([b[0] + b[2] / 2 for b in t["box"]]) for t in report["au"]["tracks"]
    }
    width = report["media"]["width"]
    side_of = {fid: int(x >= width / 2) for fid, x in boxes.items()}
    assert side_of[speakers["Alex"]["face_id"]] == 0
    assert speakers["Alex"]["attribution"] == "transcript"
    # Rita's mouth (retalking_1) follows her voice weakly at the lag that Alex's clip sets
    # (pooled synchrony about 0.19 against the 0.2 threshold): she may be left unattributed,
    # never given Alex's face
    rita = speakers["Rita"]["face_id"]
    assert rita is None or side_of[rita] == 1
    roles = {s.get("role") for s in report["segments"]}
    assert {"speaking", "listening"} <= roles
    for s in report["segments"]:
        if s.get("role") == "speaking":
            assert s["speaker"] in speakers and "voice" in s["evidence"]
        if s.get("role") == "listening":
            assert set(s["evidence"]) <= {"face"} and s["face_id"] != next(
                x.get("face_id")
                for x in report["segments"]
                if x.get("role") == "speaking" and x["start_s"] == s["start_s"]
            )


def test_cut_file_keeps_its_speakers(talking, tmp_path):
    """A file cut short: the voice stage keeps the audio before the cut, and so must the
    speaker stage, whose voice clusters read the audio again (before: it stopped on the
    decoding error and the report lost every speaker)."""
    import soundfile as sf

    from emochat.ingest import load_audio

    gap = np.zeros(16_000, np.float32)
    parts = [
        load_audio(talking / n) for n in ("hdtf_aoc.mp4", "retalking_1.mp4", "retalking_2.mp4")
    ]
    whole = tmp_path / "three_voices.wav"
    sf.write(whole, np.concatenate([parts[0], gap, parts[1], gap, parts[2]]), 16_000, "PCM_16")
    cut = tmp_path / "cut.wav"  # the header still declares the whole length
    cut.write_bytes(whole.read_bytes()[: int(whole.stat().st_size * 0.85)])
    ctx = Pipeline([VoiceStage(), SegmentStage(), SpeakerStage()]).run(
        cut, AnalyzeOptions(), None, []
    )
    codes = {(w.stage, w.code) for w in ctx.report.warnings}
    assert ("ingest", "decode_error") in codes  # the cut was seen and reported, once
    assert "speaker" in ctx.report.stages, codes
    assert not any(stage == "speaker" and code == "decode_error" for stage, code in codes)
    utterances = [s for s in ctx.segments if s.role == "speaking"]
    assert len(utterances) >= 2 and all(s.speaker for s in utterances)
    assert len(ctx.report.speakers) >= 2  # two different voices before the cut
