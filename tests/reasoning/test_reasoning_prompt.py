"""The LLM prompt holds each modality's measured cues with times; the cue check is honest."""

from __future__ import annotations

import copy

from emochat.reasoning.prompt import MAX_PROMPT_SEGMENTS, build_prompt, unmeasured_cues
from emochat.report.model import Emotion, FaceEvidence, Report, Segment, TextEvidence, VoiceEvidence

PROBS = {"happy": 0.2, "sad": 0.7, "neutral": 0.1}


def _spoken_report() -> Report:
    """One segment with face, voice and text evidence shaped like the pipeline's."""
    face = FaceEvidence(
        face_id=0,
        n_frames=12,
        mean_confidence=0.9,
        au_mean={"AU12": 2.6},
        description="lip corner puller (AU12) strong, 1.0-2.0 s",
        active_aus=[{"au": "AU12", "name": "lip corner puller", "mean": 2.6}],
        events=[{"au": "AU12", "face_id": 0, "onset_s": 1.0, "offset_s": 2.0, "micro": False}],
        emotion=Emotion("happy", {"happy": 0.8, "sad": 0.2}),
    )
    word = {"text": " terrible", "start_s": 2.5, "end_s": 2.9, "prosody": {"z": {"loudness": 1.4}}}
    voice = VoiceEvidence(
        start_s=0.5,
        end_s=3.0,
        text="I feel terrible",
        emotion=Emotion("sad", {"sad": 0.6, "happy": 0.4}),
        words=[word],
    )
    text = TextEvidence(
        text="I feel terrible",
        emotion=Emotion("sad", {"sad": 0.9, "happy": 0.1}),
        lexicon_words=["terrible"],
    )
    conflict = {"modalities": ["face", "text"], "labels": ["happy", "sad"]}
    seg = Segment(
        0.5,
        3.0,
        text="I feel terrible",
        face_id=0,
        emotion=Emotion("sad", PROBS, -0.4, 0.5, conflict=conflict),
        evidence={"face": face, "voice": voice, "text": text},
    )
    media = {"duration_s": 3.2, "is_image": False}
    return Report(media=media, segments=[seg], overall=Emotion("sad", PROBS, -0.4, 0.5))


def test_prompt_carries_face_voice_words_and_conflict_with_times():
    prompt = build_prompt(_spoken_report())
    assert "Analysis of a 3.2 s recording:" in prompt
    assert "Segment 0.5-3.0 s:" in prompt
    assert "lip corner puller (AU12) strong, 1.0-2.0 s" in prompt
    assert "AU12 lip corner puller 2.6" in prompt
    assert "Voice: sounds sad (p=0.60). Stressed words: 'terrible' at 2.5 s." in prompt
    assert 'Words: "I feel terrible" read as sad (p=0.90). Emotion words: terrible.' in prompt
    assert "Conflict: face says happy, text says sad." in prompt
    assert "Overall: sad (p=0.70, valence -0.40, arousal 0.50)." in prompt
    assert prompt.endswith("\n\nExplanation:")


def test_long_clips_keep_the_most_confident_segments_in_time_order():
    report = _spoken_report()
    base = report.segments[0]
    report.segments = []
    for i in range(MAX_PROMPT_SEGMENTS + 6):
        seg = copy.deepcopy(base)
        seg.start_s, seg.end_s = 3.0 * i, 3.0 * i + 2.5
        seg.emotion = Emotion("sad", {"sad": 0.3 + 0.01 * i, "happy": 0.7 - 0.01 * i})
        report.segments.append(seg)
    prompt = build_prompt(report)
    assert prompt.count("Segment ") == MAX_PROMPT_SEGMENTS
    assert "(6 less confident segments not shown.)" in prompt
    assert "Segment 0.0-2.5 s" not in prompt and "Segment 18.0-20.5 s" in prompt
    starts = [
        float(line.split()[1].split("-")[0])
        for line in prompt.splitlines()
        if line.startswith("Segment")
    ]
    assert starts == sorted(starts)


def test_unmeasured_cues_by_code_and_by_name():
    report = _spoken_report()
    assert unmeasured_cues("The smile (AU12, lip corner puller) dominates.", report) == []
    assert unmeasured_cues("AU 4 and a brow lowerer", report) == ["AU04"]
    assert unmeasured_cues("au09, AU06 and the nose wrinkler", report) == ["AU06", "AU09"]
    assert unmeasured_cues("AU99 is not a real unit", report) == ["AU99"]
