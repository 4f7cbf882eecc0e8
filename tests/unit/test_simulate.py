"""The serving simulation against timelines worked out by hand with a step of fixed cost."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from deepfit.perf.simulate import Load, Percentiles, StepTable, simulate


def one_second(decode: int, prefill: int) -> float:
    return 1.0


def test_burst_prefilled_together() -> None:
    # 3 requests of 10 prompt / 5 output tokens, room for all: step 1 prefills the three
    # prompts (first tokens at t=1), steps 2..5 decode the other 4 tokens (last at t=5)
    res = simulate(
        one_second,
        Load("burst", 3),
        input_tokens=10,
        output_tokens=5,
        max_running=10,
        max_batched_tokens=100,
    )
    assert res.requests == 3
    assert res.ttft.mean == pytest.approx(1.0)
    assert res.tpot.p99 == pytest.approx(1.0)
    assert res.e2e.p50 == pytest.approx(5.0)
    assert res.output_tokens_per_s == pytest.approx(15 / 5)


def test_one_running_sequence_queues_the_burst() -> None:
    # max 1 running: request k starts at step 5(k-1)+1, first token at 5(k-1)+1, last at 5k
    res = simulate(
        one_second,
        Load("burst", 3),
        input_tokens=10,
        output_tokens=5,
        max_running=1,
        max_batched_tokens=100,
    )
    # TTFTs 1, 6, 11: mean and median 6, p90 interpolated 6 + 0.8 x 5
    assert (res.ttft.p50, res.ttft.mean, res.ttft.p90) == pytest.approx((6.0, 6.0, 10.0))
    assert res.e2e.mean == pytest.approx(10.0)


def test_chunked_prefill_over_the_step_budget() -> None:
    # a 25-token prompt with a 10-token budget takes 3 steps: first token at t=3
    res = simulate(
        one_second,
        Load("burst", 1),
        input_tokens=25,
        output_tokens=2,
        max_running=4,
        max_batched_tokens=10,
    )
    assert res.ttft.mean == pytest.approx(3.0)
    assert res.e2e.mean == pytest.approx(4.0)


def test_closed_loop_single_client() -> None:
    # one client: each request is 1 prefill step + 4 decode steps, back to back
    res = simulate(
        one_second,
        Load("concurrency", 1, requests=5),
        input_tokens=10,
        output_tokens=5,
        max_running=8,
        max_batched_tokens=100,
    )
    assert res.requests == 5
    assert res.output_tokens_per_s == pytest.approx(1.0)
    assert res.ttft.p90 == pytest.approx(1.0)


def test_request_overhead_adds_to_ttft_and_e2e_only() -> None:
    args = dict(input_tokens=10, output_tokens=5, max_running=10, max_batched_tokens=100)
    base = simulate(one_second, Load("burst", 2), **args)  # type: ignore[arg-type]
    more = simulate(one_second, Load("burst", 2), request_overhead_s=0.5, **args)  # type: ignore[arg-type]
    assert more.ttft.mean == pytest.approx(base.ttft.mean + 0.5)
    assert more.e2e.mean == pytest.approx(base.e2e.mean + 0.5)
    assert more.tpot.mean == pytest.approx(base.tpot.mean)


def test_open_loop_below_capacity_waits_for_nobody() -> None:
    # one request every 10 s, each done in 5 s: no queueing, TTFT one step
    res = simulate(
        one_second,
        Load("rate", 0.1, requests=20, arrivals="constant"),
        input_tokens=10,
        output_tokens=5,
        max_running=4,
        max_batched_tokens=100,
    )
    assert res.ttft.p99 == pytest.approx(1.0)
    assert res.mean_running == pytest.approx(0.5, rel=0.1)


def test_step_table_interpolates_a_linear_cost_exactly() -> None:
    table = StepTable(lambda d, p: 0.01 + 0.001 * d + 0.0001 * p, 300, 8192)
    assert table(37, 1500) == pytest.approx(0.01 + 0.037 + 0.15)


def test_weighted_percentiles() -> None:
    p = Percentiles.of([1.0, 2.0, 3.0], [1.0, 1.0, 8.0])
    assert (p.p50, p.p90) == (3.0, 3.0)
    assert p.mean == pytest.approx((1 + 2 + 24) / 10)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "deepfit", "perf", "qwen2.5-7b", "--gpu", "H100", *args]
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


@pytest.mark.parametrize("load", [["--rate", "4"], ["--burst", "16"], ["--percentiles"]])
def test_cli_load_shapes_add_percentiles(load: list[str]) -> None:
    out = _cli("--input-len", "512", "--output-len", "64", "--concurrency", "8", *load, "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    for key in ("ttft_s", "tpot_s", "output_tokens_per_s", "total_tokens_per_s"):
        assert data[key] > 0
    for name in ("ttft", "tpot", "e2e"):
        assert data[f"{name}_p50_s"] <= data[f"{name}_p90_s"] <= data[f"{name}_p99_s"]
    assert data["e2e_p50_s"] > data["ttft_p50_s"]


def test_cli_rate_and_burst_are_exclusive() -> None:
    out = _cli("--input-len", "512", "--output-len", "64", "--rate", "1", "--burst", "2")
    assert out.returncode == 2
