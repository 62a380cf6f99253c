"""One reasoner interface: the built-in grounded reasoner or an LLM behind a text generator.

Both return an :class:`~emochat.report.model.Explanation`. An LLM reasoner's
explanation keeps the grounded reasoner's ``cites`` (the cues the analysis measured
and the prompt showed) and its text as ``grounded_text``; ``text`` is the LLM's. AUs
the LLM names that the report never measured are listed in ``unmeasured_cues`` and
warned about. Any failure of the LLM (refused connection, timeout, bad reply, empty
text, a model that will not load) falls back to the grounded explanation with a
``reasoner_fallback`` warning: the analysis never fails because of its reasoner.
"""

from __future__ import annotations

import time
from typing import Protocol

from emochat.options import ReasonerSettings
from emochat.pipeline.contract import AnalysisContext
from emochat.reasoning.backends import GenerationError, TextGenerator, text_generator
from emochat.reasoning.grounded import GroundedReasoner
from emochat.reasoning.prompt import build_prompt, unmeasured_cues
from emochat.report.model import Explanation, Report

MAX_TEXT_CHARS = 1200


class Reasoner(Protocol):
    name: str

    def explain(self, report: Report) -> Explanation: ...


def _clean(text: str) -> str:
    """The completion up to its first blank line, whitespace collapsed, bounded in length."""
    text = " ".join(text.strip().split("\n\n")[0].split())
    return text if len(text) <= MAX_TEXT_CHARS else text[: MAX_TEXT_CHARS - 1] + "…"


class LLMReasoner:
    """An explanation written by an LLM from the textualised analysis, with bounded retries."""

    def __init__(self, settings: ReasonerSettings, generator: TextGenerator | None = None):
        self.settings = settings
        self.name = settings.kind
        self._generator = generator

    def _complete(self, prompt: str) -> str:
        generator = self._generator or text_generator(self.settings)
        attempt = 0
        while True:
            try:
                text = _clean(generator.generate(prompt))
                if not text:
                    raise GenerationError("the model returned no text")
                return text
            except GenerationError as exc:
                if not exc.retryable or attempt >= self.settings.retries:
                    tries = f" after {attempt + 1} attempts" if attempt else ""
                    raise GenerationError(f"{exc}{tries}") from None
                time.sleep(self.settings.backoff_s * 2**attempt)
                attempt += 1

    def explain(self, report: Report) -> Explanation:
        base = GroundedReasoner().explain(report)
        if report.overall is None:
            return base  # nothing measured: nothing for a model to explain
        text = self._complete(build_prompt(report))
        generator = self._generator or text_generator(self.settings)
        return Explanation(
            text=text,
            cites=base.cites,
            reasoner=self.name,
            model=generator.description,
            grounded_text=base.text,
            unmeasured_cues=unmeasured_cues(text, report),
        )


def make_reasoner(settings: ReasonerSettings | None) -> Reasoner:
    if settings is None:
        return GroundedReasoner()
    if settings.kind == "emochat-llm":
        from emochat.reasoning.emochat_llm import EmoChatLLMReasoner

        return EmoChatLLMReasoner(settings)
    return LLMReasoner(settings)


class ReasonerStage:
    """Writes ``report.explanation`` with the reasoner the options choose."""

    name = "reasoner"

    def run(self, ctx: AnalysisContext) -> None:
        report = ctx.report
        reasoner = make_reasoner(ctx.options.reasoner)
        try:
            explanation = reasoner.explain(report)
        except Exception as exc:  # noqa: BLE001 - any LLM failure falls back, by contract
            why = exc if isinstance(exc, GenerationError) else f"{type(exc).__name__}: {exc}"
            report.warn(
                self.name,
                "reasoner_fallback",
                f"the {reasoner.name} reasoner failed ({why}); "
                "the explanation is the built-in grounded one",
            )
            explanation = GroundedReasoner().explain(report)
        if explanation.unmeasured_cues:
            report.warn(
                self.name,
                "reasoner_unmeasured_cue",
                f"the {reasoner.name} reasoner's text names cues the analysis did not measure: "
                + ", ".join(explanation.unmeasured_cues),
            )
        report.explanation = explanation
