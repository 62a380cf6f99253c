"""The OpenAI-compatible client against loopback servers that fail in each way it must survive.

Every failure ends in the built-in grounded explanation plus a ``reasoner_fallback``
warning; transient failures are retried a bounded number of times, others are not.
"""

from __future__ import annotations

import json
import time

from emochat.cli import main
from emochat.options import ReasonerSettings
from emochat.reasoning.grounded import explain, uncited_cues
from emochat.report.model import validate_report
from emochat.testing.loopback import completion, free_port


def _settings(url: str, **extra) -> ReasonerSettings:
    values = {"timeout_s": 5.0, "retries": 1, "backoff_s": 0.05, **extra}
    return ReasonerSettings(kind="openai", base_url=url, model="test-model", **values)


def _codes(report) -> list[str]:
    return [w.code for w in report.warnings if w.stage == "reasoner"]


def _assert_fell_back(report, ctx, why: str) -> None:
    assert _codes(report) == ["reasoner_fallback"]
    assert why in report.warnings[-1].message
    grounded = explain(ctx.report.segments, ctx.report.overall)
    assert report.explanation.reasoner == "grounded"
    assert report.explanation.text == grounded.text
    assert report.explanation.cites == grounded.cites


def test_connection_refused_falls_back_in_the_cli(sample_clip, tmp_path):
    url = f"http://127.0.0.1:{free_port()}/v1"
    out = tmp_path / "out"
    args = ["analyze", str(sample_clip), "-o", str(out), "-q", "--reasoner", "openai"]
    assert main([*args, "--reasoner-url", url]) == 0
    data = json.loads((out / "report.json").read_text())
    validate_report(data)
    warnings = [w for w in data["warnings"] if w["code"] == "reasoner_fallback"]
    assert len(warnings) == 1 and "cannot reach" in warnings[0]["message"]
    assert "after 2 attempts" in warnings[0]["message"]  # the default: one retry
    assert data["explanation"]["reasoner"] == "grounded"
    assert data["explanation"]["text"].startswith("Overall the clip reads as happy")
    assert uncited_cues(data) == []


def test_server_that_hangs_times_out_retries_once_and_falls_back(
    sample_context, explain_with, scripted_server
):
    server = scripted_server(lambda body: None, hang_s=3.0)
    t0 = time.perf_counter()
    report = explain_with(_settings(server.url, timeout_s=0.4))
    elapsed = time.perf_counter() - t0
    _assert_fell_back(report, sample_context, "did not answer within 0.4 s")
    assert len(server.requests) == 2
    assert elapsed < 2.0  # two 0.4 s attempts and a 0.05 s backoff, not the 3 s hang


def test_reply_that_is_not_json_is_retried_then_falls_back(
    sample_context, explain_with, scripted_server
):
    server = scripted_server(lambda body: (200, b"<html>proxy error</html>"))
    report = explain_with(_settings(server.url))
    _assert_fell_back(report, sample_context, "not a completion")
    assert len(server.requests) == 2


def test_empty_text_falls_back_without_retry(sample_context, explain_with, scripted_server):
    server = scripted_server(lambda body: completion("  \n "))
    report = explain_with(_settings(server.url))
    _assert_fell_back(report, sample_context, "no text")
    assert len(server.requests) == 1


def test_client_error_is_not_retried(sample_context, explain_with, scripted_server):
    server = scripted_server(lambda body: (404, b'{"error": "model not found"}'))
    report = explain_with(_settings(server.url))
    _assert_fell_back(report, sample_context, "HTTP 404")
    assert len(server.requests) == 1


def test_a_5xx_is_retried_and_the_second_answer_is_used(
    sample_context, explain_with, scripted_server
):
    server = scripted_server(
        lambda body: (503, b"busy"),
        lambda body: completion(" The smile (AU12) carries it.\n\nSegment 9"),
    )
    report = explain_with(_settings(server.url))
    assert _codes(report) == []
    assert len(server.requests) == 2
    explanation = report.explanation
    assert explanation.reasoner == "openai"
    assert explanation.text == "The smile (AU12) carries it."  # cut at the blank line
    assert explanation.model == f"openai:test-model@{server.url}"
    grounded = explain(sample_context.report.segments, sample_context.report.overall)
    assert explanation.grounded_text == grounded.text and explanation.cites == grounded.cites
    assert explanation.unmeasured_cues == []
    validate_report(report.to_dict())


def test_request_carries_the_textualised_analysis(sample_context, explain_with, scripted_server):
    server = scripted_server(lambda body: completion("A smile."))
    explain_with(_settings(server.url, max_tokens=50, temperature=0.3))
    path, body = server.requests[0]
    assert path == "/v1/completions"
    assert body["model"] == "test-model" and body["max_tokens"] == 50
    assert body["temperature"] == 0.3 and "\n\n" in body["stop"]
    face = next(s for s in sample_context.report.segments if "face" in s.evidence)
    prompt = body["prompt"]
    assert face.evidence["face"].description in prompt  # the AU Agent's own words
    assert f"{face.start_s:.1f}-{face.end_s:.1f} s" in prompt
    assert all(a["au"] in prompt for a in face.evidence["face"].active_aus)
    assert prompt.endswith("Explanation:")


def test_chat_api_reads_message_content(sample_context, explain_with, scripted_server):
    reply = {"choices": [{"message": {"role": "assistant", "content": "Smiling throughout."}}]}
    server = scripted_server(lambda body: (200, json.dumps(reply).encode()))
    report = explain_with(_settings(server.url, api="chat"))
    path, body = server.requests[0]
    assert path == "/v1/chat/completions" and body["messages"][0]["role"] == "user"
    assert "Explanation:" in body["messages"][0]["content"]
    assert report.explanation.text == "Smiling throughout." and _codes(report) == []


def test_text_naming_an_unmeasured_au_is_flagged(sample_context, explain_with, scripted_server):
    measured = {
        a["au"] for s in sample_context.report.segments for a in s.evidence["face"].active_aus
    }
    assert "AU12" in measured and "AU09" not in measured
    server = scripted_server(lambda body: completion("AU12 and a nose wrinkler (AU9) show joy."))
    report = explain_with(_settings(server.url))
    assert _codes(report) == ["reasoner_unmeasured_cue"]
    assert "AU09" in report.warnings[-1].message and "AU12" not in report.warnings[-1].message
    assert report.explanation.unmeasured_cues == ["AU09"]
    assert report.explanation.reasoner == "openai"  # kept, but flagged
