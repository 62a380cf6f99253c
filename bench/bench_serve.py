"""Load on `emochat serve` over loopback: N concurrent small uploads, to completion.

Starts the server (its own process, a fresh data folder, 127.0.0.1 only), sends N
uploads at once (N is capped at 200), polls until every job is done, and prints one
BENCHMARKS.md row: submit latency p50/p95, time until all done, jobs per second.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from common import row

from emochat.testing.synth import tone, write_media

MAX_UPLOADS = 200


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _submit(url: str, clips: list[Path]) -> tuple[list[str], list[float]]:
    limits = httpx.Limits(max_connections=len(clips))
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:

        async def one(path: Path) -> tuple[str, float]:
            t0 = time.perf_counter()
            r = await client.post("/v1/analyze", files={"file": (path.name, path.read_bytes())})
            r.raise_for_status()
            return r.json()["id"], time.perf_counter() - t0

        done = await asyncio.gather(*(one(p) for p in clips))
    return [d[0] for d in done], [d[1] for d in done]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-n", "--uploads", type=int, default=40)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--fps", type=float, default=2.0)
    ap.add_argument("--clip-s", type=float, default=1.0, help="length of each synthetic clip")
    ap.add_argument("--timeout", type=float, default=600)
    args = ap.parse_args()
    n = max(1, min(args.uploads, MAX_UPLOADS))
    with tempfile.TemporaryDirectory(prefix="emochat-bench-serve-") as tmp:
        tmp = Path(tmp)
        clips = [
            write_media(
                tmp / "in" / f"c{i:03d}.mp4",
                args.clip_s,
                width=160,
                height=120,
                audio=tone(args.clip_s, 150 + i),
            )
            for i in range(n)
        ]
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        log = open(tmp / "server.log", "wb")
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "emochat.serve",
                "--data-dir",
                str(tmp / "data"),
                "--port",
                str(port),
                "--workers",
                str(args.workers),
                "--fps",
                str(args.fps),
                "--log-level",
                "warning",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(url + "/v1/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    print("server did not start", file=sys.stderr)
                    return 1
                time.sleep(0.2)
            t0 = time.perf_counter()
            ids, latencies = asyncio.run(_submit(url, clips))
            submitted = time.perf_counter() - t0
            with httpx.Client(base_url=url, timeout=30) as client:
                while True:
                    counts = client.get("/v1/health").json()["jobs"]
                    if counts["done"] + counts["failed"] >= n:
                        break
                    if time.perf_counter() - t0 > args.timeout:
                        print(f"timed out: {counts}", file=sys.stderr)
                        return 1
                    time.sleep(0.25)
            total = time.perf_counter() - t0
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(server.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            log.close()
    q = statistics.quantiles(latencies, n=20) if len(latencies) > 1 else latencies * 19
    print(
        row(
            f"{n} concurrent uploads of {args.clip_s:g} s 160x120 clips, --workers {args.workers} "
            f"--fps {args.fps:g}: submitted in {submitted:.2f} s (latency p50 "
            f"{statistics.median(latencies) * 1000:.0f} ms, p95 {q[18] * 1000:.0f} ms); "
            f"{counts['done']} done, {counts['failed']} failed in {total:.1f} s = "
            f"{n / total:.1f} jobs/s"
        )
    )
    return 0 if counts["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
