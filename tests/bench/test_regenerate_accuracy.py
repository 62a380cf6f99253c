"""bench/regenerate_accuracy.py: it finds every recorded figure and reports mismatches."""

from __future__ import annotations

from pathlib import Path

import pytest
import regenerate_accuracy as R

from emochat.core.settings import data_root

REPO = Path(__file__).resolve().parents[2]

SAMPLE = """# Benchmarks

## Speech emotion on three corpora, calibration, out-of-domain check, VAD (issue 23)

| date | machine | command | figures |
|---|---|---|---|
| 2026-12-06 | m | `emochat eval ravdess` | n=240, 7 classes: accuracy **0.7750**, UAR 0.7664, macro F1 0.7651 (x) |
| 2026-12-06 | m | `python -m emochat.train.speech_emotion heldout` | accuracy 0.546, UAR 0.527 |

## Open-vocabulary emotion-wheel metric (OV-MER)

| level | wheel1 F | mean F |
|---|---|---|
| level1 | 0.5640 | 0.5546 |

Mean F of the two levels: 0.4896.
"""

RAVDESS = [f for f in R.FIGURES if f.run == "ravdess"]


def test_every_figure_is_found_in_benchmarks_md():
    markdown = (REPO / "BENCHMARKS.md").read_text(encoding="utf-8")
    missing = [f.name for f in R.FIGURES if R.recorded_value(markdown, f) is None]
    assert missing == []
    assert {f.run for f in R.FIGURES} == set(R.RUNS)  # every run regenerates something


def test_rows_are_picked_by_their_command_and_column():
    values = {f.name: R.recorded_value(SAMPLE, f) for f in RAVDESS}
    assert values == {
        "RAVDESS accuracy": "0.7750",  # the eval row, not the heldout row's 0.546
        "RAVDESS UAR": "0.7664",
        "RAVDESS macro F1": "0.7651",
    }
    by_name = {f.name: f for f in R.FIGURES}
    assert R.recorded_value(SAMPLE, by_name["OV-MER level1 wheel1 F"]) == "0.5640"
    assert R.recorded_value(SAMPLE, by_name["OV-MER level1 mean F"]) == "0.5546"
    assert R.recorded_value(SAMPLE, by_name["OV-MER mean F of the levels"]) == "0.4896"
    assert R.recorded_value(SAMPLE, by_name["OV-MER level2 mean F"]) is None


def test_match_is_to_the_recorded_precision():
    assert R.matches("0.575", 0.57475) and R.matches("0.575", 0.5754)
    assert not R.matches("0.575", 0.5744) and not R.matches("0.575", 0.5756)
    assert R.matches("0.7708", 0.77083) and not R.matches("0.7708", 0.7710)


def _fake(values: dict[str, float]):
    def evaluate(run, out, data_root):
        return dict(values)

    return evaluate


GOOD = {"accuracy": 0.77503, "uar": 0.7664, "macro_f1": 0.7651}


@pytest.mark.parametrize(
    ("values", "rc", "status"),
    [
        (GOOD, 0, None),
        ({**GOOD, "accuracy": 0.7500}, 1, "MISMATCH"),
        ({"uar": 0.7664, "macro_f1": 0.7651}, 1, "NOT REGENERATED"),
    ],
)
def test_main_exits_non_zero_on_a_mismatch(tmp_path, capsys, values, rc, status):
    bench = tmp_path / "BENCHMARKS.md"
    bench.write_text(SAMPLE, encoding="utf-8")
    argv = ["--only", "ravdess", "--benchmarks", str(bench), "--data-root", str(tmp_path)]
    assert R.main(argv, evaluate=_fake(values)) == rc
    out = capsys.readouterr().out
    assert "| RAVDESS UAR | `emochat eval ravdess --split test` | 0.7664 | 0.7664 | match |" in out
    if status:
        assert f"| {status} |" in out and "2 of 3 figures match" in out
    else:
        assert "3 of 3 figures match" in out


def test_a_figure_missing_from_benchmarks_md_fails(tmp_path, capsys):
    bench = tmp_path / "BENCHMARKS.md"
    bench.write_text(SAMPLE.replace("UAR 0.7664, ", ""), encoding="utf-8")
    argv = ["--only", "ravdess", "--benchmarks", str(bench), "--data-root", str(tmp_path)]
    assert R.main(argv, evaluate=_fake(GOOD)) == 1
    assert "| RAVDESS UAR |" in (out := capsys.readouterr().out) and "NOT IN BENCHMARKS.md" in out


def test_ov_mer_rows_regenerate_through_the_cli(capsys):
    """The real thing for the fastest run: emochat eval ov-mer in a subprocess."""
    if not (data_root() / "ov-mer").is_dir():
        pytest.skip(f"corpus not available: {data_root() / 'ov-mer'}")
    assert R.main(["--only", "ov-mer"]) == 0
    out = capsys.readouterr().out
    assert "| OV-MER mean F of the levels |" in out and "17 of 17 figures match" in out
