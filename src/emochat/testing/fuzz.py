"""Fuzz targets for the parsers of user files (transcripts, clip manifests).

The contract each target checks: on ANY bytes, the parser returns a valid result
or raises :class:`~emochat.core.errors.EmochatError` with a one-line message naming the
file; never another exception, never a result that breaks the next step (a
transcript must also align to speech). Inputs come from hypothesis strategies
that mix raw bytes with text built from each format's own pieces, in the
encodings users send. Needs the ``dev`` extra (hypothesis); used by
tests/testing/test_testing_fuzz.py (short, derandomized) and bench/bench_fuzz.py (long).
"""

from __future__ import annotations

import json
import math
import tempfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import strategies as st

from emochat.core.errors import EmochatError

# ------------------------------------------------------------------ input strategies

_ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "cp1252", "latin-1")


def _encoded(text: st.SearchStrategy[str]) -> st.SearchStrategy[bytes]:
    """Text in one of the encodings users send (unencodable characters replaced)."""
    return st.tuples(text, st.sampled_from(_ENCODINGS)).map(
        lambda te: te[0].encode(te[1], errors="replace")
    )


def _lines(pieces: st.SearchStrategy[str], max_lines: int = 24) -> st.SearchStrategy[str]:
    newline = st.sampled_from(["\n", "\r\n", "\r", "\n\n"])
    return st.lists(st.tuples(pieces, newline), max_size=max_lines).map(
        lambda items: "".join(a + b for a, b in items)
    )


_WORDS = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20
) | st.sampled_from(["Hello there.", "我今天很开心。", "<i>x</i>", "{\\an8}y", "-->", "café", ""])

_CLOCK = st.builds(
    lambda h, m, s, ms, sep: f"{h}{m:02d}:{s:02d}{sep}{ms}",
    st.sampled_from(["", "00:", "1:", "99:", "-1:", "123456789012345678901234:", "9" * 5000 + ":"]),
    st.integers(0, 99),
    st.integers(0, 99),
    st.sampled_from(["0", "5", "50", "500", "999", "1000"]),
    st.sampled_from([",", "."]),
)
_TIMING = st.builds(
    lambda a, b, tail: f"{a} --> {b}{tail}",
    _CLOCK,
    _CLOCK,
    st.sampled_from(["", " align:start", " position:10%", "  ", " -->"]),
)
_TIMED_PIECES = st.one_of(
    _TIMING,
    st.integers(-2, 10**6).map(str),
    st.sampled_from(["", "WEBVTT", "WEBVTT - title", "NOTE x", "STYLE", "REGION", "\ufeffWEBVTT"]),
    _WORDS,
)
_CUE_BLOCK = st.builds(
    lambda ident, timing, body: "\n".join(([ident] if ident else []) + [timing] + body),
    st.sampled_from(["", "1", "2", "intro", "-1"]),
    _TIMING,
    st.lists(_WORDS, max_size=3),
)


def _timed_text(kind: str) -> st.SearchStrategy[str]:
    """Cue blocks apart by blank lines (mostly well formed), or loose lines of cue pieces."""
    header = st.just("WEBVTT\n\n") if kind == "vtt" else st.just("")
    blocks = st.builds(
        lambda h, bs, sep: h + sep.join(bs),
        header,
        st.lists(_CUE_BLOCK, max_size=8),
        st.sampled_from(["\n\n", "\r\n\r\n", "\n", "\n \n"]),
    )
    return blocks | _lines(_TIMED_PIECES)


_NUMBER = st.one_of(
    st.integers(-5, 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([10**400, -(10**400), 1e308, -0.0, 0, 1.5, "1", None, True]),
)


def _word_dict(number: st.SearchStrategy) -> st.SearchStrategy[dict]:
    """A word object with its keys under either accepted name; any value may be odd."""
    return st.builds(
        lambda tk, t, sk, s, ek, e, p: {
            tk: t,
            sk: s,
            ek: e,
            **({} if p is None else {"probability": p}),
        },
        st.sampled_from(["word", "text", "words", "w"]),
        _WORDS | _NUMBER,
        st.sampled_from(["start", "start_s", "begin"]),
        number,
        st.sampled_from(["end", "end_s"]),
        number,
        st.none() | _NUMBER,
    )


_JSON_SCALAR = st.one_of(st.none(), st.booleans(), _NUMBER, _WORDS)
_JSON_VALUE = st.recursive(
    _JSON_SCALAR,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)
_WORD_LIST = st.lists(_word_dict(_NUMBER) | _JSON_VALUE, max_size=6)
_JSON_DOC = st.one_of(
    _JSON_VALUE,
    _WORD_LIST,
    st.builds(lambda ws: {"words": ws}, _WORD_LIST),
    st.builds(
        lambda segs: {"segments": segs},
        st.lists(st.builds(lambda ws: {"words": ws}, _WORD_LIST) | _JSON_VALUE, max_size=4),
    ),
).map(lambda doc: json.dumps(doc, indent=1, allow_nan=True, ensure_ascii=False)) | st.integers(
    1, 5000
).map(lambda n: "[" * n + "]" * n)


def _mutated(docs: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    """A document cut short, or with a byte run spliced in (truncated downloads, bit rot)."""

    def splice(args):
        doc, cut, junk = args
        at = min(cut, len(doc))
        return doc[:at] + junk + doc[at + len(junk) :]

    return st.tuples(docs, st.integers(0, 4096), st.binary(max_size=8)).map(splice) | st.tuples(
        docs, st.integers(0, 4096)
    ).map(lambda dc: dc[0][: dc[1]])


def transcript_inputs(kind: str) -> st.SearchStrategy[bytes]:
    """Bytes for a transcript file of ``kind`` (srt, vtt, txt, json)."""
    if kind == "json":
        structured = _encoded(_JSON_DOC)
    elif kind == "txt":
        structured = _encoded(_lines(_WORDS | _TIMING))
    else:
        structured = _encoded(_timed_text(kind))
    return st.one_of(st.binary(max_size=512), structured, _mutated(structured))


MANIFEST_FILES = ("clip.mp4", "t.srt")
"""Files the manifest target creates beside the manifest (rows may name them)."""

_CELL = st.one_of(
    st.sampled_from(
        [
            "clip.mp4",
            "t.srt",
            "missing.mp4",
            "happy",
            "HAPPY ",
            "neutral",
            "",
            " ",
            "0.5",
            "-1",
            "nan",
            "inf",
            "-inf",
            "1e999",
            "1_0",
            "x" * 300,
            "a/" * 40 + "clip.mp4",
            "/",
            ".",
            "..",
            "\x00",
            '"',
            "clip.mp4\x00",
            "9" * 5000,
        ]
    ),
    st.text(max_size=12),
)
_EXTRA_COLUMNS = ["transcript", "valence", "id", "basic", "extra", "", "path", "label"]


def _csv_line(cells: list[str], quote: bool) -> str:
    if quote:
        return ",".join('"' + c.replace('"', '""') + '"' for c in cells)
    return ",".join(cells)


@st.composite
def _csv_text(draw) -> str:
    """A header holding path and label (mostly) and rows of about its width."""
    extra = draw(st.lists(st.sampled_from(_EXTRA_COLUMNS), max_size=3))
    header = draw(st.permutations(["path", "label", *extra]))
    if draw(st.integers(0, 9)) == 0:
        header = header[1:]
    width = st.sampled_from([len(header)] * 8 + [len(header) - 1, len(header) + 1])
    rows = draw(
        st.lists(width.flatmap(lambda n: st.lists(_CELL, min_size=n, max_size=n)), max_size=5)
    )
    quote = draw(st.booleans())
    return "\n".join([_csv_line(header, quote)] + [_csv_line(r, quote) for r in rows])


def manifest_inputs() -> st.SearchStrategy[bytes]:
    """Bytes for a clip-manifest CSV."""
    structured = _encoded(_csv_text())
    return st.one_of(st.binary(max_size=512), structured, _mutated(structured))


# ------------------------------------------------------------------ targets


def _finite(*values: float | None) -> bool:
    return all(v is None or (isinstance(v, float | int) and math.isfinite(v)) for v in values)


def _check_transcript(path: Path) -> str | None:
    from emochat.voice.transcript import align_to_speech, read_transcript

    tr = read_transcript(path)
    if not tr.cues:
        return "no cues in a returned transcript"
    for cue in tr.cues:
        if not cue.text.strip():
            return "a cue with no text"
        if not _finite(cue.start_s, cue.end_s):
            return f"cue time not finite: {cue.start_s}..{cue.end_s}"
        if cue.start_s is not None and (cue.start_s < 0 or cue.end_s < cue.start_s):
            return f"cue times out of order: {cue.start_s}..{cue.end_s}"
        for w in cue.words:
            if not _finite(w.start_s, w.end_s, w.probability):
                return f"word time/probability not finite: {w}"
    # what the voice stage does next must work on whatever the parser accepted
    for cue in align_to_speech(tr, [(0.5, 2.0), (3.0, 4.0)], 5.0):
        if not _finite(cue.start_s, cue.end_s) or cue.start_s is None:
            return f"aligned cue time not finite: {cue.start_s}..{cue.end_s}"
    return None


def _check_manifest(path: Path) -> str | None:
    from emochat.data.manifest import read_manifest

    df = read_manifest(path)
    if df.empty:
        return "an empty manifest table returned"
    for col in ("id", "path", "label", "basic", "transcript", "valence"):
        if col not in df.columns:
            return f"column {col} missing"
    valence = df["valence"].astype(float)
    if not all(math.isnan(v) or math.isfinite(v) for v in valence):
        return "valence not finite"
    if df["id"].tolist() != list(range(len(df))):
        return "ids are not the row numbers"
    return None


@dataclass(frozen=True)
class Target:
    """One parser: the file name it reads and its check (None: the contract holds)."""

    name: str
    filename: str
    check: Callable[[Path], str | None]
    inputs: Callable[[], st.SearchStrategy[bytes]]
    files: tuple[str, ...] = ()


TARGETS: dict[str, Target] = {
    "srt": Target("srt", "sub.srt", _check_transcript, lambda: transcript_inputs("srt")),
    "vtt": Target("vtt", "sub.vtt", _check_transcript, lambda: transcript_inputs("vtt")),
    "text": Target("text", "words.txt", _check_transcript, lambda: transcript_inputs("txt")),
    "json": Target("json", "words.json", _check_transcript, lambda: transcript_inputs("json")),
    "manifest": Target(
        "manifest", "clips.csv", _check_manifest, manifest_inputs, files=MANIFEST_FILES
    ),
}


@dataclass
class Finding:
    """A broken contract: its signature (what and where) and the shortest input that showed it."""

    signature: str
    data: bytes
    detail: str
    count: int = 1


@dataclass
class FuzzWorkdir:
    """A folder holding the fuzzed file (and the files a manifest may name)."""

    target: Target
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="emochat-fuzz-")))

    def __post_init__(self) -> None:
        for name in self.target.files:
            (self.root / name).write_bytes(b"x")

    @property
    def path(self) -> Path:
        return self.root / self.target.filename

    def cleanup(self) -> None:
        import shutil

        shutil.rmtree(self.root, ignore_errors=True)


def _where(exc: BaseException) -> str:
    """The innermost emochat frame of a traceback (file:line), else the innermost frame."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/emochat/" in f.filename and "/testing/" not in f.filename]
    f = (ours or frames)[-1]
    return f"{Path(f.filename).name}:{f.lineno}"


def check_input(target: Target, workdir: FuzzWorkdir, data: bytes) -> tuple[str, str] | None:
    """(signature, detail) when ``data`` breaks the contract, else None."""
    path = workdir.path
    path.write_bytes(data)
    try:
        problem = target.check(path)
    except EmochatError as exc:
        message = str(exc)
        if "\n" in message or not message.startswith(str(path)):
            return "error message not one line naming the file", message[:200]
        return None
    except RecursionError as exc:
        return f"RecursionError at {_where(exc)}", "nesting too deep"
    except Exception as exc:  # noqa: BLE001 - any other exception is the finding
        return f"{type(exc).__name__} at {_where(exc)}", f"{exc}"[:200]
    if problem is not None:
        return f"invalid result: {problem.split(':')[0]}", problem[:200]
    return None
