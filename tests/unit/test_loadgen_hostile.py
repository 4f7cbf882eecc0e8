"""`deepfit bench` against misbehaving servers: every request ends up in the records with
its status, workers never die silently, a stream that trickles is cut at the request's
deadline, lines are bounded, and a level's time limit records what it cancelled."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from deepfit.measure import loadgen
from deepfit.measure.loadgen import LoadSpec, run_level
from deepfit.measure.results import RequestRecord
from deepfit.measure.workload import Prompt

from .measure_helpers import fake_server

PROMPTS = [Prompt("hello world", 4, 2) for _ in range(4)]


def _run(
    body: Callable[[], AsyncIterator[bytes]], level: str = "c=1", **spec: float
) -> list[RequestRecord]:
    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body(), headers={"content-type": "text/event-stream"})

    async def main() -> list[RequestRecord]:
        got: list[RequestRecord] = []
        client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        async with client:
            opts = {"timeout_s": 30.0, "max_consecutive_errors": 100, **spec}
            await run_level(
                client,
                LoadSpec("http://x", **opts),
                level,
                PROMPTS,
                got.append,  # type: ignore[arg-type]
            )
        return got

    return asyncio.run(main())


def _events(*data: str) -> Callable[[], AsyncIterator[bytes]]:
    async def gen() -> AsyncIterator[bytes]:
        for d in data:
            yield f"data: {d}\n\n".encode()
        yield b"data: [DONE]\n\n"

    return gen


@pytest.mark.parametrize(
    "event", ["[1, 2]", '"text"', "3", '{"choices": 5}', '{"choices": [1]}', "null"]
)
def test_non_object_events_fail_the_request_not_the_worker(event: str) -> None:
    records = _run(_events('{"choices": [{"text": "a"}]}', event))
    assert len(records) == len(PROMPTS)  # the worker went on after each bad stream
    assert all(not r.ok and r.status == "bad_stream" for r in records), records[0]


def test_trickling_stream_cut_at_the_request_deadline() -> None:
    async def trickle() -> AsyncIterator[bytes]:
        yield b'data: {"choices": [{"text": "a"}]}\n\n'
        for _ in range(400):  # 20 s in all, each read well inside any per-read timeout
            await asyncio.sleep(0.05)
            yield b":\n"

    records = _run(trickle, timeout_s=0.5)
    assert [r.status for r in records] == ["timeout"] * len(PROMPTS)
    assert all(r.ttft_s is not None for r in records)  # what it got is kept


def test_endless_line_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loadgen, "MAX_LINE_BYTES", 1000)

    async def endless() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield b"x" * 100

    records = _run(endless)
    assert all(r.status == "bad_stream" and "over" in (r.error or "") for r in records)


def test_level_time_limit_records_cancelled_requests() -> None:
    async def slow() -> AsyncIterator[bytes]:
        yield b'data: {"choices": [{"text": "a"}]}\n\n'
        await asyncio.sleep(30)
        yield b"data: [DONE]\n\n"

    records = _run(slow, level="c=2", duration_s=0.5)
    assert len(records) == 2 and {r.status for r in records} == {"cancelled"}
    assert all(r.ttft_s is not None and r.chunks == 1 for r in records)


def test_seed_reproducible_across_processes(tmp_path: Path) -> None:
    """The same --seed gives the same prompt lengths whatever PYTHONHASHSEED is."""
    lengths = []
    with fake_server() as (url, _):
        for seed in ("1", "2"):
            out = tmp_path / f"r{seed}.jsonl"
            env = {**os.environ, "PYTHONHASHSEED": seed}
            subprocess.run(
                [sys.executable, "-m", "deepfit", "bench", url, "--requests", "4",
                 "--input-len", "uniform:1:500", "--output-len", "2", "--seed", "7",
                 "--output", str(out), "--json", "--no-profile"],
                env=env, capture_output=True, timeout=120, check=False,
            )  # fmt: skip
            recs = [json.loads(x) for x in out.read_text().splitlines()]
            lengths.append(sorted(r["requested_input_len"] for r in recs if r["type"] == "request"))
    assert lengths[0] == lengths[1] and len(lengths[0]) == 4
