"""The OV-MER emotion-wheel metric and the MER-UniBench hit rate.

The expected figures below were obtained for predict-openset.csv against
check-openset.csv by this implementation and, independently, by a line-by-line
transcription of the reference semantics (MERTools, MER2026_Track2 wheel.py) kept
outside the repository; both agree to 1e-15, with the tables read from
wheel_mapping.json or built from the CSVs.
"""

from __future__ import annotations

import math

import pytest

from emochat.core.errors import DataError
from emochat.eval import ovmer as O

# (precision, recall, F, samples scored) per wheel
EXPECTED = {
    "level1": {
        "wheel1": (0.5754, 0.5530, 0.5640, 327),
        "wheel2": (0.5963, 0.5595, 0.5773, 328),
        "wheel3": (0.5424, 0.5671, 0.5545, 324),
        "wheel4": (0.5573, 0.5394, 0.5482, 327),
        "wheel5": (0.5311, 0.5269, 0.5290, 316),
    },
    "level2": {
        "wheel1": (0.4670, 0.3824, 0.4205, 327),
        "wheel2": (0.4675, 0.3853, 0.4224, 328),
        "wheel3": (0.4420, 0.4466, 0.4443, 324),
        "wheel4": (0.4336, 0.4066, 0.4197, 327),
        "wheel5": (0.4301, 0.4029, 0.4161, 316),
    },
}
EXPECTED_MEAN = {"level1": (0.5605, 0.5492, 0.5546), "level2": (0.4480, 0.4048, 0.4246)}
EXPECTED_MEAN_F = 0.4896


def r4(x: float) -> float:
    return round(x, 4)


@pytest.fixture(scope="module")
def files(ovmer_dir):
    gold = O.read_openset_csv(ovmer_dir / "check-openset.csv")
    pred = O.read_openset_csv(ovmer_dir / "predict-openset.csv")
    return gold, pred


def test_label_files_are_read_in_file_order(files):
    gold, pred = files
    assert len(gold) == 332 and list(gold.values())[1] == ["excited", "joyful", "happy"]
    assert sum(not words for words in pred.values()) == 5


@pytest.mark.parametrize("source", ["json", "csv"])
def test_reference_figures(files, ovmer_dir, source):
    gold, pred = files
    result = O.ov_mer_scores(gold, pred, O.load_wheel_maps(ovmer_dir, source=source))
    assert result.n_gold == 332 and result.missing_predictions == []
    for level, wheels in EXPECTED.items():
        got = {
            s.wheel: (r4(s.precision), r4(s.recall), r4(s.f), s.n_scored)
            for s in result.scores[level]
        }
        assert got == wheels
        m = result.mean(level)
        assert (r4(m["precision"]), r4(m["recall"]), r4(m["f"])) == EXPECTED_MEAN[level]
    assert r4(result.mean_f) == EXPECTED_MEAN_F
    # full precision, as the reference computes it
    assert result.mean("level1")["f"] == pytest.approx(0.5546077966514373, abs=1e-12)
    assert result.mean("level2")["f"] == pytest.approx(0.42458260487565785, abs=1e-12)


def test_json_and_csv_tables_agree(ovmer_dir):
    from_json = O.load_wheel_maps(ovmer_dir, source="json")
    from_csv = O.load_wheel_maps(ovmer_dir, source="csv")
    assert from_json.differences(from_csv) == []
    assert len(from_json.format_mapping) == 7356
    assert len(from_json.raw_mapping) == 1255
    wheel_words = {w for cl in from_csv.clusters.values() for w in cl}
    assert len(wheel_words) == 253


def test_gold_against_itself_is_perfect(files, ovmer_dir):
    gold, _ = files
    result = O.ov_mer_scores(gold, gold, O.load_wheel_maps(ovmer_dir))
    for rows in result.scores.values():
        for s in rows:
            assert (s.precision, s.recall, s.f) == (1.0, 1.0, 1.0)
    assert result.mean_f == 1.0


def test_word_mapping_on_real_tables(ovmer_dir):
    maps = O.load_wheel_maps(ovmer_dir)
    # word form -> base word -> wheel word -> sector
    assert maps.map_word("angrily", "wheel1", "level1") == "mad"
    assert maps.map_word("angrily", "wheel2", "level1") == "angry"
    assert maps.map_word("cheerful", "wheel3", "level2") == "cheerful"
    assert maps.map_word("cheerful", "wheel4", "level1") is None  # no synonym on wheel4
    assert maps.map_word("worried", "wheel4", "level2") == "worried"
    # a level-1 word stands for its alphabetically first level-2 child
    assert maps.map_word("mad", "wheel1", "level2") == "aggressive"
    assert maps.map_word("sad", "wheel1", "level2") == "depressed"
    # unknown words and "neutral" (on no wheel) map to nothing
    assert maps.map_word("xyzzy", "wheel1", "level1") is None
    assert maps.map_word("neutral", "wheel3", "level1") is None
    # normalisation: case and blanks
    assert maps.map_words([" Angrily ", "XYZZY"], "wheel1", "level1") == {"mad"}


def test_wheel_reading_rules(ovmer_dir):
    tree = O.read_wheel(ovmer_dir / "wheel2.csv")
    level1 = O.wheel_clusters(tree, "level1")
    # "embarrassed" is listed under Disgusted and later under Sad: the later one wins
    assert level1["embarrassed"] == "sad"
    tree5 = O.read_wheel(ovmer_dir / "wheel5.csv")  # cells padded with blanks
    assert "mad" in tree5 and "jealous" in tree5["mad"]["hurt"]


def test_tie_break_is_alphabetical():
    maps = O.WheelMaps(
        format_mapping={"x": ("b", "a")},
        raw_mapping={"a": ("zeta", "alpha"), "b": ("beta",)},
        clusters={("w", "level1"): {"alpha": "A", "beta": "B", "zeta": "Z"}},
    )
    assert maps.map_word("x", "w", "level1") == "A"
    maps2 = O.WheelMaps(
        maps.format_mapping, maps.raw_mapping, {("w", "level1"): {"beta": "B", "zeta": "Z"}}
    )
    assert maps2.map_word("x", "w", "level1") == "B"


def test_degenerate_cases(ovmer_dir):
    maps = O.load_wheel_maps(ovmer_dir)
    gold = {"s1": ["happy", "relieved"], "s2": ["angry"], "s3": ["xyzzy"], "s4": []}
    # empty and unknown-only predictions score 0 precision and 0 recall
    res = O.ov_mer_scores(gold, {"s1": [], "s2": ["qwerty"], "s3": [], "s4": []}, maps)
    for rows in res.scores.values():
        for s in rows:
            assert (s.precision, s.recall, s.f, s.n_scored) == (0.0, 0.0, 0.0, 2)
    # gold with only unknown words (s3) or nothing (s4) is not scored
    res = O.ov_mer_scores(gold, {"s1": ["happy"], "s2": ["angry"], "s3": ["sad"]}, maps)
    w1 = res.scores["level1"][0]
    assert (w1.precision, w1.recall, w1.n_scored) == (1.0, 1.0, 2)
    assert res.missing_predictions == ["s4"]
    # half right: pred {happy, angry} vs gold {happy}
    res = O.ov_mer_scores({"s": ["happy"]}, {"s": ["happy", "angry"]}, maps)
    w1 = res.scores["level1"][0]
    assert (w1.precision, w1.recall) == (0.5, 1.0)
    assert w1.f == pytest.approx(2 / 3)
    # no gold at all: nothing scored, all zero
    res = O.ov_mer_scores({"s": ["xyzzy"]}, {"s": ["happy"]}, maps)
    assert all(s.n_scored == 0 and s.f == 0.0 for rows in res.scores.values() for s in rows)
    # a sample missing from the predictions counts as an empty prediction
    res = O.ov_mer_scores({"s": ["happy"], "t": ["sad"]}, {"s": ["happy"]}, maps)
    assert res.scores["level1"][0].precision == 0.5
    assert res.missing_predictions == ["t"]


@pytest.mark.parametrize(
    ("cell", "words"),
    [
        ("['happy', 'relieved']", ["happy", "relieved"]),
        ("[\"don't believe\", 'doubt']", ["don", "t believe", "doubt"]),
        ("happy, sad", ["happy", "sad"]),
        ("[]", []),
        ("", []),
        ("NA", []),
        (None, []),
        (math.nan, []),
        (["As", "is"], ["As", "is"]),
    ],
)
def test_parse_openset(cell, words):
    assert O.parse_openset(cell) == words


def test_hit_rate(files, ovmer_dir):
    gold, pred = files
    maps = O.load_wheel_maps(ovmer_dir)
    # single-label gold: the first gold word of each OV-MER sample
    first = {k: (v[0] if v else "") for k, v in gold.items()}
    res = O.hit_rate(first, pred, maps)
    assert r4(res.hit_rate) == 0.5547
    assert {w: r4(v) for w, v in res.per_wheel.items()} == {
        "wheel1": 0.5520,
        "wheel2": 0.5766,
        "wheel3": 0.5551,
        "wheel4": 0.5656,
        "wheel5": 0.5240,
    }
    assert res.n_scored == {
        "wheel1": 221,
        "wheel2": 222,
        "wheel3": 227,
        "wheel4": 244,
        "wheel5": 208,
    }
    # neutral is on no wheel: skipped; a hit counts 1, a miss 0
    small = O.hit_rate(
        {"a": "happy", "b": "sad", "c": "neutral"},
        {"a": ["joyful", "excited"], "b": ["angry"], "c": ["calm"]},
        maps,
    )
    assert small.n_scored["wheel1"] == 2 and small.per_wheel["wheel1"] == 0.5


def test_label_file_errors(tmp_path):
    bad = tmp_path / "dup.csv"
    bad.write_text("name,openset\ns1,\"['happy']\"\ns1,\"['sad']\"\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"line 3: sample 's1' listed twice"):
        O.read_openset_csv(bad)
    nocol = tmp_path / "nocol.csv"
    nocol.write_text("name,words\ns1,happy\n", encoding="utf-8")
    with pytest.raises(DataError, match="missing column"):
        O.read_openset_csv(nocol)
    with pytest.raises(DataError, match="not found"):
        O.read_openset_csv(tmp_path / "absent.csv")
    with pytest.raises(DataError, match="OV-MER folder not found"):
        O.load_wheel_maps(tmp_path / "nowhere")


def test_malformed_wheel_files(tmp_path, ovmer_dir):
    import shutil

    for name in (
        "wheel1.csv",
        "wheel2.csv",
        "wheel3.csv",
        "wheel4.csv",
        "wheel5.csv",
        "format.csv",
        "synonym.csv",
    ):
        shutil.copy(ovmer_dir / name, tmp_path / name)
    (tmp_path / "wheel3.csv").write_text("level1,level2,level3\n,Hurt,Distant\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"wheel3.csv: line 2"):
        O.WheelMaps.from_csv(tmp_path)
    shutil.copy(ovmer_dir / "wheel3.csv", tmp_path / "wheel3.csv")
    text = (tmp_path / "synonym.csv").read_text(encoding="utf-8").splitlines()
    text[3] = "notaword" + text[3][text[3].index(",") :]
    (tmp_path / "synonym.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"synonym.csv: line 4: word_run1 'notaword'"):
        O.WheelMaps.from_csv(tmp_path)
