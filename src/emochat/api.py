"""The composition root: the stages shipped today, wired into a pipeline, ``Analyzer``
and ``analyze``.

The stages are assembled here and nowhere else, so a new stage is added here and the
stages, the runner and the contract need not know one another. Front ends (CLI, batch,
serve, eval) call :func:`analyze` or :func:`run_analysis`, or keep an :class:`Analyzer`
where one process analyses many files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from emochat import provenance
from emochat.core.errors import MediaError
from emochat.models import registry
from emochat.options import AnalyzeOptions
from emochat.pipeline.contract import AnalysisContext, Hooks
from emochat.pipeline.runner import Pipeline
from emochat.report.model import Report


def default_pipeline(models: Mapping[str, str] | None = None) -> Pipeline:
    """The stages shipped today, in order, each with its model: the registered one unless
    ``models`` (``AnalyzeOptions.models``: slot -> registered name or weight file) names
    another. A bad choice fails here, before any media is read."""
    chosen = registry.choices(models)
    # imported here so that `import emochat.api` (and the CLI's --help) stays cheap
    from emochat.face.stage import FaceStage
    from emochat.fusion.aggregator_stage import AggregatorStage, frame_reducer
    from emochat.fusion.speaker_stage import SpeakerStage
    from emochat.fusion.stages import (
        FaceCueStage,
        FusionStage,
        OverallStage,
        SegmentStage,
    )
    from emochat.reasoning.base import ReasonerStage
    from emochat.text.stage import TextStage
    from emochat.voice.stage import VoiceStage

    return Pipeline(
        [
            FaceStage(expression_model=chosen.get("face_expression")),
            # the aggregator reads encoder frames: the voice stage keeps them, reduced its way
            VoiceStage(
                frame_keeper=partial(frame_reducer, chosen.get("aggregator")),
                speech_model=chosen.get("speech_emotion"),
            ),
            SegmentStage(),
            TextStage(model=chosen.get("text_emotion")),
            AggregatorStage(model=chosen.get("aggregator")),
            # who speaks each utterance: the face cues then read the speaking face's evidence
            SpeakerStage(),
            FaceCueStage(),
            FusionStage(),
            OverallStage(),
            ReasonerStage(),
        ]
    )


def _read_inputs(path: str | Path, options: AnalyzeOptions) -> list[object]:
    """Stop before any model runs on an input that cannot be analysed: an empty path (which
    ``Path`` would read as the current folder) or a transcript that does not parse (else
    reported only after the face stage). Returns what was read (the transcript), for the
    stages."""
    if str(path) == "":
        raise MediaError(None, "empty path: name a media file")
    if options.transcript is None:
        return []
    from emochat.voice.transcript import read_transcript

    return [read_transcript(options.transcript)]


class Analyzer:
    """The default pipeline built once, with its models, for analysing many files.

    Building it checks and loads the models ``options.models`` chooses (a bad file fails
    here, before any media is read); the stages load the rest on the first file, and the
    registry keeps them for the process, so later files pay only for their own analysis.
    """

    def __init__(self, options: AnalyzeOptions | None = None, *, pipeline: Pipeline | None = None):
        """``pipeline`` replaces the default stages (custom stages, tests)."""
        self.options = options or AnalyzeOptions()
        self.pipeline = pipeline or default_pipeline(self.options.models)

    def run(
        self,
        path: str | Path,
        hooks: Hooks | None = None,
        *,
        options: AnalyzeOptions | None = None,
    ) -> AnalysisContext:
        """Analyse ``path``; the context holds ``.report`` and the stages' artifacts.

        ``options`` replaces the analyzer's own for this file (a per-clip transcript or
        language, a job's fps); it must choose the same models, which the pipeline holds.
        """
        options = options or self.options
        if dict(options.models or {}) != dict(self.options.models or {}):
            raise ValueError(
                "these options choose other models than this Analyzer holds: build another"
            )
        inputs = _read_inputs(path, options)
        ctx = self.pipeline.run(path, options, hooks, inputs)
        # the options as run: with the defaults that depend on the media filled in
        ctx.report.provenance = provenance.collect(
            path, ctx.options, with_paths=options.record_paths
        )
        return ctx


def run_analysis(
    path: str | Path,
    transcript: str | Path | None = None,
    language: str | None = None,
    *,
    options: AnalyzeOptions | None = None,
    hooks: Hooks | None = None,
) -> AnalysisContext:
    """Like :func:`analyze`, but returns the whole context (for exports that need it).

    ``transcript`` and ``language`` (``"auto"``: detected), when given, override
    ``options``' own; the caller's ``options`` is left as it is.
    """
    given = {"transcript": transcript, "language": language}
    options = replace(
        options or AnalyzeOptions(), **{k: v for k, v in given.items() if v is not None}
    )
    return Analyzer(options).run(path, hooks)


def analyze(
    path: str | Path,
    transcript: str | Path | None = None,
    language: str | None = None,
    **kwargs: Any,
) -> Report:
    """Analyse one media file with the default pipeline and return its :class:`Report`."""
    return run_analysis(path, transcript, language, **kwargs).report
