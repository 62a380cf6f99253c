"""The voice stage as the pipeline runs it: utterances become the analysis segments."""

from __future__ import annotations

from collections.abc import Callable

from emochat.ingest import decode_audio
from emochat.models import registry
from emochat.pipeline.contract import AnalysisContext, StageSkipped
from emochat.report.model import Segment
from emochat.voice.analysis import UtteranceFrames, VoiceAnalysis, analyze_voice
from emochat.voice.speech_emotion import EncoderFrames


class VoiceStage:
    """VAD, ASR words (or the user's transcript), prosody and speech emotion per utterance.

    Makes :class:`VoiceAnalysis` and, when it was given a ``frame_keeper`` and there is
    speech, :class:`UtteranceFrames`."""

    name = "voice"
    needs = ()
    makes = (VoiceAnalysis, UtteranceFrames)

    def __init__(
        self,
        frame_keeper: Callable[[], Callable[[EncoderFrames], EncoderFrames] | None] | None = None,
        speech_model: registry.ModelChoice | None = None,
    ):
        """``frame_keeper``, called once per run, gives ``analyze_voice``'s ``keep_frames``
        (None: keep no encoder frames). The composition root passes the aggregator's when
        that stage is in the pipeline, so this stage need not know who reads the frames.
        ``speech_model``: the speech emotion model (None: the registered one)."""
        self.frame_keeper = frame_keeper
        self.speech_model = speech_model

    def run(self, ctx: AnalysisContext) -> None:
        # read the transcript first: a bad file fails the run before any heavy work
        transcript = self._read_transcript(ctx)
        if not ctx.media.has_audio:
            if transcript is not None:
                ctx.segments = _segments_from_transcript(transcript, ctx.media.duration_s)
            raise StageSkipped("no_audio", "the media has no audio track: no voice evidence")
        ctx.progress(0.0)
        # decoded once, streamed, to a temporary file that the voice functions read chunk
        # by chunk and span by span: memory does not grow with the media's length
        with decode_audio(
            ctx.path,
            on_damage=lambda exc: ctx.report.warn(
                "ingest", "decode_error", f"{exc.problem}; the audio before it is kept"
            ),
        ) as audio:
            if audio.size == 0:
                raise StageSkipped(
                    "no_audio", "the audio track holds no samples: no voice evidence"
                )
            voice = analyze_voice(
                audio,
                language=ctx.options.language,
                transcript=transcript,
                asr_model=ctx.options.asr_model,
                beam_size=ctx.options.beam_size,
                chinese_script=ctx.options.chinese_script,
                keep_frames=self.frame_keeper() if self.frame_keeper else None,
                check=ctx.check_deadline,
                speech_model=self.speech_model,
                progress=ctx.progress,
            )
        if voice.encoder_frames:
            ctx.put(UtteranceFrames(voice.encoder_frames))
            voice.encoder_frames = []  # one holder, so that releasing the artifact frees them
        ctx.put(voice)
        for code, message in voice.warnings:
            ctx.warn(code, message)
        if not voice.utterances:
            if not any(code == "no_speech" for code, _ in voice.warnings):
                ctx.warn("no_speech", "no speech found: no voice or word evidence")
            return
        ctx.segments = [
            Segment(
                start_s=round(u.start_s, 3),
                end_s=round(u.end_s, 3),
                text=u.text or None,
                speaker=u.speaker,
                evidence={"voice": voice.to_evidence(i)},
                cue_vectors=voice.cue_vector(i),
            )
            for i, u in enumerate(voice.utterances)
        ]

    @staticmethod
    def _read_transcript(ctx: AnalysisContext):
        if ctx.options.transcript is None:
            return None
        from emochat.voice.transcript import Transcript, read_transcript, within_media

        name, duration = ctx.options.transcript.name, ctx.media.duration_s
        given = ctx.find(Transcript) or read_transcript(ctx.options.transcript)
        transcript, dropped = within_media(given, duration)
        if transcript.encoding not in ("utf-8", "utf-16"):
            ctx.warn(
                "transcript_encoding",
                f"{name} is not UTF-8; read it as {transcript.encoding}",
            )
        if dropped:
            ctx.warn(
                "transcript_past_end",
                f"{dropped} cue(s) of {name} start after the media ends ({duration:g} s): left out",
            )
        return transcript


def _segments_from_transcript(transcript, duration_s: float) -> list[Segment]:
    """Text-only segments for media without audio: timed cues as given, plain text as one."""
    timed = [c for c in transcript.cues if c.start_s is not None and c.end_s is not None]
    if not timed:
        return [Segment(0.0, round(duration_s, 3), text=transcript.text)]
    return [
        Segment(
            round(max(c.start_s, 0.0), 3),
            round(max(c.end_s, c.start_s, 0.0), 3),
            text=c.text,
            speaker=c.speaker,
        )
        for c in timed
        if c.text.strip()
    ]
