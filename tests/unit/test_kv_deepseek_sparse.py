"""KV bytes of DeepSeek's sparse and compressed attention, derived by hand for tiny configs."""

from __future__ import annotations

from typing import Any

import pytest

from deepfit.memory.kv import KvDtype, KvSpec, bytes_for_sequence, bytes_per_token
from deepfit.models import model_from_config


def v4_config(**over: Any) -> dict[str, Any]:
    """A tiny DeepSeek-V4: one window-only, one CSA (ratio 4) and one HCA (ratio 128) layer."""
    cfg: dict[str, Any] = {
        "model_type": "deepseek_v4",
        "hidden_size": 32,
        "num_hidden_layers": 3,
        "num_attention_heads": 4,
        "num_key_value_heads": 1,
        "head_dim": 16,
        "qk_rope_head_dim": 4,
        "q_lora_rank": 8,
        "o_groups": 2,
        "o_lora_rank": 6,
        "sliding_window": 8,
        "compress_ratios": [0, 4, 128, 0],
        "index_n_heads": 2,
        "index_head_dim": 8,
        "index_topk": 3,
        "n_routed_experts": 4,
        "num_experts_per_tok": 2,
        "n_shared_experts": 1,
        "moe_intermediate_size": 8,
        "num_hash_layers": 1,
        "hc_mult": 2,
        "vocab_size": 20,
        "num_nextn_predict_layers": 1,
    }
    cfg.update(over)
    return cfg


def test_v4_bf16_by_hand() -> None:
    arch = model_from_config(v4_config()).arch
    spec = KvSpec(KvDtype.BF16)
    entry = 16 * 2  # one shared K=V head of 16, bf16
    # every layer: a window entry per token; CSA adds entry/4 and an 8-dim indexer key / 4;
    # HCA adds entry/128
    per_token = 3 * entry + entry / 4 + 8 * 2 / 4 + entry / 128
    assert bytes_per_token(arch, spec) == pytest.approx(per_token)
    # 1,000 tokens: windows hold 8 each, compressed entries grow with the context
    expected = 3 * 8 * entry + 1000 * (entry / 4 + 8 * 2 / 4 + entry / 128)
    assert bytes_for_sequence(arch, spec, 1000) == pytest.approx(expected)
    # shorter than the window: every entry is still there
    assert bytes_for_sequence(arch, spec, 5) == pytest.approx(5 * per_token)


def test_v4_fp8_uses_the_engines_entry_layout() -> None:
    arch = model_from_config(v4_config(index_head_dim=128)).arch
    spec = KvSpec(KvDtype.FP8)
    entry = (16 - 4) + 4 * 2 + 8  # fp8 no-RoPE part, bf16 RoPE part, one 8-byte scale
    index_key = 128 + 4  # fp8 key and one fp32 scale per 128
    expected = 3 * 8 * entry + 4096 * (entry / 4 + index_key / 4 + entry / 128)
    assert bytes_for_sequence(arch, spec, 4096) == pytest.approx(expected)


def test_v4_cache_is_not_split_by_tensor_parallelism() -> None:
    arch = model_from_config(v4_config()).arch
    one = bytes_for_sequence(arch, KvSpec(KvDtype.BF16, tp=1), 500)
    assert bytes_for_sequence(arch, KvSpec(KvDtype.BF16, tp=4), 500) == one


def test_v32_indexer_keys_beside_the_latent() -> None:
    cfg = {
        "model_type": "deepseek_v32",
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "q_lora_rank": 8,
        "kv_lora_rank": 512,
        "qk_nope_head_dim": 4,
        "qk_rope_head_dim": 64,
        "v_head_dim": 4,
        "intermediate_size": 16,
        "vocab_size": 20,
        "index_n_heads": 2,
        "index_head_dim": 128,
        "index_topk": 16,
    }
    arch = model_from_config(cfg).arch
    # bf16: latent (512 + 64) x 2 bytes and a 128-dim bf16 indexer key, per layer
    assert bytes_per_token(arch, KvSpec(KvDtype.BF16)) == 2 * (576 * 2 + 128 * 2)
    # fp8 (vLLM fp8_ds_mla): 512 fp8 + 4 fp32 scales + 64 bf16 = 656; key 128 + 4 = 132
    assert bytes_per_token(arch, KvSpec(KvDtype.FP8)) == 2 * (656 + 132)
