"""`deepfit bench` against a real (tiny, stdlib) OpenAI-compatible server on loopback."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deepfit.measure import read_runs
from tests.unit.measure_helpers import SERVER, cli, fake_server

ROOT = Path(__file__).resolve().parents[2]


def _bench(url: str, out: Path, *extra: str) -> int:
    return cli(
        [
            "bench",
            url,
            "-o",
            str(out),
            "--json",
            "--input-len",
            "12",
            "--output-len",
            "8",
            "--metrics-interval",
            "0.1",
            *extra,
        ]
    )


def _server_log(path: Path) -> list[dict[str, int]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_counts_match_the_server(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "server.jsonl"
    with fake_server("--tpot", "0.002", "--log", str(log)) as (url, _):
        rc = _bench(url, tmp_path / "r.jsonl", "--requests", "6", "--concurrency", "1,3")
    assert rc == 0
    data = json.loads(capsys.readouterr().out)
    served = _server_log(log)
    assert len(served) == 12
    (run,) = read_runs(tmp_path / "r.jsonl")
    assert run.header.served_model == "fake-model"
    assert [r.completion_tokens for r in run.requests] == [s["completion_tokens"] for s in served]
    assert sum(r.prompt_tokens or 0 for r in run.requests) == sum(
        s["prompt_tokens"] for s in served
    )
    assert all(r.ok and r.token_source == "usage" and r.chunks == 8 for r in run.requests)
    for level in data["levels"]:
        assert level["ok"] == 6 and level["errors"] == 0
        assert level["completion_tokens_mean"] == 8
        assert level["latency"]["ttft_s"]["p50"] >= 0.02  # the server's own TTFT
        assert level["metrics"]["kv_cache_usage_max"] == 0.25  # scraped from /metrics


def test_chat_without_usage_counts_chunks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with fake_server("--tpot", "0.001", "--no-usage") as (url, _):
        rc = _bench(url, tmp_path / "r.jsonl", "--requests", "3", "--api", "chat")
    assert rc == 0
    (level,) = json.loads(capsys.readouterr().out)["levels"]
    assert level["token_source"] == "chunks"
    assert level["completion_tokens_mean"] == 8


def test_poisson_rate_and_slo_goodput(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with fake_server("--tpot", "0.001") as (url, _):
        rc = _bench(
            url,
            tmp_path / "r.jsonl",
            "--requests",
            "8",
            "--rate",
            "40",
            "--slo-ttft",
            "10",
            "--slo-tpot",
            "0.000001",
        )
    assert rc == 0
    (level,) = json.loads(capsys.readouterr().out)["levels"]
    assert level["level"] == "rate=40" and level["ok"] == 8
    assert level["goodput_requests_per_s"] == 0.0  # nobody meets a 1 us TPOT


def test_prediction_side_by_side(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with fake_server("--tpot", "0.001") as (url, _):
        rc = _bench(
            url,
            tmp_path / "r.jsonl",
            "--requests",
            "2",
            "--model",
            "llama-3.1-8b",
            "--gpu",
            "H100",
            "--engine",
            "vllm",
            "--no-profile",
        )
    assert rc == 0
    (level,) = json.loads(capsys.readouterr().out)["levels"]
    rows = {r["quantity"]: r for r in level["comparison"]["rows"]}
    assert rows["tpot_s"]["predicted"] > 0 and rows["tpot_s"]["error"] is not None
    assert level["comparison"]["input_len"] == 12


def test_readme_form_without_engine_predicts_for_vllm_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """README: `deepfit bench URL --concurrency 1,8,32 --model qwen2.5-7b --gpu H100 -o F`."""
    with fake_server("--tpot", "0.001") as (url, _):
        rc = _bench(url, tmp_path / "r.jsonl", "--requests", "2", "--model", "qwen2.5-7b")
        assert rc == 2  # --model without --gpu: no prediction possible
        capsys.readouterr()
        rc = _bench(
            url, tmp_path / "r.jsonl", "--requests", "2", "--model", "qwen2.5-7b", "--gpu", "H100"
        )
    assert rc == 0
    data = json.loads(capsys.readouterr().out)
    assert "predictions assume vllm" in data["notes"][0]
    assert data["levels"][0]["comparison"]["rows"]
    assert data["run"]["deployment"]["engine"] == "vllm"


def test_dead_server_is_an_error_not_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = _bench("http://127.0.0.1:9", tmp_path / "r.jsonl", "--requests", "3")
    assert rc == 2
    err = capsys.readouterr().err
    assert "stopped early" in err and "Traceback" not in err


def test_killed_server_loses_no_finished_request(tmp_path: Path) -> None:
    """Kill the server mid-run: every request it finished is on disk, the command ends
    with a one-line reason and exit code 2."""
    log, out = tmp_path / "server.jsonl", tmp_path / "r.jsonl"
    server = subprocess.Popen(
        [sys.executable, str(SERVER), "--tpot", "0.01", "--log", str(log)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    url = f"http://127.0.0.1:{int(server.stdout.readline())}"
    bench = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.unit.measure_helpers",
            "bench",
            url,
            "-o",
            str(out),
            "--requests",
            "200",
            "--concurrency",
            "2",
            "--output-len",
            "10",
            "--input-len",
            "8",
            "--no-progress",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"PYTHONPATH": f"{ROOT / 'src'}:{ROOT}", "PATH": "/usr/bin:/bin"},
    )
    deadline = time.time() + 10
    while time.time() < deadline and (not log.exists() or len(log.read_text().splitlines()) < 5):
        time.sleep(0.05)
    server.kill()
    server.wait()
    _, err = bench.communicate(timeout=30)
    assert bench.returncode == 2, err
    assert "stopped early" in err and "Traceback" not in err
    finished = len(_server_log(log))
    (run,) = read_runs(out)
    ok = [r for r in run.requests if r.ok]
    assert 5 <= finished < 200
    # every request the server finished is on disk; up to 2 (the concurrency) more may have
    # been sent in full just before the kill, before the server wrote its own log line
    assert finished <= len(ok) <= finished + 2
    assert any(not r.ok for r in run.requests)
