"""Text generators behind the LLM reasoners: an OpenAI-compatible server, llama.cpp, transformers.

Each turns a prompt into text or raises :class:`GenerationError`; ``retryable`` marks
the failures worth another attempt (a refused connection, a timeout, a 5xx, a garbled
reply). Local models load once per settings and are reused across clips.
"""

from __future__ import annotations

import importlib.util
import json
import select
import subprocess
import sys
import time
import urllib.error
import urllib.request
from functools import cache
from pathlib import Path
from typing import Protocol

from emochat.core.settings import secret
from emochat.models.gemma import default_gguf
from emochat.options import ReasonerSettings

STOP = ["\n\n", "\nSegment", "\nAnalysis of"]
"""A base model runs on into a new report; the explanation ends at a blank line."""
LOAD_TIMEOUT_S = 120.0
"""The llama.cpp worker's model load may take longer than one generation's timeout."""


class GenerationError(Exception):
    def __init__(self, message: str, retryable: bool = False):
        super().__init__(message)
        self.retryable = retryable


class TextGenerator(Protocol):
    """Continues a prompt; the LLM reasoner adds retries, checks and the fallback."""

    description: str
    """Backend and model, as the report names them (``openai:gemma-3-270m``)."""

    def generate(self, prompt: str) -> str: ...


class OpenAICompatible:
    """POST /v1/completions (or /v1/chat/completions) of any OpenAI-compatible server."""

    def __init__(self, settings: ReasonerSettings):
        self.settings = settings
        self.description = f"openai:{settings.model or 'default'}@{settings.base_url}"

    def _request(self, prompt: str) -> tuple[str, dict]:
        s = self.settings
        body: dict = {"max_tokens": s.max_tokens, "temperature": s.temperature, "stop": STOP}
        if s.model:
            body["model"] = s.model
        if s.api == "chat":
            body["messages"] = [{"role": "user", "content": prompt}]
        else:
            body["prompt"] = prompt
        return (
            f"{s.base_url.rstrip('/')}/{'chat/completions' if s.api == 'chat' else 'completions'}",
            body,
        )

    def generate(self, prompt: str) -> str:
        url, body = self._request(prompt)
        headers = {"Content-Type": "application/json"}
        key = secret(self.settings.api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        request = urllib.request.Request(url, json.dumps(body).encode(), headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.settings.timeout_s) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            retry = exc.code >= 500 or exc.code == 429
            raise GenerationError(f"{url} answered HTTP {exc.code}", retryable=retry) from None
        except TimeoutError:
            raise GenerationError(
                f"{url} did not answer within {self.settings.timeout_s:g} s", retryable=True
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, TimeoutError):
                raise GenerationError(
                    f"{url} did not answer within {self.settings.timeout_s:g} s", retryable=True
                ) from None
            raise GenerationError(f"cannot reach {url}: {reason}", retryable=True) from None
        try:
            choice = json.loads(raw)["choices"][0]
            text = choice["message"]["content"] if self.settings.api == "chat" else choice["text"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise GenerationError(f"{url} sent a reply that is not a completion", True) from None
        if not isinstance(text, str):
            raise GenerationError(f"{url} sent a completion without text", retryable=True)
        return text


def _model_path(settings: ReasonerSettings) -> Path:
    if not settings.model_path:
        return default_gguf()
    path = Path(settings.model_path)
    if not path.exists():
        raise GenerationError(f"{path}: model not found")
    return path


class LlamaCpp:
    """A GGUF run by llama-cpp-python in a worker process (see :mod:`.llama_worker` for why).

    The worker loads the model once and is reused across clips; a generation past
    ``timeout_s`` kills it (the next one starts a new worker).
    """

    def __init__(self, settings: ReasonerSettings):
        if importlib.util.find_spec("llama_cpp") is None:
            raise GenerationError("llama-cpp-python is not installed (pip install 'emochat[llm]')")
        self.settings = settings
        self.path = _model_path(settings)
        self.description = f"llama-cpp:{self.path.name}"
        self.process: subprocess.Popen | None = None

    def _start(self) -> subprocess.Popen:
        s = self.settings
        args = [sys.executable, "-m", "emochat.reasoning.llama_worker", str(self.path)]
        args += ["--n-ctx", str(s.n_ctx), "--n-threads", str(s.n_threads)]
        self.process = subprocess.Popen(
            args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
        )
        self._read(max(s.timeout_s, LOAD_TIMEOUT_S), "loading the model")
        return self.process

    def _read(self, timeout_s: float, doing: str) -> dict:
        process = self.process
        ready, _, _ = select.select([process.stdout], [], [], timeout_s)
        line = process.stdout.readline() if ready else ""
        if not line:
            self.close()
            if ready:
                raise GenerationError(f"{self.path}: the llama.cpp worker died while {doing}")
            raise GenerationError(f"{self.path}: {doing} ran past {timeout_s:g} s")
        reply = json.loads(line)
        if "error" in reply:
            raise GenerationError(f"{self.path}: {reply['error']}")
        return reply

    def generate(self, prompt: str) -> str:
        s = self.settings
        process = self.process if self.process and self.process.poll() is None else self._start()
        request = {"prompt": prompt, "max_tokens": s.max_tokens, "temperature": s.temperature}
        process.stdin.write(json.dumps({**request, "stop": STOP}) + "\n")
        process.stdin.flush()
        return self._read(s.timeout_s, "generating")["text"]

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None


class Transformers:
    """A causal LM through transformers: a GGUF file (dequantised) or an HF checkpoint folder."""

    def __init__(self, settings: ReasonerSettings):
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError:
            raise GenerationError(
                "transformers is not installed (pip install 'emochat[llm]')"
            ) from None
        path = _model_path(settings)
        self.settings = settings
        self.description = f"transformers:{path.name}"
        where = {"gguf_file": path.name} if path.is_file() else {}
        folder = str(path.parent if path.is_file() else path)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(folder, **where)
            self.model = AutoModelForCausalLM.from_pretrained(folder, **where)
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise GenerationError(f"{path}: transformers cannot load it ({exc})") from None
        self.model.eval()
        if settings.n_threads:
            torch.set_num_threads(settings.n_threads)

    def generate(self, prompt: str) -> str:
        import torch

        s = self.settings
        inputs = self.tokenizer(prompt, return_tensors="pt")
        started = time.monotonic()
        sampling = {"do_sample": True, "temperature": s.temperature} if s.temperature else {}
        with torch.inference_mode():
            out = self.model.generate(
                **inputs,
                max_new_tokens=s.max_tokens,
                max_time=s.timeout_s,
                stop_strings=STOP,
                tokenizer=self.tokenizer,
                **(sampling or {"do_sample": False}),
            )
        if time.monotonic() - started > s.timeout_s:
            raise GenerationError(f"generation ran past {s.timeout_s:g} s")
        new = out[0, inputs["input_ids"].shape[1] :]
        text = self.tokenizer.decode(new, skip_special_tokens=True)
        for stop in STOP:  # stop_strings keeps the stop text itself
            text = text.split(stop)[0]
        return text


_BACKENDS = {"openai": OpenAICompatible, "llama-cpp": LlamaCpp, "transformers": Transformers}


@cache
def text_generator(settings: ReasonerSettings) -> TextGenerator:
    """The generator for ``settings``; local models stay loaded for the next clip."""
    return _BACKENDS[settings.kind](settings)
