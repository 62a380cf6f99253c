"""The emochat-llm reasoner: segment cue vectors from the real pipeline into the multimodal LLM.

The plumbing tests use an adapter on a tiny RANDOM-WEIGHT LM (its answers mean nothing);
the slow test runs the shipped adapter on gemma-3-270m over a real clip with speech.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from emochat.core.labels import BASIC_LABELS
from emochat.models.emochat_llm.cues import FACE_DIM
from emochat.options import ReasonerSettings
from emochat.reasoning.emochat_llm import default_adapter, segment_cues
from emochat.report.model import (
    Emotion,
    FaceEvidence,
    Report,
    Segment,
    TextEvidence,
    VoiceEvidence,
    validate_report,
)

PROBS = {lab: (0.4 if lab == "happy" else 0.1) for lab in BASIC_LABELS}


def _segment() -> Segment:
    face = FaceEvidence(
        face_id=0,
        n_frames=10,
        mean_confidence=0.9,
        au_mean={"AU12": 2.4, "AU06": 1.1},
        active_aus=[],
        events=[],
        expression=Emotion("happy", PROBS, source="face-cnn"),
    )
    voice = VoiceEvidence(
        start_s=0.0,
        end_s=2.0,
        text="what a day",
        emotion=Emotion("calm", {"calm": 0.6, "happy": 0.4}),
    )
    text = TextEvidence(text="what a day", emotion=Emotion("happy", PROBS))
    return Segment(
        0.0,
        2.0,
        text="what a day",
        face_id=0,
        emotion=Emotion.from_probs(PROBS, source="fusion"),
        evidence={"face": face, "voice": voice, "text": text},
        cue_vectors={"voice": np.arange(7168, dtype=np.float16), "text": np.ones(384)},
    )


def test_segment_cues_hold_the_evidence_and_the_kept_vectors():
    cues = segment_cues(_segment())
    assert cues.present == ("face", "voice", "text")
    face = cues.by_modality["face"]
    assert face.vector.shape == (FACE_DIM,) and face.au["AU12"] == 2.4
    assert face.vector[-len(BASIC_LABELS) :].tolist() == pytest.approx(
        [PROBS[lab] for lab in BASIC_LABELS]
    )
    assert cues.by_modality["voice"].vector.dtype == np.float32
    assert cues.by_modality["voice"].vector[5] == 5.0
    assert cues.by_modality["voice"].probs == {"calm": 0.6, "happy": 0.4}
    assert cues.by_modality["text"].words == "what a day"


def test_a_modality_without_its_vector_is_left_out():
    seg = _segment()
    seg.cue_vectors = {"text": np.ones(384)}
    assert segment_cues(seg).present == ("face", "text")
    seg.evidence, seg.cue_vectors = {}, {}
    assert segment_cues(seg) is None


def test_report_json_leaves_the_cue_vectors_out():
    report = Report(media={"duration_s": 2.0}, segments=[_segment()])
    data = json.loads(report.to_json())
    assert "cue_vectors" not in data["segments"][0]
    assert data["segments"][0]["evidence"]["text"]["text"] == "what a day"
    assert report.segments[0].cue_vectors  # the in-memory report keeps them


@pytest.fixture(scope="module")
def tiny_adapter(tmp_path_factory):
    """An adapter with the real cue dimensions on a tiny RANDOM-WEIGHT LM (plumbing only)."""
    from emochat.models.emochat_llm.lm import load_lm
    from emochat.models.emochat_llm.model import DEFAULT_DIMS, EmoChatLM, MLLMConfig
    from emochat.train.emochat_llm.tiny import write_tiny_lm

    lm_dir = write_tiny_lm(tmp_path_factory.mktemp("tiny-lm"), ["Emotion analysis: happy sad"])
    lm, tok = load_lm(str(lm_dir))
    config = MLLMConfig(
        modality_dims=dict(DEFAULT_DIMS), projector_hidden=16, lm_source=str(lm_dir)
    )
    return EmoChatLM(lm, tok, config).save_trainable(tmp_path_factory.mktemp("adapter"))


def test_pipeline_to_explanation_with_a_tiny_adapter(explain_with, tiny_adapter):
    """The real sample clip's segments reach the LLM; its answers land in the report."""
    report = explain_with(ReasonerSettings(kind="emochat-llm", model_path=str(tiny_adapter)))
    assert not [w for w in report.warnings if w.stage == "reasoner"], report.warnings
    ex = report.explanation
    assert ex.reasoner == "emochat-llm" and ex.model == f"emochat-llm:{tiny_adapter.name}"
    assert ex.segments and all(a["modalities"] == ["face"] for a in ex.segments)
    for answer in ex.segments:
        assert answer["label"] in BASIC_LABELS
        assert sum(answer["probs"].values()) == pytest.approx(1.0, abs=1e-3)
    assert ex.text.startswith("The multimodal LLM reads the clip as ")
    assert ex.grounded_text and ex.cites  # the measured cues stay cited
    validate_report(report.to_dict())


def test_a_missing_adapter_falls_back_with_a_warning(explain_with, tmp_path):
    report = explain_with(ReasonerSettings(kind="emochat-llm", model_path=str(tmp_path)))
    assert report.explanation.reasoner == "grounded"
    (warning,) = [w for w in report.warnings if w.stage == "reasoner"]
    assert warning.code == "reasoner_fallback" and "not a saved emochat LLM adapter" in (
        warning.message
    )


def test_the_shipped_adapter_is_small_and_describes_its_cues():
    config = json.loads((default_adapter() / "mllm.json").read_text())
    assert config["lm_source"] is None  # the gemma-3-270m GGUF package, nothing else
    assert config["modality_dims"] == {"face": FACE_DIM, "voice": 7168, "text": 384}
    assert (default_adapter() / "trainable.safetensors").stat().st_size < 20 * 2**20
    assert (default_adapter() / "MODEL_CARD.md").is_file()


@pytest.mark.slow
def test_shipped_adapter_reads_face_voice_and_words_of_a_real_clip(sample_clip, tmp_path):
    """The shipped adapter on gemma-3-270m, through the CLI: espeak-ng speech muxed with the
    smiling sample clip gives a segment with all three modalities and a grounded answer."""
    from emochat.cli import main
    from emochat.testing.synth import espeak, mux_with_video

    audio = np.concatenate(
        [np.zeros(4000, np.float32), espeak("This is wonderful, I am so happy!", wpm=170)]
    )
    clip = mux_with_video(sample_clip, audio, tmp_path / "happy_words.mp4")
    out = tmp_path / "out"
    assert main(["analyze", str(clip), "-o", str(out), "-q", "--reasoner", "emochat-llm"]) == 0
    data = json.loads((out / "report.json").read_text())
    validate_report(data)
    assert not [w for w in data["warnings"] if w["stage"] == "reasoner"], data["warnings"]
    ex = data["explanation"]
    assert ex["reasoner"] == "emochat-llm" and ex["model"] == "emochat-llm:llm_adapter"
    spoken = [a for a in ex["segments"] if "voice" in a["modalities"]]
    assert spoken and spoken[0]["modalities"] == ["face", "voice", "text"]
    # a smiling face saying happy words: the trained adapter answers happy there
    assert spoken[0]["label"] == "happy", ex["segments"]
    assert spoken[0]["rationale"], ex["segments"]
    assert ex["grounded_text"] and ex["cites"]
