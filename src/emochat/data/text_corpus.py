"""A text-emotion training corpus as basic-label lists, built from a corpus reader's rows.

There is one reader per corpus (:mod:`emochat.data.corpora`); a reader's
``text_corpus(split)`` keeps the rows a text model can learn from (those with a basic
label) and lays them out as a :class:`TextCorpus`: parallel lists of texts, basic labels
and, for dialogue corpora, the dialogue id and turn index so that the previous
utterances can be used as context. What each corpus keeps is said by its reader.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

import pandas as pd

from emochat.data.corpora.common import previous_turns


@dataclass
class TextCorpus:
    name: str
    split: str
    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    dialogue: list[Hashable | None] = field(default_factory=list)
    turn: list[int] = field(default_factory=list)
    dropped: int = 0

    @classmethod
    def from_rows(
        cls, name: str, split: str, df: pd.DataFrame, dialogue: bool = False
    ) -> TextCorpus:
        """The rows of a reader's frame that have a basic label (the rest are counted)."""
        keep = df["basic"].notna()
        c = cls(name, split, dropped=int((~keep).sum()))
        for row in df[keep].itertuples(index=False):
            if dialogue:
                c.add(row.text, row.basic, row.dialogue_id, int(row.utterance_id))
            else:
                c.add(row.text, row.basic)
        return c

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
        return [c[-k:] for c in previous_turns(self.texts, self.dialogue, self.turn)]
