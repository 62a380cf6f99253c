"""Typed evidence: every golden report's blocks read back and write out unchanged, the schema
has one definition per modality, and each modality's reliability follows what it measured."""

from __future__ import annotations

import jsonschema
import pytest

from emochat.report.model import (
    EVIDENCE_TYPES,
    Emotion,
    FaceEvidence,
    Report,
    Segment,
    TextEvidence,
    VoiceEvidence,
    evidence_from_json,
    report_schema,
    validate_report,
)
from emochat.testing.golden import GOLDEN_DIR, VOLATILE_KEYS, VOLATILE_PROVENANCE, load

GOLDENS = sorted(GOLDEN_DIR.glob("*.json.gz"))
MACHINE = {"cpu": "", "cpu_flags": [], "system": ""}


@pytest.mark.parametrize("path", GOLDENS, ids=lambda p: p.name.removesuffix(".json.gz"))
def test_golden_reports_validate_and_their_evidence_round_trips(path):
    data = load(path)
    # the goldens leave out what changes on every run or machine; the schema requires them
    made = {**data["provenance"], "software": {}, "machine": MACHINE}
    assert set(VOLATILE_PROVENANCE) == {"software", "machine"}
    validate_report(
        {**data, **dict.fromkeys(VOLATILE_KEYS, "")} | {"timings_s": {}, "provenance": made}
    )
    for seg in data["segments"]:
        typed = Segment(seg["start_s"], seg["end_s"], evidence=evidence_from_json(seg["evidence"]))
        assert all(ev.modality == m for m, ev in typed.evidence.items())
        written = Report(media={}, segments=[typed]).to_dict()["segments"][0]["evidence"]
        assert written == seg["evidence"]


def test_goldens_hold_every_modality():
    """So the round trip above covers each evidence type (a new one needs a golden)."""
    seen = {m for path in GOLDENS for seg in load(path)["segments"] for m in seg["evidence"]}
    assert seen == set(EVIDENCE_TYPES)


def test_schema_defines_each_registered_modality():
    schema = report_schema()
    evidence = schema["$defs"]["segment"]["properties"]["evidence"]
    assert schema["$defs"]["modality"]["enum"] == list(EVIDENCE_TYPES)
    for modality in EVIDENCE_TYPES:
        assert evidence["properties"][modality] == {"$ref": f"#/$defs/{modality}_evidence"}
        assert schema["$defs"][f"{modality}_evidence"]["required"]
    assert evidence["additionalProperties"] is False


def _face(n_frames: int = 10, confidence: float = 0.8) -> FaceEvidence:
    return FaceEvidence(
        face_id=0,
        n_frames=n_frames,
        mean_confidence=confidence,
        au_mean={"AU12": 2.0},
        active_aus=[{"au": "AU12", "name": "lip corner puller", "mean": 2.0}],
        events=[],
        emotion=Emotion.from_probs({"happy": 0.9, "neutral": 0.1}, source="au-emfacs"),
    )


def test_schema_rejects_a_face_block_without_its_frame_count():
    report = Report(
        media={"path": "x.jpg", "duration_s": 0.0, "has_audio": False, "has_video": True}
    )
    report.segments.append(Segment(0.0, 0.0, evidence={"face": _face()}))
    data = report.to_dict()
    validate_report(data)
    del data["segments"][0]["evidence"]["face"]["n_frames"]
    with pytest.raises(jsonschema.ValidationError):
        validate_report(data)


def test_reliability_follows_what_each_modality_measured():
    assert _face(n_frames=10, confidence=0.8).reliability == pytest.approx(0.8)
    assert _face(n_frames=2, confidence=1.0).reliability == pytest.approx(0.4)
    photo = _face(n_frames=1, confidence=0.9)
    photo.still_image = True  # a photo's one frame is a full look
    assert photo.reliability == pytest.approx(0.9)
    assert photo.to_json()["still_image"] is True and "still_image" not in _face().to_json()
    voice = VoiceEvidence(start_s=1.0, end_s=1.25, text="oh")
    assert voice.reliability == pytest.approx(0.25)  # a quarter second of speech
    mostly_pauses = VoiceEvidence(
        start_s=0.0, end_s=3.0, text="w", prosody={"voiced_fraction": 0.3}
    )
    assert mostly_pauses.reliability == pytest.approx(0.9)  # 0.9 s of voice in 3 s
    assert TextEvidence(text="so very happy").reliability == 1.0  # the user's transcript
    assert TextEvidence(text="happy", asr_confidence=0.9).reliability == pytest.approx(0.3)


def test_unknown_modality_is_refused():
    with pytest.raises(ValueError, match="smell"):
        evidence_from_json({"smell": {}})


def test_segment_evidence_is_read_in_modality_order_whatever_the_stage_order():
    text = TextEvidence(text="hi")
    voice = VoiceEvidence(start_s=0.0, end_s=1.0, text="hi")
    seg = Segment(0.0, 1.0, evidence={"text": text, "voice": voice, "face": _face()})
    assert [ev.modality for ev in seg.ordered_evidence()] == ["face", "voice", "text"]
    assert list(Report(media={}, segments=[seg]).to_dict()["segments"][0]["evidence"]) == [
        "text",
        "voice",
        "face",
    ]
