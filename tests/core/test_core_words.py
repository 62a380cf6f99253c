"""Words are counted in every script: a Chinese sentence is not one word."""

from __future__ import annotations

import pytest

from emochat.core.words import word_count


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("I'm fine, thanks.", 3),
        ("...  — !", 0),
        ("", 0),
        (None, 0),
        ("我很好", 1.8),
        ("我真的很生你的气", 4.8),
        ("今天 OK 吗", 2.8),  # 4 Han characters + one Latin word
    ],
)
def test_word_count(text, words):
    assert word_count(text) == pytest.approx(words)


def test_chinese_and_english_of_the_same_meaning_count_alike():
    pairs = [
        ("I am really angry with you.", "我真的很生你的气。"),
        ("I'm fine.", "我很好。"),
        ("This is the happiest day of my life!", "这是我一生中最快乐的一天！"),
    ]
    for en, zh in pairs:
        assert word_count(zh) == pytest.approx(word_count(en), rel=0.35), (en, zh)
