"""Micro-expression candidates re-read at the video's native frame rate.

At the default analysis rate (10 fps) a micro-expression (1/25 to 1/2 s) is one to five
samples: too few to see its onset, apex and offset, so :func:`find_events` flags nothing
it has not seen at the native rate. :func:`refine_micro` takes the short events the
sampled analysis found (candidates), decodes every frame in a short window around each
(one decoding pass, at most :data:`MAX_CANDIDATES` windows), re-tracks the face there and
grades its AUs against the track's settled neutral, and flags a candidate micro only when
the native frames show it as one (the rules of :func:`find_events`). An expression that
falls wholly between two samples is not a candidate and is not found; analysing at the
native rate (``fps=None``) finds those too.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from emochat.core.action_units import AU_CODES
from emochat.face.au.agent import AUAgent
from emochat.face.au.analysis import FaceAnalysis, iou_xywh
from emochat.face.au.events import (
    MICRO_MAX_S,
    MICRO_MIN_PEAK,
    MICRO_QUIET,
    MICRO_SETTLE_S,
    MOUTH_AUS,
    NEVER_MICRO,
    AUEvent,
    find_events,
    speaking,
)
from emochat.face.au.result import AUResult
from emochat.face.tracker import FaceTracker
from emochat.ingest import iter_frames_in

MAX_CANDIDATES = 24
"""Windows re-decoded per analysis at most (the strongest candidates first): bounds the
cost on long footage with many short movements."""
PAD_S = 0.4
"""Seconds decoded before a candidate's onset and after its offset: room for the
quiet frames before and after that :func:`find_events` requires."""
MIN_IOU = 0.3
"""A re-tracked face is the candidate's track when its box overlaps the track's box at
the nearest sampled frame by at least this."""


def sampling_period(analysis: FaceAnalysis) -> float | None:
    """The sampling period (s) when frames were skipped, else None (already native)."""
    index = analysis.frame_times[:, 1] if len(analysis.frame_times) else np.empty(0)
    if len(index) < 2 or np.all(np.diff(index) <= 1):
        return None
    return float(np.median(np.diff(analysis.frame_times[:, 0])))


def candidates(result: AUResult, period: float) -> list[AUEvent]:
    """Sampled events that could be micro-expressions: a flaggable AU, strong enough,
    short enough once the sampling's uncertainty (one period) is allowed for, quiet in
    the samples around it, and not a lip AU amid the lips' syllable rhythm: what the
    native frames would turn down anyway (:func:`find_events`) is not re-read."""

    def talking(e: AUEvent) -> bool:
        track = result.tracks.get(e.face_id)
        if e.au not in MOUTH_AUS or track is None:
            return False
        return speaking(track.t_s, track.intensity, e.onset_s, e.offset_s)

    def settles(e: AUEvent) -> bool:
        """Quiet (under MICRO_QUIET) in the samples just before the onset and just after
        the offset, one period more than the native rule's settling time each side."""
        track = result.tracks.get(e.face_id)
        if track is None:
            return True
        value, t = track.intensity[:, AU_CODES.index(e.au)], track.t_s
        reach = MICRO_SETTLE_S + period + 1e-6
        before = value[(t >= e.onset_s - reach) & (t < e.onset_s)]
        after = value[(t >= e.offset_s) & (t <= e.offset_s + reach)]
        if not (len(before) and len(after)):
            return False
        return bool(before.min() < MICRO_QUIET and after.min() < MICRO_QUIET)

    found = [
        e
        for e in result.events
        if not e.micro
        and e.au not in NEVER_MICRO
        and e.peak >= MICRO_MIN_PEAK
        and e.duration_s - period < MICRO_MAX_S
        and not talking(e)
        and settles(e)
    ]
    return sorted(found, key=lambda e: -e.peak)[:MAX_CANDIDATES]


def _windows(events: list[AUEvent]) -> list[tuple[float, float]]:
    spans = sorted((max(0.0, e.onset_s - PAD_S), e.offset_s + PAD_S) for e in events)
    merged: list[list[float]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def refine_micro(
    path: str | Path,
    analysis: FaceAnalysis,
    agent: AUAgent,
    max_side: int | None = 1280,
    max_faces: int = 4,
) -> FaceAnalysis:
    """``analysis`` with its micro candidates judged on every native frame around them.

    ``agent`` is the one that made ``analysis`` (its tracks' neutrals grade the re-read
    frames). A candidate confirmed micro is replaced by the native-rate event (its
    onset, apex and offset at the native frame times); the others stay as they were.
    Analyses already made at the native rate come back unchanged.
    """
    period = sampling_period(analysis)
    if period is None:
        return analysis
    found = candidates(analysis.au, period)
    if not found:
        return analysis
    windows = _windows(found)
    seen: dict[tuple[int, int], list] = {}  # (window, face_id) -> observations
    tracks = analysis.au.tracks
    # only the candidates' faces are looked for again: no faces smaller than half of
    # theirs, and no second detector (both cost most of a fresh window's first look)
    heights = [float(np.median(np.asarray(tracks[e.face_id].bbox, float)[:, 3])) for e in found]
    tracker = FaceTracker(max_faces=max_faces, min_face_px=min(heights) / 2, second_detector=None)
    current = 0
    for k, frame in iter_frames_in(path, windows, max_side=max_side):
        if k != current:  # each window is tracked afresh
            tracker.reset()
            current = k
        for obs in tracker.process(frame):
            best, best_iou = None, MIN_IOU
            for face_id, track in tracks.items():
                j = int(np.argmin(np.abs(track.t_s - obs.t_s)))
                iou = iou_xywh(np.asarray(obs.bbox, float), np.asarray(track.bbox[j], float))
                if iou >= best_iou:
                    best, best_iou = face_id, iou
            if best is not None:
                seen.setdefault((k, best), []).append(obs)
    confirmed: dict[AUEvent, AUEvent] = {}
    for (k, face_id), observations in seen.items():
        if len(observations) < 4:
            continue
        t_s, value, presence = agent.rescore(face_id, observations)
        index = np.array([o.frame_index for o in observations], dtype=np.int64)
        dense = [e for e in find_events(face_id, t_s, value, presence, index) if e.micro]
        a, b = windows[k]
        for cand in found:
            if cand.face_id != face_id or not a <= cand.onset_s <= b:
                continue
            match = [
                e
                for e in dense
                if e.au == cand.au
                and e.onset_s < cand.offset_s
                and e.offset_s > cand.onset_s - period
            ]
            if match:
                confirmed[cand] = max(match, key=lambda e: e.peak)
    if not confirmed:
        return analysis
    events = sorted(
        (confirmed.get(e, e) for e in analysis.au.events),
        key=lambda e: (e.onset_s, e.face_id, e.au),
    )
    return replace(analysis, au=replace(analysis.au, events=events))
