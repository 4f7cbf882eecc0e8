"""Speed estimates against published measurements (the bundled copies of
shared/groundtruth/throughput.csv, inferencex.csv and vllm-runs.csv in
src/deepfit/perf/data/groundtruth/, with their sources and notes).

- Parsing: a few rows read by hand into deepfit's terms (row ids in the comments).
- The split: by group (source table x model x GPU x engine), never by row.
- Bars on held-out groups (never used by ``tools/calibrate_perf.py``), trust A/A-.
"""

from __future__ import annotations

from collections import defaultdict
from functools import cache

import pytest

from deepfit.perf.groundtruth import Quantity
from deepfit.perf.published import bundled_runs
from deepfit.perf.validate import ValidationReport, validate

RUNS = bundled_runs()
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


def test_split_is_by_group_never_by_row() -> None:
    sides: dict[tuple[str, str, str, str], set[bool]] = defaultdict(set)
    engines: dict[str, set[bool]] = defaultdict(set)
    for r in RUNS:
        sides[r.group].add(r.held_in)
        if r.covered:
            engines[r.engine].add(r.held_in)
    assert all(len(s) == 1 for s in sides.values())  # no held-out row has a held-in twin
    groups_per_engine: dict[str, set[tuple[str, str, str, str]]] = defaultdict(set)
    for r in RUNS:
        if r.covered:
            groups_per_engine[r.engine].add(r.group)
    for engine, groups in groups_per_engine.items():
        if len(groups) >= 2:
            assert engines[engine] == {True, False}, engine


def test_inferencex_closed_loop_row() -> None:
    # IX1954: DeepSeek-R1-0528 on 8x H200, SGLang v0.5.9, FP8, "TP8 EP1", 1k/1k nominal
    # (uniform [0.8 L, L]: mean 0.9 L = 922), concurrency 4, 45.934 output tok/s per GPU
    run = BY_ID["IX1954"]
    assert (run.model_id, run.gpu, run.gpus, run.engine) == (
        "deepseek-ai/DeepSeek-R1",
        "H200",
        8,
        "sglang",
    )
    assert (run.weights, run.tp, run.ep, run.dp_attention) == ("fp8-block", 8, 1, False)
    assert (run.input_len, run.output_len, run.concurrency) == (922, 922, 4)
    assert run.quantity is OUT
    assert run.value == pytest.approx(45.93448227801786 * 8)
    assert run.table == "InferenceX"


def test_inferencex_skips_say_why() -> None:
    reasons = {r.skip_reason for r in RUNS if r.table == "InferenceX" and not r.covered}
    assert any("disaggregated" in (w or "") for w in reasons)
    assert any("MTP" in (w or "") for w in reasons)


def test_vllm_runs_open_loop_stage() -> None:
    # VL0025: Llama-2-7B on 1x H100, vLLM 0.15.1, codegen stage 0 at 5 req/s, p90 TTFT
    # 28.4 ms; measured means 591.63 prompt / 193.7 output tokens; max_num_seqs 128, 2048
    # batched tokens; a 100-token system prompt shared by the users
    run = BY_ID["VL0025"]
    assert (run.model_id, run.gpu, run.tp, run.engine) == (
        "meta-llama/Llama-2-7b-hf",
        "H100",
        1,
        "vllm",
    )
    assert (run.rate, run.percentile, run.quantity) == (5.0, 90.0, Quantity.TTFT_S)
    assert (run.max_num_seqs, run.max_batched_tokens) == (128, 2048)
    assert run.prefix_hit_rate == pytest.approx(100 / 591.63)
    assert run.value == pytest.approx(0.028373321300023235)
    assert "overloaded" in (BY_ID["VL0135"].skip_reason or "")  # 4,068 of 4,800 failed


def test_coverage() -> None:
    rep = report()
    assert len(rep.select(trust_a=True, quantity=OUT)) >= 40
    assert all(reason for _, reason in rep.skipped)
    assert len(rep.results) + len(rep.skipped) == len(RUNS)


def test_held_out_output_throughput() -> None:
    stats = report().stats(held_in=False, trust_a=True, quantity=OUT)
    assert stats.count >= 40
    assert stats.median <= 0.30, report().summary()


def test_tensorrt_llm_held_out_output_throughput() -> None:
    # the engine with the most held-out groups (14): median and p90 on groups never fitted
    stats = report().stats(held_in=False, trust_a=True, engine="trtllm", quantity=OUT)
    assert stats.groups >= 10
    assert stats.median <= 0.25, report().by("engine", held_in=False)
    assert stats.p90 <= 0.50, report().by("engine", held_in=False)


def test_every_published_percentile_is_checked() -> None:
    # each covered p50/p90/p99 row of the open-loop vLLM runs is recomputed by the simulation
    rows = [r for r in RUNS if r.covered and r.percentile is not None]
    assert len(rows) >= 20
    done = {r.run.row_id for r in report().results}
    assert all(r.row_id in done for r in rows)
    held_out = [
        r
        for r in report().results
        if not r.run.held_in and r.run.percentile is not None and r.run.trust_a
    ]
    assert held_out
    apes = sorted(r.ape for r in held_out)
    assert apes[len(apes) // 2] <= 0.35, [(r.run.row_id, r.ape) for r in held_out]


def test_fitted_terms_are_few_against_their_rows() -> None:
    factors = report().to_dict()["factors"]
    assert factors["count"] >= 10
    assert factors["fitted_on_rows"] >= 10 * factors["count"]
    assert isinstance(factors["on_bound"], list)  # listed, never hidden
