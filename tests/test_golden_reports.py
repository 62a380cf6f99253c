"""Every golden input still gives the report recorded in tests/golden (see emochat.testing.golden).

A failure lists the differences, path by path. If a change of behaviour is intended,
re-record: ``python -m emochat.testing.golden record --only NAME`` and commit the goldens
with the change, saying why.
"""

from __future__ import annotations

import math

import pytest

from emochat.core.settings import media_root
from emochat.testing.golden import (
    DEFAULT_ATOL,
    MAX_DIFFS,
    GoldenInput,
    canonical,
    check_one,
    compare,
    cpu_class,
    cpu_class_mismatch,
    golden_inputs,
    golden_path,
    load,
)


def _param(item: GoldenInput):
    marks = [pytest.mark.slow] if item.slow else []
    return pytest.param(item, id=item.name, marks=marks)


INPUTS = golden_inputs(media_root())


@pytest.fixture(scope="module")
def work_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("golden")


@pytest.mark.parametrize("item", [_param(i) for i in INPUTS])
def test_report_matches_golden(item: GoldenInput, request, work_dir):
    mismatch = cpu_class_mismatch()
    if mismatch:
        pytest.fail(mismatch, pytrace=False)
    root = request.getfixturevalue("media_dir") if item.needs_media else media_root()
    assert golden_path(item.name).exists(), f"no golden for {item.name}: record it"
    diffs = check_one(item, root, work_dir)
    if diffs:
        pytest.fail(
            f"{item.name}: report differs from its golden:\n  " + "\n  ".join(diffs), pytrace=False
        )


def test_a_changed_fusion_weight_is_caught(monkeypatch, work_dir):
    """The net is not blind: another voice pooling weight changes the fused report."""
    from emochat.models import registry

    weights = registry.load("fusion").weights
    monkeypatch.setitem(weights, "voice", weights["voice"] * 0.5)
    (item,) = [i for i in INPUTS if i.name == "synth_en_conflict"]  # face, voice and text
    diffs = check_one(item, media_root(), work_dir)
    assert any(".emotion.weights.voice" in d for d in diffs), diffs


SPEECH_CLIPS = [i.name for i in INPUTS if i.name.startswith(("talking_", "conversation_"))]


@pytest.mark.parametrize("name", SPEECH_CLIPS)
def test_every_talking_and_conversation_clip_has_voice_and_text_evidence(name):
    """Issue 23: speech found in every real talking clip reaches voice and text evidence.
    The goldens hold what the pipeline gives today (test_report_matches_golden checks that
    a fresh analysis still gives it), so this asserts it of the current behaviour."""
    report = load(golden_path(name))
    spoken = [s for s in report["segments"] if {"voice", "text"} <= set(s["evidence"])]
    assert spoken, f"{name}: no segment with both voice and text evidence"
    assert all(s["evidence"]["text"]["text"].strip() for s in spoken)


def test_every_medium_has_a_golden(media_dir):
    """A medium added to the media root without a golden is not silently left out."""
    missing = [i.name for i in golden_inputs(media_dir) if not golden_path(i.name).exists()]
    assert not missing, missing


# ---------------------------------------------------------------- compare() itself

REPORT = {
    "media": {"path": "/somewhere/clips/a.mp4", "duration_s": 2.4},
    "segments": [
        {
            "start_s": 0.0,
            "end_s": 2.4,
            "face_id": 0,
            "emotion": {"label": "happy", "probs": {"happy": 0.512, "sad": 0.1}},
        },
    ],
    "warnings": [
        {
            "stage": "face",
            "code": "timeout",
            "message": "face stage took 12.3 s, over its time limit of 300 s",
        },
    ],
    "timings_s": {"face": 1.0},
    "created_at": "2025-01-01T00:00:00+00:00",
    "emochat_version": "0.1.0",
    "overall": None,
}


def _copy(value):
    return canonical(value)


def test_canonical_drops_what_changes_between_runs(tmp_path):
    out = canonical(REPORT, media_root=tmp_path)
    assert not {"timings_s", "created_at", "emochat_version"} & set(out)
    assert out["media"]["path"] == "a.mp4"
    assert out["warnings"][0]["message"] == ("face stage took <t> s, over its time limit of 300 s")
    assert out["overall"] is None and out["segments"] == REPORT["segments"]
    assert canonical(out, media_root=tmp_path) == out  # idempotent


def test_compare_tolerates_float_noise_within_atol():
    a, b = _copy(REPORT), _copy(REPORT)
    b["segments"][0]["emotion"]["probs"]["happy"] += DEFAULT_ATOL * 0.9
    assert compare(a, b) == []
    b["segments"][0]["emotion"]["probs"]["happy"] = 0.498
    (diff,) = compare(a, b)
    assert diff.startswith("segments[0].emotion.probs.happy: 0.512 != 0.498")


def test_compare_catches_a_label_a_missing_key_and_a_length():
    a, b = _copy(REPORT), _copy(REPORT)
    b["segments"][0]["emotion"]["label"] = "sad"
    del b["segments"][0]["face_id"]
    b["segments"][0]["text"] = "hi"
    b["warnings"].append({"stage": "voice", "code": "no_speech", "message": "x"})
    diffs = compare(a, b)
    assert 'segments[0].emotion.label: "happy" != "sad"' in diffs
    assert any(d.startswith("segments[0].face_id: missing") for d in diffs)
    assert any(d.startswith("segments[0].text: unexpected key") for d in diffs)
    assert "warnings: length 1 != 2" in diffs


def test_compare_shows_long_strings_around_their_first_difference():
    text = "Overall the clip reads as happy " + "x" * 200
    (diff,) = compare({"t": text}, {"t": text.replace("happy", "sad")})
    assert diff.startswith("t: at char 26: ") and "happy" in diff and "sad" in diff


def test_compare_is_exact_for_types_and_nan():
    assert compare({"n": 1}, {"n": 1.0}) != []
    assert compare({"b": True}, {"b": 1}) != []
    assert compare({"x": math.nan}, {"x": math.nan}) == []
    assert compare({"x": math.nan}, {"x": 0.0}) != []


def test_compare_output_is_capped():
    diffs = compare({"v": list(range(100))}, {"v": [i + 1 for i in range(100)]})
    assert (
        len(diffs) == MAX_DIFFS + 1 and diffs[-1] == f"... and {100 - MAX_DIFFS} more difference(s)"
    )


def test_cpu_class_names_the_vector_units_that_pick_the_kernels(tmp_path):
    """The class tells an AVX2-only CPU from an AVX-512 one (their reports differ), and a
    golden folder recorded on another class is refused with a way out."""
    here = cpu_class()
    assert here and here == cpu_class()  # stable within a machine
    (tmp_path / "CPU_CLASS").write_text("x86_64 SomeVendor avx0\n")
    message = cpu_class_mismatch(tmp_path)
    assert message and "avx0" in message and here in message and "record" in message
    (tmp_path / "CPU_CLASS").write_text(here + "\n")
    assert cpu_class_mismatch(tmp_path) is None
