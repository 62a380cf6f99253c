"""Regenerate every accuracy figure of BENCHMARKS.md through ``emochat eval`` and compare.

Each :class:`Figure` names where a value is recorded in BENCHMARKS.md (a section, a
table row picked by one of its cells, a column, a regex) and which ``emochat eval`` run
and JSON key regenerate it. The runs go through the real CLI in a subprocess (this
repository's ``src`` first on the path), write their JSON to a temporary folder, and
the script prints one line per figure: recorded, regenerated, match. A figure matches
when the two agree to the recorded precision (0.575 matches 0.5747, not 0.5744); any
mismatch, or a figure that can no longer be found in BENCHMARKS.md, exits 1.

    python bench/regenerate_accuracy.py                 # every run (several minutes)
    python bench/regenerate_accuracy.py --only ov-mer   # one run
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from common import machine

REPO = Path(__file__).resolve().parents[1]

NUMBER = r"\**(-?\d+(?:\.\d+)?)\**"
"""A recorded number, possibly in bold."""


@dataclass(frozen=True)
class Run:
    """One ``emochat eval`` invocation and the JSON file it leaves in OUT."""

    name: str
    args: tuple[str, ...]
    """Arguments after ``emochat eval``; ``{data}`` is replaced by the data root."""
    json_name: str

    def command(self) -> str:
        return "emochat eval " + " ".join(self.args)


RUNS: dict[str, Run] = {
    run.name: run
    for run in (
        Run("fer2013", ("fer2013", "--split", "test"), "fer2013-test-face.json"),
        *(
            Run(corpus, (corpus, "--split", "test"), f"{corpus}-test-speech.json")
            for corpus in ("ravdess", "emodb", "urdu")
        ),
        Run(
            "ov-mer",
            (
                "ov-mer",
                "--pred",
                "{data}/ov-mer/predict-openset.csv",
                "--gold",
                "{data}/ov-mer/check-openset.csv",
            ),
            "ov-mer.json",
        ),
        Run("meld", ("meld", "--split", "test"), "meld-test-text.json"),
        Run("smp2020", ("smp2020", "--split", "dev"), "smp2020-dev-text.json"),
        Run(
            "smp2020-default",
            ("smp2020", "--split", "dev", "--calibration", "dialogue"),
            "smp2020-dev-text.json",
        ),
        Run("goemotions", ("goemotions", "--split", "test"), "goemotions-test-text.json"),
    )
}


@dataclass(frozen=True)
class Figure:
    """Where one figure is recorded in BENCHMARKS.md and how it is regenerated.

    ``row`` = (column, text): the table row of ``section`` whose ``column`` cell,
    backticks stripped, equals ``text``; ``pattern`` (one group) is searched in its
    ``column`` cell. Without ``row`` the pattern is searched in the section's prose.
    """

    name: str
    section: str
    pattern: str
    run: str
    key: str
    """Path into the run's JSON, dot-separated (list items by index)."""
    row: tuple[str, str] | None = None
    column: str = "figures"


def _cmd(section: str, command: str, cells: Sequence[tuple[str, str, str, str]]):
    """Figures recorded in the ``figures`` cell of the row whose command is ``command``."""
    return [
        Figure(name, section, pattern, run, key, row=("command", command))
        for name, pattern, run, key in cells
    ]


TEXT = "Text emotion (held-out splits)"
SPEECH = "Speech emotion on three corpora, calibration, out-of-domain check, VAD (issue 23)"
_OVMER = "Open-vocabulary emotion-wheel metric (OV-MER)"

FIGURES: list[Figure] = [
    *[
        figure
        for corpus, name in (("ravdess", "RAVDESS"), ("emodb", "EmoDB"), ("urdu", "URDU"))
        for figure in _cmd(
            SPEECH,
            f"emochat eval {corpus}",
            [
                (f"{name} accuracy", rf"accuracy {NUMBER}", corpus, "accuracy"),
                (f"{name} UAR", rf"UAR {NUMBER}", corpus, "uar"),
                (f"{name} macro F1", rf"macro F1 {NUMBER}", corpus, "macro_f1"),
            ],
        )
    ],
    *_cmd(
        "Facial expression (FER2013 PrivateTest, 3,589 crops)",
        "emochat eval fer2013 --split test",
        [
            ("FER2013 accuracy", rf"accuracy {NUMBER}", "fer2013", "accuracy"),
            ("FER2013 macro F1", rf"macro-F1 {NUMBER}", "fer2013", "macro_f1"),
            ("FER2013 weighted F1", rf"weighted F1 {NUMBER}", "fer2013", "weighted_f1"),
            ("FER2013 UAR", rf"UAR {NUMBER}", "fer2013", "uar"),
        ],
    ),
    # the text model's figures as ``emochat eval`` records them (the training script's own
    # row scores its cache of C-engine embeddings, not the shipped onnxruntime encoder)
    *[
        figure
        for run, command in (
            ("meld", "meld --split test"),
            ("smp2020", "smp2020 --split dev"),
            ("smp2020-default", "smp2020 --split dev --calibration dialogue"),
            ("goemotions", "goemotions --split test"),
        )
        for figure in _cmd(
            TEXT,
            f"emochat eval {command}",
            [
                (f"{run} {key.replace('_', ' ')}", rf"{label} {NUMBER}", run, key)
                for label, key in (
                    ("weighted F1", "weighted_f1"),
                    ("macro F1", "macro_f1"),
                    ("accuracy", "accuracy"),
                )
            ],
        )
    ],
    *[
        Figure(
            f"OV-MER {level} {column}",
            _OVMER,
            NUMBER,
            "ov-mer",
            key,
            row=("level", level),
            column=column,
        )
        for level in ("level1", "level2")
        for column, key in (
            *((f"wheel{i + 1} F", f"levels.{level}.wheels.{i}.f") for i in range(5)),
            ("mean P", f"levels.{level}.mean.precision"),
            ("mean R", f"levels.{level}.mean.recall"),
            ("mean F", f"levels.{level}.mean.f"),
        )
    ],
    Figure(
        "OV-MER mean F of the levels",
        _OVMER,
        rf"Mean F of the two levels: {NUMBER}",
        "ov-mer",
        "mean_f",
    ),
]


# --- reading BENCHMARKS.md ---------------------------------------------------------------


def sections(markdown: str) -> dict[str, str]:
    """``## heading`` -> the text under it (to the next ``##``)."""
    out: dict[str, str] = {}
    current = None
    for line in markdown.splitlines():
        if line.startswith("## "):
            current = line[3:].strip()
            out[current] = ""
        elif current is not None:
            out[current] += line + "\n"
    return out


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def table_rows(text: str) -> list[dict[str, str]]:
    """Every row of every markdown table in ``text`` as header -> cell."""
    rows: list[dict[str, str]] = []
    header: list[str] | None = None
    for line in text.splitlines():
        if not line.lstrip().startswith("|"):
            header = None
            continue
        cells = _cells(line)
        if header is None:
            header = cells
        elif all(set(c) <= set(":-") and c for c in cells):
            continue  # the |---| separator
        elif len(cells) == len(header):
            rows.append(dict(zip(header, cells, strict=True)))
    return rows


def recorded_value(markdown: str, figure: Figure) -> str | None:
    """The figure as written in BENCHMARKS.md (a number string), or None if not found."""
    text = sections(markdown).get(figure.section)
    if text is None:
        return None
    if figure.row is None:
        m = re.search(figure.pattern, text)
        return m.group(1) if m else None
    column, wanted = figure.row
    for row in table_rows(text):
        if row.get(column, "").strip("`") == wanted and figure.column in row:
            m = re.search(figure.pattern, row[figure.column])
            if m:
                return m.group(1)
    return None


# --- comparing ---------------------------------------------------------------------------


def matches(recorded: str, value: float) -> bool:
    """Equal to the recorded precision: |value - recorded| <= half a unit of its last digit."""
    decimals = len(recorded.split(".")[1]) if "." in recorded else 0
    return abs(value - float(recorded)) <= 0.5 * 10.0**-decimals + 1e-9


@dataclass
class Comparison:
    figure: Figure
    recorded: str | None
    value: float | None

    @property
    def status(self) -> str:
        if self.recorded is None:
            return "NOT IN BENCHMARKS.md"
        if self.value is None:
            return "NOT REGENERATED"
        return "match" if matches(self.recorded, self.value) else "MISMATCH"

    @property
    def ok(self) -> bool:
        return self.status == "match"


def json_value(doc: Mapping, key: str) -> float | None:
    node = doc
    for part in key.split("."):
        try:
            node = node[int(part)] if isinstance(node, list) else node[part]
        except (KeyError, IndexError, ValueError, TypeError):
            return None
    return float(node) if isinstance(node, (int, float)) else None


def compare(
    markdown: str, figures: Sequence[Figure], results: Mapping[str, Mapping]
) -> list[Comparison]:
    """One comparison per figure whose run is in ``results`` (run name -> its JSON)."""
    return [
        Comparison(f, recorded_value(markdown, f), json_value(results[f.run], f.key))
        for f in figures
        if f.run in results
    ]


def format_table(comparisons: Sequence[Comparison]) -> str:
    lines = [
        "| figure | run | recorded in BENCHMARKS.md | regenerated | match |",
        "|---|---|---:|---:|---|",
    ]
    for c in comparisons:
        value = "-" if c.value is None else f"{c.value:.4f}"
        lines.append(
            f"| {c.figure.name} | `{RUNS[c.figure.run].command()}` | {c.recorded or '-'} "
            f"| {value} | {c.status} |"
        )
    return "\n".join(lines)


# --- running -----------------------------------------------------------------------------


def run_eval(run: Run, out: Path, data_root: Path) -> dict:
    """Run ``emochat eval`` for ``run`` in a subprocess; its JSON result.

    Each run writes into its own folder of ``out`` (two runs may share a file name).
    """
    out = out / run.name
    out.mkdir(parents=True, exist_ok=True)
    args = [a.replace("{data}", str(data_root)) for a in run.args]
    if run.name == "ov-mer":
        args += ["--json", str(out / run.json_name)]
    else:
        args += ["--out", str(out)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), *filter(None, [env.get("PYTHONPATH")])])
    proc = subprocess.run(
        [sys.executable, "-m", "emochat", "eval", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["(no output)"]
        raise RuntimeError(f"{run.command()} exited {proc.returncode}: {tail[0]}")
    return json.loads((out / run.json_name).read_text(encoding="utf-8"))


def main(
    argv: Sequence[str] | None = None,
    evaluate: Callable[[Run, Path, Path], dict] = run_eval,
) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--only", action="append", choices=sorted(RUNS), help="regenerate only this run"
    )
    ap.add_argument("--benchmarks", type=Path, default=REPO / "BENCHMARKS.md")
    ap.add_argument("--data-root", type=Path, default=None)
    a = ap.parse_args(argv)
    if a.data_root is None:
        from emochat.core.settings import data_root

        a.data_root = data_root()
    names = a.only or list(RUNS)
    results: dict[str, dict] = {}
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="emochat-regen-") as tmp:
        for name in names:
            t0 = time.perf_counter()
            try:
                results[name] = evaluate(RUNS[name], Path(tmp), a.data_root)
            except (RuntimeError, OSError, ValueError) as exc:
                print(f"{name}: {exc}", file=sys.stderr)
                results[name] = {}
            print(f"{RUNS[name].command()}: {time.perf_counter() - t0:.0f} s", flush=True)
    markdown = a.benchmarks.read_text(encoding="utf-8")  # read now: rows may be edited meanwhile
    comparisons = compare(markdown, FIGURES, results)
    print()
    print(f"{date.today().isoformat()}, {machine()}, load average at start {load:.1f}")
    print(format_table(comparisons))
    bad = [c for c in comparisons if not c.ok]
    print(f"\n{len(comparisons) - len(bad)} of {len(comparisons)} figures match")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
