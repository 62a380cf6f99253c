"""AU events (onset, apex, offset) from per-frame intensities, and their description in words."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from emochat.core.action_units import AU_CODES, AU_LABELS
from emochat.face.au.definitions import intensity_text

MICRO_MAX_S = 0.5
"""Micro-expressions last 1/25 to 1/2 s (Ekman); an event shorter than this is flagged."""
MAX_GAP_S = 0.5
"""A face unseen for longer than this ends any event in progress."""


@dataclass(frozen=True)
class AUEvent:
    """One episode of an AU being present. ``offset_s`` is when it was first seen absent
    again (or the last frame it was seen, if the face was lost). ``micro`` needs both
    ends seen: an AU already present when the face appeared (a photo) is not flagged."""

    face_id: int
    au: str
    onset_s: float
    apex_s: float
    offset_s: float
    peak: float
    micro: bool

    @property
    def duration_s(self) -> float:
        return self.offset_s - self.onset_s

    def to_dict(self) -> dict:
        d = asdict(self)
        for key in ("onset_s", "apex_s", "offset_s", "peak"):
            d[key] = round(float(d[key]), 3)
        d["micro"] = bool(d["micro"])
        return d


def find_events(
    face_id: int, t_s: np.ndarray, intensity: np.ndarray, presence: np.ndarray
) -> list[AUEvent]:
    """Runs of presence per AU, split where the face went unseen for over MAX_GAP_S."""
    events = []
    n = len(t_s)
    if n == 0:
        return events
    # first frame after each gap
    breaks = set((np.flatnonzero(np.diff(t_s) > MAX_GAP_S) + 1).tolist())
    for a, code in enumerate(AU_CODES):
        present = presence[:, a].astype(bool)
        start = None
        for i in range(n + 1):
            ends_here = i == n or not present[i] or i in breaks
            if start is not None and ends_here:
                contiguous = i < n and i not in breaks
                offset = t_s[i] if contiguous else t_s[i - 1]
                began_seen = start > 0 and start not in breaks
                apex = start + int(np.argmax(intensity[start:i, a]))
                events.append(
                    AUEvent(
                        face_id,
                        code,
                        float(t_s[start]),
                        float(t_s[apex]),
                        float(offset),
                        float(intensity[apex, a]),
                        began_seen and contiguous and offset - t_s[start] < MICRO_MAX_S,
                    )
                )
                start = None
            if i < n and present[i] and start is None:
                start = i
    return sorted(events, key=lambda e: (e.onset_s, e.au))


def describe_events(events: list[AUEvent], start_s: float, end_s: float, limit: int = 6) -> str:
    """'brow lowerer (AU4) strong (peak 3.2), 1.2-1.8 s; lip corner depressor (AU15) ...'.

    The strongest event per AU within the window, strongest AU first, graded by its peak
    (:func:`~emochat.face.au.definitions.intensity_text`); times are shown when the event
    covers only part of the window.
    """
    strongest: dict[str, AUEvent] = {}
    for ev in events:
        if ev.offset_s < start_s or ev.onset_s > end_s:
            continue
        if ev.au not in strongest or ev.peak > strongest[ev.au].peak:
            strongest[ev.au] = ev
    parts = []
    for ev in sorted(strongest.values(), key=lambda e: -e.peak)[:limit]:
        text = f"{AU_LABELS[ev.au]} (AU{int(ev.au[2:])}) {intensity_text(ev.peak, 'peak')}"
        on, off = max(ev.onset_s, start_s), min(ev.offset_s, end_s)
        if on > start_s + 0.05 or off < end_s - 0.05:
            text += f", {on:.1f}-{off:.1f} s"
        if ev.micro:
            text += ", micro-expression"
        parts.append(text)
    return "; ".join(parts)
