"""A new modality is one evidence class away: fusion weighs it, the grounded reasoner and the
LLM prompt name it, and the HTML report draws its emotion lane, none of them edited.

The gaze evidence here is registered for one test and removed after it; it has no schema
definition (a real modality adds one, see tests/report/test_report_evidence.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import ClassVar

import pytest

from emochat.fusion.stages import FusionStage
from emochat.models import registry
from emochat.reasoning.emochat_llm import segment_cues
from emochat.reasoning.grounded import explain, uncited_cues
from emochat.reasoning.prompt import build_prompt
from emochat.report.html import render_html
from emochat.report.model import (
    EVIDENCE_TYPES,
    Emotion,
    ModalityEvidence,
    Report,
    Segment,
    TextEvidence,
)

CHROMIUM = Path("/usr/bin/chromium")
SAD = {"neutral": 0.1, "happy": 0.05, "sad": 0.8, "angry": 0.05}


@pytest.fixture
def gaze_report():
    @dataclass(kw_only=True)
    class GazeEvidence(ModalityEvidence):
        modality: ClassVar[str] = "gaze"
        fixations: int
        emotion: Emotion | None = None

        @property
        def reliability(self) -> float:
            return min(1.0, self.fixations / 4)

    try:
        gaze = GazeEvidence(fixations=2, emotion=Emotion.from_probs(SAD, source="gaze-test"))
        text = TextEvidence(text="I am fine, thanks", emotion=Emotion.from_probs(SAD, source="t"))
        seg = Segment(0.0, 2.0, text="I am fine, thanks", evidence={"gaze": gaze, "text": text})
        FusionStage().run(SimpleNamespace(segments=[seg]))
        report = Report(media={"path": "x.mp4", "duration_s": 2.0}, segments=[seg])
        report.overall = seg.emotion
        yield report
    finally:
        EVIDENCE_TYPES.pop("gaze")


def test_fusion_weighs_the_new_modality_by_its_own_reliability(gaze_report):
    emotion = gaze_report.segments[0].emotion
    assert emotion.source == "fusion(gaze+text)"
    # gaze: weight 1.0 (the fusion file has none for it) x reliability 0.5; text: its
    # fitted weight x reliability 1.0
    text = registry.load("fusion").weights["text"]
    assert emotion.weights == {
        "text": pytest.approx(text / (text + 0.5), abs=1e-4),
        "gaze": pytest.approx(0.5 / (text + 0.5), abs=1e-4),
    }


def test_reasoners_name_the_new_modality_and_cite_it_honestly(gaze_report):
    seg = gaze_report.segments[0]
    explanation = explain(gaze_report.segments, gaze_report.overall)
    assert "The gaze reads as sad (p=0.80)." in explanation.text
    assert {
        "modality": "gaze",
        "cue": "gaze:sad",
        "start_s": 0.0,
        "end_s": 2.0,
    } in explanation.cites
    gaze_report.explanation = explanation
    assert uncited_cues(json.loads(gaze_report.to_json())) == []
    assert "  Gaze: reads sad (p=0.80)." in build_prompt(gaze_report)
    # the multimodal LLM has no projector for gaze: it reads the modalities it was trained on
    assert segment_cues(seg) is None  # (text without its kept vector)


def test_html_report_draws_the_new_modality_emotion_lane(gaze_report, tmp_path):
    html = render_html(gaze_report, video_src="")
    assert 'window.emochat.registerModality({ modality: "gaze" });' in html
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip(f"no chromium at {CHROMIUM}")
    page_file = tmp_path / "report.html"
    page_file.write_text(html, "utf-8")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(page_file.as_uri())
        page.wait_for_selector("html[data-ready='1']", timeout=15_000)
        lane = page.query_selector("svg[data-lane='emotion:gaze emotion']")
        drawn = lane.eval_on_selector_all("rect.prob", "els => els.length") if lane else 0
        browser.close()
    assert errors == [] and drawn == len(SAD)
