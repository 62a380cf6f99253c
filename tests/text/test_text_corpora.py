"""Corpus loaders map every source to the basic label space."""

from __future__ import annotations

import pytest

from emochat.core.settings import data_root
from emochat.text import BASIC_LABELS, corpora

pytestmark = pytest.mark.skipif(
    not (data_root() / "meld").is_dir(), reason="corpora not found (set EMOCHAT_DATA_ROOT)"
)


def test_meld_test_and_context() -> None:
    c = corpora.load_meld("test")
    assert len(c) == 2610
    assert set(c.labels) == set(BASIC_LABELS)
    ctx = c.contexts(2)
    assert ctx[0] == [] and ctx[1] == [c.texts[0]]


@pytest.mark.parametrize(
    ("loader", "absent"),
    [
        (lambda: corpora.load_smp2020("dev"), {"disgust"}),
        (lambda: corpora.load_emorynlp("train"), {"disgust", "surprise"}),
        (corpora.load_isear, {"neutral", "surprise"}),
        (lambda: corpora.load_goemotions("test"), set()),
    ],
)
def test_label_spaces(loader, absent) -> None:
    c = loader()
    assert len(c) > 1000
    assert set(c.labels) == set(BASIC_LABELS) - absent
    assert all(t.strip() for t in c.texts)


def test_isear_drops_shame_and_guilt() -> None:
    c = corpora.load_isear()
    assert c.dropped > 2000 and len(c) > 5000


def test_training_corpora_are_the_eval_adapters_rows() -> None:
    """One reader per corpus: the training lists are the eval adapter's rows."""
    from emochat.eval import datasets as D

    meld = D.meld("dev")
    c = corpora.load_meld("dev")
    assert c.texts == list(meld["text"]) and c.labels == list(meld["basic"])
    assert c.contexts(1) == [ctx[-1:] for ctx in meld["context"]]
    emory = D.emorynlp("dev")
    e = corpora.load_emorynlp("dev")
    kept = emory[emory["basic"].notna()]
    assert e.texts == list(kept["text"]) and e.dropped == len(emory) - len(kept) == 152
    smp = corpora.load_smp2020("dev")
    assert smp.texts == list(D.smp2020("dev")["text"])
