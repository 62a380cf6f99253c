"""Training the Correlation Aggregator from a user manifest (plumbing, tiny random-init model).

Four espeak-ng clips with transcripts and two labels: too few to learn emotion, enough
to check that the features are built through the voice stage, the loss falls, the CLI
writes a model file, and a saved model predicts exactly what it did before saving.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from emochat.cli import main
from emochat.core.labels import BASIC_LABELS
from emochat.fusion.aggregator import Aggregator, AggregatorConfig
from emochat.testing.synth import espeak
from emochat.train.aggregator.features import build_cache
from emochat.train.aggregator.training import TrainSettings, load_inputs, train

SENTENCES = {
    "kids": ("Kids are talking by the door.", "happy"),
    "dogs": ("Dogs are sitting by the door.", "sad"),
}


@pytest.fixture(scope="module")
def manifest(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("agg_manifest")
    rows = ["path,label,transcript"]
    for name, (text, label) in SENTENCES.items():
        for wpm in (140, 190):
            audio = espeak(text, wpm=wpm)
            sf.write(tmp / f"{name}{wpm}.wav", np.concatenate([np.zeros(4000), audio]), 16000)
            (tmp / f"{name}{wpm}.txt").write_text(text + "\n", encoding="utf-8")
            rows.append(f"{name}{wpm}.wav,{label},{name}{wpm}.txt")
    path = tmp / "clips.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_cli_trains_and_loss_falls(manifest, tmp_path, capsys):
    out = tmp_path / "agg.pt"
    rc = main(["train", "aggregator", "manifest", str(manifest), "-o", str(out), "--epochs", "30"])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["used"] == 4 and summary["labels"] == list(BASIC_LABELS)
    losses = summary["losses"]
    assert len(losses) == 30 and losses[-1] < 0.7 * losses[0], losses
    model = Aggregator.load(out)
    assert model.cfg.labels == BASIC_LABELS and out.stat().st_size < 20e6


def test_save_load_round_trip(manifest, tmp_path):
    import pandas as pd

    df = pd.read_csv(manifest)
    clips = [
        (str(manifest.parent / p), str(manifest.parent / t))
        for p, t in zip(df.path, df.transcript, strict=True)
    ]
    paths = build_cache(clips, manifest.parent / ".emochat-aggregator-cache", log=lambda m: None)
    cfg = AggregatorConfig(BASIC_LABELS, meta={"note": "plumbing test, 3 epochs"})
    inputs = load_inputs(paths, cfg.layers)
    assert all(it.words and it.frame_t.size for it in inputs)
    y = np.array([BASIC_LABELS.index(label) for label in df.label])
    model, _ = train(inputs, y, cfg, TrainSettings(epochs=3, batch_size=2))
    model.save(tmp_path / "m.pt")
    again = Aggregator.load(tmp_path / "m.pt")
    before, after = model.predict(inputs), again.predict(inputs)
    assert again.cfg.meta == cfg.meta
    for a, b in zip(before, after, strict=True):
        assert a.probs == b.probs and a.agreement == b.agreement


def test_unknown_label_is_a_one_line_error(manifest, tmp_path, capsys):
    bad = manifest.parent / "bad.csv"
    bad.write_text(manifest.read_text().replace(",happy,", ",banana,"), encoding="utf-8")
    rc = main(["train", "aggregator", "manifest", str(bad), "-o", str(tmp_path / "x.pt")])
    err = capsys.readouterr().err.strip()
    assert rc != 0 and "bad.csv" in err and "banana" in err and len(err.splitlines()) == 1
