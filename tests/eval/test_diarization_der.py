"""The diarisation error rate as md-eval / pyannote.metrics define it (issue #26)."""

from __future__ import annotations

import pytest

from emochat.eval.diarization import diarization_error, read_rttm

REF = [(0.0, 10.0, "A"), (10.0, 20.0, "B")]


def test_a_perfect_answer_under_other_names_scores_zero():
    score = diarization_error(REF, [(0.0, 10.0, 1), (10.0, 20.0, 0)], collar_s=0.0)
    assert score.der == 0.0 and score.mapping == {1: "A", 0: "B"}


def test_each_error_kind_is_counted_in_seconds():
    # B's second half given to A's speaker: 5 s confusion; 2 s missed; 1 s false alarm
    hyp = [(0.0, 8.0, "x"), (10.0, 15.0, "y"), (15.0, 20.0, "x"), (21.0, 22.0, "y")]
    score = diarization_error(REF, hyp, collar_s=0.0)
    assert score.total_s == pytest.approx(20.0)
    assert score.missed_s == pytest.approx(2.0)
    assert score.false_alarm_s == pytest.approx(1.0)
    assert score.confusion_s == pytest.approx(5.0)
    assert score.der == pytest.approx(8.0 / 20.0)


def test_one_speaker_for_two_confuses_the_smaller_one_and_overlap_counts_twice():
    score = diarization_error(REF, [(0.0, 20.0, "x")], collar_s=0.0)
    assert score.confusion_s == pytest.approx(10.0) and score.der == pytest.approx(0.5)
    overlap = [(0.0, 10.0, "A"), (5.0, 10.0, "B")]
    score = diarization_error(overlap, [(0.0, 10.0, "x")], collar_s=0.0)
    assert score.total_s == pytest.approx(15.0) and score.missed_s == pytest.approx(5.0)


def test_the_collar_forgives_boundaries():
    hyp = [(0.0, 10.2, "x"), (10.2, 20.0, "y")]  # 0.2 s late at the change
    assert diarization_error(REF, hyp, collar_s=0.0).confusion_s == pytest.approx(0.2)
    with_collar = diarization_error(REF, hyp, collar_s=0.25)
    assert with_collar.der == 0.0
    # 0.25 s either side of 0, 10 (both turns' edges) and 20 is not scored
    assert with_collar.total_s == pytest.approx(20.0 - 0.25 - 0.5 - 0.25)


def test_rttm_is_read(media_dir):
    turns = read_rttm(media_dir / "diarization" / "pyannote_sample.rttm")
    assert len(turns) == 10 and {w for *_, w in turns} == {"speaker90", "speaker91"}
    assert turns[0] == pytest.approx((6.69, 7.12, "speaker90"))
