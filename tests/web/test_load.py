"""A bounded load test of the web API on loopback: 50 concurrent clients, every request
answered without an error. Latency is not asserted here (a busy CI machine would make it a
coin toss): benchmarks/web_load.py reports p50/p99, searches under load included."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")


@pytest.mark.e2e
def test_fifty_concurrent_clients() -> None:
    from benchmarks.web_load import run

    report = run(clients=50, requests=2, workers=1)
    memory = report["/api/memory"]
    assert memory["errors"] == 0 and memory["requests"] == 100, report
    cached = report["/api/plan (questions answered before)"]
    assert cached["errors"] == 0, report
    assert report["/api/plan (5 new questions, searched under load)"]["errors"] == 0
