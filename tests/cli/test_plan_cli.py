"""`deepfit plan` keeps the JSON contract (shared/CONTRACT.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PLAN_KEYS = {
    "gpu",
    "gpus",
    "weights",
    "kv_dtype",
    "tp",
    "pp",
    "ep",
    "dp",
    "concurrency",
    "ttft_s",
    "tpot_s",
    "output_tokens_per_s",
    "usd_per_hour",
    "usd_per_million_tokens",
    "why",
}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deepfit", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "120"},
    )


def test_contract_example() -> None:
    out = run(
        "plan",
        "deepseek-v3",
        "--ttft-s",
        "1",
        "--tpot-s",
        "0.05",
        "--input-len",
        "2000",
        "--output-len",
        "500",
        "--json",
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["plans"] and all(set(p) >= PLAN_KEYS for p in data["plans"])
    assert all(p["ttft_s"] <= 1 and p["tpot_s"] <= 0.05 for p in data["plans"])
    assert all(p["usd_per_hour"] is not None for p in data["plans"])
    assert all({"candidate", "reason"} <= set(r) for r in data["rejected"])


@pytest.mark.parametrize("scenario", ["customer-service", "code-generation", "batch-research"])
def test_seed_scenarios_each_produce_a_plan(scenario: str) -> None:
    out = run("plan", "deepseek-7b", "--scenario", scenario, "--max-gpus", "8", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["plans"]


def test_plot_files(tmp_path: Path) -> None:
    for name in ("front.html", "front.png"):
        out = run(
            "plan",
            "qwen2.5-7b",
            "--scenario",
            "chat",
            "--max-gpus",
            "2",
            "--plot",
            str(tmp_path / name),
        )
        assert out.returncode == 0, out.stderr
        assert (tmp_path / name).stat().st_size > 1000


def test_table_and_own_hardware() -> None:
    out = run(
        "plan",
        "qwen2.5-7b",
        "--scenario",
        "chat",
        "--max-gpus",
        "2",
        "--gpu",
        "H100",
        "--own-gpu-price",
        "25000",
    )
    assert out.returncode == 0, out.stderr
    assert "Best plans" in out.stdout and "break-even" in out.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["plan", "deepseek-v3", "--objective", "speed"],
        ["plan", "deepseek-v3", "--scenario", "nope"],
        ["plan", "deepseek-v3", "--gpu", "H1000"],
        ["plan", "deepseek-v3", "--ttft-s", "-1"],
        ["plan", "deepseek-v3", "--prices", "/nonexistent.csv"],
    ],
)
def test_bad_arguments(args: list[str]) -> None:
    out = run(*args)
    assert out.returncode == 2 and out.stdout == ""
    assert len(out.stderr.strip().splitlines()) == 1 and "hint:" in out.stderr
