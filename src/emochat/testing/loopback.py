"""Loopback HTTP helpers for tests and benches: a free port, a server that answers from a
script (the LLM client's timeouts, retries and fallback, without a model), and a real
llama.cpp server process serving a GGUF.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


Reply = Callable[[dict], tuple[int, bytes] | None]
"""Given the request JSON: (status, body) to send, or None to hang until the client leaves."""


def completion(text: str) -> tuple[int, bytes]:
    return 200, json.dumps({"choices": [{"text": text, "index": 0}]}).encode()


class ScriptedServer:
    """An HTTP server on 127.0.0.1 answering each POST with the next scripted reply."""

    def __init__(self, *replies: Reply, hang_s: float = 5.0):
        self.replies = list(replies)
        self.requests: list[tuple[str, dict]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append((self.path, body))
                reply = server.replies[min(len(server.requests), len(server.replies)) - 1]
                answer = reply(body)
                if answer is None:
                    time.sleep(hang_s)  # longer than the client's timeout
                    return
                status, payload = answer
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *_args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class LlamaServer:
    """llama-cpp-python's OpenAI-compatible server on 127.0.0.1, serving one GGUF.

    ``python -m llama_cpp.server`` runs in its own process; :meth:`start` waits until
    ``/v1/models`` answers (the model is loaded) and records how long that took.
    """

    def __init__(
        self, model: Path, alias: str = "gemma-3-270m", n_ctx: int = 4096, threads: int = 2
    ):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.alias = alias
        self.args = [
            sys.executable, "-m", "llama_cpp.server",
            "--model", str(model), "--model_alias", alias,
            "--host", "127.0.0.1", "--port", str(self.port),
            "--n_ctx", str(n_ctx), "--n_threads", str(threads), "--verbose", "False",
        ]  # fmt: skip
        self.process: subprocess.Popen | None = None
        self.log = tempfile.TemporaryFile()
        self.start_s = 0.0

    def start(self, timeout_s: float = 180.0) -> LlamaServer:
        t0 = time.perf_counter()
        self.process = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT)
        while time.perf_counter() - t0 < timeout_s:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"llama_cpp.server exited {self.process.returncode}: {self._tail()}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/models", timeout=2) as response:
                    if response.status == 200:
                        self.start_s = time.perf_counter() - t0
                        return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"llama_cpp.server not ready after {timeout_s:g} s: {self._tail()}")

    def _tail(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-2000:]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def __enter__(self) -> LlamaServer:
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()
