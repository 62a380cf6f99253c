"""Pipeline semantics: skips become warnings, timings per stage, decode errors keep going,
artifacts pass between stages, the order is checked when built, hooks see every stage."""

from __future__ import annotations

import time

import pytest

from emochat.api import Analyzer
from emochat.core.errors import MediaError
from emochat.options import AnalyzeOptions
from emochat.pipeline import Hooks, Pipeline, StageOrderError, StageSkipped
from emochat.pipeline.runner import stage_time_limit
from emochat.report.model import validate_report
from emochat.testing.synth import tone, write_media


class _Skips:
    name = "skipper"

    def run(self, ctx):
        raise StageSkipped("nothing_here", "nothing to do")


class _Records:
    name = "recorder"

    def __init__(self):
        self.saw = None

    def run(self, ctx):
        self.saw = ctx.media


class _BreaksDecoding:
    name = "breaker"

    def run(self, ctx):
        raise MediaError(ctx.path, "corrupt packet at 1.2 s")


class _Bug:
    name = "bug"

    def run(self, ctx):
        raise ZeroDivisionError


class _Slow:
    """Sleeps 0.4 s; ``cooperative`` checks the deadline as a long loop should."""

    def __init__(self, cooperative: bool):
        self.name = "loops" if cooperative else "sleeps"
        self.cooperative = cooperative
        self.finished = False

    def run(self, ctx):
        for _ in range(40):
            time.sleep(0.01)
            if self.cooperative:
                ctx.check_deadline()
        self.finished = True


@pytest.fixture
def clip(tmp_path):
    return write_media(tmp_path / "c.mp4", 1.0, audio=tone(1.0))


def test_skip_is_a_warning_and_later_stages_run(clip):
    recorder = _Records()
    ctx = Pipeline([_Skips(), _BreaksDecoding(), recorder]).run(clip, AnalyzeOptions())
    report = ctx.report
    assert [(w.stage, w.code) for w in report.warnings] == [
        ("skipper", "nothing_here"),
        ("breaker", "decode_error"),
    ]
    assert report.stages == ["recorder"]
    assert recorder.saw.duration_s == pytest.approx(1.0, abs=0.05)
    assert set(report.timings_s) == {"ingest", "skipper", "breaker", "recorder", "total"}
    validate_report(report.to_dict())


def test_bugs_are_not_swallowed(clip):
    with pytest.raises(ZeroDivisionError):
        Pipeline([_Bug()]).run(clip)


def test_stage_past_its_time_limit_is_a_warning_and_later_stages_run(clip):
    loops, sleeps, recorder = _Slow(cooperative=True), _Slow(cooperative=False), _Records()
    t0 = time.perf_counter()
    ctx = Pipeline([loops, sleeps, recorder]).run(clip, AnalyzeOptions(stage_time_limit_s=0.1))
    report = ctx.report
    assert [(w.stage, w.code) for w in report.warnings] == [
        ("loops", "timeout"),
        ("sleeps", "timeout"),
    ]
    # the checking stage stopped near its limit, its results left out; the other ran out
    assert not loops.finished and report.timings_s["loops"] < 0.3
    assert sleeps.finished and report.timings_s["sleeps"] >= 0.4
    assert "stopped at its time limit of 0.1 s" in report.warnings[0].message
    assert (
        "took 0." in report.warnings[1].message and "limit of 0.1 s" in report.warnings[1].message
    )
    assert report.stages == ["sleeps", "recorder"] and recorder.saw is not None
    assert time.perf_counter() - t0 < 2.0
    validate_report(report.to_dict())


def test_default_stage_limit_is_generous_and_scales_with_duration():
    options = AnalyzeOptions()
    assert stage_time_limit(options, 0.0) >= 300
    assert stage_time_limit(options, 3600.0) >= 6 * 3600  # slowest stage runs < 2x real time
    assert stage_time_limit(AnalyzeOptions(stage_time_limit_s=5.0), 3600.0) == 5.0


class _Thing:
    """An artifact type for the store tests."""


class _MakesThing:
    name = "maker"
    makes = (_Thing,)

    def __init__(self, skip: bool = False):
        self.skip = skip

    def run(self, ctx):
        if self.skip:
            raise StageSkipped("nothing_made", "made nothing this time")
        ctx.put(_Thing())


class _NeedsThing:
    name = "reader"
    needs = (_Thing,)

    def __init__(self):
        self.got = None

    def run(self, ctx):
        assert ctx.find(_Thing) is ctx.get(_Thing)
        self.got = ctx.get(_Thing)
        ctx.release(_Thing)
        ctx.warn("read_it", "read and released")


def test_artifacts_pass_between_stages_and_are_released(clip):
    reader = _NeedsThing()
    ctx = Pipeline([_MakesThing(), reader]).run(clip)
    assert isinstance(reader.got, _Thing) and ctx.find(_Thing) is None
    assert [(w.stage, w.code) for w in ctx.report.warnings] == [("reader", "read_it")]


def test_a_needed_artifact_its_maker_skipped_skips_the_reader(clip):
    reader = _NeedsThing()
    ctx = Pipeline([_MakesThing(skip=True), reader]).run(clip)
    assert reader.got is None and ctx.report.stages == []
    (_, missing) = ctx.report.warnings
    assert (missing.stage, missing.code) == ("reader", "missing_input")
    assert missing.message == (
        "reader stage needs _Thing, which no earlier stage made for this media"
    )


def test_the_analyzer_reads_the_transcript_once_and_hands_it_to_the_voice_stage(
    clip, tmp_path, monkeypatch
):
    """Read up front (a bad file stops the run before any stage), so the voice stage
    takes that copy instead of parsing the file again."""
    from emochat.voice import transcript as transcripts
    from emochat.voice.stage import VoiceStage

    srt = tmp_path / "c.srt"
    srt.write_text("1\n00:00:00,100 --> 00:00:00,900\nHello there.\n", encoding="utf-8")
    reads = []
    read = transcripts.read_transcript

    def counting(path):
        reads.append(path)
        return read(path)

    monkeypatch.setattr(transcripts, "read_transcript", counting)
    analyzer = Analyzer(AnalyzeOptions(transcript=srt), pipeline=Pipeline([VoiceStage()]))
    ctx = analyzer.run(clip)
    assert reads == [srt]
    assert ctx.find(transcripts.Transcript).cues[0].text == "Hello there."


def test_the_order_is_checked_when_the_pipeline_is_built():
    from emochat.face.stage import FaceStage
    from emochat.fusion.aggregator_stage import AggregatorStage
    from emochat.fusion.stages import FaceCueStage

    with pytest.raises(
        StageOrderError,
        match="the 'face_cues' stage needs FaceAnalysis: the 'face' stage makes it but "
        "does not run before",
    ):
        Pipeline([FaceCueStage(), FaceStage()])
    with pytest.raises(
        StageOrderError,
        match="the 'aggregator' stage needs VoiceAnalysis: no stage in the pipeline makes it",
    ):
        Pipeline([FaceStage(), AggregatorStage()])
    with pytest.raises(StageOrderError, match="'reader' stage needs _Thing"):
        Pipeline([_NeedsThing(), _MakesThing()])


class _Recorder(Hooks):
    def __init__(self):
        self.calls = []

    def on_run_start(self, stages):
        self.calls.append(("run", tuple(stages)))

    def on_stage_start(self, name):
        self.calls.append(("start", name))

    def on_stage_end(self, name, seconds, skipped_reason):
        assert seconds >= 0
        self.calls.append(("end", name, skipped_reason))

    def on_progress(self, name, fraction):
        assert 0.0 <= fraction <= 1.0
        self.calls.append(("progress", name))

    def on_artifact(self, kind, artifact):
        assert isinstance(artifact, kind)
        self.calls.append(("artifact", kind.__name__))


def test_hooks_see_every_stage_in_order_on_a_real_clip(sample_clip):
    """The default stages on the sample clip (a face, no speech): each stage starts and
    ends in order, the face stage reports progress and its artifact, skips say why."""
    analyzer = Analyzer(AnalyzeOptions(fps=2))
    hooks = _Recorder()
    ctx = analyzer.run(sample_clip, hooks)
    names = analyzer.pipeline.stage_names
    assert hooks.calls[0] == ("run", tuple(names))
    bounds = [c for c in hooks.calls if c[0] in ("start", "end")]
    assert [c[:2] for c in bounds] == [(e, n) for n in names for e in ("start", "end")]
    skipped = {c[1]: c[2] for c in bounds if c[0] == "end" and c[2] is not None}
    assert skipped == {"text": "no words (no speech recognised, no transcript)"}
    assert ("voice", "no_speech") in [(w.stage, w.code) for w in ctx.report.warnings]
    face = hooks.calls[
        hooks.calls.index(("start", "face")) : hooks.calls.index(("end", "face", None))
    ]
    assert ("progress", "face") in face and ("artifact", "FaceAnalysis") in face
    from emochat.face.au import FaceAnalysis

    assert isinstance(ctx.find(FaceAnalysis), FaceAnalysis)
    # the same analyzer, again: same report but for timings
    again = analyzer.run(sample_clip).report.to_dict()
    first = ctx.report.to_dict()
    for report in (first, again):
        report.pop("timings_s")
        report.pop("created_at", None)
    assert again == first


def test_an_analyzer_refuses_options_that_choose_other_models(sample_clip):
    analyzer = Analyzer()
    with pytest.raises(ValueError, match="other models than this Analyzer holds"):
        analyzer.run(sample_clip, options=AnalyzeOptions(models={"text_emotion": "text_emotion"}))


def test_the_public_surface():
    import emochat
    import emochat.api
    import emochat.pipeline

    assert emochat.analyze is emochat.api.analyze and emochat.Analyzer is Analyzer
    assert emochat.AnalyzeOptions is AnalyzeOptions
    assert emochat.pipeline.Context is emochat.pipeline.AnalysisContext
    assert (emochat.pipeline.Pipeline, emochat.pipeline.StageSkipped) == (Pipeline, StageSkipped)
    for gone in ("run_analysis", "default_pipeline", "analyze", "AnalyzeOptions"):
        assert not hasattr(emochat.pipeline, gone)
