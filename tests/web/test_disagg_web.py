"""The planner page's disaggregated answer: the same verdict as ``deepfit disagg``."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from deepfit.web.app import create_app

CLIENT = TestClient(create_app(), base_url="http://127.0.0.1")
ASK = {"input_len": "8000", "output_len": "300", "max_gpus": "8"}


def test_plan_carries_the_cli_verdict() -> None:
    params = {"model": "llama-3.1-8b", **ASK, "rate": 10, "ttft_s": 1.5, "tpot_s": 0.015}
    params.update({"gpu": "H100", "engine": "vllm"})
    page = CLIENT.get("/api/plan", params=params).json()["disaggregated"]
    out = subprocess.run(
        [sys.executable, "-m", "deepfit", "disagg", "llama-3.1-8b", "--gpu", "H100",
         "--input-len", "8000", "--output-len", "300", "--max-gpus", "8", "--rate", "10",
         "--ttft", "1.5", "--tpot", "0.015", "--engine", "vllm", "--json"],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    cli = json.loads(out.stdout)
    assert page["verdict"] == cli["verdict"] and page["reason"] == cli["reason"]
    assert page["disaggregated"]["ratio"] == cli["disaggregated"]["ratio"]


def test_no_disaggregated_answer_without_a_rate() -> None:
    params = {"model": "llama-3.1-8b", **ASK, "ttft_s": 1.5, "tpot_s": 0.05, "gpu": "H100"}
    assert CLIENT.get("/api/plan", params=params).json()["disaggregated"] is None
