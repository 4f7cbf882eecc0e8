"""Scrape an engine's Prometheus ``/metrics`` during a bench: KV-cache usage and the
running/waiting request counts of vLLM and SGLang (other engines: whatever matches)."""

from __future__ import annotations

import asyncio
import contextlib
import math
import re
import time
from collections.abc import Callable
from typing import Any

import httpx

# deepfit's name -> the engines' metric names (vLLM V0/V1 and SGLang), first found wins.
GAUGES: dict[str, tuple[str, ...]] = {
    "kv_cache_usage": (
        "vllm:kv_cache_usage_perc",
        "vllm:gpu_cache_usage_perc",
        "sglang:token_usage",
    ),
    "running": ("vllm:num_requests_running", "sglang:num_running_reqs"),
    "waiting": ("vllm:num_requests_waiting", "sglang:num_queue_reqs"),
}
_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)")


def parse_prometheus(text: str) -> dict[str, float]:
    """Sum of each metric's samples over its labels (one engine, several label sets)."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _LINE.match(line)
        if not m:
            continue
        try:
            value = float(m.group(3))
        except ValueError:
            continue
        if math.isfinite(value):
            out[m.group(1)] = out.get(m.group(1), 0.0) + value
    return out


def pick(metrics: dict[str, float]) -> dict[str, float]:
    """deepfit's gauges (``kv_cache_usage`` as a 0..1 fraction) from one scrape."""
    out = {}
    for name, candidates in GAUGES.items():
        for c in candidates:
            if c in metrics:
                out[name] = metrics[c]
                break
    return out


async def scrape(client: httpx.AsyncClient, url: str) -> dict[str, float] | None:
    """One scrape; None where the server has no usable ``/metrics``."""
    try:
        r = await client.get(url, timeout=5.0)
    except (httpx.HTTPError, OSError):
        return None
    if r.status_code != 200:
        return None
    return pick(parse_prometheus(r.text))


async def scrape_loop(
    client: httpx.AsyncClient,
    url: str,
    interval_s: float,
    on_sample: Callable[[dict[str, Any]], None],
    stop: asyncio.Event,
) -> None:
    """Scrape every ``interval_s`` until ``stop``; gives up after the first empty answer."""
    t0 = time.perf_counter()
    while not stop.is_set():
        sample = await scrape(client, url)
        if not sample:
            return
        on_sample({"t_s": round(time.perf_counter() - t0, 3), **sample})
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_s)


def summarize(samples: list[dict[str, Any]]) -> dict[str, float]:
    """Peak and mean of each gauge over a level's samples."""
    out: dict[str, float] = {}
    for name in GAUGES:
        values = [float(s[name]) for s in samples if name in s]
        if values:
            out[f"{name}_max"] = max(values)
            out[f"{name}_mean"] = sum(values) / len(values)
    return out
