"""The speaker stage: which visible face speaks each utterance, speaker ids, listeners.

Utterances of one voice are grouped (the transcript's speaker names, else clusters of
their speaker embeddings, :mod:`emochat.voice.diarize`) and their synchrony is pooled
before deciding, so a person's short utterances lend each other evidence.

Runs after the voice, text and aggregator stages (which fill the utterance segments) and
before the face cues (which then read each segment's face from ``seg.face_id``). Each
utterance becomes a ``speaking`` segment with its speaker id, speaking face (None when
the voice belongs to no visible face) and the attribution's confidence; every other face
seen in the window gets a ``listening`` segment of the same window, which will carry that
face's evidence only. ``report.speakers`` lists the speakers; the overall stage adds each
one's emotion.
"""

from __future__ import annotations

import numpy as np

from emochat.face.au import FaceAnalysis
from emochat.fusion.speakers import Envelope, MouthTrack, attribute, mouth_opening
from emochat.pipeline.contract import AnalysisContext
from emochat.report.model import Segment, Speaker
from emochat.voice.analysis import VoiceAnalysis

MIN_TRACK_FRAMES = 3
"""A face track seen in fewer frames is not a person on screen (a false detection)."""


def _is_utterance(seg: Segment) -> bool:
    return "voice" in seg.evidence or seg.text is not None


def _seen_in(face: FaceAnalysis | None, start_s: float, end_s: float) -> list[int]:
    """Face ids seen in ``[start_s, end_s]``, most frames first."""
    if face is None:
        return []
    counts = []
    for face_id, track in face.au.tracks.items():
        if len(track) < MIN_TRACK_FRAMES:
            continue
        t = np.asarray(track.t_s)
        n = int(np.searchsorted(t, end_s + 1e-6, side="right") - np.searchsorted(t, start_s))
        if n:
            counts.append((-n, face_id))
    return [f for _, f in sorted(counts)]


class SpeakerStage:
    """Active-speaker detection from audio-visual synchrony (:mod:`emochat.fusion.speakers`)."""

    name = "speaker"
    needs = ()
    makes = ()

    def run(self, ctx: AnalysisContext) -> None:
        utterances = [s for s in ctx.segments if _is_utterance(s)]
        if not utterances:
            return  # no speech: nobody speaks (report.speakers stays null), not a failure
        face = ctx.find(FaceAnalysis)
        voice = ctx.find(VoiceAnalysis)
        tracks = []
        if face is not None:
            tracks = [
                MouthTrack(fid, np.asarray(t.t_s, dtype=float), mouth_opening(t.landmarks68))
                for fid, t in sorted(face.au.tracks.items())
                if len(t) >= MIN_TRACK_FRAMES
            ]
        lld = voice.lld if voice is not None else None
        have_sync = bool(tracks) and lld is not None and len(lld.t_s) > 0
        named = any(s.speaker for s in utterances)
        spans = [(s.start_s, s.end_s) for s in utterances]
        # one voice, one person: the transcript's names, else voice clusters, group the
        # utterances whose synchrony is pooled (and whose off-screen voices stay apart)
        voices = None if named else self._voice_clusters(ctx, spans)
        if have_sync:
            envelope = Envelope(np.asarray(lld.t_s), np.nan_to_num(lld.values["loudness"]))
            if named:
                groups = [s.speaker for s in utterances]
            elif voices is not None:
                groups = [f"voice {v}" for v in voices]
            else:
                groups = None
            attributions, lag = attribute(tracks, envelope, spans, groups)
            ctx.progress(0.5)
        else:
            attributions, lag = [None] * len(utterances), None

        # who speaks each utterance, and how that was decided
        decided: list[tuple[int | None, float | None, str]] = []
        for seg, att in zip(utterances, attributions, strict=True):
            seen = _seen_in(face, seg.start_s, seg.end_s)
            if att is not None and att.sync and att.face_id is not None:
                how = "transcript" if seg.speaker else "av-sync"
                decided.append((att.face_id, att.confidence, how))
            elif len(seen) == 1:
                # one face on screen: a talking head whose mouth follows the voice too
                # loosely at 10 frames/s to confirm is far commoner than a voice-over, so
                # the lone face keeps the utterance, marked unconfirmed ("only-face")
                decided.append((seen[0], None, "only-face"))
            else:
                decided.append((None, None, "none"))

        ids = self._speaker_ids(utterances, decided, voices)
        speakers: dict[str, Speaker] = {}
        face_person: dict[int, str] = {}
        for seg, (face_id, _, how), sid in zip(utterances, decided, ids, strict=True):
            sp = speakers.get(sid)
            if sp is None:
                sp = speakers[sid] = Speaker(
                    id=sid,
                    face_id=face_id,
                    name=seg.speaker if named and seg.speaker else None,
                    talk_time_s=0.0,
                    n_segments=0,
                    overall=None,
                    attribution=how,
                )
            sp.talk_time_s = round(sp.talk_time_s + max(seg.end_s - seg.start_s, 0.0), 3)
            sp.n_segments += 1
            if face_id is not None:
                face_person.setdefault(face_id, sid)

        out: list[Segment] = []
        by_id = {id(s): i for i, s in enumerate(utterances)}
        for seg in ctx.segments:
            i = by_id.get(id(seg))
            if i is None:
                out.append(seg)
                continue
            face_id, conf, _ = decided[i]
            seg.role, seg.speaker, seg.face_id = "speaking", ids[i], face_id
            seg.speaker_face_confidence = conf
            out.append(seg)
            for other in _seen_in(face, seg.start_s, seg.end_s):
                if other == face_id:
                    continue
                out.append(
                    Segment(
                        seg.start_s,
                        seg.end_s,
                        speaker=face_person.get(other),
                        face_id=other,
                        role="listening",
                    )
                )
        ctx.segments = out
        ctx.report.speakers = list(speakers.values())
        off = sum(1 for f, _, _ in decided if f is None)
        if have_sync and off:
            ctx.warn(
                "speaker_off_screen",
                f"{off} of {len(decided)} utterances: no visible face moves with the voice "
                f"(off-screen or unknown speaker); audio-visual offset {lag:+.2f} s",
            )

    @staticmethod
    def _voice_clusters(ctx: AnalysisContext, spans: list[tuple[float, float]]):
        """A voice label per utterance (:func:`emochat.voice.diarize.cluster_speakers` on
        its speaker embeddings), or None with fewer than two utterances or no audio."""
        if len(spans) < 2 or not ctx.media.has_audio:
            return None
        from emochat.ingest import decode_audio
        from emochat.voice.diarize import cluster_speakers, speaker_embeddings

        # a damaged or cut file: the voice stage kept (and reported) the audio before the
        # damage, and the utterances come from it, so the same audio serves here
        with decode_audio(ctx.path, on_damage=lambda _: None) as audio:
            if audio.size == 0:
                return None
            embeddings = speaker_embeddings(audio, spans)
        ctx.check_deadline()
        return cluster_speakers(embeddings, [max(b - a, 0.0) for a, b in spans])

    @staticmethod
    def _speaker_ids(utterances: list[Segment], decided, voices=None) -> list[str]:
        """The transcript's names where it gives them; else one id per speaking face, S1,
        S2, ... in order of first speech, and one per voice cluster of no visible face."""
        ids, by_face, next_n = [], {}, 1
        for i, (seg, (face_id, _, _)) in enumerate(zip(utterances, decided, strict=True)):
            if seg.speaker:
                ids.append(seg.speaker)
                continue
            voice = voices[i] if voices is not None else 0
            key = face_id if face_id is not None else ("off", voice)
            if key not in by_face:
                by_face[key] = f"S{next_n}"
                next_n += 1
            ids.append(by_face[key])
        return ids
