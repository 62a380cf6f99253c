"""Who is speaking: audio-visual synchrony between each face's mouth and the voice.

Per face track the mouth opening is the inner-lip gap (iBUG points 62-66, with 61-67 and
63-65) over the eye-corner distance, so it does not depend on the face's size in the
frame. The voice is the loudness envelope (eGeMAPS loudness, 100 frames per second, that
the voice stage computes anyway), read at each face frame's time plus a lag. For a face
and an utterance the synchrony is the Pearson correlation of how much each changes from
one face frame to the next (``|d opening|`` against ``|d loudness|``) over the utterance
padded by :data:`PAD_S` on each side: the speaker's mouth opens and closes with the
syllables and the pauses, a listener's (nodding, smiling, mouthing) on its own time.
Changes beat levels: on the first five fit composites the change correlation attributed
21/22 utterances right, the level correlation (opening against loudness) 19/22.

The audio-visual offset is one per clip: the lag in ``[-MAX_LAG_S, MAX_LAG_S]`` that
maximises the summed best-face synchrony over all utterances (a per-utterance lag search
over-fits 2-s utterances). Evidence is pooled over utterances the transcript gives to the
same named speaker, or that share a voice cluster (the speaker stage): their synchrony is
averaged, weighted by duration. An utterance goes to the face with the highest synchrony
when that is at least :data:`MIN_SYNC` and leads the next face by :data:`MIN_MARGIN`;
otherwise it is "off-screen/unknown" (``None``).

Limits: at the default 10 analysed frames per second a mouth is sampled below the
syllable rate, so short utterances (< 1 s) are weakly decided; a voice-over on a lone
face that happens to move its mouth can reach the thresholds (there is no second face to
compare with); overlapped speech is attributed to one face.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PAD_S = 0.5
"""Seconds of context each side of an utterance (the mouth at rest around the speech)."""
MAX_LAG_S = 0.4
"""Largest audio-visual offset searched (either way); real files are within a few frames."""
LAG_STEP_S = 0.02
"""Lag resolution: the loudness envelope's 10-ms hop read at 20-ms steps."""
MIN_FRAMES = 8
"""A face seen in fewer frames of an utterance's window gives no synchrony there."""
MIN_SYNC = 0.245
"""Lowest synchrony (correlation) that attributes an utterance to a face. Chosen on the
fit composites (``bench/bench_active_speaker_thresholds.py --sets fit``): the weakest
true speaker there reaches 0.258 pooled over its voice group, while 12 of the 13 muted
composites (two silent faces, a third voice: espeak-ng and RAVDESS/EmoDB/URDU fit
speakers) stay at or under 0.231; 0.245 lies between. The thirteenth (a RAVDESS voice
over retalking_1) reaches 0.387 by chance, so a voice-over can still be given to a silent
face (3 of 40 fit muted utterances; 15 of 40 at the earlier 0.2). Held-out results:
BENCHMARKS.md, "Who is speaking"."""
MIN_MARGIN = 0.14
"""How far the best face must lead the second (correlation points; a lone face leads 0).
Chosen on the fit composites: every true speaker there led by >= 0.146, while on the
muted composite (both faces silent, a third voice) the best face led by 0.05-0.14 although
its own synchrony reached 0.38: two faces that both do not speak correlate alike."""

# iBUG 68 (0-based): inner-lip pairs (upper, lower) and the outer eye corners
_INNER_LIPS = ((61, 67), (62, 66), (63, 65))
_EYE_CORNERS = (36, 45)


def mouth_opening(landmarks68: np.ndarray) -> np.ndarray:
    """(N, 68, 2) iBUG points -> (N,) inner-lip gap over the eye-corner distance."""
    lm = np.asarray(landmarks68, dtype=np.float64)
    gap = np.mean([np.linalg.norm(lm[:, u] - lm[:, d], axis=-1) for u, d in _INNER_LIPS], axis=0)
    eyes = np.linalg.norm(lm[:, _EYE_CORNERS[0]] - lm[:, _EYE_CORNERS[1]], axis=-1)
    return gap / np.maximum(eyes, 1e-6)


@dataclass(frozen=True)
class MouthTrack:
    """One face's mouth opening over the frames it was seen in."""

    face_id: int
    t_s: np.ndarray
    opening: np.ndarray


@dataclass(frozen=True)
class Envelope:
    """The voice's loudness on a regular grid (``t_s`` frame centres)."""

    t_s: np.ndarray
    loudness: np.ndarray

    def at(self, times: np.ndarray) -> np.ndarray:
        """Loudness at ``times`` (linear interpolation; 0 outside the audio)."""
        if self.t_s.size == 0:
            return np.zeros_like(times)
        return np.interp(times, self.t_s, self.loudness, left=0.0, right=0.0)


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    den = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / den) if den > 1e-12 else 0.0


LAG_UTTERANCES = 200
"""The lag is searched over at most this many utterances (the longest): enough for one
offset, and the search stays bounded on hours of speech."""


def _window(track: MouthTrack, start_s: float, end_s: float) -> slice:
    """The track's frames inside the padded utterance (``t_s`` is sorted)."""
    a = int(np.searchsorted(track.t_s, start_s - PAD_S, side="left"))
    b = int(np.searchsorted(track.t_s, end_s + PAD_S, side="right"))
    return slice(a, b)


def synchrony(
    track: MouthTrack, envelope: Envelope, start_s: float, end_s: float, lag_s: float
) -> float | None:
    """Correlation of the face's frame-to-frame mouth change with the voice's loudness
    change ``lag_s`` later (positive: the sound follows the picture) over the padded
    utterance; None when the face is seen in fewer than :data:`MIN_FRAMES` frames there."""
    sel = _window(track, start_s, end_s)
    if sel.stop - sel.start < MIN_FRAMES:
        return None
    mouth = np.abs(np.diff(track.opening[sel]))
    voice = np.abs(np.diff(envelope.at(track.t_s[sel] + lag_s)))
    return _corr(mouth, voice)


def sync_matrix(
    tracks: list[MouthTrack],
    envelope: Envelope,
    spans: list[tuple[float, float]],
    lag_s: float,
) -> np.ndarray:
    """(utterances, faces) synchrony; NaN where a face is not seen enough."""
    out = np.full((len(spans), len(tracks)), np.nan)
    for i, (a, b) in enumerate(spans):
        for j, tr in enumerate(tracks):
            s = synchrony(tr, envelope, a, b, lag_s)
            if s is not None:
                out[i, j] = s
    return out


def estimate_lag(
    tracks: list[MouthTrack], envelope: Envelope, spans: list[tuple[float, float]]
) -> float:
    """The clip's audio-visual offset: the lag whose best-face synchrony, summed over all
    utterances, is highest (0 when no face is seen in any utterance)."""
    if len(spans) > LAG_UTTERANCES:
        spans = sorted(spans, key=lambda s: s[0] - s[1])[:LAG_UTTERANCES]
    lags = np.arange(-MAX_LAG_S, MAX_LAG_S + 1e-9, LAG_STEP_S)
    best, best_lag = -np.inf, 0.0
    for lag in lags:
        m = sync_matrix(tracks, envelope, spans, float(lag))
        seen = ~np.all(np.isnan(m), axis=1)
        if not seen.any():
            return 0.0
        total = float(np.nanmax(m[seen], axis=1).sum())
        # ties (flat signals) keep the lag nearest 0
        if total > best + 1e-9 or (abs(total - best) <= 1e-9 and abs(lag) < abs(best_lag)):
            best, best_lag = total, float(lag)
    return round(best_lag, 3)


@dataclass(frozen=True)
class Attribution:
    """Who speaks one utterance: ``face_id`` None when no visible face does."""

    face_id: int | None
    confidence: float
    sync: dict[int, float]
    """Each seen face's synchrony (pooled over the utterance's group when it has one)."""


def confidence_of(best: float, second: float | None) -> float:
    """0-1: how sure the attribution is, from the best synchrony and its lead (0.5 at the
    thresholds). A squashed margin, not a calibrated probability."""
    lead = best - (second if second is not None else 0.0)
    x = 6.0 * (best - MIN_SYNC) + 6.0 * (lead - MIN_MARGIN)
    return round(float(1.0 / (1.0 + np.exp(-x))), 3)


def attribute(
    tracks: list[MouthTrack],
    envelope: Envelope,
    spans: list[tuple[float, float]],
    groups: list[str | None] | None = None,
    lag_s: float | None = None,
) -> tuple[list[Attribution], float]:
    """Attribute each utterance span to a face (or None), and return the lag used.

    ``groups``: a key per utterance (the transcript's speaker name) whose utterances share
    one speaker: their synchrony is averaged, weighted by duration, before deciding."""
    if lag_s is None:
        lag_s = estimate_lag(tracks, envelope, spans)
    m = sync_matrix(tracks, envelope, spans, lag_s)
    durations = np.array([max(b - a, 0.1) for a, b in spans])
    pooled = m.copy()
    if groups is not None:
        for key in {g for g in groups if g is not None}:
            rows = [i for i, g in enumerate(groups) if g == key]
            w = durations[rows][:, None] * ~np.isnan(m[rows])
            total = w.sum(axis=0)
            mean = np.where(
                total > 0, np.nansum(m[rows] * w, axis=0) / np.maximum(total, 1e-9), np.nan
            )
            pooled[rows] = mean
    out = []
    for i in range(len(spans)):
        row = pooled[i]
        seen = {
            tracks[j].face_id: float(row[j]) for j in range(len(tracks)) if not np.isnan(row[j])
        }
        if not seen:
            out.append(Attribution(None, 0.0, {}))
            continue
        order = sorted(seen, key=lambda f: -seen[f])
        best = seen[order[0]]
        second = seen[order[1]] if len(order) > 1 else None
        lead = best - (second if second is not None else 0.0)
        speaks = best >= MIN_SYNC and lead >= MIN_MARGIN
        conf = confidence_of(best, second)
        out.append(
            Attribution(
                order[0] if speaks else None,
                conf if speaks else round(1.0 - conf, 3),
                {f: round(v, 3) for f, v in seen.items()},
            )
        )
    return out, lag_s
