"""Pipeline semantics: skips become warnings, timings per stage, decode errors keep going."""

from __future__ import annotations

import time

import pytest

from emochat.core.errors import MediaError
from emochat.options import AnalyzeOptions
from emochat.pipeline.contract import StageSkipped
from emochat.pipeline.runner import Pipeline, stage_time_limit
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


def test_old_pipeline_names_still_import_for_one_release():
    import emochat
    import emochat.api
    import emochat.pipeline as old

    assert (old.AnalyzeOptions, old.Pipeline, old.StageSkipped) == (
        AnalyzeOptions,
        Pipeline,
        StageSkipped,
    )
    assert old.stage_time_limit is stage_time_limit
    for name in ("default_pipeline", "run_analysis", "analyze"):
        with pytest.warns(DeprecationWarning, match=f"emochat.api.{name}"):
            assert getattr(old, name) is getattr(emochat.api, name)
    assert emochat.analyze is emochat.api.analyze  # the public name, without a warning
