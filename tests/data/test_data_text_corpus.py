"""Text-model training corpora: every source in the basic label space."""

from __future__ import annotations

import pytest

from emochat.core.labels import BASIC_LABELS
from emochat.core.settings import data_root
from emochat.data.corpora import emorynlp, goemotions, isear, meld, smp2020

pytestmark = pytest.mark.skipif(
    not (data_root() / "meld").is_dir(), reason="corpora not found (set EMOCHAT_DATA_ROOT)"
)


def test_meld_test_and_context() -> None:
    c = meld.text_corpus("test")
    assert len(c) == 2610
    assert set(c.labels) == set(BASIC_LABELS)
    ctx = c.contexts(2)
    assert ctx[0] == [] and ctx[1] == [c.texts[0]]


@pytest.mark.parametrize(
    ("loader", "absent"),
    [
        (lambda: smp2020.text_corpus("dev"), {"disgust"}),
        (lambda: emorynlp.text_corpus("train"), {"disgust", "surprise"}),
        (isear.text_corpus, {"neutral", "surprise"}),
        (lambda: goemotions.text_corpus("test"), set()),
    ],
)
def test_label_spaces(loader, absent) -> None:
    c = loader()
    assert len(c) > 1000
    assert set(c.labels) == set(BASIC_LABELS) - absent
    assert all(t.strip() for t in c.texts)


def test_isear_drops_shame_and_guilt() -> None:
    c = isear.text_corpus()
    assert c.dropped > 2000 and len(c) > 5000


def test_training_corpora_are_the_readers_rows() -> None:
    """One reader per corpus: the training lists are the rows evaluation reads."""
    rows = meld.load("dev")
    c = meld.text_corpus("dev")
    assert c.texts == list(rows["text"]) and c.labels == list(rows["basic"])
    assert c.contexts(1) == [ctx[-1:] for ctx in rows["context"]]
    emory = emorynlp.load("dev")
    e = emorynlp.text_corpus("dev")
    kept = emory[emory["basic"].notna()]
    assert e.texts == list(kept["text"]) and e.dropped == len(emory) - len(kept) == 152
    smp = smp2020.text_corpus("dev")
    assert smp.texts == list(smp2020.load("dev")["text"])
