"""Per-operator FLOPs and bytes of a step, derived by hand for tiny configs."""

from __future__ import annotations

from typing import Any

import pytest

from deepfit import load_gpu, load_model, model_from_config
from deepfit.memory import load_format
from deepfit.memory.kv import KvDtype, KvSpec
from deepfit.memory.layout import Layout
from deepfit.perf import StepShape, estimate_perf, speculative_factor, step_ops, touched_experts
from deepfit.perf.efficiency import Efficiency, load_efficiency
from deepfit.perf.terms import bandwidth_efficiency, tile_efficiency, weights_compute_dtype

BF16 = load_format("bf16")
KV = KvSpec(KvDtype.BF16)


def _ops(
    cfg: dict[str, Any], shape: StepShape, layout: Layout | None = None, kv: KvSpec = KV
) -> dict[str, Any]:
    arch = model_from_config(cfg).arch
    lay = layout or Layout()
    return {op.name: op for op in step_ops(arch, BF16, kv, lay, 0, range(arch.num_layers), shape)}


DENSE = {
    "model_type": "llama",
    "hidden_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "intermediate_size": 128,
    "vocab_size": 100,
    "tie_word_embeddings": False,
}


def test_dense_gqa_decode_by_hand() -> None:
    ops = _ops(DENSE, StepShape(decode_tokens=3, decode_context=10))
    # head_dim 16: q 64x64, k 32x64, v 32x64, o 64x64 = 12,288 weights per layer
    assert ops["attn_proj"].flops == 2 * 3 * 2 * 12_288
    assert ops["attn_proj"].weight_bytes == 2 * 2 * 12_288
    # MLP: 3 x 64 x 128 per layer
    assert ops["mlp"].flops == 2 * 3 * 2 * 3 * 64 * 128
    # attention: 4 heads x 10 positions x (16 + 16) x 2 FLOPs, per token and layer
    assert ops["attention"].flops == 2 * 3 * 4 * 10 * 2 * (16 + 16)
    # KV: read 10 positions + write 1, per sequence: 2 KV heads x 16 x (K, V) x 2 bytes
    per_token = 2 * 16 * 2 * 2
    assert ops["attention"].kv_bytes == 2 * (3 * 10 + 3) * per_token
    # head: 100 x 64 for each decoded token
    assert ops["lm_head"].flops == 2 * 3 * 100 * 64


def test_tensor_parallel_halves_flops_and_weights() -> None:
    one = _ops(DENSE, StepShape(decode_tokens=1, decode_context=10))
    two = _ops(DENSE, StepShape(decode_tokens=1, decode_context=10), Layout(tp=2))
    for name in ("attn_proj", "mlp", "attention", "lm_head"):
        assert two[name].flops == pytest.approx(one[name].flops / 2)
    assert two["mlp"].weight_bytes == pytest.approx(one["mlp"].weight_bytes / 2)


def test_prefill_attention_is_causal_half() -> None:
    ops = _ops(DENSE, StepShape(prefill_tokens=100, prefill_context=50))
    assert ops["attention"].flops == 2 * 100 * 4 * 50 * 2 * (16 + 16)


MOE = dict(DENSE, model_type="mixtral", num_local_experts=8, num_experts_per_tok=2)


def test_moe_flops_and_touched_experts_by_hand() -> None:
    ops = _ops(MOE, StepShape(decode_tokens=1, decode_context=1))
    expert = 3 * 64 * 128
    # one token runs 2 of 8 experts, and reads exactly those 2
    assert ops["experts"].flops == pytest.approx(2 * 2 * 2 * expert)
    assert ops["experts"].weight_bytes == pytest.approx(2 * 2 * 2 * expert)
    assert ops["router"].flops == 2 * 2 * 8 * 64
    many = _ops(MOE, StepShape(decode_tokens=64, decode_context=1))
    # 64 tokens touch 8 * (1 - (6/8)^64) ~ 8 experts: all weights are read
    assert many["experts"].weight_bytes == pytest.approx(2 * 2 * 8 * expert, rel=1e-6)


def test_touched_experts_formula() -> None:
    assert touched_experts(8, 2, 1) == pytest.approx(2.0)
    assert touched_experts(256, 8, 2) == pytest.approx(256 * (1 - (248 / 256) ** 2))


MLA = {
    "model_type": "deepseek_v2",
    "hidden_size": 64,
    "num_hidden_layers": 1,
    "num_attention_heads": 4,
    "vocab_size": 100,
    "intermediate_size": 128,
    "q_lora_rank": None,
    "kv_lora_rank": 16,
    "qk_nope_head_dim": 8,
    "qk_rope_head_dim": 4,
    "v_head_dim": 8,
}


def test_mla_absorbed_attention_by_hand() -> None:
    ops = _ops(MLA, StepShape(decode_tokens=1, decode_context=10))
    # per head: scores over latent+rope (20) and values in the latent (16), 2 FLOPs each,
    # per position; absorption: q_nope -> latent (8 x 16) and latent -> v (16 x 8)
    assert ops["attention"].flops == 4 * (2 * (20 + 16) * 10 + 2 * (8 * 16 + 16 * 8))
    # the latent cache: 20 elements x 2 bytes per position (10 read, 1 written)
    assert ops["attention"].kv_bytes == 11 * 20 * 2


def test_mla_prefill_runs_decompressed_by_hand() -> None:
    ops = _ops(MLA, StepShape(prefill_tokens=1, prefill_context=10))
    # per head: q.k over nope+rope (12) and p.v (8), 2 FLOPs each, per position; the keys
    # and values decompressed from the latent: 16 x (8 + 8) per position, as absorption
    assert ops["attention"].flops == 4 * (2 * (12 + 8) * 10 + 2 * (8 * 16 + 16 * 8))


def test_mla_decompressed_for_transformers() -> None:
    ops = _ops(
        MLA,
        StepShape(decode_tokens=1, decode_context=10),
        kv=KvSpec(KvDtype.BF16, mla_latent=False),
    )
    assert ops["attention"].flops == 4 * 2 * 10 * (12 + 8)


def test_decode_batch_1_is_bandwidth_bound_at_the_expected_time() -> None:
    """Llama-3.1-8B, bf16, batch 1 on an H100: each step reads the 16.06 GB of weights once;
    at 3.35 TB/s (datasheet) times the achieved-bandwidth term of NVIDIA GPUs, with no host
    overhead, that is the time per output token."""
    gpu = load_gpu("H100")
    eff = {
        "bandwidth_efficiency": 1.0,
        "compute_efficiency": 1.0,
        "step_overhead_s": 0.0,
        "token_overhead_s": 0.0,
        "layer_floor_s": 0.0,
    }
    est = estimate_perf(
        load_model("llama-3.1-8b"),
        gpu,
        input_len=128,
        output_len=128,
        concurrency=1,
        weights="bf16",
        efficiency=eff,
    )
    assert est.bound == "memory"
    weights = 2 * 8_030_261_248 - 2 * 525_336_576  # the input embedding is not read whole
    kv_and_act = 0.01 * weights  # KV of 192 tokens and activations: under 1%
    achieved = 3.35e12 * bandwidth_efficiency(gpu)
    expected = weights / achieved
    assert expected <= est.tpot_s <= expected + kv_and_act / achieved


def test_gguf_is_not_timed_at_the_int8_tensor_peak() -> None:
    # llama.cpp dequantises GGUF blocks and multiplies in 16-bit
    assert weights_compute_dtype(load_format("gguf-q4_k_m")) == "fp16"
    assert weights_compute_dtype(load_format("fp8")) == "fp8"


def test_grouped_gemm_tile_efficiency_by_hand() -> None:
    assert tile_efficiency(64, 64) == 1.0
    assert tile_efficiency(1, 64) == pytest.approx(1 / 64)
    assert tile_efficiency(65, 64) == pytest.approx(65 / 128)
    assert tile_efficiency(0, 64) == 1.0


def test_single_sequence_keeps_its_prefill() -> None:
    # one request at a time: output tokens/s = O / (prefill + O x TPOT), not 1 / TPOT (the
    # request's time outside the GPU steps, in TTFT, overlaps the previous request's steps)
    est = estimate_perf(
        load_model("llama-3.1-8b"),
        load_gpu("H100"),
        input_len=4000,
        output_len=100,
        concurrency=1,
        weights="bf16",
    )
    prefill = est.ttft_s - load_efficiency("vllm", gpu=load_gpu("H100")).request_overhead_s
    assert est.output_tokens_per_s == pytest.approx(100 / (prefill + 100 * est.tpot_s))


def test_speculative_factor() -> None:
    assert speculative_factor(0, 0.9) == 1.0
    assert speculative_factor(3, 0.5) == pytest.approx(1 + 0.5 + 0.25 + 0.125)


def test_efficiency_dataclass_is_frozen() -> None:
    eff = Efficiency("vllm", 0.8, 0.6, 0.0, 0.0, 1.0, 1.0, 0.0, 256, 1024, 8192, False)
    with pytest.raises(AttributeError):
        eff.bandwidth = 1.0  # type: ignore[misc]
