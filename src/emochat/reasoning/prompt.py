"""The LLM reasoners' prompt, and the check that their text names only measured cues.

The prompt is completion-style (a report followed by an open "Explanation:" line), so
a base model continues it as well as an instruction-tuned one does. Per segment it
carries, with times: the AU Agent's own words for the face (``evidence.face.description``)
plus the active AUs with their mean intensity, the voice's emotion and stressed words,
the spoken words and their text emotion, and the fused emotion with any conflict.
"""

from __future__ import annotations

import re

from emochat.core.action_units import AU_LABELS
from emochat.reasoning.grounded import MARKED_Z
from emochat.report.model import (
    Emotion,
    FaceEvidence,
    ModalityEvidence,
    Report,
    Segment,
    TextEvidence,
    VoiceEvidence,
)

MAX_PROMPT_SEGMENTS = 24
"""Longer clips keep their most confident segments (in time order) so the prompt fits."""

INSTRUCTION = (
    "Below is an emotion analysis of a recording, measured by software: facial action "
    "units (AUs, intensity 0-5 above the person's neutral face), the voice's emotion and "
    "the spoken words, per time segment. An expert then explains in two or three "
    "sentences which measured cues support the overall emotion, naming their times. "
    "The expert mentions only cues listed in the analysis."
)


def _probability(emotion: Emotion | None) -> str:
    if emotion is None:
        return ""
    return f"{emotion.label} (p={emotion.confidence:.2f})"


def _face_line(seg: Segment, face: FaceEvidence) -> str:
    aus = ", ".join(f"{a['au']} {a['name']} {a['mean']:.1f}" for a in face.active_aus)
    line = f"  Face {face.face_id}: {face.description or 'no AU events'}."
    if aus:
        line += f" Active AUs (mean): {aus}."
    return line + f" Face reads {_probability(face.emotion)}."


def _voice_line(seg: Segment, voice: VoiceEvidence) -> str | None:
    emo = voice.emotion
    if emo is None:
        return None
    stressed = [
        f"'{w['text'].strip()}' at {w['start_s']:.1f} s"
        for w in voice.words
        if max(
            ((w.get("prosody") or {}).get("z") or {}).get(k, 0.0)
            for k in ("loudness", "pitch_mean_st")
        )
        >= MARKED_Z
    ]
    line = f"  Voice: sounds {_probability(emo)}."
    if stressed:
        line += " Stressed words: " + ", ".join(stressed[:4]) + "."
    return line


def _text_line(seg: Segment, text: TextEvidence) -> str | None:
    emo = text.emotion
    words = " ".join((seg.text or text.text or "").split())
    if emo is None or not words:
        return None
    line = f'  Words: "{words}" read as {_probability(emo)}.'
    lexicon = [w for w in text.lexicon_words if isinstance(w, str)]
    if lexicon:
        line += " Emotion words: " + ", ".join(lexicon[:5]) + "."
    return line


def _other_line(seg: Segment, ev: ModalityEvidence) -> str | None:
    """A modality without a line of its own: its emotion."""
    if ev.emotion is None:
        return None
    return f"  {ev.modality.capitalize()}: reads {_probability(ev.emotion)}."


_LINES = {"face": _face_line, "voice": _voice_line, "text": _text_line}


def _fused_line(seg: Segment) -> str:
    emo = seg.emotion
    line = f"  Combined: {emo.label} (p={emo.probs[emo.label]:.2f})."
    if emo.conflict:
        pairs = ", ".join(
            f"{m} says {label}"
            for m, label in zip(emo.conflict["modalities"], emo.conflict["labels"], strict=True)
        )
        line += f" Conflict: {pairs}."
    return line


def _segment_lines(seg: Segment, photo: bool) -> list[str]:
    where = "The photo" if photo else f"{seg.start_s:.1f}-{seg.end_s:.1f} s"
    lines = [f"Segment {where}:"]
    for ev in seg.ordered_evidence():
        lines.append(_LINES.get(ev.modality, _other_line)(seg, ev))
    lines.append(_fused_line(seg))
    return [line for line in lines if line]


def _shown_segments(segments: list[Segment]) -> list[Segment]:
    scored = [s for s in segments if s.emotion is not None and s.evidence]
    if len(scored) <= MAX_PROMPT_SEGMENTS:
        return scored
    keep = sorted(scored, key=lambda s: -s.emotion.probs[s.emotion.label])[:MAX_PROMPT_SEGMENTS]
    return sorted(keep, key=lambda s: s.start_s)


def build_prompt(report: Report) -> str:
    """The completion prompt for ``report`` (its segments, evidence and overall emotion)."""
    media, overall = report.media, report.overall
    photo = bool(media.get("is_image"))
    kind = "photo" if photo else f"{media.get('duration_s', 0):.1f} s recording"
    lines = [INSTRUCTION, "", f"Analysis of a {kind}:"]
    shown = _shown_segments(report.segments)
    for seg in shown:
        lines += _segment_lines(seg, photo)
    hidden = len([s for s in report.segments if s.emotion is not None]) - len(shown)
    if hidden > 0:
        lines.append(f"({hidden} less confident segments not shown.)")
    lines.append(
        f"Overall: {overall.label} (p={overall.probs[overall.label]:.2f}, "
        f"valence {overall.valence:+.2f}, arousal {overall.arousal:.2f})."
    )
    lines += ["", "Explanation:"]
    return "\n".join(lines)


_AU_CODE = re.compile(r"\bAU\s?0*(\d{1,2})\b", re.IGNORECASE)
_AU_NAMES = {name.lower(): code for code, name in AU_LABELS.items()}


def measured_aus(report: Report) -> set[str]:
    """AUs the report holds as active or as events, in any segment."""
    found = set()
    for seg in report.segments:
        face = seg.evidence.get("face")
        if face is not None:
            found |= {a["au"] for a in face.active_aus} | {e["au"] for e in face.events}
    return found


def unmeasured_cues(text: str, report: Report) -> list[str]:
    """AUs (by code or FACS name) that ``text`` mentions but the report never measured."""
    mentioned = {f"AU{int(n):02d}" for n in _AU_CODE.findall(text)}
    lowered = text.lower()
    mentioned |= {code for name, code in _AU_NAMES.items() if name in lowered}
    return sorted(mentioned - measured_aus(report))
