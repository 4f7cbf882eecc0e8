"""Load test of the local web API: N concurrent clients on loopback (bounded in count and
time), p50/p99 latency and errors per endpoint.

Run: python benchmarks/web_load.py [--clients 50] [--requests 4]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from urllib.parse import urlencode

import httpx

MEMORY = [
    {"model": m, "gpu": g, "gpus": n, "context": 8192}
    for m, g, n in (
        ("deepseek-v3", "H200", 8),
        ("llama-3.1-8b", "H100", 1),
        ("qwen2.5-7b", "L4", 1),
        ("mixtral", "A100-80GB", 2),
        ("deepseek-236b", "H100", 8),
    )
]
PLAN = [
    {"model": m, "input_len": 2000, "output_len": 500, "ttft_s": 1, "tpot_s": 0.05}
    for m in ("deepseek-v3", "llama-3.1-70b", "qwen2.5-7b", "mixtral", "deepseek-7b")
]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def _request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, target: str
) -> int:
    """One HTTP/1.1 keep-alive GET on an open connection; returns the status code.
    A bare asyncio client: the load generator must cost far less than the server."""
    writer.write(f"GET {target} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    return status


async def _client(
    host: str,
    port: int,
    path: str,
    queries: list[dict[str, object]],
    n: int,
    idx: int,
    out: list[float],
    errors: list[str],
) -> None:
    """One simulated user on its own connection: ``n`` requests one after the other."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for k in range(n):
            target = path + "?" + urlencode(queries[(idx + k) % len(queries)], doseq=True)
            start = time.perf_counter()
            try:
                status = await _request(reader, writer, f"{host}:{port}", target)
                if status != 200:
                    errors.append(str(status))
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                errors.append(type(exc).__name__)
                return
            finally:
                out.append(time.perf_counter() - start)
    finally:
        writer.close()


def run(clients: int = 50, requests: int = 4, workers: int = 2) -> dict[str, dict[str, float]]:
    port = _port()
    # the server runs in its own process, as `deepfit serve` does
    server = subprocess.Popen(
        [sys.executable, "-m", "deepfit", "serve", "--port", str(port), "--workers", str(workers)],
        stderr=subprocess.DEVNULL,
        env=dict(os.environ),
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(base + "/api/gpus", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    report: dict[str, dict[str, float]] = {}
    try:
        with httpx.Client(base_url=base, timeout=120) as warm:  # untimed: first answers
            for q in MEMORY:
                warm.get("/api/memory", params=q)
        # plans are not warmed: the first request of each of the 5 questions runs the search
        # under load, the others read its answer
        phases = (
            ("/api/memory", "/api/memory", MEMORY),
            ("/api/plan", "/api/plan (5 new questions, searched under load)", PLAN),
            ("/api/plan", "/api/plan (questions answered before)", PLAN),
        )
        for path, label, queries in phases:
            lat: list[float] = []
            errors: list[str] = []

            async def main(
                path: str = path,
                queries: list[dict[str, object]] = queries,
                lat: list[float] = lat,
                errors: list[str] = errors,
            ) -> None:
                await asyncio.gather(
                    *(
                        _client("127.0.0.1", port, path, queries, requests, i, lat, errors)
                        for i in range(clients)
                    )
                )

            asyncio.run(asyncio.wait_for(main(), timeout=600))
            lat.sort()
            report[label] = {
                "requests": len(lat),
                "errors": len(errors),
                "p50_s": statistics.median(lat),
                "p99_s": lat[max(0, int(len(lat) * 0.99) - 1)],
            }
    finally:
        server.terminate()
        server.wait(timeout=10)
    return report


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--requests", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2, help="server processes")
    args = ap.parse_args()
    for path, stats in run(args.clients, args.requests, args.workers).items():
        print(
            f"{path}: {stats['requests']} requests from {args.clients} clients, "
            f"{stats['errors']} errors, p50 {stats['p50_s'] * 1000:.0f} ms, "
            f"p99 {stats['p99_s'] * 1000:.0f} ms"
        )
