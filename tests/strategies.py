"""Hypothesis strategies: small but valid configs of every family deepfit knows."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

DENSE = ("llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "gemma3_text", "phi3")
MOE = (
    "mixtral",
    "qwen2_moe",
    "qwen3_moe",
    "deepseek_v2",
    "deepseek_v3",
    "deepseek_v32",
    "gpt_oss",
    "glm4_moe",
    "minimax_m2",
    "llama4_text",
)


@st.composite
def configs(draw: st.DrawFn, families: tuple[str, ...] = DENSE + MOE) -> dict[str, Any]:
    family = draw(st.sampled_from(families))
    kv = draw(st.integers(1, 3))
    heads = kv * draw(st.integers(1, 3))
    head_dim = draw(st.sampled_from([2, 4, 8]))
    cfg: dict[str, Any] = {
        "model_type": family,
        "hidden_size": heads * head_dim,
        "num_hidden_layers": draw(st.integers(1, 4)),
        "num_attention_heads": heads,
        "num_key_value_heads": kv,
        "intermediate_size": draw(st.integers(1, 24)),
        "vocab_size": draw(st.integers(1, 50)),
        "tie_word_embeddings": draw(st.booleans()),
        # token ids are irrelevant to sizes; transformers checks them against the vocab
        "pad_token_id": None,
        "bos_token_id": None,
        "eos_token_id": None,
    }
    if family in ("llama", "qwen3", "qwen3_moe", "gemma", "gemma2", "gemma3_text"):
        cfg["attention_bias"] = draw(st.booleans())
    if family == "llama":
        cfg["mlp_bias"] = draw(st.booleans())
    if family in ("mistral", "mixtral", "gemma2", "gemma3_text", "phi3"):
        cfg["sliding_window"] = draw(st.one_of(st.none(), st.integers(1, 64)))
    if family in ("qwen2", "qwen3", "qwen2_moe", "qwen3_moe"):
        cfg["use_sliding_window"] = draw(st.booleans())
        cfg["sliding_window"] = 16
        cfg["max_window_layers"] = draw(st.integers(0, 4))
    if family in ("gemma", "gemma2", "gemma3_text", "qwen3", "qwen3_moe"):
        cfg["head_dim"] = head_dim
    experts = draw(st.integers(1, 6))
    topk = draw(st.integers(1, experts))
    if family == "glm4_moe":
        cfg.update(
            n_routed_experts=experts,
            num_experts_per_tok=topk,
            n_shared_experts=draw(st.integers(1, 2)),
            moe_intermediate_size=draw(st.integers(1, 12)),
            first_k_dense_replace=draw(st.integers(0, 3)),
            attention_bias=draw(st.booleans()),
            use_qk_norm=draw(st.booleans()),
            head_dim=head_dim,
            n_group=1,
            topk_group=1,
        )
    if family == "llama4_text":
        cfg.update(
            head_dim=head_dim,
            intermediate_size_mlp=draw(st.integers(1, 24)),
            interleave_moe_layer_step=draw(st.integers(1, 2)),
            attention_chunk_size=draw(st.one_of(st.none(), st.integers(1, 64))),
            attention_bias=draw(st.booleans()),
        )
    if family in ("mixtral", "gpt_oss", "minimax_m2", "llama4_text"):
        cfg.update(num_local_experts=experts, num_experts_per_tok=topk)
    if family == "minimax_m2":
        # released configs set use_qk_norm; transformers builds the norms regardless
        cfg.update(head_dim=head_dim, use_qk_norm=True)
    if family == "gpt_oss":
        cfg.update(
            head_dim=head_dim,
            attention_bias=draw(st.booleans()),
            sliding_window=draw(st.integers(1, 64)),
        )
    if family in ("qwen2_moe", "qwen3_moe"):
        cfg.update(
            num_experts=experts,
            num_experts_per_tok=topk,
            moe_intermediate_size=draw(st.integers(1, 12)),
            decoder_sparse_step=draw(st.integers(1, 2)),
            mlp_only_layers=draw(st.lists(st.integers(0, 3), max_size=2, unique=True)),
        )
    if family == "qwen2_moe":
        cfg["shared_expert_intermediate_size"] = draw(st.integers(1, 12))
    if family in ("deepseek_v2", "deepseek_v3", "deepseek_v32"):
        cfg.update(
            q_lora_rank=draw(st.one_of(st.none(), st.integers(1, 8))),
            kv_lora_rank=draw(st.integers(1, 8)),
            qk_nope_head_dim=draw(st.integers(1, 4)),
            qk_rope_head_dim=draw(st.sampled_from([2, 4])),
            v_head_dim=draw(st.integers(1, 6)),
            n_routed_experts=experts,
            num_experts_per_tok=topk,
            n_shared_experts=draw(st.integers(0, 2)),
            moe_intermediate_size=draw(st.integers(1, 12)),
            first_k_dense_replace=draw(st.integers(0, 2)),
            # transformers 5.25 no longer reads moe_layer_freq (every layer from
            # first_k_dense_replace on is MoE); every released DeepSeek config has 1
            moe_layer_freq=1,
            n_group=1,
            topk_group=1,
        )
        del cfg["num_key_value_heads"]
        cfg["num_key_value_heads"] = heads
    if family == "deepseek_v32":  # the indexer reads the low-rank query: always present
        cfg.update(
            q_lora_rank=draw(st.integers(1, 8)),
            index_n_heads=draw(st.integers(1, 3)),
            index_head_dim=draw(st.sampled_from([2, 4, 8])),
            index_topk=draw(st.integers(1, 8)),
        )
    return cfg


@st.composite
def deepseek_v4_configs(draw: st.DrawFn) -> dict[str, Any]:
    """Small DeepSeek-V4 configs: any mix of window-only, CSA and HCA layers. One shared
    expert, as released (transformers builds one whatever ``n_shared_experts`` says)."""
    layers = draw(st.integers(1, 4))
    groups = draw(st.integers(1, 2))
    experts = draw(st.integers(1, 5))
    rope = draw(st.sampled_from([2, 4]))
    return {
        "model_type": "deepseek_v4",
        "hidden_size": draw(st.integers(2, 12)) * 2,
        "num_hidden_layers": layers,
        "num_attention_heads": groups * draw(st.integers(1, 3)),
        "num_key_value_heads": 1,
        "head_dim": rope * draw(st.integers(1, 4)),
        "qk_rope_head_dim": rope,
        "q_lora_rank": draw(st.integers(1, 8)),
        "o_groups": groups,
        "o_lora_rank": draw(st.integers(1, 6)),
        "sliding_window": draw(st.integers(1, 16)),
        "compress_ratios": draw(
            st.lists(st.sampled_from([0, 4, 128]), min_size=layers + 1, max_size=layers + 1)
        ),
        "index_n_heads": draw(st.integers(1, 3)),
        "index_head_dim": draw(st.sampled_from([2, 4, 8])),
        "index_topk": draw(st.integers(1, 8)),
        "n_routed_experts": experts,
        "num_experts_per_tok": draw(st.integers(1, experts)),
        "n_shared_experts": 1,
        "moe_intermediate_size": draw(st.integers(1, 12)),
        "num_hash_layers": draw(st.integers(0, layers)),
        "hc_mult": draw(st.integers(1, 4)),
        "vocab_size": draw(st.integers(1, 50)),
        "num_nextn_predict_layers": draw(st.integers(0, 1)),
        "pad_token_id": None,
        "bos_token_id": None,
        "eos_token_id": None,
    }


@st.composite
def qwen3_next_configs(draw: st.DrawFn) -> dict[str, Any]:
    """Small Qwen3-Next configs: Gated DeltaNet and gated attention layers, sparse MoE."""
    layers = draw(st.integers(1, 5))
    kv = draw(st.integers(1, 2))
    k_heads = draw(st.integers(1, 2))
    experts = draw(st.integers(1, 6))
    head_dim = draw(st.sampled_from([4, 8]))
    return {
        "model_type": "qwen3_next",
        "hidden_size": draw(st.integers(2, 8)) * 4,
        "num_hidden_layers": layers,
        "num_attention_heads": kv * draw(st.integers(1, 2)),
        "num_key_value_heads": kv,
        "head_dim": head_dim,
        "full_attention_interval": draw(st.integers(1, 4)),
        "linear_num_key_heads": k_heads,
        "linear_num_value_heads": k_heads * draw(st.integers(1, 2)),
        "linear_key_head_dim": draw(st.sampled_from([2, 4, 8])),
        "linear_value_head_dim": draw(st.sampled_from([2, 4, 8])),
        "linear_conv_kernel_dim": draw(st.integers(2, 4)),
        "intermediate_size": draw(st.integers(1, 16)),
        "moe_intermediate_size": draw(st.integers(1, 12)),
        "shared_expert_intermediate_size": draw(st.integers(1, 12)),
        "num_experts": experts,
        "num_experts_per_tok": draw(st.integers(1, experts)),
        "decoder_sparse_step": draw(st.integers(1, 2)),
        "mlp_only_layers": draw(st.lists(st.integers(0, layers - 1), max_size=2, unique=True)),
        "attention_bias": draw(st.booleans()),
        "vocab_size": draw(st.integers(1, 50)),
        "pad_token_id": None,
        "bos_token_id": None,
        "eos_token_id": None,
    }
