"""The OV-MER emotion-wheel metric (OV-MER, MER2025-2026 track) and the MER-UniBench hit rate.

Open-vocabulary emotion labels cannot be compared word by word ("cheerful" vs
"happy"), so both gold and predicted words are first grouped, per emotion wheel:

1. a word form maps to its base words (``format.csv``: "angrily" -> "angry");
2. each base word maps to the wheel words it is a synonym of (``synonym.csv``, eight
   synonym runs merged);
3. among all those wheel words, the alphabetically first one that lies on the wheel
   decides the word's cluster: its level-1 sector, or its level-2 sub-sector
   (a level-1 word itself stands for the alphabetically first of its level-2
   children). ``wheel_mapping.json`` holds steps 1-3's tables precomputed; building
   them from the CSV files gives the same tables (a test checks it).

A word that is not a known form, or whose synonyms miss the wheel, is dropped. For
each sample the mapped gold set G and predicted set P give precision |G&P|/|P| and
recall |G&P|/|G|; a sample whose G is empty is not scored; an empty P scores 0 and 0.
Precision and recall are averaged over scored samples, F is computed from the two
averages (0 when both are 0), and the five wheels' (F, precision, recall) are
averaged per level. This module follows the semantics of the public reference
(zeroQiaoba/MERTools, ``MER2026_Track2/my_affectgpt/evaluation/wheel.py``), written
afresh from that definition, including how label lists are parsed (see
:func:`parse_openset`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from emochat.core.errors import DataError
from emochat.core.settings import data_root
from emochat.data.csvio import read_rows

WHEELS: tuple[str, ...] = ("wheel1", "wheel2", "wheel3", "wheel4", "wheel5")
LEVELS: tuple[str, ...] = ("level1", "level2")

# pandas' default missing-value spellings: the reference reads its CSVs with pandas,
# so a cell spelled like this is an empty label list there, and here too.
_NA_CELLS = frozenset(
    {
        "",
        "#N/A",
        "#N/A N/A",
        "#NA",
        "-1.#IND",
        "-1.#QNAN",
        "-NaN",
        "-nan",
        "1.#IND",
        "1.#QNAN",
        "<NA>",
        "N/A",
        "NA",
        "NULL",
        "NaN",
        "None",
        "n/a",
        "nan",
        "null",
    }
)
_SPLIT = re.compile(r"['\",]")


def parse_openset(value: Any) -> list[str]:
    """Words of one open-vocabulary label cell, as the reference reads them.

    Accepts a list (returned as is), ``None``/NaN/an NA-like cell (empty list) or a
    string such as ``"['happy', 'relieved']"`` or ``"happy, relieved"``: one leading
    ``[`` and one trailing ``]`` are removed, the rest is split at every quote or
    comma and blank pieces are dropped. A word containing an apostrophe is therefore
    split ("don't believe" -> "don", "t believe"), exactly as the reference does.
    """
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    if isinstance(value, float):  # NaN from a DataFrame
        return []
    text = str(value)
    if text in _NA_CELLS:
        return []
    if text.startswith("["):
        text = text[1:]
    if text.endswith("]"):
        text = text[:-1]
    return [piece.strip() for piece in _SPLIT.split(text) if piece.strip()]


def normalize_words(words: Iterable[str]) -> list[str]:
    """Lower-case and strip, the only normalisation the metric applies to inputs."""
    return [w.lower().strip() for w in words]


# --- the mapping tables -----------------------------------------------------------------


def read_wheel(path: str | Path) -> dict[str, dict[str, list[str]]]:
    """A wheel CSV (level1, level2, level3; blank cells repeat the cell above) as a tree.

    Words are lower-cased and stripped; insertion order follows the file.
    """
    path = Path(path)
    tree: dict[str, dict[str, list[str]]] = {}
    rows = read_rows(path, ("level1", "level2", "level3"))
    current = {"level1": "", "level2": "", "level3": ""}
    for line, row in rows:
        for key in current:
            cell = row[key]
            if cell not in _NA_CELLS:
                current[key] = cell
        l1, l2, l3 = (current[k].lower().strip() for k in ("level1", "level2", "level3"))
        if not l1 or not l2:
            raise DataError(path, f"line {line}: no level1/level2 word above this row")
        tree.setdefault(l1, {}).setdefault(l2, []).append(l3)
    if not tree:
        raise DataError(path, "no rows")
    return tree


def wheel_clusters(tree: Mapping[str, Mapping[str, list[str]]], level: str) -> dict[str, str]:
    """Every word on a wheel -> its level-1 sector or level-2 sub-sector.

    Words are assigned in file order and a later assignment wins (a word listed under
    two sectors belongs to the later one). At level 2 a level-1 word maps to the
    alphabetically first of its level-2 children.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, not {level!r}")
    clusters: dict[str, str] = {}
    for l1, children in tree.items():
        clusters[l1] = l1 if level == "level1" else sorted(children)[0]
        for l2, leaves in children.items():
            target = l1 if level == "level1" else l2
            clusters[l2] = target
            for l3 in leaves:
                clusters[l3] = target
    return clusters


@dataclass(frozen=True)
class WheelMaps:
    """The three lookup tables of the metric.

    ``format_mapping``: word form -> base words; ``raw_mapping``: base word -> wheel
    words it is a synonym of; ``clusters[(wheel, level)]``: wheel word -> cluster.
    """

    format_mapping: Mapping[str, tuple[str, ...]]
    raw_mapping: Mapping[str, tuple[str, ...]]
    clusters: Mapping[tuple[str, str], Mapping[str, str]]
    source: str = ""

    def map_word(self, word: str, wheel: str, level: str) -> str | None:
        """The cluster of one (already normalised) word, or None when it has none.

        All wheel words reachable through the word's forms and synonyms are sorted and
        the first one on this wheel decides, which makes the choice unique.
        """
        forms = self.format_mapping.get(word)
        if forms is None:
            return None
        clusters = self.clusters[(wheel, level)]
        candidates = sorted(w for form in forms for w in self.raw_mapping.get(form, ()))
        for candidate in candidates:
            if candidate in clusters:
                return clusters[candidate]
        return None

    def map_words(self, words: Iterable[str], wheel: str, level: str) -> set[str]:
        """The set of clusters of some words; unknown words are dropped."""
        mapped = (self.map_word(w, wheel, level) for w in normalize_words(words))
        return {m for m in mapped if m is not None}

    def differences(self, other: WheelMaps) -> list[str]:
        """Where two sets of tables disagree (as sets of targets); empty when equivalent."""
        problems = []
        for name in ("format_mapping", "raw_mapping"):
            mine, theirs = getattr(self, name), getattr(other, name)
            for key in sorted(set(mine) | set(theirs)):
                if set(mine.get(key, ())) != set(theirs.get(key, ())):
                    problems.append(f"{name}[{key!r}]")
        for key in sorted(set(self.clusters) | set(other.clusters)):
            if dict(self.clusters.get(key, {})) != dict(other.clusters.get(key, {})):
                problems.append(f"clusters[{key!r}]")
        return problems

    @classmethod
    def from_json(cls, path: str | Path) -> WheelMaps:
        """Read ``wheel_mapping.json`` (format_mapping, raw_mapping, wheel_map_whole)."""
        path = Path(path)
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DataError(path, "file not found") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DataError(path, f"not valid JSON: {exc}") from None
        try:
            fm = {k: tuple(v) for k, v in doc["format_mapping"].items()}
            rm = {k: tuple(v) for k, v in doc["raw_mapping"].items()}
            whole = doc["wheel_map_whole"]
            clusters = {(w, lv): dict(whole[w][lv]) for w in WHEELS for lv in LEVELS}
        except (KeyError, TypeError, AttributeError) as exc:
            raise DataError(path, f"missing or malformed table {exc}") from None
        return cls(fm, rm, clusters, source=str(path))

    @classmethod
    def from_csv(cls, root: str | Path) -> WheelMaps:
        """Build the tables from wheel1-5.csv, synonym.csv and format.csv in ``root``."""
        root = Path(root)
        trees = {w: read_wheel(root / f"{w}.csv") for w in WHEELS}
        clusters = {(w, lv): wheel_clusters(trees[w], lv) for w in WHEELS for lv in LEVELS}
        wheel_words = {
            word
            for tree in trees.values()
            for l1, kids in tree.items()
            for word in (l1, *kids, *(leaf for leaves in kids.values() for leaf in leaves))
        }
        return cls(
            _format_mapping(root / "format.csv"),
            _raw_mapping(root / "synonym.csv", wheel_words),
            clusters,
            source=str(root),
        )


def _format_mapping(path: Path) -> dict[str, tuple[str, ...]]:
    table: dict[str, list[str]] = {}
    for _, row in read_rows(path, ("name", "format")):
        base = row["name"]
        for form in parse_openset(row["format"]):
            table.setdefault(form, []).append(base)
        table.setdefault(base, []).append(base)
    return {k: tuple(v) for k, v in table.items()}


def _raw_mapping(path: Path, wheel_words: set[str]) -> dict[str, tuple[str, ...]]:
    rows = read_rows(path, ("word_run1", "synonym_run1"))
    header = rows[0][1].keys() if rows else []
    runs = sorted(
        (
            c[len("word_") :]
            for c in header
            if c.startswith("word_") and f"synonym_{c[len('word_') :]}" in header
        ),
    )
    table: dict[str, set[str]] = {}
    for line, row in rows:
        for run in runs:
            word = row[f"word_{run}"].strip().lower()
            if word not in wheel_words:
                raise DataError(path, f"line {line}: word_{run} {word!r} is on no wheel")
            table.setdefault(word, set()).add(word)
            for synonym in parse_openset(row[f"synonym_{run}"]):
                table.setdefault(synonym.strip().lower(), set()).add(word)
    return {k: tuple(sorted(v)) for k, v in table.items()}


def ovmer_root() -> Path:
    """Where the wheels and label files live: ``data_root()/ov-mer``."""
    return data_root() / "ov-mer"


@lru_cache(maxsize=8)
def _load_cached(root: str, source: str) -> WheelMaps:
    path = Path(root)
    if source == "json":
        return WheelMaps.from_json(path / "wheel_mapping.json")
    if source == "csv":
        return WheelMaps.from_csv(path)
    raise ValueError(f"source must be 'json' or 'csv', not {source!r}")


def load_wheel_maps(root: str | Path | None = None, source: str = "auto") -> WheelMaps:
    """The metric's tables from ``root`` (default :func:`ovmer_root`), cached.

    ``source``: "json" (wheel_mapping.json), "csv" (built from the wheel, synonym and
    format CSVs) or "auto" (the JSON when present, else the CSVs).
    """
    root = Path(root) if root is not None else ovmer_root()
    if not root.is_dir():
        raise DataError(root, "OV-MER folder not found (set EMOCHAT_DATA_ROOT)")
    if source == "auto":
        source = "json" if (root / "wheel_mapping.json").is_file() else "csv"
    return _load_cached(str(root.resolve()), source)


# --- label files ------------------------------------------------------------------------


def read_openset_csv(path: str | Path) -> dict[str, list[str]]:
    """A ``name,openset`` label file (gold or predicted) -> name -> words, file order.

    Raises DataError for a missing column, a blank or repeated name, naming the line.
    """
    path = Path(path)
    out: dict[str, list[str]] = {}
    for line, row in read_rows(path, ("name", "openset")):
        name = row["name"].strip()
        if not name:
            raise DataError(path, f"line {line}: empty name")
        if name in out:
            raise DataError(path, f"line {line}: sample {name!r} listed twice")
        out[name] = parse_openset(row["openset"])
    return out


# --- scores -----------------------------------------------------------------------------


@dataclass
class WheelScore:
    """Averaged set precision and recall, and F from them, on one wheel and level."""

    wheel: str
    level: str
    precision: float
    recall: float
    f: float
    n_scored: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "wheel": self.wheel,
            "level": self.level,
            "precision": self.precision,
            "recall": self.recall,
            "f": self.f,
            "n_scored": self.n_scored,
        }


@dataclass
class OVMERResult:
    """Per-wheel scores for both levels, their means over wheels, and the overall mean F."""

    scores: dict[str, list[WheelScore]]
    n_gold: int
    missing_predictions: list[str] = field(default_factory=list)

    def mean(self, level: str) -> dict[str, float]:
        """Mean over the five wheels of F, precision and recall at ``level``."""
        rows = self.scores[level]
        return {
            "f": sum(r.f for r in rows) / len(rows),
            "precision": sum(r.precision for r in rows) / len(rows),
            "recall": sum(r.recall for r in rows) / len(rows),
        }

    @property
    def mean_f(self) -> float:
        """Mean of the level-1 and level-2 mean F."""
        return sum(self.mean(level)["f"] for level in self.scores) / len(self.scores)

    def as_dict(self) -> dict[str, Any]:
        return {
            "metric": "ov-mer-emotion-wheel",
            "n_gold": self.n_gold,
            "missing_predictions": list(self.missing_predictions),
            "levels": {
                level: {"wheels": [r.as_dict() for r in rows], "mean": self.mean(level)}
                for level, rows in self.scores.items()
            },
            "mean_f": self.mean_f,
        }

    def format_table(self) -> str:
        """The figures as a fixed-width text table, 4 decimals."""
        lines = [f"{'level':<8}{'wheel':<8}{'precision':>10}{'recall':>10}{'F':>10}{'n':>6}"]
        for level, rows in self.scores.items():
            for r in rows:
                lines.append(
                    f"{level:<8}{r.wheel:<8}{r.precision:>10.4f}{r.recall:>10.4f}"
                    f"{r.f:>10.4f}{r.n_scored:>6d}"
                )
            m = self.mean(level)
            lines.append(
                f"{level:<8}{'mean':<8}{m['precision']:>10.4f}{m['recall']:>10.4f}{m['f']:>10.4f}"
            )
        lines.append(f"mean F over level1 and level2: {self.mean_f:.4f}")
        return "\n".join(lines)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def wheel_score(
    gold: Mapping[str, Any],
    pred: Mapping[str, Any],
    maps: WheelMaps,
    wheel: str,
    level: str,
) -> WheelScore:
    """Precision, recall and F on one wheel and level (see the module docstring).

    ``gold`` and ``pred`` map sample names to word lists or label-cell strings; only
    gold's samples are scored and a sample missing from ``pred`` counts as an empty
    prediction.
    """
    precisions, recalls = [], []
    for name, gold_cell in gold.items():
        g = maps.map_words(parse_openset(gold_cell), wheel, level)
        if not g:
            continue
        p = maps.map_words(parse_openset(pred.get(name)), wheel, level)
        if not p:
            precisions.append(0.0)
            recalls.append(0.0)
        else:
            hits = len(g & p)
            precisions.append(hits / len(p))
            recalls.append(hits / len(g))
    precision, recall = _mean(precisions), _mean(recalls)
    f = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    return WheelScore(wheel, level, precision, recall, f, len(precisions))


def ov_mer_scores(
    gold: Mapping[str, Any],
    pred: Mapping[str, Any],
    maps: WheelMaps | None = None,
    levels: Iterable[str] = LEVELS,
) -> OVMERResult:
    """The emotion-wheel metric on every wheel at each level."""
    maps = maps if maps is not None else load_wheel_maps()
    scores = {lv: [wheel_score(gold, pred, maps, w, lv) for w in WHEELS] for lv in levels}
    missing = [name for name in gold if name not in pred]
    return OVMERResult(scores=scores, n_gold=len(gold), missing_predictions=missing)


@dataclass
class HitRateResult:
    """MER-UniBench hit rate per wheel (level 1) and its mean over the wheels."""

    per_wheel: dict[str, float]
    n_scored: dict[str, int]
    n_gold: int
    missing_predictions: list[str] = field(default_factory=list)

    @property
    def hit_rate(self) -> float:
        return sum(self.per_wheel.values()) / len(self.per_wheel)

    def as_dict(self) -> dict[str, Any]:
        return {
            "metric": "mer-unibench-hit-rate",
            "hit_rate": self.hit_rate,
            "per_wheel": dict(self.per_wheel),
            "n_scored": dict(self.n_scored),
            "n_gold": self.n_gold,
            "missing_predictions": list(self.missing_predictions),
        }


def hit_rate(
    gold: Mapping[str, Any],
    pred: Mapping[str, Any],
    maps: WheelMaps | None = None,
) -> HitRateResult:
    """MER-UniBench hit rate: does the open-vocabulary prediction contain the gold emotion?

    For basic-emotion corpora (MER2023, MELD, IEMOCAP...) the gold is one label per
    sample. Gold and predicted words are mapped to level-1 clusters of each wheel;
    a sample scores the number of gold clusters found among the predicted ones (0 or
    1 for a single label), samples whose gold maps to nothing (e.g. "neutral", on no
    wheel) are skipped, scores are averaged per wheel and the five wheels averaged.
    """
    maps = maps if maps is not None else load_wheel_maps()
    per_wheel, counts = {}, {}
    for wheel in WHEELS:
        hits = []
        for name, gold_cell in gold.items():
            g = maps.map_words(parse_openset(gold_cell), wheel, "level1")
            if not g:
                continue
            p = maps.map_words(parse_openset(pred.get(name)), wheel, "level1")
            hits.append(float(len(g & p)))
        per_wheel[wheel] = _mean(hits)
        counts[wheel] = len(hits)
    missing = [name for name in gold if name not in pred]
    return HitRateResult(per_wheel, counts, len(gold), missing)
