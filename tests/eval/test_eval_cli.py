"""``emochat eval``: ov-mer / hit-rate figures, corpus evaluators, manifest, clear errors."""

from __future__ import annotations

import argparse
import json

import pytest

from emochat.core.errors import DataError, MediaError
from emochat.core.settings import media_root
from emochat.eval import cli as eval_cli
from emochat.eval import registry, runner
from emochat.eval.registry import EVALUATORS, Evaluator, NoModelError


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="emochat eval")
    eval_cli.add_arguments(parser)
    return parser.parse_args(argv)


def run(argv: list[str]) -> int:
    return eval_cli.run(parse(argv))


def main(argv: list[str]) -> int:
    cli = pytest.importorskip("emochat.cli")
    return cli.main(["eval", *argv])


@pytest.mark.parametrize("mapping", ["json", "csv"])
def test_ovmer_command(ovmer_dir, tmp_path, capsys, mapping):
    out = tmp_path / "ovmer.json"
    rc = run(
        [
            "ov-mer",
            "--pred",
            str(ovmer_dir / "predict-openset.csv"),
            "--gold",
            str(ovmer_dir / "check-openset.csv"),
            "--json",
            str(out),
            "--mapping",
            mapping,
        ]
    )
    assert rc == 0
    text = capsys.readouterr().out
    lines = [" ".join(line.split()) for line in text.splitlines()]
    assert "level1 wheel1 0.5754 0.5530 0.5640 327" in lines
    assert "level1 wheel5 0.5311 0.5269 0.5290 316" in lines
    assert "level1 mean 0.5605 0.5492 0.5546" in lines
    assert "level2 wheel3 0.4420 0.4466 0.4443 324" in lines
    assert "level2 mean 0.4480 0.4048 0.4246" in lines
    assert "mean F over level1 and level2: 0.4896" in lines
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["mean_f"] == pytest.approx(0.48959520076354757, abs=1e-12)
    assert doc["levels"]["level2"]["mean"]["f"] == pytest.approx(0.42458260487565785)
    assert [w["n_scored"] for w in doc["levels"]["level1"]["wheels"]] == [327, 328, 324, 327, 316]


def test_ovmer_missing_file(ovmer_dir, tmp_path):
    with pytest.raises(DataError, match="nope.csv: file not found"):
        run(
            [
                "ov-mer",
                "--pred",
                str(tmp_path / "nope.csv"),
                "--gold",
                str(ovmer_dir / "check-openset.csv"),
            ]
        )


def test_ovmer_warns_about_missing_predictions(ovmer_dir, tmp_path, capsys):
    pred = tmp_path / "pred.csv"
    pred.write_text("name,openset\nsample_00000007,\"['happy']\"\n", encoding="utf-8")
    assert run(["ov-mer", "--pred", str(pred), "--gold", str(ovmer_dir / "check-openset.csv")]) == 0
    err = capsys.readouterr().err
    assert "331 of 332 gold samples have no prediction" in err


def test_hit_rate_command(ovmer_dir, tmp_path, capsys):
    from emochat.eval.ovmer import read_openset_csv

    gold = read_openset_csv(ovmer_dir / "check-openset.csv")
    gold_csv = tmp_path / "gold.csv"
    gold_csv.write_text(
        "name,label\n" + "".join(f"{k},{v[0]}\n" for k, v in gold.items()), encoding="utf-8"
    )
    out = tmp_path / "hit.json"
    assert (
        run(
            [
                "hit-rate",
                "--pred",
                str(ovmer_dir / "predict-openset.csv"),
                "--gold",
                str(gold_csv),
                "--json",
                str(out),
            ]
        )
        == 0
    )
    lines = [" ".join(line.split()) for line in capsys.readouterr().out.splitlines()]
    assert "mean 0.5547" in lines and "wheel2 0.5766 222" in lines
    assert json.loads(out.read_text())["hit_rate"] == pytest.approx(0.5546582173994037)


def test_every_corpus_and_tool_is_a_subcommand():
    assert {
        "ov-mer",
        "hit-rate",
        "manifest",
        "ravdess",
        "fer2013",
        "meld",
        "emorynlp",
        "goemotions",
        "smp2020",
        "isear",
    } <= set(EVALUATORS)
    args = parse(["meld", "--split", "dev", "--modality", "video", "--media-root", "/m"])
    assert (args.split, args.modality, str(args.media_root)) == ("dev", "video", "/m")
    assert parse(["smp2020"]).split == "dev"  # held-out split by default
    with pytest.raises(SystemExit):
        parse(["ravdess", "--split", "dev"])


def test_new_evaluators_can_be_registered(monkeypatch, capsys):
    seen = []
    monkeypatch.setitem(
        EVALUATORS,
        "toy",
        Evaluator(
            "toy",
            "a toy benchmark",
            lambda p: p.add_argument("--k", type=int, default=1),
            lambda args: seen.append(args.k) or 0,
        ),
    )
    assert run(["toy", "--k", "3"]) == 0 and seen == [3]


def _no_model():
    raise ImportError("No module named 'emochat.text.model'")


def test_dataset_without_model_says_so_in_one_line(monkeypatch, capsys):
    monkeypatch.setitem(registry.PREDICTORS, "text", _no_model)
    with pytest.raises(NoModelError):
        run(["meld"])
    rc = main(["meld"])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.count("\n") == 1
    assert err.startswith("emochat: error: cannot evaluate meld --modality text:")
    assert "Traceback" not in err


def test_unknown_modality_predictor(monkeypatch):
    monkeypatch.delitem(registry.PREDICTORS, "speech")
    with pytest.raises(NoModelError, match="no speech model is registered"):
        registry.load_predictor("speech")


def test_dataset_evaluation_with_a_model(corpus, monkeypatch, tmp_path, capsys):
    corpus("meld")
    calls = []

    def majority(texts, **hints):
        calls.append((len(texts), len(hints["context"]), hints["domain"]))
        return [{"label": "neutral", "probs": {"neutral": 1.0}} for _ in texts]

    monkeypatch.setitem(registry.PREDICTORS, "text", lambda: majority)
    assert run(["meld", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert calls == [(2610, 2610, "dialogue")]
    assert "protocol: context=earlier turns of the dialogue calibration=dialogue" in out
    assert "accuracy    0.4812" in out and "weighted F1 0.3127" in out
    doc = json.loads((tmp_path / "meld-test-text.json").read_text())
    assert doc["accuracy"] == pytest.approx(1256 / 2610)
    assert doc["uar"] == pytest.approx(1 / 7)
    assert doc["labels"] == ["neutral", "happy", "sad", "angry", "fear", "disgust", "surprise"]
    assert (tmp_path / "meld-test-text-confusion.png").stat().st_size > 2000
    md = (tmp_path / "meld-test-text.md").read_text()
    assert "| 0.4812 | 0.3127 |" in md


def test_dataset_native_labels_and_exclusions(corpus, monkeypatch, capsys):
    corpus("emorynlp")
    monkeypatch.setitem(registry.PREDICTORS, "text", lambda: lambda xs, **_: ["neutral"] * len(xs))
    assert run(["emorynlp", "--labels", "native", "--no-write"]) == 0
    assert "accuracy    0.2927" in capsys.readouterr().out  # 288 / 984
    result = runner.evaluate_dataset("emorynlp", predictor=lambda xs, **_: ["joy"] * len(xs))
    assert result.report.n == 777 and result.n_excluded == 207
    assert result.report.accuracy == pytest.approx(217 / 777)  # joy folds to happy
    # native space: a basic spelling is read as the corpus's own label when unique
    native = runner.evaluate_dataset(
        "emorynlp", label_space="native", predictor=lambda xs, **_: ["happy"] * len(xs)
    )
    assert native.report.accuracy == pytest.approx(217 / 984)  # joyful
    assert "joyful" in native.report.labels and "happy" not in native.report.labels


def test_ravdess_eight_classes(corpus):
    corpus("ravdess-speech")
    paths = []

    def fear(xs):
        paths.extend(xs)
        return ["fear"] * len(xs)

    res = runner.evaluate_dataset("ravdess", label_space="native", predictor=fear)
    assert res.report.n == 240 and len(paths) == 240
    assert all("Actor_2" in p for p in paths)  # actors 21-24 only
    assert res.report.accuracy == pytest.approx(32 / 240)  # fear -> fearful
    assert len(res.report.labels) == 8
    basic = runner.evaluate_dataset("ravdess", predictor=lambda xs: ["neutral"] * len(xs))
    assert basic.report.accuracy == pytest.approx(48 / 240)  # calm folds into neutral


def test_meld_video_needs_media(corpus):
    corpus("meld")
    with pytest.raises(DataError, match="needs --media-root"):
        runner.evaluate_dataset("meld", modality="video", predictor=lambda xs: xs)


def _media(name: str):
    path = media_root() / name
    if not path.is_file():
        pytest.skip(f"test media not available: {path}")
    return path


def test_manifest_runs_the_pipeline_per_clip(monkeypatch, tmp_path, capsys):
    clips = [_media("single_face.mp4"), _media("WolfgangLanger_Pexels.mp4"), _media("no_face.mp4")]
    manifest = tmp_path / "clips.csv"
    manifest.write_text(
        f"path,label,valence\n{clips[0]},happy,0.8\n{clips[1]},sad,-0.7\n{clips[2]},neutral,0.0\n",
        encoding="utf-8",
    )
    answers = {
        str(clips[0]): ("happy", 0.6),
        str(clips[1]): ("fear", -0.5),
        str(clips[2]): ("neutral", 0.1),
    }
    seen = []

    def fake_analyze(path, transcript=None, language=None):
        seen.append((path, transcript, language))
        label, valence = answers[path]
        return {"overall": {"label": label, "probs": {label: 1.0}, "valence": valence}}

    monkeypatch.setattr(runner, "load_analyze", lambda: fake_analyze)
    assert run(["manifest", str(manifest), "--out", str(tmp_path / "o"), "-q"]) == 0
    assert [s[1:] for s in seen] == [(None, "auto")] * 3
    out = capsys.readouterr().out
    assert "accuracy    0.6667" in out
    doc = json.loads((tmp_path / "o" / "clips-manifest-video.json").read_text())
    assert doc["weighted_f1"] == pytest.approx(2 / 3)
    # CCC of (0.8, -0.7, 0.0) vs (0.6, -0.5, 0.1)
    assert doc["valence_ccc"] == pytest.approx(0.9482, abs=1e-4)

    def failing(path, transcript=None, language=None):
        if path == str(clips[2]):
            raise MediaError(path, "cannot decode")
        return fake_analyze(path)

    monkeypatch.setattr(runner, "load_analyze", lambda: failing)
    assert run(["manifest", str(manifest), "--no-write", "-q"]) == 1
    captured = capsys.readouterr()
    assert "accuracy    0.3333" in captured.out
    assert "no_face.mp4: cannot decode" in captured.err


def test_manifest_scores_other_spellings_and_leaves_out_labels_with_no_basic_one(
    monkeypatch, tmp_path, capsys
):
    clip = _media("single_face.mp4")
    manifest = tmp_path / "posed.csv"
    rows = [("anger", "angry"), ("SU", "surprise"), ("surprised", "fear"), ("contempt", "happy")]
    manifest.write_text(
        "path,label\n" + "".join(f"{clip},{gold}\n" for gold, _ in rows), encoding="utf-8"
    )
    answers = iter(answer for _, answer in rows)
    analysed = []

    def fake_analyze(path, transcript=None, language=None):
        analysed.append(path)
        label = next(answers)
        return {"overall": {"label": label, "probs": {label: 1.0}}}

    monkeypatch.setattr(runner, "load_analyze", lambda: fake_analyze)
    assert run(["manifest", str(manifest), "--out", str(tmp_path / "o"), "-q"]) == 0
    assert len(analysed) == 3  # the contempt clip is not analysed
    out = capsys.readouterr().out
    assert "labels=basic n=3" in out and "accuracy    0.6667" in out
    assert "1 clip(s) whose label has no basic counterpart" in out and "contempt 1" in out
    doc = json.loads((tmp_path / "o" / "posed-manifest-video.json").read_text())
    assert doc["n_excluded"] == 1 and "contempt" in doc["excluded_reason"]


def test_manifest_without_pipeline_says_so(monkeypatch, tmp_path, capsys):
    import emochat

    def no_attr(name):
        raise AttributeError(name)

    monkeypatch.setattr(emochat, "__getattr__", no_attr, raising=False)
    monkeypatch.delattr(emochat, "analyze", raising=False)
    clip = tmp_path / "a.mp4"
    clip.write_bytes(b"\0")
    manifest = tmp_path / "m.csv"
    manifest.write_text("path,label\na.mp4,happy\n", encoding="utf-8")
    with pytest.raises(NoModelError, match="emochat.analyze is not available"):
        run(["manifest", str(manifest), "--no-write"])
    rc = main(["manifest", str(manifest), "--no-write"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "emochat.analyze is not available" in err
