"""Segmenting the timeline, collecting per-segment cues, and the clip-level answer.

Segments are utterances when a speech stage provides them, else fixed windows.
Per segment the face evidence is the dominant face's mean AU intensities (above
its neutral baseline), the AU events inside the window and their description in
words; the face emotion comes from :mod:`emochat.fusion.face_emotion`.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from emochat.core.labels import BASIC_LABELS
from emochat.face.au import FaceAnalysis
from emochat.face.au.events import SPEECH_OPENINGS, mouth_openings
from emochat.fusion.face_emotion import average_face_readers, emotion_from_aus
from emochat.fusion.fuse import ModalityCue, certainty, fuse, uncertainty
from emochat.pipeline.contract import AnalysisContext, StageSkipped
from emochat.report.model import Emotion, FaceEvidence, Segment

ACTIVE_AU_INTENSITY = 1.0
"""Mean intensity (0-5) above which an AU is listed as active in a segment (FACS 'A' trace ~1)."""


MIN_GAP_S = 1.0
"""A stretch without speech at least this long gets its own (face-only) segments."""


def fixed_windows(start_s: float, end_s: float, window_s: float) -> list[tuple[float, float]]:
    """Cover ``[start_s, end_s]`` with windows of about ``window_s`` seconds."""
    span = end_s - start_s
    if span <= 0:
        return [(round(start_s, 3), round(start_s, 3))]
    n = max(1, math.floor(span / window_s + 0.5))
    edges = np.linspace(start_s, end_s, n + 1)
    return [
        (round(float(a), 3), round(float(b), 3)) for a, b in zip(edges[:-1], edges[1:], strict=True)
    ]


class SegmentStage:
    """Utterances from the voice stage, with fixed windows over the stretches between them.

    Without speech the whole media is windowed, so face-only clips still get
    segments; with speech, silent stretches keep their face evidence too.
    """

    name = "segment"

    def run(self, ctx: AnalysisContext) -> None:
        duration, window = ctx.media.duration_s, ctx.options.segment_s
        if not ctx.segments:
            ctx.segments = [Segment(a, b) for a, b in fixed_windows(0.0, duration, window)]
            return
        filled, cursor = [], 0.0
        for seg in sorted(ctx.segments, key=lambda s: s.start_s):
            if seg.start_s - cursor >= MIN_GAP_S:
                filled += [Segment(a, b) for a, b in fixed_windows(cursor, seg.start_s, window)]
            filled.append(seg)
            cursor = max(cursor, seg.end_s)
        if duration - cursor >= MIN_GAP_S:
            filled += [Segment(a, b) for a, b in fixed_windows(cursor, duration, window)]
        ctx.segments = filled


def _in_window(times, start_s: float, end_s: float, is_image: bool) -> np.ndarray:
    """Which per-frame times fall in a segment (a photo's one frame is in every segment)."""
    t = np.asarray(times, dtype=float)
    return np.ones_like(t, dtype=bool) if is_image else (t >= start_s) & (t < end_s + 1e-6)


def _window_stats(track: dict, names: list[str], start_s: float, end_s: float, is_image: bool):
    """Frame count, mean AU intensities, mean tracking confidence of a track in a window,
    and whether the face talks there (its lips open and close at least
    :data:`~emochat.face.au.events.SPEECH_OPENINGS` times)."""
    mask = _in_window(track["t_s"], start_s, end_s, is_image)
    n = int(mask.sum())
    if n == 0:
        return 0, {}, 0.0, False
    intensity = np.asarray(track["intensity"], dtype=float)[mask]
    means = {au: round(float(v), 3) for au, v in zip(names, intensity.mean(axis=0), strict=True)}
    confidence = track.get("confidence")
    mean_conf = float(np.asarray(confidence, dtype=float)[mask].mean()) if confidence else 1.0
    lips = intensity[:, names.index("AU25")] if "AU25" in names else np.zeros(0)
    return n, means, round(mean_conf, 3), mouth_openings(lips) >= SPEECH_OPENINGS


def _window_expression(ctx: AnalysisContext, face_id: int, seg: Segment) -> Emotion | None:
    """Mean expression-CNN probabilities of one face inside a segment.

    An arithmetic mean: an expression some frames show clearly (a smile building up)
    keeps its weight. A log-space pool (normalised geometric mean) was tried and gave the
    same MEAD accuracy (14/21) while turning single_face.mp4's smile neutral at 2
    frames/s: it favours what every frame allows, which is neutral."""
    block = ctx.report.expression
    track = next((t for t in (block or {}).get("tracks", []) if t["face_id"] == face_id), None)
    if track is None or not track["t_s"]:
        return None
    mask = _in_window(track["t_s"], seg.start_s, seg.end_s, ctx.media.is_image)
    if not mask.any():
        return None
    pooled = np.asarray(track["probs"], dtype=float)[mask].mean(axis=0)
    probs = {label: round(float(p), 4) for label, p in zip(block["labels"], pooled, strict=True)}
    return Emotion.from_probs(probs, source="face-cnn")


class FaceCueStage:
    """Per-segment face evidence (AUs, events, words) and the face emotion.

    A window with several faces becomes one segment per face, so each person gets
    an answer. After the speaker stage a segment with a ``role`` reads the face it names
    (the speaking face, none for an off-screen voice; the listening face); without that
    stage an utterance keeps one segment, attributed to the face seen most.
    """

    name = "face_cues"
    needs = (FaceAnalysis,)
    makes = ()

    def run(self, ctx: AnalysisContext) -> None:
        au = ctx.report.au
        faces = ctx.find(FaceAnalysis)
        if faces is None or not au:
            raise StageSkipped("no_face_cues", "no face track: segments carry no face evidence")
        segments = []
        for seg in ctx.segments:
            seen = []
            for track in au["tracks"]:
                n, means, conf, speaking = _window_stats(
                    track, au["names"], seg.start_s, seg.end_s, ctx.media.is_image
                )
                if n:
                    seen.append((n, track["face_id"], means, conf, speaking))
            seen.sort(key=lambda item: (-item[0], item[1]))
            if seg.role is not None:
                seen = [item for item in seen if item[1] == seg.face_id]
            if not seen:
                segments.append(seg)
                continue
            per_face = seen if seg.text is None else seen[:1]
            for n, face_id, means, conf, speaking in per_face:
                target = seg if len(per_face) == 1 else replace(seg, evidence=dict(seg.evidence))
                self._attach(ctx, faces, target, face_id, n, means, conf, speaking)
                segments.append(target)
        ctx.segments = segments

    @staticmethod
    def _attach(
        ctx: AnalysisContext,
        faces: FaceAnalysis,
        seg: Segment,
        face_id: int,
        n: int,
        means: dict,
        confidence: float,
        speaking: bool = False,
    ) -> None:
        au = ctx.report.au
        labels = au.get("labels", {})
        active = sorted(
            (a for a, v in means.items() if v >= ACTIVE_AU_INTENSITY), key=lambda a: -means[a]
        )
        events = [
            e
            for e in au["events"]
            if e["face_id"] == face_id
            and e["offset_s"] >= seg.start_s
            and e["onset_s"] <= seg.end_s
        ]
        au_emotion = emotion_from_aus(means, speaking)
        expression = _window_expression(ctx, face_id, seg)
        emotion = average_face_readers(expression, au_emotion) if expression else au_emotion
        seg.face_id = face_id
        seg.emotion = emotion
        seg.evidence["face"] = FaceEvidence(
            face_id=face_id,
            n_frames=n,
            mean_confidence=confidence,
            au_mean=means,
            active_aus=[{"au": a, "name": labels.get(a, a), "mean": means[a]} for a in active],
            events=events,
            description=faces.au.describe(face_id, seg.start_s, seg.end_s),
            emotion=emotion,
            expression=expression,
            au_emotion=au_emotion,
            still_image=ctx.media.is_image,
        )


class FusionStage:
    """One emotion per segment from every modality that has evidence there."""

    name = "fusion"

    def run(self, ctx: AnalysisContext) -> None:
        for seg in ctx.segments:
            cues = [
                ModalityCue(ev.modality, ev.emotion_for_fusion, ev.reliability)
                for ev in seg.ordered_evidence()
                if ev.emotion_for_fusion is not None and ev.reliability > 0
            ]
            if not cues:
                continue
            emotion, weights, conflict = fuse(cues)
            emotion.weights, emotion.conflict = weights, conflict
            seg.emotion = emotion


def pooled_emotion(segments: list[Segment]) -> Emotion | None:
    """Segment distributions averaged, each weighted by its duration times its certainty
    (1 - normalised entropy); None when no segment has an emotion.

    Uncertain when its own top label is under ``fuse.FLAT_BELOW`` or when every segment
    was uncertain (``segments``)."""
    weighted = [
        (
            seg.emotion,
            max(seg.end_s - seg.start_s, 0.1) * max(certainty(seg.emotion.probs), 1e-3),
        )
        for seg in segments
        if seg.emotion is not None
    ]
    if not weighted:
        return None
    total = sum(w for _, w in weighted)
    probs = {
        label: round(sum(e.probs.get(label, 0.0) * w for e, w in weighted) / total, 4)
        for label in BASIC_LABELS
    }
    sources = sorted({e.source for e, _ in weighted})
    every_segment_uncertain = all(e.uncertain for e, _ in weighted)
    return Emotion.from_probs(
        probs,
        source="+".join(sources),
        uncertain=uncertainty(probs, "segments" if every_segment_uncertain else None),
    )


class OverallStage:
    """The clip's emotion: segment distributions averaged, each weighted by its duration
    times its certainty (1 - normalised entropy), so a sure segment outweighs a flat or
    disputed one of the same length (:func:`pooled_emotion`). Each speaker's (when the
    speaker stage ran) is the same over that person's segments, speaking and listening.

    The answer is uncertain when its own top label is under ``fuse.FLAT_BELOW`` or when
    every segment was uncertain (``segments``)."""

    name = "overall"

    def run(self, ctx: AnalysisContext) -> None:
        for sp in ctx.report.speakers or []:
            sp.overall = pooled_emotion([s for s in ctx.segments if s.speaker == sp.id])
        overall = pooled_emotion(ctx.segments)
        if overall is None:
            raise StageSkipped("no_emotion", "no segment has an emotion estimate")
        ctx.report.overall = overall
