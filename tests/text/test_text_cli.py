"""`emochat predict text`: one JSON line per input, stdin with '-', streamed batch by batch."""

from __future__ import annotations

import io
import json
import math
import os
import selectors
import subprocess
import sys

from emochat.cli import main
from emochat.cli.predict import TEXT_BATCH


def _run(argv: list[str], capsys, monkeypatch=None, stdin: str = "") -> list[dict]:
    if monkeypatch is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    assert main(["predict", "text", *argv]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_lines(capsys) -> None:
    rows = _run(["I am so happy today", "我今天非常开心"], capsys)
    assert [r["input"] for r in rows] == ["I am so happy today", "我今天非常开心"]
    for r in rows:
        assert r["label"] == "happy"
        assert math.isclose(sum(r["probs"].values()), 1.0, abs_tol=1e-4)


def test_stdin_and_details(monkeypatch, capsys) -> None:
    rows = _run(
        ["-", "--details", "--context"],
        capsys,
        monkeypatch,
        stdin="I hate this!\n\nOkay.\n",
    )
    assert [r["input"] for r in rows] == ["I hate this!", "", "Okay."]
    assert rows[1]["label"] == "neutral"
    assert {"valence", "arousal", "open_vocab", "lexicon"} <= set(rows[0])


def test_context_changes_only_lines_with_previous_lines(monkeypatch, capsys) -> None:
    """--context across a batch boundary: each line sees the lines before it, as in one call."""
    lines = [f"line {i}: I can't believe it" for i in range(TEXT_BATCH + 3)]
    alone = _run(["-"], capsys, monkeypatch, stdin="\n".join(lines) + "\n")
    with_context = _run(["-", "--context"], capsys, monkeypatch, stdin="\n".join(lines) + "\n")
    assert alone[0]["probs"] == with_context[0]["probs"]  # the first line has no context
    assert any(a["probs"] != c["probs"] for a, c in zip(alone, with_context, strict=True))


def test_stdin_results_come_before_stdin_ends(tmp_path) -> None:
    """A full batch is answered while stdin stays open (it used to wait for the end)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "emochat", "predict", "text", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        proc.stdin.write("I am so happy today\n" * TEXT_BATCH)
        proc.stdin.flush()
        selector = selectors.DefaultSelector()
        selector.register(proc.stdout, selectors.EVENT_READ)
        assert selector.select(timeout=120), "no result while stdin is still open"
        assert json.loads(proc.stdout.readline())["label"] == "happy"
    finally:
        proc.stdin.close()
        proc.wait(timeout=120)
    out, err = proc.stdout.read(), proc.stderr.read()
    assert proc.returncode == 0, err
    assert len(out.splitlines()) == TEXT_BATCH - 1
