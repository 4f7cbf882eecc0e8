"""KV bytes per token, derived by hand for a tiny config of each attention kind."""

from __future__ import annotations

from typing import Any

from deepfit.memory.kv import KvDtype, KvSpec, bytes_for_sequence, bytes_per_token
from deepfit.models import load_model, model_from_config


def _cfg(**over: Any) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "model_type": "llama",
        "hidden_size": 64,
        "num_hidden_layers": 3,
        "num_attention_heads": 8,
        "num_key_value_heads": 8,
        "intermediate_size": 32,
        "vocab_size": 10,
    }
    cfg.update(over)
    return cfg


BF16 = KvSpec(KvDtype.BF16)


def test_mha() -> None:
    arch = model_from_config(_cfg()).arch
    # K and V: 8 heads x 8 dims x 2 bytes each, 3 layers
    assert bytes_per_token(arch, BF16) == 3 * 2 * 8 * 8 * 2


def test_gqa_and_mqa() -> None:
    gqa = model_from_config(_cfg(num_key_value_heads=2)).arch
    assert bytes_per_token(gqa, BF16) == 3 * 2 * 2 * 8 * 2
    mqa = model_from_config(_cfg(num_key_value_heads=1)).arch
    assert bytes_per_token(mqa, BF16) == 3 * 2 * 1 * 8 * 2


def test_fp8_and_q8_0() -> None:
    arch = model_from_config(_cfg()).arch
    assert bytes_per_token(arch, KvSpec(KvDtype.FP8)) == 3 * 2 * 8 * 8
    assert bytes_per_token(arch, KvSpec(KvDtype.Q8_0)) == 3 * 2 * 8 * 8 * 34 / 32


def test_tensor_parallel_splits_heads_and_replicates_below_one() -> None:
    arch = model_from_config(_cfg(num_key_value_heads=2)).arch
    assert bytes_per_token(arch, KvSpec(KvDtype.BF16, tp=2)) == 3 * 2 * 1 * 8 * 2
    # 2 KV heads on 8 ranks: each rank keeps one head (replicated)
    assert bytes_per_token(arch, KvSpec(KvDtype.BF16, tp=8)) == 3 * 2 * 1 * 8 * 2


def test_sliding_window_caps_tokens() -> None:
    arch = model_from_config(_cfg(model_type="mistral", sliding_window=100)).arch
    per_layer = 2 * 8 * 8 * 2
    assert bytes_for_sequence(arch, BF16, 50) == 3 * 50 * per_layer
    assert bytes_for_sequence(arch, BF16, 1000) == 3 * 100 * per_layer
    # vLLM rounds to blocks of 16 tokens: 50 -> 64
    assert bytes_for_sequence(arch, BF16, 50, block_tokens=16) == 3 * 64 * per_layer


def test_gemma2_half_the_layers_windowed() -> None:
    arch = model_from_config(
        _cfg(model_type="gemma2", num_hidden_layers=4, head_dim=8, sliding_window=10)
    ).arch
    per_layer = 2 * 8 * 8 * 2
    # layers 0 and 2 keep 10 tokens, layers 1 and 3 all 1000
    assert bytes_for_sequence(arch, BF16, 1000) == (10 + 10 + 1000 + 1000) * per_layer


MLA = {
    "model_type": "deepseek_v2",
    "hidden_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "vocab_size": 10,
    "intermediate_size": 32,
    "q_lora_rank": None,
    "kv_lora_rank": 16,
    "qk_nope_head_dim": 8,
    "qk_rope_head_dim": 4,
    "v_head_dim": 8,
}


def test_mla_latent() -> None:
    arch = model_from_config(MLA).arch
    # latent: kv_lora_rank 16 + rope 4 = 20 elements per layer, any TP size
    assert bytes_per_token(arch, KvSpec(KvDtype.BF16, mla_latent=True)) == 2 * 20 * 2
    assert bytes_per_token(arch, KvSpec(KvDtype.BF16, mla_latent=True, tp=4)) == 2 * 20 * 2


def test_mla_decompressed() -> None:
    arch = model_from_config(MLA).arch
    # transformers: 4 heads x (K: 8 + 4, V: 8) per layer
    assert bytes_per_token(arch, KvSpec(KvDtype.BF16, mla_latent=False)) == 2 * 4 * 20 * 2


def test_deepseek_v2_lite_matches_vllm_log() -> None:
    """vLLM 0.19 on H100 logged 43.61 GiB for 1,505,552 tokens: 576 x 2 bytes x 27 layers."""
    arch = load_model("deepseek-v2-lite").arch
    assert bytes_per_token(arch, KvSpec(KvDtype.BF16)) == 576 * 2 * 27
    assert abs(43.61 * 2**30 / 1_505_552 - 576 * 2 * 27) / (576 * 2 * 27) < 0.001
