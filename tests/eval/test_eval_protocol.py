"""A corpus's protocol reaches the model: dialogue context, calibration, label subset.

Small real samples of the corpora; the last test runs the shipped text model.
"""

from __future__ import annotations

import numpy as np
import pytest

from emochat.core.labels import BASIC_LABELS
from emochat.data.corpora import emorynlp, meld, smp2020
from emochat.data.corpora.common import clean_text, previous_turns
from emochat.data.registry import DATASETS
from emochat.eval import registry, runner
from emochat.eval.metrics import classification_report


def _earlier_rows(df, i):
    row = df.iloc[i]
    same = df[
        (df["dialogue_id"] == row["dialogue_id"]) & (df["utterance_id"] < row["utterance_id"])
    ]
    return list(same.sort_values("utterance_id")["text"])


def test_meld_context_is_the_dialogues_earlier_utterances(corpus):
    corpus("meld")
    dev = meld.load("dev")
    assert dev["context"].iloc[0] == []
    assert dev["context"].iloc[1] == [dev["text"].iloc[0]]
    starts = np.flatnonzero(dev["utterance_id"].to_numpy() == 0)
    assert len(starts) > 100 and all(dev["context"].iloc[i] == [] for i in starts)
    for i in (5, 17, 300, 1108):
        assert dev["context"].iloc[i] == _earlier_rows(dev, i)


def test_emorynlp_context_stays_within_a_scene(corpus):
    corpus("emorynlp")
    test = emorynlp.load("test")
    assert list(test["dialogue_id"].iloc[:2]) == ["s1_e1_c4", "s1_e1_c4"]
    assert test["context"].iloc[1] == [test["text"].iloc[0]]
    assert test["dialogue_id"].nunique() == 79
    for i in (0, 1, 50, 500, 983):
        assert test["context"].iloc[i] == _earlier_rows(test, i)


def test_previous_turns_orders_by_turn_and_skips_rows_without_dialogue():
    ctx = previous_turns(["c", "a", "x", "b"], ["d1", "d1", None, "d1"], [2, 0, 0, 1])
    assert ctx == [["a", "b"], [], [], ["a"]]


def test_clean_text_is_what_the_text_model_was_trained_on():
    assert clean_text("  I\x92m\n here\t now ") == "I'm here now"


def _recording(results_for):
    calls = []

    def predict(texts, **hints):
        calls.append({"texts": list(texts), **hints})
        return results_for(texts)

    return predict, calls


def test_meld_passes_context_and_calibration(corpus):
    corpus("meld")
    predict, calls = _recording(lambda xs: ["neutral"] * len(xs))
    result = runner.evaluate_dataset("meld", "dev", predictor=predict, limit=30)
    (call,) = calls
    assert call["domain"] == "dialogue" and len(call["context"]) == 30
    dev = meld.load("dev").head(30)
    assert call["context"] == list(dev["context"]) and call["texts"] == list(dev["text"])
    assert result.protocol["context"] and result.protocol["calibration"] == "dialogue"
    assert "label_subset" not in result.protocol  # MELD annotates all seven
    assert result.as_dict()["protocol"]["calibration"] == "dialogue"


def test_calibration_can_be_overridden_and_other_modalities_get_no_hints(corpus):
    corpus("smp2020-ewect")
    predict, calls = _recording(lambda xs: ["happy"] * len(xs))
    runner.evaluate_dataset("smp2020", predictor=predict, limit=5, calibration="dialogue")
    assert calls[0]["domain"] == "dialogue" and "context" not in calls[0]  # no dialogues
    spec = DATASETS["meld"]
    assert runner.predictor_hints(spec, meld.load("dev").head(3), "video") == {}


def _probs(first: str, second: str) -> dict[str, float]:
    p = dict.fromkeys(BASIC_LABELS, 0.01)
    p[first], p[second] = 0.6, 0.3
    return p


def test_smp2020_scores_only_its_six_labels(corpus):
    corpus("smp2020-ewect")
    gold = smp2020.load("dev").head(200)
    n_happy = int((gold["basic"] == "happy").sum())
    assert 0 < n_happy < 200
    # a model that favours disgust (absent from SMP2020) and then happy is read as happy
    predict, calls = _recording(
        lambda xs: [{"label": "disgust", "probs": _probs("disgust", "happy")} for _ in xs]
    )
    result = runner.evaluate_dataset("smp2020", predictor=predict, limit=200)
    assert calls[0]["domain"] == "weibo"
    assert result.protocol["label_subset"] == [
        "neutral",
        "happy",
        "sad",
        "angry",
        "fear",
        "surprise",
    ]
    assert result.report.accuracy == pytest.approx(n_happy / 200)
    assert "disgust" not in result.report.labels
    # a bare label outside the subset is not reinterpreted: it is simply wrong
    bare = runner.evaluate_dataset(
        "smp2020", predictor=lambda xs, **_: ["disgust"] * len(xs), limit=200
    )
    assert bare.report.accuracy == 0.0


def test_prediction_label_restriction():
    probs = {"label": "disgust", "probs": _probs("disgust", "sad")}
    assert runner.prediction_label(probs) == "disgust"
    assert runner.prediction_label(probs, allowed=("sad", "happy")) == "sad"
    assert runner.prediction_label("disgust", allowed=("sad",)) == "disgust"
    assert runner.prediction_label(ValueError("x"), allowed=("sad",)) == runner.FAILED


@pytest.mark.slow
def test_shipped_text_model_gets_the_meld_context(corpus):
    """On 12 real MELD test utterances the eval path equals calling the model by hand
    with the previous turn and the dialogue calibration (and context changes something)."""
    corpus("meld")
    from emochat.text import TextEmotionModel

    model = TextEmotionModel.load()
    rows = meld.load("test").head(12)
    predict = registry.load_predictor("text")
    result = runner.evaluate_dataset("meld", predictor=predict, limit=12)
    by_hand = model.predict_proba(
        list(rows["text"]), context=list(rows["context"]), domain="dialogue"
    )
    expected = [BASIC_LABELS[i] for i in by_hand.argmax(axis=1)]
    same = classification_report(list(rows["basic"]), expected, result.report.labels)
    assert same.confusion.tolist() == result.report.confusion.tolist()
    no_context = model.predict_proba(list(rows["text"]), domain="dialogue")
    assert not np.allclose(no_context, by_hand)  # the context really is used


def test_unknown_calibration_is_a_one_line_error(corpus, capsys):
    corpus("smp2020-ewect")
    from emochat.cli import main

    assert main(["eval", "smp2020", "--limit", "2", "--calibration", "nope", "--no-write"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == (
        "emochat: error: unknown calibration 'nope'; the text model has "
        "dialogue, emorynlp, social, self_report, weibo, none"
    )
