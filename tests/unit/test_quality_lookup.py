"""deepfit.quality: exact lookups, flagged estimates, unknowns and the seed's table."""

from __future__ import annotations

import pytest

from deepfit.quality import QualityEffect, quality_floor_ok, quality_for, seed_claims_table


def test_exact_row_is_not_an_estimate() -> None:
    e = quality_for("meta-llama/Meta-Llama-3.1-8B", "int8")
    assert e is not None and not e.estimate and e.basis == "measured"
    assert (e.baseline, e.quantized) == (63.03, 62.71)
    assert e.loss_percent == pytest.approx(100 * 0.32 / 63.03)


def test_lookup_is_case_insensitive_on_the_model_id() -> None:
    assert quality_for("META-LLAMA/llama-2-70b-hf", "gguf-q4_k_m") is not None


def test_perplexity_up_is_a_loss_and_accuracy_up_is_a_gain() -> None:
    ppl = quality_for("meta-llama/Llama-2-70b-hf", "gguf-q4_k_m")
    assert ppl is not None and ppl.metric == "perplexity" and ppl.loss_percent > 0
    acc = quality_for("deepseek-ai/DeepSeek-R1-Distill-Llama-70B", "fp8")
    assert acc is not None and acc.quantized > acc.baseline and acc.loss_percent < 0


def test_benchmark_selects_a_row() -> None:
    gsm = quality_for("mistralai/Mixtral-8x7B-v0.1", "fp8", benchmark="GSM8K")
    assert gsm is not None and (gsm.baseline, gsm.quantized) == (64.36, 64.06)
    assert quality_for("mistralai/Mixtral-8x7B-v0.1", "fp8", benchmark="HumanEval") is None


def test_unknown_model_or_format_is_not_measured() -> None:
    assert quality_for("acme/unknown-13b", "fp8") is None
    assert quality_for("meta-llama/Meta-Llama-3.1-8B", "mxfp4") is None
    assert quality_for("deepseek-ai/deepseek-llm-7b-base", "fp16") is None


def test_proxy_is_flagged_with_its_source_model() -> None:
    e = quality_for("deepseek-ai/deepseek-llm-7b-base", "gguf-q4_k_m")
    assert e is not None and e.estimate and e.basis == "proxy"
    assert e.from_model == "meta-llama/Llama-2-7b-hf"
    assert e.model_id == "deepseek-ai/deepseek-llm-7b-base"


def test_nearest_size_in_family_is_flagged() -> None:
    e = quality_for("Qwen/Qwen2.5-7B", "int8")
    assert e is not None and e.estimate and e.basis == "nearest size in family"
    assert e.from_model == "Qwen/Qwen2.5-72B"
    # a measurement of another family is never used
    assert quality_for("Qwen/Qwen2.5-7B", "awq-int4") is None


def test_to_dict_carries_the_derived_numbers() -> None:
    e = quality_for("deepseek-ai/DeepSeek-R1", "nvfp4", benchmark="MATH-500")
    assert e is not None
    d = e.to_dict()
    assert d["baseline_format"] == "fp8-block" and d["estimate"] is False
    assert d["loss_percent"] == pytest.approx(100 * (95.4 - 94.2) / 95.4)
    assert d["delta"] == pytest.approx(-1.2)


def test_quality_floor() -> None:
    e = quality_for("meta-llama/Meta-Llama-3-8B", "fp8", benchmark="GSM8K")
    assert isinstance(e, QualityEffect)  # 75.96 -> 73.99: 2.6 % worse
    assert quality_floor_ok(e, 3.0) is True
    assert quality_floor_ok(e, 1.0) is False
    assert quality_floor_ok(e, 3.0, benchmark="GSM8K") is True
    assert quality_floor_ok(e, 3.0, benchmark="MMLU") is None
    assert quality_floor_ok(None, 3.0) is None


def test_seed_table_for_deepseek_7b() -> None:
    """The seed's matrix claims FP32 0%, BF16 <0.5%, FP16 1-2%, INT8 3-5%, INT4 8-10%.
    deepfit cites what it can, through Llama-2-7B (a documented proxy), and says
    "not measured" for the rest."""
    cells = {c.seed_format: c for c in seed_claims_table()}
    assert list(cells) == ["FP32", "BF16", "FP16", "INT8", "INT4"]
    assert cells["FP32"].status == "not measured" and cells["FP32"].answer == "not measured"
    assert cells["FP16"].status == "not measured"
    assert cells["BF16"].status == "reference"  # the released checkpoint is bf16
    for name, fmt in (("INT8", "gguf-q8_0"), ("INT4", "gguf-q4_k_m")):
        cell = cells[name]
        assert cell.status == "estimate" and cell.fmt == fmt
        assert cell.effect is not None and cell.effect.from_model == "meta-llama/Llama-2-7b-hf"
        assert "estimate from meta-llama/Llama-2-7b-hf" in cell.answer
        assert cell.to_dict()["effect"]["source"].startswith("https://github.com/ggml-org/")
    # the published losses are far below the seed's 3-5 % and 8-10 %
    assert cells["INT8"].effect is not None and cells["INT8"].effect.loss_percent < 0.1
    assert cells["INT4"].effect is not None and cells["INT4"].effect.loss_percent < 1.5
