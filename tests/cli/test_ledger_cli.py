"""`deepfit memory` with a draft model, MTP and LoRA slots: one ledger line each, rows that
still add up, and bad combinations answered with exit code 2 and one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deepfit", "memory", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "120"},
    )


def test_ledger_lines_in_json_and_text() -> None:
    args = ["llama-3-8b", "--gpu", "H100", "--context", "8192", "--draft-model", "llama-3.2-1b"]
    args += ["--max-loras", "2", "--max-lora-rank", "8"]
    out = run(*args, "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert [x["name"] for x in data["ledger"]] == ["draft_model", "lora_slots"]
    rows = data["per_gpu"]
    parts = ("weights_bytes", "kv_cache_bytes", "activations_bytes", "overhead_bytes")
    assert sum(rows[k] for k in parts) + rows["extras_bytes"] == rows["total_bytes"]
    assert rows["extras_bytes"] == sum(x["weights_bytes"] for x in data["ledger"])
    text = run(*args).stdout
    assert "draft model meta-llama/Llama-3.2-1B" in text and "LoRA slots (2 x rank 8)" in text


@pytest.mark.parametrize(
    "extra",
    [("--mtp",), ("--max-loras", "2"), ("--mtp", "--draft-model", "llama-3.2-1b")],
)
def test_bad_combinations_exit_2(extra: tuple[str, ...]) -> None:
    out = run("llama-3-8b", "--gpu", "H100", *extra)
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr


def test_kv_offload_tiers_json() -> None:
    args = ["llama-3.1-8b", "--gpu", "H100", "--context", "8192", "--kv-offload-cpu", "100"]
    out = run(*args, "--kv-offload-disk", "1000", "--disk-gbps", "6", "--json")
    assert out.returncode == 0, out.stderr
    off = json.loads(out.stdout)["kv_offload"]
    assert off["host_link"] == "PCIe Gen5 x16"
    assert [t["tier"] for t in off["tiers"]] == ["cpu", "disk"]
    # 100 GiB / 131,072 bytes per token (32 layers x 8 KV heads x 128 x K,V x bf16)
    assert off["tiers"][0]["tokens"] == 100 * 2**30 // 131072
    bad = run(*args[:-2], "--kv-offload-disk", "1000")  # no --disk-gbps
    assert bad.returncode == 2
