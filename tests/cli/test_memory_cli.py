"""`deepfit memory` keeps the JSON contract (shared/CONTRACT.md) and its exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

CONTRACT_KEYS = {
    "model",
    "kv_bytes_per_token",
    "per_gpu",
    "gpu_memory_bytes",
    "fits",
    "max_context_tokens",
    "max_concurrency",
    "kv_capacity_tokens",
}
PER_GPU_KEYS = {
    "weights_bytes",
    "kv_cache_bytes",
    "activations_bytes",
    "overhead_bytes",
    "total_bytes",
}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deepfit", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "120"},
    )


def test_contract_example() -> None:
    out = run(
        "memory",
        "deepseek-v3",
        "--gpu",
        "H200",
        "--gpus",
        "8",
        "--weights",
        "fp8",
        "--context",
        "32768",
        "--json",
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) >= CONTRACT_KEYS
    assert set(data["per_gpu"]) >= PER_GPU_KEYS
    assert {"id", "params_total", "params_active"} <= set(data["model"])
    assert data["model"]["params_total"] == 671_026_404_352
    # MLA latent: (512 + 64) x 61 layers x 2 bytes
    assert data["kv_bytes_per_token"] == 576 * 61 * 2
    assert data["fits"] is True
    assert all(isinstance(v, int) for v in data["per_gpu"].values())
    assert data["fits"] == (data["per_gpu"]["total_bytes"] <= data["gpu_memory_bytes"])


@pytest.mark.parametrize("engine", ["vllm", "sglang", "trtllm", "llamacpp", "transformers"])
def test_every_engine_answers(engine: str) -> None:
    out = run(
        "memory", "qwen2.5-7b", "--gpu", "L4", "--engine", engine, "--context", "8192", "--json"
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["engine"] == engine


def test_does_not_fit_is_an_answer_with_alternatives() -> None:
    out = run("memory", "deepseek-236b", "--gpu", "RTX4090", "--json")
    assert out.returncode == 0
    data = json.loads(out.stdout)
    assert data["fits"] is False and data["reasons"]
    assert data["would_fit"]


def test_table_output() -> None:
    out = run("memory", "llama-3.1-8b", "--gpu", "H100", "--context", "8192")
    assert out.returncode == 0 and "FITS" in out.stdout and "KV cache" in out.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["memory", "llama-3.1-8b"],  # no --gpu
        ["memory", "llama-3.1-8b", "--gpu", "H1000"],
        ["memory", "llama-3.1-8b", "--gpu", "H100", "--weights", "int3"],
        ["memory", "llama-3.1-8b", "--gpu", "H100", "--kv-dtype", "fp4x"],
        ["memory", "llama-3.1-8b", "--gpu", "H100", "--engine", "tgi2"],
        ["memory", "llama-3.1-8b", "--gpu", "H100", "--tp", "3", "--gpus", "3"],
        ["memory", "llama-3.1-8b", "--gpu", "H100", "--gpus", "3", "--tp", "2"],
        ["memory", "llama-3.1-8b", "--gpu", "H100", "--ep", "2"],
        ["memory", "llama-3.1-8b", "--gpu", "H100", "--context", "-5"],
        ["memory", "llama-3.1-8b", "--gpu", "H100", "--context", "lots"],
        ["memory", "llama-3.1-8b", "--gpu", "H100", "--gpu-memory-utilization", "1.5"],
        ["memory", "llama-3.1-8b", "--gpu", "H100", "--pp", "500", "--gpus", "500"],
    ],
)
def test_bad_arguments(args: list[str]) -> None:
    out = run(*args)
    assert out.returncode == 2, out.stderr
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "hint:" in lines[0] and "Traceback" not in out.stderr
