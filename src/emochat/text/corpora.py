"""The text-emotion training corpora as basic-label lists, read through the eval adapters.

There is one reader per corpus (:mod:`emochat.eval.datasets`); this module only keeps
the rows a text model can learn from and lays them out as a :class:`TextCorpus`:
parallel lists of texts, basic labels, and, for dialogue corpora, the dialogue id and
turn index so that the previous utterances can be used as context.

What is kept (label maps in :mod:`emochat.eval.labels`):

- MELD: every utterance (joy->happy, anger->angry, sadness->sad, others as is).
- EmoryNLP: Peaceful and Powerful have no basic label and are dropped; the context of
  an utterance is the previous *kept* utterance of its scene.
- GoEmotions: the Ekman files (``goemotions/ekman``); only single-label comments are
  kept (multi-label ones have no single basic label).
- ISEAR: joy, fear, anger, sadness, disgust; shame and guilt are dropped, and so are
  non-answers ("none", "no response").
- SMP2020-EWECT: ``neural`` is neutral (sic in the source); no disgust class.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from emochat.eval import datasets as D

_NON_ANSWERS = frozenset({"none", "no response", "[ no response.]"})


@dataclass
class TextCorpus:
    name: str
    split: str
    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    dialogue: list[Hashable | None] = field(default_factory=list)
    turn: list[int] = field(default_factory=list)
    dropped: int = 0

    def add(self, text: str, label: str, dialogue: Hashable | None = None, turn: int = 0) -> None:
        self.texts.append(text)
        self.labels.append(label)
        self.dialogue.append(dialogue)
        self.turn.append(turn)

    def __len__(self) -> int:
        return len(self.texts)

    def contexts(self, k: int = 1) -> list[list[str]]:
        """Up to ``k`` previous utterances of the same dialogue (oldest first)."""
        if k <= 0:
            return [[] for _ in self.texts]
        return [c[-k:] for c in D.previous_turns(self.texts, self.dialogue, self.turn)]


def _corpus(name: str, split: str, df: pd.DataFrame, dialogue: bool = False) -> TextCorpus:
    """The rows of an adapter's frame that have a basic label (the rest are counted)."""
    keep = df["basic"].notna()
    c = TextCorpus(name, split, dropped=int((~keep).sum()))
    for row in df[keep].itertuples(index=False):
        if dialogue:
            c.add(row.text, row.basic, row.dialogue_id, int(row.utterance_id))
        else:
            c.add(row.text, row.basic)
    return c


def load_meld(split: str, root: Path | None = None) -> TextCorpus:
    """MELD ``train`` / ``dev`` / ``test`` utterances."""
    return _corpus("meld", split, D.meld(split, root=root), dialogue=True)


def load_emorynlp(split: str, root: Path | None = None) -> TextCorpus:
    """EmoryNLP ``train`` / ``dev`` / ``test``; Powerful and Peaceful dropped."""
    return _corpus("emorynlp", split, D.emorynlp(split, root=root), dialogue=True)


def load_goemotions(split: str, root: Path | None = None) -> TextCorpus:
    """GoEmotions (Ekman mapping) ``train`` / ``dev`` / ``test``, single-label comments."""
    return _corpus("goemotions", split, D.goemotions(split, root=root))


def load_isear(root: Path | None = None) -> TextCorpus:
    """ISEAR situations; shame and guilt (no basic label) and non-answers are dropped."""
    df = D.isear("all", root=root)
    non_answer = df["text"].map(lambda t: not t or t.lower() in _NON_ANSWERS)
    # shame and guilt rows are counted as dropped whatever their text, as before
    return _corpus("isear", "all", df[~non_answer | df["basic"].isna()])


def load_smp2020(split: str, root: Path | None = None) -> TextCorpus:
    """SMP2020-EWECT ``train`` / ``dev`` (Chinese Weibo posts)."""
    return _corpus("smp2020", split, D.smp2020(split, root=root))
