"""`deepfit perf` keeps the JSON contract (shared/CONTRACT.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deepfit", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "120"},
    )


@pytest.mark.parametrize("concurrency", ["1", "16", "max"])
def test_contract_keys(concurrency: str) -> None:
    out = run(
        "perf",
        "deepseek-v3",
        "--gpu",
        "H200",
        "--gpus",
        "8",
        "--input-len",
        "1024",
        "--output-len",
        "256",
        "--concurrency",
        concurrency,
        "--json",
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    for key in ("ttft_s", "tpot_s", "output_tokens_per_s", "total_tokens_per_s"):
        assert isinstance(data[key], float) and data[key] > 0
    assert data["bound"] in ("memory", "compute", "communication")
    assert data["source"] in ("roofline", "calibrated", "measured")
    # throughput is concurrency over time per output token; one sequence alone also pays
    # its own prefill every 256 tokens (at most its TTFT, which also holds time outside the
    # steps); total counts the prompt too
    if data["concurrency"] == 1:
        slowest = 1 / (data["tpot_s"] + data["ttft_s"] / 256)
        assert slowest <= data["output_tokens_per_s"] < 1 / data["tpot_s"]
    else:
        expected = data["concurrency"] / data["tpot_s"]
        assert data["output_tokens_per_s"] == pytest.approx(expected)
    assert data["total_tokens_per_s"] == pytest.approx(
        data["output_tokens_per_s"] * (1024 + 256) / 256
    )


def test_ops_and_matrix() -> None:
    out = run(
        "perf",
        "llama-3.1-8b",
        "--gpu",
        "H100",
        "--input-len",
        "512",
        "--output-len",
        "128",
        "--ops",
        "--json",
    )
    ops = json.loads(out.stdout)["ops"]["decode_step"]["ops"]
    assert {"attn_proj", "mlp", "attention", "lm_head"} <= {o["name"] for o in ops}
    out = run(
        "perf",
        "llama-3.1-8b",
        "--gpu",
        "H100",
        "--input-len",
        "512",
        "--output-len",
        "128",
        "--matrix",
        "--json",
    )
    rows = json.loads(out.stdout)["matrix"]
    assert {r["weights"] for r in rows} >= {"bf16", "fp8", "awq-int4"}
    # quality: a cited effect (with its source) or "not measured", never a bare number
    for r in rows:
        quality = r.get("quality", "not measured")
        assert quality == "not measured" or ("%" in quality and ";" in quality), quality
    assert any(r.get("quality", "not measured") != "not measured" for r in rows)
    assert (
        run(
            "perf",
            "llama-3.1-8b",
            "--gpu",
            "H100",
            "--input-len",
            "512",
            "--output-len",
            "128",
            "--matrix",
        ).returncode
        == 0
    )


@pytest.mark.parametrize(
    "args",
    [
        ["perf", "llama-3.1-8b", "--gpu", "H100", "--output-len", "10"],
        ["perf", "llama-3.1-8b", "--gpu", "H100", "--input-len", "0", "--output-len", "10"],
        [
            "perf",
            "llama-3.1-8b",
            "--gpu",
            "H100",
            "--input-len",
            "10",
            "--output-len",
            "10",
            "--concurrency",
            "lots",
        ],
        [
            "perf",
            "llama-3.1-8b",
            "--gpu",
            "H100",
            "--input-len",
            "10",
            "--output-len",
            "10",
            "--prefix-hit-rate",
            "1.5",
        ],
    ],
)
def test_bad_arguments(args: list[str]) -> None:
    out = run(*args)
    assert out.returncode == 2 and out.stdout == ""
    assert len(out.stderr.strip().splitlines()) == 1 and "hint:" in out.stderr
