"""Speed estimates against published measurements (the bundled copy of
shared/groundtruth/throughput.csv in src/deepfit/perf/data/groundtruth/, with its sources).

- Parsing: a few rows read by hand into deepfit's terms (row ids in the comments).
- The bar of the performance-model issue: over held-in rows of trust A/A-, output tokens/s
  within a median APE of 20% and a 90th percentile of 50%; held-out rows (never used by
  ``tools/calibrate_perf.py``) within a looser median of 30%.
Held-in means an even SHA-256 of the row id (``deepfit.perf.groundtruth.is_held_in``).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from deepfit.perf.groundtruth import (
    PublishedRun,
    Quantity,
    is_held_in,
    read_model_map,
    read_throughput_csv,
)
from deepfit.perf.validate import ValidationReport, validate

DATA = Path(__file__).parents[2] / "src" / "deepfit" / "perf" / "data" / "groundtruth"
RUNS = read_throughput_csv(DATA / "throughput.csv", read_model_map(DATA / "throughput_models.csv"))
BY_ID = {r.row_id: r for r in RUNS}
OUT = Quantity.OUTPUT_TOKENS_PER_S


#: Why the bar is not met yet (see the calibration report); remove when it passes.
@cache
def report() -> ValidationReport:
    return validate(RUNS)


def test_trtllm_v010_total_over_tp_group() -> None:
    # T0068: Llama-2-70B, 2x H100, FP8, TP2, 128/128, "tokens/s (whole TP group)" 6035.36
    run = BY_ID["T0068"]
    assert run.covered
    assert (run.model_id, run.gpu, run.gpus, run.engine) == (
        "meta-llama/Llama-2-70b-hf",
        "H100",
        2,
        "trtllm-cpp",  # 0.10 is the C++ runtime, profiled apart from the 1.x PyTorch backend
    )
    assert (run.weights, run.tp, run.pp, run.ep, run.dp_attention) == ("fp8", 2, 1, 1, False)
    assert (run.input_len, run.output_len, run.concurrency) == (128, 128, "max")
    assert run.quantity is OUT
    assert run.value == pytest.approx(6035.36)


def test_trtllm_release12_per_gpu_times_gpus() -> None:
    # T0408: DeepSeek-R1-0528, 4x B200, "FP4 weights, FP8 KV", DEP4, 1024/1024,
    # 5757 output tokens/s/GPU -> 23028 for the 4 GPUs
    run = BY_ID["T0408"]
    assert (run.model_id, run.gpu, run.gpus) == ("deepseek-ai/DeepSeek-R1", "B200", 4)
    assert (run.weights, run.kv_dtype) == ("nvfp4", "fp8")
    assert (run.tp, run.ep, run.dp_attention) == (4, 4, True)
    assert run.value == pytest.approx(5757 * 4)


def test_trtllm_v10_moe_recipe_uses_attention_dp() -> None:
    # T0337: Qwen3-235B-A22B, 8x H200, FP8 (ModelOpt, per-tensor), "TP8 (MoE: EP per MoE
    # recipe)"; the perf overview's MoE llm_options.yml sets enable_attention_dp: true
    run = BY_ID["T0337"]
    assert (run.weights, run.tp, run.ep, run.dp_attention) == ("fp8", 8, 8, True)
    assert run.assumptions


def test_gpustack_all_at_once_and_native_fp8() -> None:
    # T0568: DeepSeek-R1-0528 on 8x H200, vLLM, "FP8 (native checkpoint)" (block-scaled),
    # ShareGPT averages 219/201, "all 1000 requests at once"
    run = BY_ID["T0568"]
    assert (run.engine, run.weights, run.tp) == ("vllm", "fp8-block", 8)
    assert (run.input_len, run.output_len) == (219, 201)
    assert (run.concurrency, run.requests) == ("max", 1000)
    # T0569: its mean TTFT is queueing behind 1000 requests: skipped
    assert "queueing" in (BY_ID["T0569"].skip_reason or "")


def test_latency_rows_in_seconds() -> None:
    # T0520: median ITL 15.18 ms at concurrency 8, ~20000/~2000 tokens
    run = BY_ID["T0520"]
    assert (run.quantity, run.concurrency, run.input_len) == (Quantity.TPOT_S, 8, 20000)
    assert run.value == pytest.approx(0.01518)
    # T0962: Llama-2-7B TTFT at batch 1, 2048 prompt tokens, 133 ms
    run = BY_ID["T0962"]
    assert (run.quantity, run.input_len, run.concurrency) == (Quantity.TTFT_S, 2048, 1)
    assert run.value == pytest.approx(0.133)


@pytest.mark.parametrize(
    "row_id, why",
    [
        ("T1017", "latency limits"),  # MLPerf Server
        ("T1018", "parallelism"),  # MLPerf Offline, "per submission"
        ("T0477", "phase"),  # SGLang decode-only, PD-disaggregated
        ("T0933", "ambiguous"),  # v0.6.1 A100 column at TP2
    ],
)
def test_uncoverable_rows_say_why(row_id: str, why: str) -> None:
    assert why in (BY_ID[row_id].skip_reason or "")


def test_split_is_a_hash_of_the_row_id() -> None:
    assert is_held_in("T0002") != is_held_in("T0001") or is_held_in("T0003") != is_held_in("T0001")
    share = sum(r.held_in for r in RUNS) / len(RUNS)
    assert 0.4 < share < 0.6


def test_coverage() -> None:
    rep = report()
    assert len(rep.select(trust_a=True, quantity=OUT)) >= 40
    assert all(reason for _, reason in rep.skipped)
    assert len(rep.results) + len(rep.skipped) == len(RUNS)


def _bar_rows(held_in: bool) -> list[PublishedRun]:
    return [r.run for r in report().select(held_in=held_in, trust_a=True, quantity=OUT)]


def test_held_in_output_throughput_bar() -> None:
    stats = report().stats(held_in=True, trust_a=True, quantity=OUT)
    assert stats.count >= 40
    assert stats.median <= 0.20, report().summary()
    assert stats.p90 <= 0.50, report().summary()


def test_held_out_output_throughput() -> None:
    stats = report().stats(held_in=False, trust_a=True, quantity=OUT)
    assert stats.count >= 40
    assert stats.median <= 0.30, report().summary()
