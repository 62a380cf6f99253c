"""User transcripts: SRT, WebVTT, plain text, JSON words; clear errors with line numbers."""

from __future__ import annotations

import json

import pytest

from emochat.core.errors import TranscriptError
from emochat.voice.transcript import (
    MAX_TRANSCRIPT_BYTES,
    align_to_speech,
    guess_language,
    read_transcript,
    split_words,
    within_media,
)

SRT = """1
00:00:01,000 --> 00:00:02,500
Hello there.

2
00:00:03,000 --> 00:00:04,200
<i>How are</i> you?
"""

VTT = """WEBVTT

NOTE made by hand

intro
00:01.000 --> 00:02.500 align:start
<v Ann>Hello there.</v>

00:00:03.000 --> 00:00:04.200
How are you?
"""


def write(tmp_path, name, text, encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def test_audio_srt_and_vtt_give_the_same_cues(tmp_path):
    for name, text in (("a.srt", SRT), ("a.vtt", VTT)):
        tr = read_transcript(write(tmp_path, name, text))
        assert [(c.start_s, c.end_s, c.text) for c in tr.cues] == [
            (1.0, 2.5, "Hello there."),
            (3.0, 4.2, "How are you?"),
        ]


def test_audio_srt_words_laid_over_speech(tmp_path):
    tr = read_transcript(write(tmp_path, "a.srt", SRT))
    cues = align_to_speech(tr, [(1.1, 2.4), (3.0, 4.0)], 5.0)
    words = cues[1].words
    assert [w.text for w in words] == ["How", "are", "you?"]
    assert 3.0 <= words[0].start_s < words[-1].end_s <= 4.0
    assert all(a.end_s <= b.start_s + 1e-3 for a, b in zip(words, words[1:], strict=False))


def test_audio_plain_text_aligned_to_speech_segments(tmp_path):
    tr = read_transcript(write(tmp_path, "a.txt", "I was so happy. Then it rained!\n"))
    assert tr.kind == "text" and [c.text for c in tr.cues] == ["I was so happy.", "Then it rained!"]
    speech = [(0.5, 2.0), (3.0, 4.5)]
    cues = align_to_speech(tr, speech, 6.0)
    assert cues[0].start_s == pytest.approx(0.5)
    assert cues[-1].end_s == pytest.approx(4.5, abs=0.01)
    for c in cues:  # every word lies inside speech
        for w in c.words:
            assert any(s - 1e-3 <= w.start_s and w.end_s <= e + 1e-3 for s, e in speech), w


def test_audio_json_word_lists(tmp_path):
    words = [
        {"word": "hi", "start": 0.5, "end": 0.8, "probability": 0.9},
        {"text": "you", "start_s": 0.9, "end_s": 1.2},
    ]
    for payload in (
        words,
        {"words": words},
        {"segments": [{"start": 0.5, "end": 1.2, "text": "hi you", "words": words}]},
    ):
        tr = read_transcript(write(tmp_path, "w.json", json.dumps(payload, indent=1)))
        (cue,) = tr.cues
        assert [(w.text, w.start_s, w.end_s) for w in cue.words] == [
            ("hi", 0.5, 0.8),
            ("you", 0.9, 1.2),
        ]
        assert (cue.start_s, cue.end_s) == (0.5, 1.2)


@pytest.mark.parametrize(
    "name,text,line",
    [
        ("bad.srt", "1\n00:00:01,000 --> 00:00:02,000\nok\n\n2\n00:00:03 --> 00:00:04\nbad\n", 6),
        ("bad.srt", "1\n00:00:05,000 --> 00:00:02,000\nbackwards\n", 2),
        ("bad.srt", "1\nno timing here\n", 2),
        ("bad.vtt", "not a vtt\n\n00:01.000 --> 00:02.000\nx\n", 1),
        ("bad.json", '[\n {"word": "a", "start": 0, "end": 1},\n {"word": "b", "start": 2}\n]', 3),
        ("bad.json", '[\n {"word": "a", "start": 0, "end": 1},\n oops\n]', 3),
    ],
)
def test_audio_bad_transcripts_name_the_line(tmp_path, name, text, line):
    with pytest.raises(TranscriptError) as err:
        read_transcript(write(tmp_path, name, text))
    assert f"line {line}:" in str(err.value)
    assert str(err.value).startswith(str(tmp_path))
    assert "\n" not in str(err.value)


def test_audio_transcript_encoding_errors(tmp_path):
    p = tmp_path / "latin1.txt"
    p.write_bytes("ok line\ncaf\xe9\n".encode("latin-1"))
    latin = read_transcript(p)  # Windows tools write cp1252: read, and say so
    assert latin.encoding == "cp1252" and latin.text == "ok line café"
    binary = tmp_path / "binary.srt"
    binary.write_bytes(b"1\n00:00:00,000 --> 00:00:01,000\nhi\x00\x01\x02\n")
    with pytest.raises(TranscriptError, match="line 3: binary data"):
        read_transcript(binary)
    assert read_transcript(write(tmp_path, "u16.srt", SRT, "utf-16")).cues[0].text == "Hello there."
    with pytest.raises(TranscriptError, match="not found"):
        read_transcript(tmp_path / "missing.srt")
    with pytest.raises(TranscriptError, match="empty"):
        read_transcript(write(tmp_path, "empty.txt", "\n \n"))


def test_audio_chinese_transcript_words_and_language(tmp_path):
    tr = read_transcript(write(tmp_path, "zh.txt", "我今天很开心。你呢？"))
    assert [c.text for c in tr.cues] == ["我今天很开心。", "你呢？"]
    assert guess_language(tr.text) == "zh" and guess_language("hello there") is None
    assert split_words("我今天很开心。") == ["我", "今", "天", "很", "开", "心。"]


# Fuzzing findings (bench/bench_fuzz.py, tests/testing/test_testing_fuzz.py): each input
# below raised another exception, hung or was accepted with unusable values.
@pytest.mark.parametrize(
    "name,data,problem",
    [
        # int() of a 4301-digit hour: ValueError
        ("h.srt", b"1\n" + b"9" * 4301 + b":00:00,000 --> 00:00:01,000\nx\n", "line 2: bad timing"),
        # non-finite times and probabilities were accepted
        ("nan.json", b'[{"word":"a","start":NaN,"end":1}]', "finite numeric 'start'"),
        ("inf.json", b'[{"word":"a","start":0,"end":Infinity}]', "finite numeric 'end'"),
        ("p.json", b'[{"word":"a","start":0,"end":1,"probability":1e999}]', "outside 0..1"),
        # float() of a huge integer: OverflowError
        (
            "big.json",
            b'[{"word":"a","start":0,"end":1,"probability":1' + b"0" * 400 + b"}]",
            "0..1",
        ),
        # json.loads: ValueError (4301 digits), RecursionError (deep nesting)
        ("digits.json", b"[" + b"1" * 4301 + b"]", "invalid JSON (Exceeds the limit"),
        ("deep.json", b"[" * 5000, "nested too deeply"),
        # 'words' not a list: TypeError
        ("seg.json", b'{"segments":[{"words":5}]}', "segment 0: 'words' is not a list"),
        # only empty tokens: a cue without text
        ("empty.json", b'[{"word":"","start":0,"end":1}]', "all empty"),
    ],
)
def test_audio_fuzz_findings_are_user_errors(tmp_path, name, data, problem):
    p = tmp_path / name
    p.write_bytes(data)
    with pytest.raises(TranscriptError) as err:
        read_transcript(p)
    assert problem in str(err.value) and str(err.value).startswith(str(p))
    assert "\n" not in str(err.value)


def test_audio_fuzz_words_out_of_order_give_an_ordered_cue(tmp_path):
    p = write(tmp_path, "w.json", '[{"word":"a","start":2,"end":3},{"word":"b","start":0,"end":1}]')
    (cue,) = read_transcript(p).cues
    assert (cue.start_s, cue.end_s) == (0.0, 3.0)  # was (2.0, 1.0): ends before it starts


@pytest.mark.parametrize(
    "name,text",
    [
        # an unclosed '<' per character: the tag regex was quadratic (hours on 1 MB)
        ("tags.srt", "1\n00:00:00,000 --> 00:00:01,000\n" + "<" * 400_000 + "x\n"),
        # counting lines from the start for every word was quadratic
        ("many.json", json.dumps([{"word": "w", "start": 0, "end": 1}] * 60_000, indent=1)),
    ],
)
def test_audio_fuzz_big_files_parse_in_linear_time(tmp_path, name, text):
    import time

    p = write(tmp_path, name, text)
    t0 = time.perf_counter()
    read_transcript(p)
    assert time.perf_counter() - t0 < 5.0  # before the fix: minutes


# Hostile transcripts (issue 24): refused with the line, or clipped to the media


@pytest.mark.parametrize(
    ("name", "text", "line"),
    [
        ("far.srt", "1\n999999:00:00,000 --> 999999:59:59,999\nLater.\n", 2),
        ("far.vtt", "WEBVTT\n\nx\n99999:00:00.000 --> 99999:00:01.000\nx\n", 4),
        (
            "far.json",
            '[\n {"word": "a", "start": 0, "end": 1},\n {"word": "b", "start": 1e9, "end": 1e9}\n]',
            3,
        ),
    ],
)
def test_times_past_a_day_are_refused_with_their_line(tmp_path, name, text, line):
    with pytest.raises(TranscriptError, match=rf"line {line}: .*is past 24 hours"):
        read_transcript(write(tmp_path, name, text))


def test_cues_are_clipped_to_the_media_and_late_ones_left_out(tmp_path):
    srt = "1\n00:00:01,000 --> 00:00:09,000\nEarly.\n\n2\n00:10:00,000 --> 00:20:00,000\nLate.\n"
    clipped, dropped = within_media(read_transcript(write(tmp_path, "t.srt", srt)), 2.4)
    assert dropped == 1 and [(c.text, c.start_s, c.end_s) for c in clipped.cues] == [
        ("Early.", 1.0, 2.4)
    ]
    words = '[{"word": "a", "start": 1, "end": 3}, {"word": "b", "start": 5, "end": 6}]'
    (cue,) = within_media(read_transcript(write(tmp_path, "w.json", words)), 2.0)[0].cues
    assert [(w.text, w.end_s) for w in cue.words] == [("a", 2.0)] and cue.end_s == 2.0
    untimed = read_transcript(write(tmp_path, "t.txt", "Hello."))
    assert within_media(untimed, 2.0) == (untimed, 0)


@pytest.mark.parametrize(
    ("text", "encoding", "read_as"),
    [
        ("我今天非常开心，谢谢你。", "gb18030", "gb18030"),
        ("我今天非常开心，谢谢你。", "gbk", "gb18030"),
        ("我今天非常開心，謝謝你。", "big5", "big5"),
        ("très bien, café für alle", "cp1252", "cp1252"),
        ("我今天非常开心", "utf-8-sig", "utf-8"),
    ],
)
def test_chinese_encodings_are_detected(tmp_path, text, encoding, read_as):
    tr = read_transcript(write(tmp_path, "t.txt", text, encoding))
    assert (tr.encoding, tr.text) == (read_as, text)


def test_oversized_transcripts_are_refused_before_reading(tmp_path):
    big = tmp_path / "big.srt"
    with open(big, "wb") as fh:
        fh.truncate(MAX_TRANSCRIPT_BYTES + 1)  # sparse: no 20 MB written
    with pytest.raises(TranscriptError, match=r"big.srt: transcript is 20.0 MiB, over the 20 MiB"):
        read_transcript(big)


def test_more_words_than_the_media_can_hold_are_refused(tmp_path):
    """279,000 cues on a 2.4-s clip passed 1.1 GB in 90 s: 10 words and 60 characters a
    second (of 10 s at least) are the bounds."""
    cue = "{n}\n00:00:00,500 --> 00:00:01,000\nfive words in this cue\n\n"
    srt = write(tmp_path, "dense.srt", "".join(cue.format(n=n) for n in range(1, 41)))
    transcript = read_transcript(srt)
    assert within_media(transcript, 40.0)[0] is not transcript  # 200 words in 40 s: fine
    with pytest.raises(TranscriptError, match=r"dense.srt: 200 words, 880 characters for 2.4 s"):
        within_media(transcript, 2.4)
    with pytest.raises(TranscriptError, match=r"for 0 s of media \(at most 100 words, 600 char"):
        within_media(transcript, 0.0)  # a photo's caption gets the words of 10 s
    one_word = read_transcript(write(tmp_path, "word.txt", "a" * 1000))
    with pytest.raises(TranscriptError, match=r"1 words, 1,000 characters for 5 s"):
        within_media(one_word, 5.0)


def test_speaker_tags_of_webvtt_srt_text_and_whisperx_json(tmp_path):
    vtt = write(
        tmp_path,
        "a.vtt",
        "WEBVTT\n\n00:00.000 --> 00:01.000\n<v Alice>Hello there.</v>\n\n"
        "00:01.000 --> 00:02.000\n<v.loud Bob Smith>Hi!\n\n00:02.000 --> 00:03.000\nNobody.\n",
    )
    assert [(c.speaker, c.text) for c in read_transcript(vtt).cues] == [
        ("Alice", "Hello there."),
        ("Bob Smith", "Hi!"),
        (None, "Nobody."),
    ]
    srt = write(
        tmp_path,
        "a.srt",
        "1\n00:00:00,000 --> 00:00:01,000\nDR. LEE: How are you?\n\n"
        "2\n00:00:01,000 --> 00:00:02,000\n[Ana]: Fine.\n\n"
        "3\n00:00:02,000 --> 00:00:03,000\nNote: not a name.\n",
    )
    assert [(c.speaker, c.text) for c in read_transcript(srt).cues] == [
        ("DR. LEE", "How are you?"),
        ("Ana", "Fine."),
        (None, "Note: not a name."),
    ]
    text = write(tmp_path, "a.txt", "ALICE: Good morning. Lovely day.\nBOB: Yes.\n")
    assert [(c.speaker, c.text) for c in read_transcript(text).cues] == [
        ("ALICE", "Good morning."),
        ("ALICE", "Lovely day."),
        ("BOB", "Yes."),
    ]
    words = [{"word": "hi", "start": 0.1, "end": 0.4}]
    whisperx = write(
        tmp_path,
        "a.json",
        json.dumps({"segments": [{"speaker": "SPEAKER_01", "words": words}]}),
    )
    assert read_transcript(whisperx).cues[0].speaker == "SPEAKER_01"
