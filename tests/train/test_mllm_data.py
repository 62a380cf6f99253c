"""Instruction samples from the real corpora (small, class-balanced) and a user manifest."""

from __future__ import annotations

import pytest

from emochat.core.errors import DataError
from emochat.models.emochat_llm.model import DEFAULT_DIMS
from emochat.models.emochat_llm.prompt import target_text
from emochat.train.emochat_llm import data as D


@pytest.mark.parametrize(
    "corpus, split",
    [("ravdess", "test"), ("fer2013", "test"), ("meld", "test"), ("smp2020", "dev")],
)
def test_training_builds_refuse_the_held_out_splits(corpus, split):
    with pytest.raises(DataError, match="held out"):
        D.build_corpus(corpus, split, "train", limit=1)


def test_evaluation_builds_take_only_the_held_out_split():
    with pytest.raises(DataError, match="held-out split 'test' only"):
        D.check_split("meld", "train", "eval")
    D.check_split("meld", "test", "eval")


def test_fer_samples_are_balanced_faces_with_measured_aus():
    samples = D.build_corpus("fer2013", "train", "train", limit=14)
    assert sorted(s.basic for s in samples) == sorted(
        ["neutral", "happy", "sad", "angry", "fear", "disgust", "surprise"] * 2
    )
    assert all(s.cues.present == ("face",) and s.split == "train" for s in samples)
    assert all(s.cues.by_modality["face"].vector.shape == (DEFAULT_DIMS["face"],) for s in samples)
    measured = [s for s in samples if s.cues.by_modality["face"].au]
    assert len(measured) >= 10  # the mesh finds most FER2013 faces
    for s in samples:
        target = target_text(s.basic, s.cues, s.native)
        assert "voice" not in target and "words" not in target.split("Why:")[1]


def test_ravdess_samples_have_voice_and_their_sentence():
    samples = D.build_corpus("ravdess", "train", "train", limit=2, seed=1)
    for s in samples:
        assert int(s.id.split("-")[-1]) <= 20  # actors 21-24 are held out
        assert s.cues.present == ("voice", "text")
        assert s.cues.by_modality["voice"].vector.shape == (DEFAULT_DIMS["voice"],)
        assert s.cues.by_modality["text"].words in D.RAVDESS_STATEMENTS.values()
        assert s.native[0] in s.cues.by_modality["voice"].probs  # native RAVDESS label


def test_text_corpora_keep_fine_gold_labels_as_words(tmp_path):
    go = D.build_corpus("goemotions", "train", "train", limit=7)
    assert all(s.cues.present == ("text",) for s in go)
    assert {w for s in go for w in s.native} - {"neutral"}  # fine labels, e.g. 'remorse'
    meld = D.cached_corpus(tmp_path, "meld", "train", "train", limit=5, log=lambda _m: None)
    again = D.cached_corpus(tmp_path, "meld", "train", "train", limit=5)
    assert [s.id for s in again] == [s.id for s in meld]
    assert [s.cues.by_modality["text"].words for s in again] == [
        s.cues.by_modality["text"].words for s in meld
    ]


def test_sample_cache_round_trips_vectors_and_cues(tmp_path, samples):
    path = D.save_samples(tmp_path / "s.npz", samples)
    back = D.load_samples(path)
    for a, b in zip(samples, back, strict=True):
        assert (a.id, a.basic, a.native, a.cues.present) == (
            b.id,
            b.basic,
            b.native,
            b.cues.present,
        )
        for m in a.cues.present:
            assert (a.cues.by_modality[m].vector == b.cues.by_modality[m].vector).all()
            assert a.cues.by_modality[m].probs == b.cues.by_modality[m].probs


def test_a_broken_cache_file_is_named(tmp_path):
    bad = tmp_path / "x.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(DataError, match="not a sample cache"):
        D.load_samples(bad)


def test_manifest_clip_gives_face_voice_and_transcript_cues(tmp_path, sample_clip):
    (tmp_path / "t.txt").write_text("I am so glad to see you all here today.\n")
    manifest = tmp_path / "clips.csv"
    manifest.write_text(f"path,label,transcript\n{sample_clip},happy,t.txt\n")
    (s,) = D.build_manifest(manifest, fps=2)
    assert s.basic == "happy" and s.source == "manifest"
    assert "face" in s.cues.present and "text" in s.cues.present
    assert s.cues.by_modality["face"].au  # the AU Agent measured the tracked face


def test_manifest_with_a_non_basic_label_is_refused(tmp_path, sample_clip):
    manifest = tmp_path / "clips.csv"
    manifest.write_text(f"path,label\n{sample_clip},bemused\n")
    with pytest.raises(DataError, match="not a basic emotion"):
        D.build_manifest(manifest)
