"""`deepfit train` keeps the JSON contract (shared/CONTRACT.md) and its exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from deepfit.cli.main import main

PER_GPU = {
    "weights_bytes",
    "gradients_bytes",
    "optimizer_bytes",
    "activations_bytes",
    "total_bytes",
    "reserved_bytes",  # CONTRACT.md extension: what the caching allocator will hold
}


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:  # type: ignore[type-arg]
    assert main(["train", *args, "--json"]) == 0
    data: dict = json.loads(capsys.readouterr().out)  # type: ignore[type-arg]
    return data


def test_contract_keys(capsys: pytest.CaptureFixture[str]) -> None:
    data = _json(capsys, "deepseek-7b", "--gpu", "A100-80GB", "--gpus", "8", "--zero", "2")
    assert set(data) >= {"per_gpu", "host_bytes", "fits", "tokens_per_s", "time_s"}
    assert set(data["per_gpu"]) == PER_GPU
    assert all(isinstance(v, int) for v in data["per_gpu"].values())
    g = data["per_gpu"]
    rows = ("weights_bytes", "gradients_bytes", "optimizer_bytes", "activations_bytes")
    assert sum(g[k] for k in rows) == g["total_bytes"] < g["reserved_bytes"]
    assert isinstance(data["host_bytes"], int) and data["time_s"] is None
    assert data["fits"] is True and data["tokens_per_s"] > 0


@pytest.mark.parametrize("framework", ["fsdp", "deepspeed", "megatron", "hf", "torchtune"])
def test_framework_families(capsys: pytest.CaptureFixture[str], framework: str) -> None:
    data = _json(
        capsys, "deepseek-7b", "--gpu", "A100-80GB", "--gpus", "8", "--framework", framework
    )
    assert data["framework"] == framework
    assert data["margin_bytes"] == data["gpu_memory_bytes"] - data["memory_peak"]["nvml_bytes"]
    assert data["fits"] is (data["margin_bytes"] >= 0)


def test_chunked_loss_lowers_the_peak(capsys: pytest.CaptureFixture[str]) -> None:
    args = ("meta-llama/Llama-3.2-3B", "--gpu", "A100-80GB", "--gpus", "1", "--recompute", "none")
    plain = _json(capsys, *args, "--framework", "torchtune")
    chunked = _json(capsys, *args, "--framework", "torchtune", "--chunked-loss")
    assert chunked["memory_peak"]["loss_bytes"] < plain["memory_peak"]["loss_bytes"]
    assert chunked["per_gpu"]["total_bytes"] < plain["per_gpu"]["total_bytes"]


def test_tokens_in_scientific_notation(capsys: pytest.CaptureFixture[str]) -> None:
    data = _json(
        capsys, "deepseek-7b", "--gpu", "H100", "--gpus", "64", "--zero", "1", "--tokens", "15.6e12"
    )
    assert data["time_s"] == pytest.approx(15.6e12 / data["tokens_per_s"])
    assert data["usd"] is not None and data["price"]["usd_per_gpu_hour"] > 0


def test_236b_on_32_a100_does_not_fit_and_says_what_would(
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = _json(capsys, "deepseek-236b", "--gpu", "A100-80GB", "--gpus", "32", "--method", "full")
    assert data["fits"] is False
    why = data["would_fit"]["why"]
    assert "3.77 TB of model states" in why and "2.56 TB" in why
    more = data["would_fit"]["more_gpus"]
    assert more["fits"] and more["gpus"] > 32
    off = data["would_fit"]["cpu_offload"]
    assert off["fits"] and off["host_bytes"] > 2e12  # the seed's 2 TB of RAM is not enough


def test_lora_qlora_and_offload(capsys: pytest.CaptureFixture[str]) -> None:
    full = _json(capsys, "deepseek-33b", "--gpu", "A100-80GB", "--gpus", "1")
    lora = _json(capsys, "deepseek-33b", "--gpu", "A100-80GB", "--gpus", "1", "--method", "lora")
    qlora = _json(capsys, "deepseek-33b", "--gpu", "A100-80GB", "--gpus", "1", "--method", "qlora")
    assert qlora["per_gpu"]["weights_bytes"] < lora["per_gpu"]["weights_bytes"]
    assert lora["per_gpu"]["optimizer_bytes"] < full["per_gpu"]["optimizer_bytes"] / 50
    off = _json(
        capsys,
        "deepseek-7b",
        "--gpu",
        "A100-80GB",
        "--gpus",
        "8",
        "--zero",
        "3",
        "--offload",
        "cpu",
    )
    assert off["per_gpu"]["optimizer_bytes"] == 0 and off["host_bytes"] > 0


def test_search_and_launch(capsys: pytest.CaptureFixture[str]) -> None:
    data = _json(capsys, "deepseek-7b", "--gpu", "A100-40GB", "--search", "--launch")
    assert data["fits"] and data["search"]["min_gpus"] == data["gpus"]
    assert data["launch"]["deepspeed_config"]["zero_optimization"]["stage"] in (0, 1, 2, 3)
    assert data["launch"]["torchrun"].startswith("torchrun")


@pytest.mark.parametrize(
    "args",
    [
        ["nope-model", "--gpu", "H100", "--gpus", "8"],
        ["deepseek-7b", "--gpu", "nope", "--gpus", "8"],
        ["deepseek-7b", "--gpu", "H100", "--gpus", "8", "--zero", "5"],
        ["deepseek-7b", "--gpu", "H100", "--gpus", "6", "--tp", "4"],
        ["deepseek-7b", "--gpu", "H100", "--gpus", "8", "--offload", "cpu"],
        ["deepseek-7b", "--gpu", "H100", "--gpus", "8", "--tokens", "1.5"],
        ["deepseek-7b", "--gpu", "H100"],
    ],
)
def test_bad_input_exits_2_with_one_line(args: list[str]) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "deepfit", "train", *args, "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "120"},
    )
    assert out.returncode == 2, out.stderr
    assert out.stdout == "" and len(out.stderr.strip().splitlines()) == 1
    assert "Traceback" not in out.stderr


def test_table_output(capsys: pytest.CaptureFixture[str]) -> None:
    # speed is measured by benchmarks/cli_start.py, never asserted in a test
    assert main(["train", "deepseek-236b", "--gpu", "H100", "--gpus", "64", "--zero", "3"]) == 0
    out = capsys.readouterr().out
    assert "per GPU" in out and "GiB" in out


def test_fp8_and_pipeline_schedules(capsys: pytest.CaptureFixture[str]) -> None:
    args = ("meta-llama/Llama-3.1-70B", "--gpu", "H100", "--gpus", "32", "--tp", "4", "--pp", "4")
    plain = _json(capsys, *args)
    fp8 = _json(capsys, *args, "--precision", "fp8")
    assert fp8["tokens_per_s"] > plain["tokens_per_s"]
    zb = _json(capsys, *args, "--pipeline-schedule", "zero-bubble")
    assert zb["step"]["pipeline_bubble_s"] == 0 < plain["step"]["pipeline_bubble_s"]
    inter = _json(capsys, *args, "--pipeline-schedule", "interleaved", "--virtual-stages", "2")
    assert inter["step"]["pipeline_bubble_s"] == pytest.approx(
        plain["step"]["pipeline_bubble_s"] / 2, rel=0.01
    )
    assert plain["framework"] == "megatron"  # the default with tensor/pipeline parallelism
