"""The shipped text emotion model on clear English and Chinese sentences."""

from __future__ import annotations

import math

import numpy as np
import pytest

from emochat.text import BASIC_LABELS, TextEmotion, TextEmotionModel


@pytest.fixture(scope="module")
def model() -> TextEmotionModel:
    return TextEmotionModel.load()


CLEAR = [
    ("I am so happy today", "happy"),
    ("我今天非常开心", "happy"),
    ("I feel so sad and lonely, I miss her terribly", "sad"),
    ("我好难过，一直在哭", "sad"),
    ("I am furious, this is outrageous and I hate you!", "angry"),
    ("我非常生气，你们太过分了！", "angry"),
]


@pytest.mark.parametrize(("text", "label"), CLEAR)
def test_clear_sentences(model: TextEmotionModel, text: str, label: str) -> None:
    (pred,) = model.predict([text])
    assert isinstance(pred, TextEmotion)
    assert pred.label == label, pred.probs


def test_probs_are_a_distribution(model: TextEmotionModel) -> None:
    preds = model.predict([t for t, _ in CLEAR] + ["Okay.", "What?!"])
    for p in preds:
        assert set(p.probs) == set(BASIC_LABELS)
        assert math.isclose(sum(p.probs.values()), 1.0, abs_tol=1e-5)
        assert all(0.0 <= v <= 1.0 for v in p.probs.values())
        assert p.label == max(p.probs, key=p.probs.get)
        assert -1.0 <= p.valence <= 1.0 and 0.0 <= p.arousal <= 1.0


PARALLEL = [
    ("I am so happy today", "我今天非常开心"),
    ("I am so sad, I want to cry", "我很伤心，想哭"),
    ("I am really angry with you", "我真的很生你的气"),  # wrong before the encoder was tuned
    ("I am very angry", "我非常愤怒"),
    ("I am scared, I am afraid something bad will happen", "我很害怕，怕会发生不好的事"),
]


@pytest.mark.parametrize(("en", "zh"), PARALLEL)
def test_cross_lingual_consistency(model: TextEmotionModel, en: str, zh: str) -> None:
    p_en, p_zh = model.predict([en, zh])
    assert p_en.label == p_zh.label, (p_en.probs, p_zh.probs)
    a = np.array([p_en.probs[k] for k in BASIC_LABELS])
    b = np.array([p_zh.probs[k] for k in BASIC_LABELS])
    assert 0.5 * np.abs(a - b).sum() < 0.5  # total-variation distance


def test_empty_and_blank_inputs(model: TextEmotionModel) -> None:
    preds = model.predict(["", "   ", "I am so happy today"])
    assert [p.label for p in preds[:2]] == ["neutral", "neutral"]
    for p in preds:
        assert math.isclose(sum(p.probs.values()), 1.0, abs_tol=1e-5)
    assert preds[0].open_vocab == [] and preds[0].open_vocab_scores == []
    assert model.predict([]) == []


def test_valence_sign(model: TextEmotionModel) -> None:
    happy, sad = model.predict(["I am so happy today", "I feel so sad and lonely"])
    assert happy.valence > 0.2 > -0.2 > sad.valence


def test_open_vocabulary_words(model: TextEmotionModel) -> None:
    (p,) = model.predict(["I am so happy today"], top_k=5)
    assert p.open_vocab == [w for w, _ in p.open_vocab_scores]
    words = p.open_vocab
    assert len(words) == 5 and all(w in model.wheel_words for w in words)
    scores = [s for _, s in p.open_vocab_scores]
    assert scores == sorted(scores, reverse=True)
    # the words agree with the predicted label (the head's label for each wheel word)
    happy = model.labels.index("happy")
    word_labels = [int(np.argmax(model.wheel_probs[model.wheel_words.index(w)])) for w in words]
    assert sum(lab == happy for lab in word_labels) >= 4, words
    (q,) = model.predict(["I am furious, this is outrageous and I hate you!"], top_k=5)
    assert not set(q.open_vocab) & {"happy", "joyful", "thankful", "grateful"}


def test_lexicon_cues_are_explanations_only(model: TextEmotionModel) -> None:
    (p,) = model.predict(["I love this wonderful day"])
    assert p.lexicon is not None and p.lexicon.vader_compound > 0.5
    assert "love" in [w for w, _ in p.lexicon.vader_words]
    (q,) = model.predict(["I love this wonderful day"], lexicon=False)
    assert q.lexicon is None and q.probs == pytest.approx(p.probs)


def test_dialogue_context(model: TextEmotionModel) -> None:
    texts = ["Really?", "Really?"]
    ctx = [[], ["I just won the lottery!"]]
    a, b = model.predict(texts, context=ctx)
    assert math.isclose(sum(b.probs.values()), 1.0, abs_tol=1e-5)
    (c,) = model.predict(["Really?"])
    assert a.probs == pytest.approx(c.probs, abs=1e-6)  # empty context == no context
    with pytest.raises(ValueError):
        model.predict(texts, context=[[]])


def test_domains(model: TextEmotionModel) -> None:
    assert model.default_domain == "dialogue"
    for d in model.domains:
        (p,) = model.predict(["I am so happy today"], domain=d)
        assert p.label == "happy"
    with pytest.raises(ValueError):
        model.predict(["x"], domain="nope")


def test_to_dict_is_json_ready(model: TextEmotionModel) -> None:
    import json

    (p,) = model.predict(["我今天非常开心"])
    d = json.loads(json.dumps(p.to_dict(), ensure_ascii=False))
    assert d["input"] == "我今天非常开心" and d["label"] in BASIC_LABELS
