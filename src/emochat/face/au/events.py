"""AU events (onset, apex, offset) from per-frame intensities, and their description in words."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from emochat.core.action_units import AU_CODES, AU_LABELS
from emochat.face.au.definitions import intensity_text

MICRO_MAX_S = 0.5
"""Micro-expressions last 1/25 to 1/2 s (Ekman); an event shorter than this is flagged."""
NEVER_MICRO = frozenset({"AU45", "AU17", "AU20", "AU23", "AU25", "AU26"})
"""AUs never flagged micro: blinks (AU45) last 0.1-0.4 s by nature, and the lower-lip,
lip-stretching, lip-tightening and jaw actions are what articulation does with every
syllable; the face stage does not know when the person is voiced, so they are left out
always rather than only while speaking."""
MICRO_MIN_PEAK = 1.5
"""A micro-expression must reach "moderate" (the grading's first step above slight): a
slight flicker around the presence threshold is within landmark noise."""
MICRO_QUIET = 0.5
"""... and rise from below this intensity and fall back under it, each within
:data:`MICRO_SETTLE_S` of the onset and offset: a real onset and offset, not a value
hovering at the threshold during ongoing movement."""
MICRO_SETTLE_S = 0.1
"""Time the (smoothed) intensity may take to leave quiet before the onset and to return
to it after the offset."""
MAX_GAP_S = 0.5
"""A face unseen for longer than this ends any event in progress."""
MOUTH_AUS = frozenset({"AU10", "AU12", "AU14", "AU15"})
"""Lip AUs whose measures use the mouth's own points (the lip corners against the mouth's
mid-height, the upper lip's edge), which the jaw and lips move with every syllable: on
the MEAD clips AU12 reads as high in talking angry faces as in smiles."""
SPEECH_WINDOW_S = 1.0
"""Around a mouth-AU event, the stretch (each side) searched for the rhythm of speech:
speech comes in phrases of seconds, and a wide-open mouth can hold AU25 at its ceiling
for part of one, so a second each side. Chosen on the four conversation clips of
../shared/media (7 lip/brow micro events at 10 fps with 0.5 s, 3 with 1.0 s), not on
the talking or MEAD clips the false-alarm rate is reported on."""
SYLLABLE_SWING = 1.0
"""A mouth opening counts as one when the lips part (AU25) and close again by at least
this (the presence threshold, one 'trace' step). The lips, not the jaw: AU26 is measured
from the chin against the population's neutral and often sits at its ceiling (5) through
a talking clip, so its swings are cut off."""
SPEECH_OPENINGS = 2
"""... and this many openings in the event's window is syllable rhythm (speech: 3-6
syllables a second): the event is articulation, not a micro-expression. One opening may
belong to the expression itself (a gasp, a laugh)."""


@dataclass(frozen=True)
class AUEvent:
    """One episode of an AU being present. ``offset_s`` is when it was first seen absent
    again (or the last frame it was seen, if the face was lost). ``micro`` needs onset,
    apex and offset seen at the video's native frame rate (:func:`find_events`): an AU
    already present when the face appeared (a photo) is not flagged."""

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


def _seen_natively(frame_index: np.ndarray, before: int, after: int) -> bool:
    """Whether every decoded frame from ``before`` to ``after`` (positions) was analysed."""
    return bool(np.all(np.diff(frame_index[before : after + 1]) == 1))


_LIPS_PART = AU_CODES.index("AU25")


def mouth_openings(opening: np.ndarray) -> int:
    """Times ``opening`` rises by :data:`SYLLABLE_SWING` and falls back by as much."""
    count, low, high, rising = 0, np.inf, -np.inf, True
    for x in np.asarray(opening, dtype=np.float64):
        if rising:
            low = min(low, x)
            if x - low >= SYLLABLE_SWING:
                rising, high = False, x
        else:
            high = max(high, x)
            if high - x >= SYLLABLE_SWING:
                count, rising, low = count + 1, True, x
    return count


def speaking(t_s: np.ndarray, intensity: np.ndarray, start_t: float, end_t: float) -> bool:
    """Whether the mouth opens and closes at syllable rhythm around [start_t, end_t]."""
    sel = (t_s >= start_t - SPEECH_WINDOW_S) & (t_s <= end_t + SPEECH_WINDOW_S)
    return mouth_openings(intensity[sel][:, _LIPS_PART]) >= SPEECH_OPENINGS


def find_events(
    face_id: int,
    t_s: np.ndarray,
    intensity: np.ndarray,
    presence: np.ndarray,
    frame_index: np.ndarray,
) -> list[AUEvent]:
    """Runs of presence per AU, split where the face went unseen for over MAX_GAP_S.

    An event is ``micro`` when it lasts under :data:`MICRO_MAX_S`, its AU is not in
    :data:`NEVER_MICRO`, it peaks at :data:`MICRO_MIN_PEAK` or more from and back to
    under :data:`MICRO_QUIET` (within :data:`MICRO_SETTLE_S`), and the frame before its onset, its onset, apex and
    offset are all distinct decoded frames with none skipped between them
    (``frame_index``): at 10 fps a 25 fps video shows a half-second event as two or
    three samples, too few to tell a micro-expression from noise, so it is not flagged
    here (:mod:`emochat.face.au.micro` re-reads such candidates at the native rate).
    A mouth AU (:data:`MOUTH_AUS`) is not flagged while the mouth opens and closes at
    syllable rhythm around it (:data:`SPEECH_OPENINGS`): silent video does not say when
    the person is voiced, the rhythm of the lips does.
    """
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
                rising = int(np.searchsorted(t_s, t_s[max(start - 1, 0)] - MICRO_SETTLE_S))
                settled = int(np.searchsorted(t_s, t_s[min(i, n - 1)] + MICRO_SETTLE_S, "right"))
                micro = (
                    began_seen
                    and contiguous
                    and offset - t_s[start] < MICRO_MAX_S
                    and code not in NEVER_MICRO
                    and intensity[apex, a] >= MICRO_MIN_PEAK
                    and intensity[rising:start, a].min() < MICRO_QUIET
                    and intensity[i:settled, a].min() < MICRO_QUIET
                    and len({start - 1, start, apex, i}) == 4
                    and _seen_natively(frame_index, start - 1, i)
                    and not (code in MOUTH_AUS and speaking(t_s, intensity, t_s[start], offset))
                )
                events.append(
                    AUEvent(
                        face_id,
                        code,
                        float(t_s[start]),
                        float(t_s[apex]),
                        float(offset),
                        float(intensity[apex, a]),
                        micro,
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
