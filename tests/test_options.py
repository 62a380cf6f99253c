"""AnalyzeOptions: one copy of the defaults, of "auto" and of validation, for every front end."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from emochat.options import (
    AUTO,
    EXPRESSION_VIEWS,
    WHISPER_LANGUAGES,
    AnalyzeOptions,
    ReasonerSettings,
    resolve_auto,
)


def test_auto_and_empty_mean_detect():
    assert resolve_auto(AUTO) is None and resolve_auto("") is None and resolve_auto(None) is None
    assert resolve_auto("zh") == "zh"
    assert AnalyzeOptions(language="auto").language is None


def test_from_mapping_reads_plain_values():
    opts = AnalyzeOptions.from_mapping(
        {"fps": "2", "segment_s": 3, "max_faces": "2", "language": "auto", "transcript": "t.srt"}
    )
    assert (opts.fps, opts.segment_s, opts.max_faces, opts.language, opts.transcript) == (
        2.0,
        3.0,
        2,
        None,
        Path("t.srt"),
    )
    assert opts.expression_views == "zoom" and opts.max_side == 1280
    assert AnalyzeOptions.from_mapping({"expression_views": "mirror"}).expression_views == "mirror"
    assert AnalyzeOptions().micro_reread is True
    assert AnalyzeOptions.from_mapping({"micro_reread": False}).micro_reread is False
    assert AnalyzeOptions.from_mapping(None) == AnalyzeOptions()


def test_from_mapping_empty_values():
    """None means "every frame" for fps (what --all-frames records); a form's empty field
    keeps the default where None is no value."""
    assert AnalyzeOptions.from_mapping({"fps": None}).fps is None
    assert AnalyzeOptions.from_mapping({"segment_s": None, "max_faces": ""}) == AnalyzeOptions()


def test_max_faces_default_depends_on_the_media_and_a_given_value_stays():
    assert AnalyzeOptions().max_faces is None
    assert AnalyzeOptions().for_media(is_image=True).max_faces == 32
    assert AnalyzeOptions().for_media(is_image=False).max_faces == 8
    assert AnalyzeOptions(max_faces=3).for_media(is_image=True).max_faces == 3
    assert AnalyzeOptions.from_mapping({"reasoner": {}, "transcript": ""}).reasoner is None


def test_to_mapping_round_trips():
    opts = AnalyzeOptions(
        fps=None,
        language="en",
        transcript=Path("a.srt"),
        reasoner=ReasonerSettings(kind="openai", model="m"),
    )
    plain = opts.to_mapping()
    assert plain["transcript"] == "a.srt" and plain["reasoner"]["model"] == "m"
    assert AnalyzeOptions.from_mapping(plain) == opts


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"fsp": 3}, r"unknown analysis option 'fsp'; known: fps, max_side"),
        ({"fps": 0}, r"fps must be a number > 0 and <= 60 or None, not 0"),
        ({"fps": 1000}, r"fps must be a number > 0 and <= 60 or None, not 1000"),
        ({"fps": "fast"}, r"fps must be a number, not 'fast'"),
        ({"fps": "nan"}, r"fps must be a number > 0 and <= 60 or None, not nan"),
        ({"segment_s": -1}, r"segment_s must be a number >= 0.5, not -1"),
        ({"segment_s": 0.000001}, r"segment_s must be a number >= 0.5, not 1e-06"),
        ({"max_faces": 0}, r"max_faces must be a whole number from 1 to 32, not 0"),
        ({"max_faces": 10_000}, r"max_faces must be a whole number from 1 to 32, not 10000"),
        ({"max_side": 100_000}, r"max_side must be a whole number from 64 to 4096, not 100000"),
        ({"stage_time_limit_s": 0}, r"stage_time_limit_s must be a number > 0 and <= 604800"),
        ({"language": "xx"}, r"language must be auto or a language code the ASR knows .*'xx'"),
        ({"expression_views": "tencrop"}, r"expression_views must be one of zoom, mirror, none"),
        ({"reasoner": "openai"}, r"reasoner must be a table of reasoner settings"),
        ({"reasoner": {"kind": "openai", "url": "x"}}, r"unknown reasoner setting\(s\): url"),
    ],
)
def test_invalid_values_name_the_option_and_what_it_accepts(mapping, message):
    with pytest.raises(ValueError, match=message):
        AnalyzeOptions.from_mapping(mapping)


def test_the_constructor_validates_too():
    with pytest.raises(ValueError, match="max_side must be a whole number"):
        AnalyzeOptions(max_side=0)
    with pytest.raises(ValueError, match="segment_s must be a number >= 0.5, not 0"):
        AnalyzeOptions(segment_s=0)  # was a ZeroDivisionError deep in the segment stage
    assert AnalyzeOptions(language="yue", segment_s=0.5, fps=60).language == "yue"


def test_language_codes_are_the_asrs():
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    assert set(_LANGUAGE_CODES) == WHISPER_LANGUAGES


def test_expression_views_are_the_models():
    from emochat.face.expression import TTA_VIEWS

    assert sorted(EXPRESSION_VIEWS) == sorted(TTA_VIEWS)


def test_front_ends_default_to_the_options_defaults():
    from emochat.apps.arguments import add_analysis_options, analysis_options
    from emochat.serve.app import ServeSettings

    parser = argparse.ArgumentParser()
    add_analysis_options(parser)
    assert analysis_options(parser.parse_args([])) == AnalyzeOptions()
    serve = ServeSettings(data_dir=Path("."))
    assert (serve.fps, serve.segment_s) == (AnalyzeOptions().fps, AnalyzeOptions().segment_s)
