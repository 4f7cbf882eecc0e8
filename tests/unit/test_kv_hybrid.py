"""KV of models that mix attention kinds per layer, derived by hand for tiny configs."""

from __future__ import annotations

import pytest

from deepfit.memory.kv import KvDtype, KvSpec, bytes_for_sequence, bytes_per_token
from deepfit.models import model_from_config

BF16 = KvSpec(KvDtype.BF16)

GPT_OSS = {
    "model_type": "gpt_oss",
    "hidden_size": 32,
    "num_hidden_layers": 4,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 8,
    "intermediate_size": 16,
    "num_local_experts": 4,
    "num_experts_per_tok": 2,
    "sliding_window": 16,
    "vocab_size": 10,
}


def test_gpt_oss_alternates_window_and_full_layers() -> None:
    arch = model_from_config(GPT_OSS).arch
    assert [la.attention.sliding_window for la in arch.layers] == [16, None, 16, None]
    per_layer = 2 * 2 * 8 * 2  # K and V, 2 KV heads of 8, bf16
    assert bytes_per_token(arch, BF16) == 4 * per_layer
    # 100 tokens: window layers keep 16, full layers all 100
    assert bytes_for_sequence(arch, BF16, 100) == 2 * 16 * per_layer + 2 * 100 * per_layer


def test_gpt_oss_sinks_and_biases_are_parameters() -> None:
    p = model_from_config(GPT_OSS).params
    h, q, kv = 32, 4 * 8, 2 * 8
    attention = h * (q + 2 * kv) + q * h + (q + 2 * kv) + h + 4  # weights, biases, 4 sinks
    assert p.attention == 4 * attention
    # experts: gate/up/down with biases (2 x 16 + 32), router with bias
    assert p.experts_routed == 4 * 4 * (3 * h * 16 + 2 * 16 + h)
    assert p.router == 4 * (4 * h + 4)


def test_gpt_oss_layer_types_win_over_the_default_rule() -> None:
    cfg = dict(GPT_OSS, layer_types=["full_attention"] * 3 + ["sliding_attention"])
    arch = model_from_config(cfg).arch
    assert [la.attention.sliding_window for la in arch.layers] == [None, None, None, 16]
    assert bytes_for_sequence(arch, BF16, 1000) == pytest.approx(64 * (3 * 1000 + 16))


QWEN3_NEXT = {
    "model_type": "qwen3_next",
    "hidden_size": 32,
    "num_hidden_layers": 4,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 8,
    "full_attention_interval": 4,
    "linear_num_key_heads": 2,
    "linear_num_value_heads": 4,
    "linear_key_head_dim": 8,
    "linear_value_head_dim": 6,
    "linear_conv_kernel_dim": 4,
    "intermediate_size": 16,
    "moe_intermediate_size": 8,
    "shared_expert_intermediate_size": 8,
    "num_experts": 4,
    "num_experts_per_tok": 2,
    "vocab_size": 10,
}


def test_qwen3_next_linear_layers_keep_a_fixed_state() -> None:
    arch = model_from_config(QWEN3_NEXT).arch
    kinds = [la.attention.kind.value for la in arch.layers]
    assert kinds == ["gated_deltanet"] * 3 + ["gqa"]
    full = 2 * 2 * 8 * 2  # the one full layer: K and V, 2 heads of 8, bf16
    assert bytes_per_token(arch, BF16) == full
    # per linear layer: 4 value heads x 8 x 6 state + 3 conv taps x (2*2*8 + 4*6) channels
    state = (4 * 8 * 6 + 3 * (2 * 2 * 8 + 4 * 6)) * 2
    for tokens in (1, 10, 10_000):
        assert bytes_for_sequence(arch, BF16, tokens) == 3 * state + tokens * full
    # tensor parallelism splits the state by heads, like the K/V heads
    assert bytes_for_sequence(arch, KvSpec(KvDtype.BF16, tp=2), 1) == 3 * state / 2 + full / 2


def test_qwen3_next_gated_attention_doubles_the_query_projection() -> None:
    plain = dict(QWEN3_NEXT, full_attention_interval=1)  # every layer full attention
    p = model_from_config(plain).params
    h, q, kv = 32, 4 * 8, 2 * 8
    # q_proj emits query and gate (2q), k, v, o, and per-head q/k norms
    assert p.attention == 4 * (h * (2 * q + 2 * kv) + q * h)
    assert p.norms == 4 * (2 * 8 + 2 * h) + h


LLAMA4 = {
    "model_type": "llama4_text",
    "hidden_size": 32,
    "num_hidden_layers": 8,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 8,
    "intermediate_size": 12,
    "intermediate_size_mlp": 24,
    "num_local_experts": 4,
    "num_experts_per_tok": 1,
    "interleave_moe_layer_step": 2,
    "attention_chunk_size": 64,
    "vocab_size": 50,
}


def test_llama4_chunked_layers_keep_one_chunk_and_global_layers_all() -> None:
    arch = model_from_config(LLAMA4).arch
    # RoPE layers are chunked; every 4th (NoPE) layer is global; every 2nd layer is MoE
    assert [la.attention.chunk_size for la in arch.layers] == [64, 64, 64, None] * 2
    assert arch.moe_layers == (1, 3, 5, 7)
    per_layer = 2 * 2 * 8 * 2
    assert bytes_for_sequence(arch, BF16, 1000) == 6 * 64 * per_layer + 2 * 1000 * per_layer
    assert bytes_for_sequence(arch, BF16, 10) == 8 * 10 * per_layer


def test_multimodal_configs_size_their_language_model() -> None:
    wrapped = {"model_type": "llama4", "text_config": LLAMA4, "vision_config": {"x": 1}}
    model = model_from_config(wrapped)
    assert model.params.total == model_from_config(LLAMA4).params.total
    assert any("vision encoder is not" in note for note in model.arch.notes)


def test_kimi_k25_and_qwen3_5_wrappers_size_their_language_model() -> None:
    k2 = {
        "model_type": "deepseek_v3",
        "hidden_size": 16,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "q_lora_rank": 4,
        "kv_lora_rank": 4,
        "qk_nope_head_dim": 2,
        "qk_rope_head_dim": 2,
        "v_head_dim": 2,
        "intermediate_size": 8,
        "moe_intermediate_size": 4,
        "n_routed_experts": 4,
        "num_experts_per_tok": 2,
        "n_shared_experts": 1,
        "first_k_dense_replace": 1,
        "vocab_size": 10,
    }
    wrapped = {"model_type": "kimi_k25", "text_config": dict(k2, model_type="kimi_k2")}
    assert model_from_config(wrapped).params.total == model_from_config(k2).params.total
    text = dict(QWEN3_NEXT, model_type="qwen3_5_moe_text")
    wrapped = {"model_type": "qwen3_5_moe", "text_config": text}
    assert model_from_config(wrapped).params.total == model_from_config(text).params.total


def test_vllm_pads_hybrid_groups_to_the_smallest_types_layer_count() -> None:
    # Gemma 3 pattern over 8 layers: 7 sliding + 1 global -> groups of 1: no padding;
    # over 9 layers with pattern 4: 7 sliding + 2 global -> groups of 2: 8 sliding slots
    cfg = {
        "model_type": "gemma3_text",
        "hidden_size": 32,
        "num_hidden_layers": 9,
        "num_attention_heads": 2,
        "num_key_value_heads": 1,
        "head_dim": 8,
        "intermediate_size": 16,
        "sliding_window": 16,
        "sliding_window_pattern": 4,
        "vocab_size": 10,
    }
    arch = model_from_config(cfg).arch
    per_layer = 2 * 8 * 2
    plain = KvSpec(KvDtype.BF16)
    vllm = KvSpec(KvDtype.BF16, group_padding=True)
    assert bytes_per_token(arch, plain) == 9 * per_layer
    assert bytes_per_token(arch, vllm) == 10 * per_layer
    # long sequences: 2 global layers keep everything, 8 sliding slots keep the window
    assert bytes_for_sequence(arch, vllm, 1000) == (2 * 1000 + 8 * 16) * per_layer
    # a model with one attention type is never padded
    dense = model_from_config(dict(cfg, sliding_window=None)).arch
    assert bytes_per_token(dense, vllm) == 9 * per_layer


def test_llamacpp_window_cache_holds_a_ubatch_more_padded_to_256() -> None:
    """llama.cpp (llama-kv-cache-iswa.cpp): a window layer's cache is
    GGML_PAD(min(n_ctx, n_swa + n_ubatch), 256) cells; n_ubatch defaults to 512."""
    from deepfit.memory.kv import for_engine

    arch = model_from_config(GPT_OSS).arch  # windows of 16 on 2 of 4 layers
    spec = for_engine(BF16, "llamacpp")
    per_layer = 2 * 2 * 8 * 2
    # 16 + 512 = 528 -> 768 cells; beyond that the window layers stop growing
    assert bytes_for_sequence(arch, spec, 5000) == (2 * 768 + 2 * 5000) * per_layer
    assert bytes_for_sequence(arch, spec, 600) == 4 * 600 * per_layer
    assert for_engine(BF16, "transformers") == BF16
