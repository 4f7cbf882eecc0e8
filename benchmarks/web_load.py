"""Load test of the local web API: N concurrent clients on loopback (bounded in count and
time), p50/p99 latency and errors per endpoint.

Run: python benchmarks/web_load.py [--clients 50] [--requests 4]
     python benchmarks/web_load.py --mixed 60      # 50 clients for 60 s, a mix of questions
     python benchmarks/web_load.py --rss 10000     # server RSS over N pasted-config POSTs
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from typing import Any
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
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    host: str,
    target: str,
    body: bytes | None = None,
) -> int:
    """One HTTP/1.1 keep-alive GET (or POST of a JSON ``body``) on an open connection;
    returns the status code. A bare asyncio client: the load generator must cost far less
    than the server."""
    if body is None:
        writer.write(f"GET {target} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    else:
        head = (
            f"POST {target} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        writer.write(head.encode() + body)
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


PERF = [
    {"model": m, "gpu": g, "gpus": n, "input_len": 1000, "output_len": 200, "concurrency": c}
    for m, g, n, c in (
        ("deepseek-v3", "H200", 8, "16"),
        ("llama-3.1-8b", "H100", 1, "32"),
        ("qwen2.5-7b", "L4", 1, "4"),
        ("mixtral", "A100-80GB", 2, "8"),
    )
]


def _start_server(workers: int) -> tuple[subprocess.Popen[bytes], int]:
    port = _port()
    server = subprocess.Popen(
        [sys.executable, "-m", "deepfit", "serve", "--port", str(port), "--workers", str(workers)],
        stderr=subprocess.DEVNULL,
        env=dict(os.environ),
    )
    for _ in range(300):
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/gpus", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    return server, port


def _rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def _pick(rng: random.Random, new_share: float) -> tuple[str, str, bytes | None]:
    """(label, target, body) of one question of the mix: mostly memory/perf/matrix, some
    plans asked before, and new plan questions (fresh searches) in ``new_share`` of them."""
    if rng.random() < new_share:
        q = dict(rng.choice(PLAN), input_len=rng.randint(100, 8000), tpot_s=rng.choice((0.03, 0.1)))
        return "plan (new question)", "/api/plan?" + urlencode(q), None
    roll = rng.random() * 0.95
    if roll < 0.30:
        return "memory", "/api/memory?" + urlencode(rng.choice(MEMORY)), None
    if roll < 0.55:
        return "perf", "/api/perf?" + urlencode(rng.choice(PERF)), None
    if roll < 0.75:
        return "matrix", "/api/matrix?" + urlencode(rng.choice(PERF)), None
    return "plan (asked before)", "/api/plan?" + urlencode(rng.choice(PLAN)), None


def run_mixed(
    clients: int = 50, seconds: float = 60.0, workers: int = 1, new_share: float = 0.01
) -> dict[str, Any]:
    """``clients`` users asking a mix of questions for ``seconds``: latency per kind."""
    server, port = _start_server(workers)
    lat: dict[str, list[float]] = {}
    errors: list[str] = []
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as warm:
            for q in PLAN:  # the usual questions, answered once before the clock starts
                warm.get("/api/plan", params=q)

        async def user(i: int) -> None:
            rng = random.Random(i)
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            ends = time.perf_counter() + seconds
            try:
                while time.perf_counter() < ends:
                    label, target, body = _pick(rng, new_share)
                    start = time.perf_counter()
                    status = await _request(reader, writer, f"127.0.0.1:{port}", target, body)
                    lat.setdefault(label, []).append(time.perf_counter() - start)
                    if status != 200:
                        errors.append(f"{label}: {status}")
            finally:
                writer.close()

        async def main() -> None:
            await asyncio.gather(*(user(i) for i in range(clients)))

        asyncio.run(asyncio.wait_for(main(), timeout=seconds + 600))
    finally:
        server.terminate()
        server.wait(timeout=10)
    out: dict[str, Any] = {"errors": errors[:20], "error_count": len(errors)}
    for label, xs in sorted(lat.items()):
        xs.sort()
        out[label] = {
            "requests": len(xs),
            "p50_s": statistics.median(xs),
            "p99_s": xs[max(0, int(len(xs) * 0.99) - 1)],
        }
    return out


def rss_growth(requests: int = 10_000, clients: int = 10, warmup: int = 500) -> dict[str, Any]:
    """Server RSS before and after ``requests`` POSTs of pasted configs (200 distinct small
    configs, each asked about on several GPUs and contexts), after ``warmup`` of them."""
    server, port = _start_server(1)
    rng = random.Random(0)
    bodies = []
    for k in range(200):
        cfg = {
            "model_type": "llama",
            "hidden_size": 64 * (1 + k % 16),
            "num_hidden_layers": 2 + k % 24,
            "num_attention_heads": 4,
            "intermediate_size": 256 * (1 + k % 7),
            "vocab_size": 1000 + k,
        }
        gpu = rng.choice(("H100", "L4", "A100-80GB", "RTX4090"))
        bodies.append(json.dumps({"config": cfg, "gpu": gpu, "context": 1024 * (1 + k % 8)}))
    errors: list[int] = []

    async def post(n: int, offset: int) -> None:
        async def user(i: int) -> None:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                for k in range(i, n, clients):
                    body = bodies[(offset + k) % len(bodies)].encode()
                    status = await _request(
                        reader, writer, f"127.0.0.1:{port}", "/api/memory", body
                    )
                    if status != 200:
                        errors.append(status)
            finally:
                writer.close()

        await asyncio.gather(*(user(i) for i in range(clients)))

    try:
        asyncio.run(post(warmup, 0))
        before = _rss_bytes(server.pid)
        start = time.perf_counter()
        asyncio.run(post(requests, warmup))
        wall = time.perf_counter() - start
        after = _rss_bytes(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=10)
    return {
        "requests": requests,
        "errors": len(errors),
        "rss_before_bytes": before,
        "rss_after_bytes": after,
        "growth_bytes": after - before,
        "wall_s": wall,
    }


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--requests", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2, help="server processes")
    ap.add_argument("--mixed", type=float, default=None, metavar="SECONDS")
    ap.add_argument("--rss", type=int, default=None, metavar="REQUESTS")
    ap.add_argument("--new-share", type=float, default=0.01, help="share of new plan questions")
    args = ap.parse_args()
    if args.mixed is not None:
        report = run_mixed(args.clients, args.mixed, args.workers, args.new_share)
        print(json.dumps(report, indent=1))
        sys.exit(0)
    if args.rss is not None:
        print(json.dumps(rss_growth(args.rss), indent=1))
        sys.exit(0)
    for path, stats in run(args.clients, args.requests, args.workers).items():
        print(
            f"{path}: {stats['requests']} requests from {args.clients} clients, "
            f"{stats['errors']} errors, p50 {stats['p50_s'] * 1000:.0f} ms, "
            f"p99 {stats['p99_s'] * 1000:.0f} ms"
        )
