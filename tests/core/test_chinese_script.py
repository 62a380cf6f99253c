"""One script for Chinese words: detection, conversion, and what the voice stage applies."""

from __future__ import annotations

import pytest

from emochat.core.chinese_script import dominant_script, to_script
from emochat.voice.analysis import Utterance, write_chinese_in
from emochat.voice.asr import Word


def test_dominant_script_and_conversion():
    assert dominant_script("我們說話時會开心") == "traditional"  # 6 traditional, 1 simplified
    assert dominant_script("我们说话时会開心") == "simplified"
    assert dominant_script("人口 hello") is None  # no character tells them apart
    assert to_script("我們說話時會开心", "simplified") == "我们说话时会开心"
    assert to_script("头发", "traditional") == "頭髮"
    with pytest.raises(ValueError, match="script"):
        to_script("人", "cantonese")


def _utterances(texts, language="zh", source="asr"):
    return [
        Utterance(0.0, 1.0, "".join(t), language, [Word(0.0, 1.0, w) for w in t], None, source)
        for t in texts
    ]


def test_recognised_speech_goes_to_its_dominant_script():
    utts = _utterances([["我們", "說話"], ["开心"]])
    write_chinese_in(utts, "auto", recognised=True)
    assert [u.text for u in utts] == ["我們說話", "開心"]
    assert [w.text for w in utts[1].words] == ["開心"]


def test_a_transcript_stays_as_written_unless_a_script_is_chosen():
    utts = _utterances([["我們", "开心"]], source="transcript")
    write_chinese_in(utts, "auto", recognised=False)
    assert utts[0].text == "我們开心"
    write_chinese_in(utts, "simplified", recognised=False)
    assert utts[0].text == "我们开心"
    assert [w.text for w in utts[0].words] == ["我们", "开心"]


def test_other_languages_are_left_alone():
    utts = _utterances([["東京", "学校"]], language="ja")
    write_chinese_in(utts, "simplified", recognised=True)
    assert utts[0].text == "東京学校"
