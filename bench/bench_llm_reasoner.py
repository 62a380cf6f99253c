"""The LLM reasoners with gemma-3-270m Q4_K_M on this machine: start-up, tokens/s, end to end.

- llama-cpp-python's OpenAI-compatible server: seconds until /v1/models answers;
  prompt (prefill) and generation tokens/s on the sample clip's real prompt, from a
  1-token and a 64-token completion (generation rate = the extra tokens / the extra time);
- ``emochat analyze samples/single_face.mp4`` as a fresh process, built-in reasoner vs
  ``--reasoner openai`` against that server;
- the llama-cpp worker (model load + first explanation) and, with --transformers, the
  transformers backend loading the same GGUF.

Prints BENCHMARKS.md rows.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from common import row

from emochat.api import run_analysis
from emochat.models.gemma import default_gguf
from emochat.options import ReasonerSettings
from emochat.reasoning.backends import text_generator
from emochat.reasoning.prompt import build_prompt
from emochat.testing.loopback import LlamaServer

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "single_face.mp4"


def _load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def _complete(url: str, prompt: str, max_tokens: int) -> tuple[float, dict]:
    """One completion; the prompt gets a fresh first line so the server's prefix cache misses."""
    prompt = f"Run {time.perf_counter_ns()}.\n{prompt}"
    body = {"prompt": prompt, "max_tokens": max_tokens, "temperature": 0.0, "stop": []}
    request = urllib.request.Request(
        f"{url}/completions", json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    t0 = time.perf_counter()
    with urllib.request.urlopen(request, timeout=600) as response:
        usage = json.loads(response.read())["usage"]
    return time.perf_counter() - t0, usage


def _analyze(*extra: str) -> tuple[float, dict]:
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "emochat", "analyze", str(SAMPLE), "-o", out, "-q", *extra]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True)
        wall = time.perf_counter() - t0
        return wall, json.loads((Path(out) / "report.json").read_text())


def bench_server(prompt: str) -> None:
    with LlamaServer(default_gguf()) as server:
        print(
            row(f"llama_cpp.server ready (model loaded) in **{server.start_s:.1f} s**; {_load()}")
        )
        _complete(server.url, prompt, 1)  # warm-up
        t1, u1 = _complete(server.url, prompt, 1)
        t64, u64 = _complete(server.url, prompt, 64)
        gen = (u64["completion_tokens"] - u1["completion_tokens"]) / (t64 - t1)
        print(
            row(
                f"gemma-3-270m Q4_K_M, 2 threads: prompt {u1['prompt_tokens']} tokens in {t1:.2f} s "
                f"(**{u1['prompt_tokens'] / t1:.0f} prompt tokens/s**); "
                f"{u64['completion_tokens']} generated in {t64:.2f} s "
                f"(**{gen:.1f} generated tokens/s**); {_load()}"
            )
        )
        base_wall, _ = _analyze()
        wall, report = _analyze("--reasoner", "openai", "--reasoner-url", server.url)
        print(f"openai explanation: {report['explanation']['text']!r}", file=sys.stderr)
        fell_back = any(w["code"] == "reasoner_fallback" for w in report["warnings"])
        print(
            row(
                f"`emochat analyze samples/single_face.mp4` (fresh process): built-in reasoner "
                f"{base_wall:.1f} s; `--reasoner openai` **{wall:.1f} s** (reasoner stage "
                f"{report['timings_s']['reasoner']:.2f} s, {len(report['explanation']['text'])} "
                f"chars{', FELL BACK' if fell_back else ''}); {_load()}"
            )
        )


def bench_local(kind: str, prompt: str) -> None:
    settings = ReasonerSettings(kind=kind, n_threads=2, max_tokens=64, timeout_s=900)
    t0 = time.perf_counter()
    generator = text_generator(settings)
    text = generator.generate(prompt)  # llama-cpp loads its worker on first use
    first = time.perf_counter() - t0
    t1 = time.perf_counter()
    generator.generate(prompt)
    again = time.perf_counter() - t1
    print(
        row(
            f"{kind} backend ({generator.description}): load + first explanation {first:.1f} s, "
            f"next explanation {again:.1f} s ({len(text)} chars, max 64 tokens); {_load()}"
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--transformers", action="store_true", help="also time transformers (slow load)"
    )
    args = ap.parse_args()
    t0 = time.perf_counter()
    gguf = default_gguf()
    print(row(f"gemma GGUF ready at {gguf.name} in {time.perf_counter() - t0:.1f} s; {_load()}"))
    prompt = build_prompt(run_analysis(SAMPLE).report)
    bench_server(prompt)
    bench_local("llama-cpp", prompt)
    if args.transformers:
        bench_local("transformers", prompt)


if __name__ == "__main__":
    main()
