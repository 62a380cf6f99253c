"""User transcripts: SRT, WebVTT, plain text and JSON word lists.

:func:`read_transcript` returns a :class:`Transcript`: timed cues (SRT/VTT), timed words
(JSON), or untimed sentences (plain text). :func:`align_to_speech` turns it into
utterances with word times, using the VAD speech spans where the file gives no times
(plain text: sentences are laid over the speech in proportion to their length; words
within a cue likewise). A file we cannot read raises :class:`TranscriptError` naming the
line.

JSON accepted: a list of words, ``{"words": [...]}``, or whisper-style
``{"segments": [{"start", "end", "text", "words": [...]}]}``; a word is
``{"word"|"text": str, "start"|"start_s": s, "end"|"end_s": s, "probability"?: p}``.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path

from emochat.core.errors import TranscriptError
from emochat.core.files import input_file_problem

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
# hours are bounded: int() of a 5000-digit run raises ValueError (and no clip lasts that long)
_TIME = r"(?:(\d{1,6}):)?(\d{1,2}):(\d{2})[,.](\d{1,3})"
_ARROW = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}(?:\s+.*)?$")
# bounded tag length: an unclosed '<' then scans at most 200 characters, so a line of
# many '<' is linear, not quadratic (a 1 MB line took hours)
_TAG = re.compile(r"<[^<>]{0,200}>|\{\\[^{}]{0,200}\}")
_VOICE_TAG = re.compile(r"<v(?:\.[^\s<>]{0,50})?\s+([^<>]{1,100})>")
"""WebVTT's voice span, ``<v Name>`` or ``<v.class Name>``: who says the cue."""
_NAME_PREFIX = re.compile(r"^(?:\[([^\[\]]{1,40})\]|([A-Z][A-Z0-9 .'\-]{0,39})):\s+(?=\S)")
"""A subtitle's speaker prefix, ``ALICE: ...``, ``DR. LEE: ...`` or ``[Alice]: ...``: capitals
or brackets only, so that ordinary text with a colon (``Note: ...``) is not a name."""
_SENTENCE = re.compile(r"(?<=[.!?。！？…])\s+|(?<=[。！？])")


@dataclass
class TranscriptWord:
    text: str
    start_s: float | None = None
    end_s: float | None = None
    probability: float | None = None


@dataclass
class Cue:
    """A stretch of text; times are None for plain text."""

    text: str
    start_s: float | None = None
    end_s: float | None = None
    words: list[TranscriptWord] = field(default_factory=list)
    speaker: str | None = None
    """Who says it, when the file names them (WebVTT ``<v Name>``, an ``ALICE:`` prefix)."""


def speaker_of(raw_lines: list[str], text: str) -> tuple[str | None, str]:
    """The cue's speaker tag, and its text without an ``ALICE:`` prefix (a voice tag is
    removed with the other tags)."""
    for line in raw_lines:
        tag = _VOICE_TAG.search(line)
        if tag:
            return tag.group(1).strip(), text
    prefix = _NAME_PREFIX.match(text)
    if prefix:
        return (prefix.group(1) or prefix.group(2)).strip(), text[prefix.end() :]
    return None, text


@dataclass
class Transcript:
    path: str
    kind: str  # srt | vtt | text | json
    cues: list[Cue]
    encoding: str = "utf-8"

    @property
    def text(self) -> str:
        return " ".join(c.text for c in self.cues).strip()


def guess_language(text: str) -> str | None:
    """'zh'/'ja'/'ko' when most letters are CJK, else None (let the caller decide)."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return None
    cjk = sum(1 for ch in letters if _CJK.match(ch))
    if cjk / len(letters) < 0.5:
        return None
    if re.search(r"[\u3040-\u30ff]", text):
        return "ja"
    if re.search(r"[\uac00-\ud7af]", text):
        return "ko"
    return "zh"


def split_words(text: str) -> list[str]:
    """Whitespace words; every CJK character is a word of its own."""
    out: list[str] = []
    for token in text.split():
        if _CJK.search(token):
            buf = ""
            for ch in token:
                if _CJK.match(ch):
                    if buf:
                        out.append(buf)
                        buf = ""
                    out.append(ch)
                elif out and not buf and not ch.isalnum():
                    out[-1] += ch  # punctuation sticks to the previous character
                else:
                    buf += ch
            if buf:
                out.append(buf)
        else:
            out.append(token)
    return out


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_TRANSCRIPT_BYTES = 20 * 1024 * 1024
"""Largest transcript read: a day of dense subtitles is about 5 MB; a 50 MB file once ran
330 s at 5 GB before the report said "no transcript"."""
MAX_TIME_S = 24 * 3600.0
"""Latest cue or word time accepted: a time past a day is a broken file, not a long clip
(a cue at hour 999,999 once made the segment stage fill 23 GB)."""
MAX_WORDS_PER_S = 10.0
"""Most transcript words per second of media: fast speech is 4-6 words (or CJK
characters) a second; a 19 MB SRT of 279,000 cues on a 2.4-s clip passed 1.1 GB in 90 s."""
MAX_CHARS_PER_S = 60.0
"""Most transcript characters per second of media (fast English is under 40): one word of
millions of letters is one word, but hours of work for the text model's tokenizer."""
MIN_BUDGET_S = 10.0
"""Short clips and photos (duration 0) still get the words and characters of 10 s."""
PLAUSIBLE_SHARE = 0.9
"""Share of a CJK decoding's characters that must be common ones for it to be believed."""


def check_transcript_file(path: Path) -> None:
    """Refuse a transcript that cannot be one before reading it: not a readable regular
    file, or larger than :data:`MAX_TRANSCRIPT_BYTES`."""
    problem = input_file_problem(path)
    if problem is not None:
        raise TranscriptError(path, f"transcript {problem}")
    size = path.stat().st_size
    if size > MAX_TRANSCRIPT_BYTES:
        raise TranscriptError(
            path,
            f"transcript is {size / 2**20:.1f} MiB, over the {MAX_TRANSCRIPT_BYTES / 2**20:.0f} MiB "
            "limit",
        )


def _common_share(text: str, encoding: str) -> float:
    """Share of the non-ASCII characters (the first 100,000 are enough) that are common ones
    in ``encoding``'s script: GB2312's for GB18030, Big5's symbols and frequent characters
    (A140-C67E) for Big5.

    Big5 bytes also decode as GB18030, and Latin-1 bytes often as either, but then mostly
    into rare characters; real Chinese text is almost all common ones.
    """
    wide = list(islice((ch for ch in text if ord(ch) > 0x7F), 100_000))
    if not wide:
        return 1.0

    def common(ch: str) -> bool:
        try:
            if encoding == "gb18030":
                ch.encode("gb2312")
                return True
            code = ch.encode("big5")
        except UnicodeEncodeError:
            return False
        return len(code) == 2 and (0xA140 <= int.from_bytes(code) <= 0xC67E)

    return sum(map(common, wide)) / len(wide)


def _decode(path: Path) -> tuple[str, str]:
    """Text and the encoding it was read with.

    UTF-16 by its BOM, else UTF-8 (BOM or not), else GB18030 (GBK, GB2312) or Big5 when
    the text reads as common Chinese characters, else Windows-1252 (subtitle files from
    Windows tools often are; the report warns). Binary data (control bytes) is refused.
    """
    check_transcript_file(path)
    raw = path.read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return _refuse_binary(path, raw.decode("utf-16")), "utf-16"
        except UnicodeDecodeError as exc:
            raise TranscriptError(path, f"not valid UTF-16 text ({exc.reason})") from None
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        raise TranscriptError(path, f"line {line}: binary data, not a transcript")
    try:
        return _refuse_binary(path, raw.decode("utf-8-sig")), "utf-8"
    except UnicodeDecodeError as exc:
        utf8_error = exc
    for encoding in ("gb18030", "big5"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _common_share(text, encoding) >= PLAUSIBLE_SHARE:
            return _refuse_binary(path, text), encoding
    try:
        return _refuse_binary(path, raw.decode("cp1252")), "cp1252"
    except UnicodeDecodeError:
        line = raw[: utf8_error.start].count(b"\n") + 1
        raise TranscriptError(
            path,
            f"line {line}: not UTF-8, UTF-16, GB18030, Big5 or Windows-1252 text "
            f"(byte 0x{raw[utf8_error.start]:02x}); save it as UTF-8",
        ) from None


def _refuse_binary(path: Path, text: str) -> str:
    bad = _CONTROL.search(text)
    if bad:
        line = text[: bad.start()].count("\n") + 1
        raise TranscriptError(path, f"line {line}: binary data, not a transcript")
    return text


def _seconds(groups: tuple[str | None, ...]) -> float:
    h, m, s, frac = groups
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int(frac.ljust(3, "0")) / 1000


def _past_a_day(time_s: float) -> str:
    return f"time {time_s:,.0f} s is past {MAX_TIME_S / 3600:g} hours (a broken time?)"


def _parse_timed(path: Path, text: str, kind: str) -> list[Cue]:
    lines = text.splitlines()
    i = 0
    if kind == "vtt":
        if not lines or not lines[0].lstrip("\ufeff").startswith("WEBVTT"):
            raise TranscriptError(path, "line 1: a WebVTT file must start with 'WEBVTT'")
        i = 1
    cues: list[Cue] = []
    while i < len(lines):
        line = lines[i].strip()
        if not line:
            i += 1
            continue
        if kind == "vtt" and (line.startswith(("NOTE", "STYLE", "REGION"))):
            while i < len(lines) and lines[i].strip():
                i += 1
            continue
        block_start = i
        if "-->" not in line:
            # cue identifier (SRT index or VTT id), then the timing line
            i += 1
            if i >= len(lines) or "-->" not in lines[i]:
                where = i + 1 if i < len(lines) else block_start + 1
                raise TranscriptError(
                    path,
                    f"line {where}: expected a timing line 'start --> end' after {line[:40]!r}",
                )
            line = lines[i].strip()
        m = _ARROW.match(line)
        if not m:
            raise TranscriptError(
                path,
                f"line {i + 1}: bad timing line {line[:60]!r} (want 00:00:01,000 --> 00:00:02,500)",
            )
        g = m.groups()
        start, end = _seconds(g[:4]), _seconds(g[4:])
        if end < start:
            raise TranscriptError(path, f"line {i + 1}: cue ends before it starts")
        if end > MAX_TIME_S:
            raise TranscriptError(path, f"line {i + 1}: {_past_a_day(end)}")
        i += 1
        raw = []
        while i < len(lines) and lines[i].strip():
            if "-->" in lines[i]:
                raise TranscriptError(
                    path, f"line {i + 1}: timing line inside a cue's text (missing blank line?)"
                )
            raw.append(lines[i])
            i += 1
        cue_text = " ".join(b for b in (_TAG.sub("", line).strip() for line in raw) if b)
        speaker, cue_text = speaker_of(raw, cue_text)
        if cue_text:
            cues.append(Cue(cue_text, start, end, speaker=speaker))
    if not cues:
        raise TranscriptError(path, f"no cues found in this {kind.upper()} file")
    return cues


def _parse_text(path: Path, text: str) -> list[Cue]:
    cues: list[Cue] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        speaker, line = speaker_of([], line)
        for sentence in _SENTENCE.split(line):
            if sentence.strip():
                cues.append(Cue(sentence.strip(), speaker=speaker))
    if not cues:
        raise TranscriptError(path, "transcript is empty")
    return cues


def _key_lines(text: str) -> list[int]:
    """Line number of each word object, found by the order of its text key.

    Newlines are counted from one key to the next (counting from the start each time
    made a 1 MB file quadratic).
    """
    lines, line, pos = [], 1, 0
    for m in re.finditer(r'"(?:word|text)"\s*:', text):
        line += text.count("\n", pos, m.start())
        pos = m.start()
        lines.append(line)
    return lines


def _number(value) -> float | None:
    """A JSON number as a finite float; None for anything else (NaN, 1e999, huge ints, text)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _parse_json(path: Path, text: str) -> list[Cue]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TranscriptError(path, f"line {exc.lineno}: invalid JSON ({exc.msg})") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise TranscriptError(path, f"invalid JSON ({str(exc).split(';')[0]})") from None
    except RecursionError:
        raise TranscriptError(path, "invalid JSON (nested too deeply)") from None
    lines = _key_lines(text)
    counter = {"n": 0}

    def word(obj, where: str) -> TranscriptWord:
        k = counter["n"]
        counter["n"] += 1
        line = f"line {lines[k]}" if k < len(lines) else where
        if not isinstance(obj, dict):
            raise TranscriptError(path, f"{line}: {where} is not an object")
        token = obj.get("word", obj.get("text"))
        if not isinstance(token, str):
            raise TranscriptError(path, f"{line}: {where} has no 'word' text")
        times = []
        for names in (("start", "start_s"), ("end", "end_s")):
            value = _number(next((obj[n] for n in names if n in obj), None))
            if value is None or value < 0:
                raise TranscriptError(
                    path, f"{line}: {where} needs a finite numeric '{names[0]}' >= 0"
                )
            times.append(value)
        if times[1] < times[0]:
            raise TranscriptError(path, f"{line}: {where} ends before it starts")
        if times[1] > MAX_TIME_S:
            raise TranscriptError(path, f"{line}: {where} {_past_a_day(times[1])}")
        prob = obj.get("probability")
        if prob is not None:
            prob = _number(prob)
            if prob is None or not 0.0 <= prob <= 1.0:
                raise TranscriptError(path, f"{line}: {where} has a probability outside 0..1")
        return TranscriptWord(token.strip(), times[0], times[1], prob)

    def cue(words: list[TranscriptWord]) -> Cue | None:
        words = [w for w in words if w.text]  # whisper writes empty tokens now and then
        if not words:
            return None
        start, end = min(w.start_s for w in words), max(w.end_s for w in words)
        return Cue(" ".join(w.text for w in words), start, end, words)

    if isinstance(data, dict) and isinstance(data.get("segments"), list):
        cues = []
        for si, seg in enumerate(data["segments"]):
            if not isinstance(seg, dict):
                raise TranscriptError(path, f"segment {si} is not an object")
            items = seg.get("words") or []
            if not isinstance(items, list):
                raise TranscriptError(path, f"segment {si}: 'words' is not a list")
            c = cue([word(w, f"segment {si} word {wi}") for wi, w in enumerate(items)])
            if c is not None:
                speaker = seg.get("speaker")  # WhisperX's diarised segments
                c.speaker = speaker.strip()[:100] if isinstance(speaker, str) else None
                cues.append(c)
        if not cues:
            raise TranscriptError(path, "JSON segments hold no words with times")
        return cues
    items = data.get("words") if isinstance(data, dict) else data
    if not isinstance(items, list) or not items:
        raise TranscriptError(path, "line 1: expected a JSON list of words (or {'words': [...]})")
    c = cue([word(w, f"word {i}") for i, w in enumerate(items)])
    if c is None:
        raise TranscriptError(path, "the JSON words are all empty")
    return [c]


def read_transcript(path: str | Path) -> Transcript:
    """Parse a transcript; the format comes from the suffix, else from the content."""
    p = Path(path)
    text, encoding = _decode(p)
    suffix = p.suffix.lower()
    head = text.lstrip()
    if suffix == ".vtt" or head.startswith("WEBVTT"):
        kind = "vtt"
    elif suffix == ".srt":
        kind = "srt"
    elif suffix == ".json" or head.startswith(("[", "{")):
        kind = "json"
    elif any(_ARROW.match(line) for line in text.splitlines()[:8]):
        kind = "srt"
    else:
        kind = "text"
    if kind in ("srt", "vtt"):
        cues = _parse_timed(p, text, kind)
    elif kind == "json":
        cues = _parse_json(p, text)
    else:
        cues = _parse_text(p, text)
    return Transcript(str(p), kind, cues, encoding)


def within_media(transcript: Transcript, duration_s: float) -> tuple[Transcript, int]:
    """The transcript with its times clipped to the media's ``duration_s``, and how many
    cues were left out because they start at or after its end.

    A cue past the end has nothing to describe, and the segment stage fills the time
    before each cue with windows: unclipped, one late cue makes segments (and memory)
    grow with its time instead of the media's length. Untimed cues are kept; a duration
    of 0 (a photo, or a container that does not say) clips nothing. More words than
    anyone says in that time (:data:`MAX_WORDS_PER_S`), or more characters than
    :data:`MAX_CHARS_PER_S`, raise :class:`TranscriptError`: each word becomes work, so
    the transcript must be bounded by the media.
    """
    if duration_s > 0:
        transcript, dropped = _clipped(transcript, duration_s)
    else:
        transcript, dropped = transcript, 0
    budget_s = max(duration_s, MIN_BUDGET_S)
    words = sum(len(c.words) or len(split_words(c.text)) for c in transcript.cues)
    chars = sum(len(c.text) for c in transcript.cues)
    if words > MAX_WORDS_PER_S * budget_s or chars > MAX_CHARS_PER_S * budget_s:
        raise TranscriptError(
            transcript.path,
            f"{words:,} words, {chars:,} characters for {duration_s:g} s of media (at most "
            f"{MAX_WORDS_PER_S * budget_s:,.0f} words, {MAX_CHARS_PER_S * budget_s:,.0f} "
            "characters): is it this media's transcript?",
        )
    return transcript, dropped


def _clipped(transcript: Transcript, duration_s: float) -> tuple[Transcript, int]:
    kept: list[Cue] = []
    for cue in transcript.cues:
        if cue.start_s is None or cue.end_s is None:
            kept.append(cue)
        elif cue.start_s < duration_s:
            words = [
                replace(w, end_s=min(w.end_s, duration_s))
                for w in cue.words
                if w.start_s is None or w.start_s < duration_s
            ]
            kept.append(replace(cue, end_s=min(cue.end_s, duration_s), words=words))
    return replace(transcript, cues=kept), len(transcript.cues) - len(kept)


# ---------------------------------------------------------------- alignment to speech


def _speech_clock(speech: list[tuple[float, float]], span: tuple[float, float]):
    """Map 'speech time' (seconds of speech inside ``span``) back to media time."""
    s0, s1 = span
    pieces = [(max(a, s0), min(b, s1)) for a, b in speech if min(b, s1) > max(a, s0)]
    if not pieces:
        pieces = [(s0, s1)]
    total = sum(b - a for a, b in pieces)

    def to_media(t: float) -> float:
        for a, b in pieces:
            if t <= b - a:
                return a + t
            t -= b - a
        return pieces[-1][1]

    return total, to_media


def _weights(tokens: list[str]) -> list[float]:
    return [max(1.0, float(len(t.strip(".,;:!?\"'()")))) + 1.0 for t in tokens]


def spread(
    tokens: list[str], speech: list[tuple[float, float]], span: tuple[float, float]
) -> list[tuple[float, float]]:
    """Lay ``tokens`` over the speech inside ``span`` in proportion to their length."""
    if not tokens:
        return []
    total, to_media = _speech_clock(speech, span)
    w = _weights(tokens)
    scale = total / sum(w)
    out, acc = [], 0.0
    for weight in w:
        a, b = acc * scale, (acc + weight) * scale
        acc += weight
        out.append((round(to_media(a), 3), round(to_media(b - 1e-6), 3)))
    return out


def align_to_speech(
    transcript: Transcript, speech: list[tuple[float, float]], duration_s: float
) -> list[Cue]:
    """Cues with start/end and timed words; untimed text is laid over the speech spans."""
    cues = transcript.cues
    if transcript.kind == "text":
        # sentences over the whole clip's speech, in proportion to their length
        span = (speech[0][0], speech[-1][1]) if speech else (0.0, duration_s)
        sentence_times = spread([c.text for c in cues], speech, span)
        cues = [
            Cue(c.text, a, b, speaker=c.speaker)
            for c, (a, b) in zip(cues, sentence_times, strict=True)
        ]
    out = []
    for c in cues:
        if c.words:
            out.append(c)
            continue
        tokens = split_words(c.text)
        times = spread(tokens, speech, (c.start_s, c.end_s))
        words = [TranscriptWord(t, a, b) for t, (a, b) in zip(tokens, times, strict=True)]
        out.append(Cue(c.text, c.start_s, c.end_s, words, c.speaker))
    return out
