"""report.html: self-contained, renders whatever blocks exist, safe to embed any text."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from emochat.report.html import default_video_src, render_html
from emochat.report.model import (
    Emotion,
    Explanation,
    FaceEvidence,
    Report,
    Segment,
    Speaker,
    TextEvidence,
    VoiceEvidence,
    validate_report,
)

AUS = ["AU01", "AU02", "AU04", "AU06", "AU12", "AU15"]
LABELS = ["neutral", "happy", "sad", "angry", "fear", "disgust", "surprise"]


def _probs(top: str, p: float) -> dict[str, float]:
    rest = (1.0 - p) / (len(LABELS) - 1)
    return {k: round(p if k == top else rest, 4) for k in LABELS}


def rich_report(duration: float = 8.0, path: str = "clip one.mp4") -> Report:
    """A report with every block: faces, AUs, voice words, text, explanation."""
    t = np.round(np.arange(0, duration, 0.1), 3)
    intensity = np.clip(
        np.stack([2.5 + 2.4 * np.sin(t * (k + 1) / 3) for k in range(len(AUS))], axis=1), 0, 5
    )
    report = Report(
        media={
            "path": f"/data/{path}",
            "duration_s": duration,
            "fps": 25.0,
            "width": 320,
            "height": 240,
            "has_audio": True,
            "has_video": True,
        },
        emochat_version="test",
        stages=["face", "voice", "segment", "reasoner"],
    )
    report.faces = [{"face_id": 0, "first_s": 0.0, "last_s": float(t[-1]), "n_frames": int(t.size)}]
    report.au = {
        "names": AUS,
        "labels": {a: f"label of {a}" for a in AUS},
        "tracks": [{"face_id": 0, "t_s": t.tolist(), "intensity": np.round(intensity, 3).tolist()}],
        "events": [
            {
                "face_id": 0,
                "au": "AU12",
                "onset_s": 1.0,
                "apex_s": 1.5,
                "offset_s": 2.6,
                "peak": 3.2,
                "micro": False,
            },
            {
                "face_id": 0,
                "au": "AU04",
                "onset_s": 5.0,
                "apex_s": 5.1,
                "offset_s": 5.3,
                "peak": 1.9,
                "micro": True,
            },
        ],
    }
    spans = [
        (0.0, 3.0, "happy", "I am so glad you came </script><b>"),
        (3.0, 8.0, "sad", "but now it is over"),
    ]
    for a, b, label, text in spans:
        n = len(text.split())
        wt = np.linspace(a + 0.1, b - 0.1, n + 1)
        words = [
            {
                "text": w,
                "start_s": round(float(wt[i]), 3),
                "end_s": round(float(wt[i + 1]) - 0.05, 3),
                "probability": 0.9,
                "prosody": {
                    "pitch_mean_st": 30 + 3 * np.sin(i),
                    "loudness": 0.5 + 0.1 * i,
                    "pause_before_s": 0.6 if i == 2 else 0.05,
                    "z": {
                        "pitch_mean_st": 1.5 if i == 1 else 0.1,
                        "loudness": -1.2 if i == 3 else 0.0,
                    },
                },
            }
            for i, w in enumerate(text.split())
        ]
        emotion = Emotion(
            label, _probs(label, 0.7), 0.5 if label == "happy" else -0.5, 0.6, source="face+voice"
        )
        report.segments.append(
            Segment(
                a,
                b,
                text=text,
                face_id=0,
                emotion=emotion,
                evidence={
                    "face": FaceEvidence(
                        face_id=0,
                        n_frames=30,
                        mean_confidence=0.9,
                        au_mean={"AU12": 2.1},
                        description=f"face looks {label}",
                        active_aus=[{"au": "AU12", "name": "Lip Corner Puller", "mean": 2.1}],
                        events=[],
                        emotion=Emotion(label, _probs(label, 0.6)),
                    ),
                    "voice": VoiceEvidence(
                        start_s=a,
                        end_s=b,
                        text=text,
                        words=words,
                        prosody={"pitch_mean_st": 31.0, "loudness": 0.6},
                        emotion=Emotion("calm", {"calm": 0.6, "happy": 0.4}),
                    ),
                    "text": TextEvidence(text=text, emotion=Emotion(label, _probs(label, 0.8))),
                },
            )
        )
    report.overall = Emotion("sad", _probs("sad", 0.55), -0.3, 0.5, ["gloomy"], source="face+voice")
    report.explanation = Explanation(
        "Overall sad. 3.0-8.0 s, face 0: lip corner depressor (AU15) -> sad. "
        "A micro-expression of AU04 peaks at 5.10 s.",
        cites=[
            {"modality": "face", "cue": "AU04", "start_s": 5.0, "end_s": 5.3, "face_id": 0},
            {"modality": "voice", "cue": "pitch", "start_s": 3.0, "end_s": 8.0},
        ],
    )
    report.warn("voice", "no_words", "an example warning & <escaping>")
    report.timings_s = {"face": 1.0, "total": 2.0}
    return report


def _embedded(html: str, element_id: str):
    m = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', html, re.S)
    assert m, element_id
    return json.loads(m.group(1))


def test_rich_report_is_valid_and_embeds_the_whole_report():
    report = rich_report()
    validate_report(report.to_dict())
    html = render_html(report)
    assert _embedded(html, "emochat-report") == json.loads(json.dumps(report.to_dict()))
    # user text can never close the script element or inject markup
    assert html.count("</script>") == 3
    assert "<b>" not in html.split('id="static"')[1].split("</div>")[0]
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in html
    assert _embedded(html, "emochat-extra")["video_src"] == "clip%20one.mp4"


def test_dict_input_and_minimal_report_render():
    minimal = {
        "schema_version": "1.0.0",
        "media": {"path": "a.wav", "duration_s": 0.0, "has_audio": True, "has_video": False},
        "segments": [],
        "warnings": [],
        "timings_s": {},
        "stages": [],
    }
    html = render_html(minimal)
    assert _embedded(html, "emochat-report")["segments"] == []
    assert "a.wav" in html


def test_nan_becomes_null_and_thumbnails_must_be_data_uris():
    report = rich_report()
    report.segments[0].evidence["voice"].prosody["pitch_mean_st"] = float("nan")
    html = render_html(
        report, thumbnails={0: "data:image/jpeg;base64,AAAA", 1: "http://x/y.jpg"}, video_src=""
    )
    assert (
        _embedded(html, "emochat-report")["segments"][0]["evidence"]["voice"]["prosody"][
            "pitch_mean_st"
        ]
        is None
    )
    extra = _embedded(html, "emochat-extra")
    assert extra["thumbnails"] == {"0": "data:image/jpeg;base64,AAAA"}
    assert extra["video_src"] == ""


def test_default_video_src_is_relative_file_name():
    assert default_video_src({"path": "/a/b/c d#1.mp4"}) == "c%20d%231.mp4"
    assert default_video_src({}) is None


@pytest.mark.parametrize("drop", ["au", "explanation", "overall", "voice"])
def test_absent_blocks_still_render(drop):
    report = rich_report()
    if drop == "voice":
        for seg in report.segments:
            seg.evidence.pop("voice")
            seg.text = None
    else:
        setattr(report, drop, None)
    html = render_html(report)
    data = _embedded(html, "emochat-report")
    if drop == "voice":
        assert "voice" not in data["segments"][0]["evidence"]
    else:
        assert data[drop] is None
    assert "emochat-extra" in html


def test_an_uncertain_answer_is_valid_and_said_without_javascript():
    report = rich_report()
    seg = report.segments[0]
    seg.emotion.conflict = {
        "modalities": ["face", "text"],
        "labels": ["neutral", "angry"],
        "probs": [0.9, 0.8],
    }
    seg.emotion.uncertain = {
        "reason": "disagreement",
        "labels": ["neutral", "angry"],
        "probs": [0.45, 0.4],
    }
    report.overall.uncertain = {
        "reason": "flat",
        "labels": ["sad", "neutral"],
        "probs": [0.45, 0.3],
    }
    validate_report(report.to_dict())
    static = render_html(report).split('id="static"')[1]
    assert "Overall: sad (uncertain: flat)" in static


def two_speaker_report() -> Report:
    """:func:`rich_report` as a conversation of two people (schema 2.3): Alice (face 0)
    speaks 0-3 s while face 1 listens, S2 (face 1) speaks 3-8 s while Alice listens."""
    report = rich_report()
    report.faces.append({"face_id": 1, "first_s": 0.0, "last_s": 7.9, "n_frames": 80})
    first, second = report.segments
    first.speaker, first.role, first.speaker_face_confidence = "S1", "speaking", 0.92
    second.speaker, second.face_id, second.role = "S2", 1, "speaking"
    second.speaker_face_confidence = 0.81
    second.evidence["face"].face_id = 1
    listeners = []
    for seg, face, label in ((first, 1, "neutral"), (second, 0, "surprise")):
        face_only = Emotion(label, _probs(label, 0.6), source="face")
        listeners.append(
            Segment(
                seg.start_s,
                seg.end_s,
                speaker=seg.speaker,
                face_id=face,
                role="listening",
                emotion=face_only,
                evidence={
                    "face": FaceEvidence(
                        face_id=face,
                        n_frames=30,
                        mean_confidence=0.9,
                        au_mean={},
                        description=f"face looks {label}",
                        active_aus=[],
                        events=[],
                        emotion=face_only,
                    )
                },
            )
        )
    report.segments = [first, listeners[0], second, listeners[1]]
    report.speakers = [
        Speaker(
            "S1",
            face_id=0,
            name="Alice",
            talk_time_s=3.0,
            n_segments=2,
            overall=Emotion("happy", _probs("happy", 0.5), source="face+voice"),
            attribution="av-sync",
        ),
        Speaker(
            "S2",
            face_id=1,
            talk_time_s=5.0,
            n_segments=2,
            overall=Emotion("sad", _probs("sad", 0.5), source="face+voice"),
            attribution="av-sync",
        ),
    ]
    return report


def test_a_two_speaker_report_is_valid_and_names_its_people_without_javascript():
    report = two_speaker_report()
    data = report.to_dict()
    validate_report(data)
    assert [p["id"] for p in data["speakers"]] == ["S1", "S2"]
    assert data["speakers"][0]["overall"]["label"] == "happy"
    assert [s.get("role") for s in data["segments"]] == [
        "speaking",
        "listening",
        "speaking",
        "listening",
    ]
    static = render_html(report).split('id="static"')[1]
    assert "<li>Alice (face 0): happy, 3.0 s of speech</li>" in static
    assert "<li>S2 (face 1): sad, 5.0 s of speech</li>" in static


def test_speakers_is_null_without_a_speaker_analysis_and_a_bad_block_is_refused():
    import jsonschema

    data = rich_report().to_dict()
    assert data["speakers"] is None
    assert "role" not in data["segments"][0]
    validate_report(data)
    assert "people-static" not in render_html(rich_report())
    bad = two_speaker_report().to_dict()
    bad["speakers"][0]["attribution"] = "guess"
    with pytest.raises(jsonschema.ValidationError):
        validate_report(bad)
    bad = two_speaker_report().to_dict()
    bad["segments"][1]["role"] = "talking"
    with pytest.raises(jsonschema.ValidationError):
        validate_report(bad)
