"""The built-in reasoner: an explanation assembled only from cues the report holds.

It never mentions a cue no stage measured. Every cue it names is listed in
``explanation.cites`` with its modality, time span and a cue id a reader (or a
test) can look up in that segment's evidence:

- face: ``AU12`` (an active AU or an AU event of that face),
- voice: ``voice:<label>`` (the speech-emotion label) or ``word:<text>`` (a word
  spoken with marked loudness or pitch),
- text: ``text:<label>`` (the text-emotion label) or ``lexicon:<word>``,
- any other modality: ``<modality>:<label>`` (its emotion label).
"""

from __future__ import annotations

from emochat.face.au.definitions import intensity_text
from emochat.report.model import (
    Explanation,
    FaceEvidence,
    ModalityEvidence,
    Report,
    Segment,
    TextEvidence,
    VoiceEvidence,
    evidence_from_json,
)

MAX_SEGMENTS_CITED = 3
MAX_AUS_PER_SEGMENT = 3
MARKED_Z = 1.0
"""A word is 'marked' when its loudness or pitch is this many SDs above the clip's mean."""
NOT_EXPRESSIVE = {"AU45"}
"""Blinks are short by nature: never reported as micro-expressions."""


def _span(seg: Segment, photo: bool) -> str:
    return "in the photo" if photo else f"{seg.start_s:.1f}-{seg.end_s:.1f} s"


def _salient_segments(segments: list[Segment], label: str) -> list[Segment]:
    """Segments that agree with the overall label (or hold a conflict), most confident first."""
    scored = [s for s in segments if s.emotion is not None and s.evidence]
    chosen = [s for s in scored if s.emotion.label == label or s.emotion.conflict] or scored
    chosen.sort(
        key=lambda s: (s.emotion.conflict is None, -s.emotion.probs.get(s.emotion.label, 0))
    )
    return chosen[:MAX_SEGMENTS_CITED]


def _cite(cites: list, modality: str, cue: str, start_s: float, end_s: float, **extra) -> None:
    cites.append({"modality": modality, "cue": cue, "start_s": start_s, "end_s": end_s, **extra})


def _face_sentence(seg: Segment, face: FaceEvidence, where: str, cites: list) -> list[str]:
    aus = face.active_aus[:MAX_AUS_PER_SEGMENT]
    out = []
    if aus:
        # graded by the segment mean and saying so: the AU Agent's description grades peaks
        cues = ", ".join(
            f"{a['name']} ({a['au']}) {intensity_text(a['mean'], 'mean')}" for a in aus
        )
        out.append(f"{where}, face {face.face_id}: {cues} -> {face.emotion.label}.")
        for a in aus:
            _cite(cites, "face", a["au"], seg.start_s, seg.end_s, face_id=face.face_id)
    else:
        out.append(f"{where}, face {face.face_id}: no action unit above its neutral baseline.")
    micro = [e for e in face.events if e["micro"] and e["au"] not in NOT_EXPRESSIVE]
    if micro:
        e = max(micro, key=lambda e: e["peak"])
        out.append(
            f"A micro-expression of {e['au']} peaks at {e['apex_s']:.2f} s "
            f"({e['offset_s'] - e['onset_s']:.2f} s long)."
        )
        _cite(cites, "face", e["au"], e["onset_s"], e["offset_s"], face_id=e["face_id"])
    return out


def _voice_sentence(seg: Segment, voice: VoiceEvidence, where: str, cites: list) -> list[str]:
    emo = voice.emotion
    if emo is None:
        return []
    sentence = f"The voice sounds {emo.label} (p={emo.confidence:.2f})"
    _cite(cites, "voice", f"voice:{emo.label}", seg.start_s, seg.end_s)
    marked = []
    for w in voice.words:
        z = (w.get("prosody") or {}).get("z") or {}
        if max(z.get("loudness", 0.0), z.get("pitch_mean_st", 0.0)) >= MARKED_Z:
            marked.append(w)
    if marked:
        shown = marked[:3]
        sentence += ", with stress on " + ", ".join(f"'{w['text']}'" for w in shown)
        for w in shown:
            _cite(cites, "voice", f"word:{w['text']}", w["start_s"], w["end_s"])
    return [sentence + "."]


def _text_sentence(seg: Segment, text: TextEvidence, where: str, cites: list) -> list[str]:
    emo = text.emotion
    if emo is None:
        return []
    words = _short(seg.text or text.text or "")
    sentence = f'The words "{words}" read as {emo.label} (p={emo.confidence:.2f})'
    _cite(cites, "text", f"text:{emo.label}", seg.start_s, seg.end_s)
    lexicon = [w for w in text.lexicon_words if isinstance(w, str)][:3]
    if lexicon:
        sentence += " (" + ", ".join(f"'{w}'" for w in lexicon) + ")"
        for w in lexicon:
            _cite(cites, "text", f"lexicon:{w}", seg.start_s, seg.end_s)
    return [sentence + "."]


def _other_sentence(seg: Segment, ev: ModalityEvidence, where: str, cites: list) -> list[str]:
    """A modality without sentences of its own: its emotion label, cited as such."""
    emo = ev.emotion
    if emo is None:
        return []
    _cite(cites, ev.modality, f"{ev.modality}:{emo.label}", seg.start_s, seg.end_s)
    return [f"The {ev.modality} reads as {emo.label} (p={emo.confidence:.2f})."]


_SENTENCES = {"face": _face_sentence, "voice": _voice_sentence, "text": _text_sentence}
"""The modalities whose cues have words of their own; the face's sentence names the place."""

_SOURCE = {"face": "the face", "voice": "the voice", "text": "the words"}


def _conflict_sentence(emotion) -> str:
    conflict = emotion.conflict
    says = [
        f"{_SOURCE.get(m, m)} {'say' if m == 'text' else 'says'} {label}"
        for m, label in zip(conflict["modalities"], conflict["labels"], strict=True)
    ]
    return (
        f"Mixed signals: {', '.join(says[:-1])} but {says[-1]}; "
        f"weighing them by reliability gives {emotion.label}"
        f"{', an uncertain answer' if emotion.uncertain else ''}."
    )


_UNCERTAIN_WHY = {
    "flat": "no label stands out",
    "disagreement": "the confident cues disagree",
    "segments": "every segment is uncertain",
}


def _uncertain_sentence(uncertain: dict) -> str:
    (a, b), (pa, pb) = uncertain["labels"][:2], uncertain["probs"][:2]
    return (
        f"This answer is uncertain ({_UNCERTAIN_WHY[uncertain['reason']]}): "
        f"{a} (p={pa:.2f}) or {b} (p={pb:.2f})."
    )


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def explain(segments: list[Segment], overall, photo: bool = False) -> Explanation:
    """Compose the explanation for a clip from its segments' evidence."""
    if overall is None:
        return Explanation(
            text="No face, voice or text evidence was measured, so no emotion is claimed.",
            cites=[],
        )
    sentences = [
        f"Overall the {'photo' if photo else 'clip'} reads as {overall.label} "
        f"(p={overall.probs[overall.label]:.2f}, valence {overall.valence:+.2f}, "
        f"arousal {overall.arousal:.2f}), from {overall.source}."
    ]
    if overall.uncertain:
        sentences.append(_uncertain_sentence(overall.uncertain))
    cites: list[dict] = []
    for seg in _salient_segments(segments, overall.label):
        where = _span(seg, photo)
        if "face" not in seg.evidence:
            sentences.append(f"{where}:")
        for ev in seg.ordered_evidence():
            sentences += _SENTENCES.get(ev.modality, _other_sentence)(seg, ev, where, cites)
        if seg.emotion.conflict:
            sentences.append(_conflict_sentence(seg.emotion))
    return Explanation(text=" ".join(sentences), cites=cites, reasoner="grounded")


def _evidence_has(seg: dict, cite: dict) -> bool:
    ev = evidence_from_json(seg["evidence"]).get(cite["modality"])
    if ev is None:
        return False
    cue = cite["cue"]
    if isinstance(ev, FaceEvidence):
        if ev.face_id != cite.get("face_id"):
            return False
        return cue in {a["au"] for a in ev.active_aus} | {e["au"] for e in ev.events}
    kind, _, value = cue.partition(":")
    if kind == ev.modality:  # voice:<label>, text:<label>, <modality>:<label>
        return ev.emotion is not None and ev.emotion.label == value
    if isinstance(ev, VoiceEvidence):
        return kind == "word" and value in {w["text"] for w in ev.words}
    if isinstance(ev, TextEvidence):
        return kind == "lexicon" and value in ev.lexicon_words
    return False


def uncited_cues(report: dict) -> list[str]:
    """Cited cues that no segment covering their time holds in its evidence (should be none)."""
    problems = []
    for cite in (report.get("explanation") or {}).get("cites", []):
        covering = [
            s
            for s in report["segments"]
            if s["start_s"] - 1e-6 <= cite["start_s"] and cite["end_s"] <= s["end_s"] + 1e-6
        ]
        if not any(_evidence_has(s, cite) for s in covering):
            problems.append(
                f"{cite['modality']} cue {cite['cue']} at {cite['start_s']}-{cite['end_s']} s"
            )
    return problems


class GroundedReasoner:
    """The built-in reasoner: cites only measured cues, with their times."""

    name = "grounded"

    def explain(self, report: Report) -> Explanation:
        return explain(report.segments, report.overall, bool(report.media.get("is_image")))
