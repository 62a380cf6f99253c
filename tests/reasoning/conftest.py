"""The sample clip analysed once, a re-run of its reasoner, and scripted loopback servers."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest

from emochat.api import run_analysis
from emochat.options import ReasonerSettings
from emochat.pipeline.contract import AnalysisContext
from emochat.reasoning.base import ReasonerStage
from emochat.report.model import Report
from emochat.testing.loopback import Reply, ScriptedServer


@pytest.fixture(scope="session")
def sample_context(sample_clip) -> AnalysisContext:
    """The real pipeline's context for the sample clip (grounded explanation)."""
    return run_analysis(sample_clip)


@pytest.fixture(scope="session")
def explain_with(sample_context) -> Callable[[ReasonerSettings | None], Report]:
    """A copy of the sample's report whose explanation ``settings``' reasoner wrote again."""

    def run(settings: ReasonerSettings | None) -> Report:
        ctx = sample_context
        report = copy.deepcopy(ctx.report)
        report.warnings = [w for w in report.warnings if w.stage != "reasoner"]
        report.explanation = None
        options = replace(ctx.options, reasoner=settings)
        ReasonerStage().run(replace(ctx, report=report, options=options))
        return report

    return run


@pytest.fixture
def scripted_server() -> Iterator[Callable[..., ScriptedServer]]:
    started: list[ScriptedServer] = []

    def start(*replies: Reply, **kwargs) -> ScriptedServer:
        server = ScriptedServer(*replies, **kwargs).__enter__()
        started.append(server)
        return server

    yield start
    for server in started:
        server.__exit__(None, None, None)
