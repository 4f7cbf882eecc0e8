"""A bounded load test of the web API on loopback: 50 concurrent clients, zero errors,
p99 under 300 ms for memory and under 2 s for questions the planner answered before
(benchmarks/web_load.py reports the full figures, searches under load included)."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")


@pytest.mark.e2e
def test_fifty_concurrent_clients() -> None:
    from benchmarks.web_load import run

    report = run(clients=50, requests=2, workers=1)
    memory = report["/api/memory"]
    assert memory["errors"] == 0 and memory["requests"] == 100
    assert memory["p99_s"] < 0.3, report
    cached = report["/api/plan (questions answered before)"]
    assert cached["errors"] == 0 and cached["p99_s"] < 2.0, report
    assert report["/api/plan (5 new questions, searched under load)"]["errors"] == 0
