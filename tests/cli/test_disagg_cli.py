"""`deepfit disagg`: its JSON (docs/disaggregated.md), exit codes and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[2] / "src")
BASE = ["meta-llama/llama-3.1-8b", "--gpu", "H100", "--input-len", "8000", "--output-len", "300"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": SRC}
    env.pop("DEEPFIT_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "deepfit", "disagg", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_estimate_json() -> None:
    out = run(*BASE, "--prefill", "2xTP1", "--decode", "1xTP2", "--rate", "3", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["mode"] == "estimate"
    est = data["disaggregated"]
    assert est["ratio"] == "2P:1D" and est["gpus"] == 4
    for key in ("ttft_s", "tpot_s", "output_tokens_per_s", "kv_transfer", "provenance", "source"):
        assert key in est
    assert est["kv_transfer"]["link"]["source"]  # the link's figures carry their source


def test_plan_json_with_launch_scripts() -> None:
    out = run(
        *BASE, "--rate", "10", "--ttft", "1.5", "--tpot", "0.015", "--max-gpus", "8",
        "--engine", "vllm", "--launch", "sglang", "--json",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["mode"] == "plan"
    assert data["verdict"] in ("disaggregate", "do not disaggregate")
    assert set(data["launch"]["files"]) == {
        "sglang-prefill.sh",
        "sglang-decode.sh",
        "sglang-router.sh",
    }


def test_table_output() -> None:
    out = run(*BASE, "--rate", "10", "--ttft", "1.5", "--tpot", "0.015", "--max-gpus", "8")
    assert out.returncode == 0, out.stderr
    assert "disaggregate" in out.stdout


def test_bad_input_is_one_line_and_exit_2() -> None:
    for args in (
        [*BASE, "--prefill", "2xTP1"],  # no decode pool
        [*BASE, "--prefill", "two", "--decode", "1xTP1", "--rate", "1"],
        [*BASE, "--rate", "1"],  # planning without targets
        [*BASE, "--rate", "500", "--ttft", "0.01", "--tpot", "0.001", "--max-gpus", "4"],
    ):
        out = run(*args)
        assert out.returncode == 2, (args, out.stderr)
        assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
