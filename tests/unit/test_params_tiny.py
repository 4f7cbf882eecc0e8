"""Parameter counts of tiny configs, derived by hand in each test (not by the code)."""

from __future__ import annotations

from typing import Any

from deepfit.models import AttentionKind, model_from_config


def _llama(**over: Any) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "model_type": "llama",
        "hidden_size": 8,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "num_key_value_heads": 2,
        "intermediate_size": 16,
        "vocab_size": 10,
        "tie_word_embeddings": False,
    }
    cfg.update(over)
    return cfg


def test_llama_mha_by_hand() -> None:
    m = model_from_config(_llama())
    # per layer: q,k,v,o 4*8*8=256; mlp 3*8*16=384; 2 norms 16 -> 656; x2 = 1312
    # embed 80 + head 80 + final norm 8
    assert m.params.total == 1312 + 80 + 80 + 8
    assert m.arch.layers[0].attention.kind is AttentionKind.MHA


def test_llama_gqa_and_mqa_by_hand() -> None:
    gqa = model_from_config(_llama(num_attention_heads=4, num_key_value_heads=2))
    # head_dim 2: q 8*8, k 8*4, v 8*4, o 8*8 = 192 per layer
    assert gqa.params.attention == 2 * 192
    assert gqa.arch.layers[0].attention.kind is AttentionKind.GQA
    mqa = model_from_config(_llama(num_attention_heads=4, num_key_value_heads=1))
    # k, v: 8*2 each -> 64 + 16 + 16 + 64 = 160
    assert mqa.params.attention == 2 * 160
    assert mqa.arch.layers[0].attention.kind is AttentionKind.MQA


def test_tied_embeddings_count_once() -> None:
    assert model_from_config(_llama(tie_word_embeddings=True)).params.total == 1312 + 80 + 8


def test_biases_by_hand() -> None:
    # attention_bias puts biases on q,k,v (8 each) and o (8); mlp_bias on gate/up (16) + down (8)
    m = model_from_config(_llama(attention_bias=True, mlp_bias=True))
    assert m.params.total == 1312 + 80 + 80 + 8 + (32 + 40) * 2


def test_qwen2_bias_on_qkv_only() -> None:
    cfg = _llama(model_type="qwen2")
    assert model_from_config(cfg).params.total == 1312 + 168 + 2 * 24


def test_qwen3_qk_norm() -> None:
    cfg = _llama(model_type="qwen3", head_dim=4)
    # q/k norms of head_dim (4) each per layer
    assert model_from_config(cfg).params.total == 1312 + 168 + 2 * 8


def test_gemma2_norms_and_windows() -> None:
    cfg = _llama(model_type="gemma2", head_dim=4, sliding_window=64, num_hidden_layers=4)
    del cfg["tie_word_embeddings"]
    m = model_from_config(cfg)
    # 4 norms per layer (2 more than Llama: +16), tied by default
    assert m.params.total == 4 * (656 + 16) + 80 + 8
    assert m.arch.sliding_window_layers == (0, 2)


def test_mistral_window_on_every_layer() -> None:
    m = model_from_config(_llama(model_type="mistral", sliding_window=32))
    assert m.arch.sliding_window_layers == (0, 1)


def test_mixtral_active_by_hand() -> None:
    cfg = _llama(model_type="mixtral", num_local_experts=4, num_experts_per_tok=2)
    p = model_from_config(cfg).params
    expert = 3 * 8 * 16
    assert p.experts_routed == 2 * 4 * expert
    assert p.router == 2 * 4 * 8
    assert p.active == p.total - 2 * 2 * expert


def _deepseek_v2(**over: Any) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "model_type": "deepseek_v2",
        "hidden_size": 8,
        "num_hidden_layers": 3,
        "num_attention_heads": 2,
        "vocab_size": 10,
        "intermediate_size": 16,
        "q_lora_rank": 4,
        "kv_lora_rank": 6,
        "qk_nope_head_dim": 3,
        "qk_rope_head_dim": 2,
        "v_head_dim": 5,
        "n_routed_experts": 4,
        "num_experts_per_tok": 2,
        "n_shared_experts": 1,
        "moe_intermediate_size": 6,
        "first_k_dense_replace": 1,
        "moe_layer_freq": 1,
        "tie_word_embeddings": False,
    }
    cfg.update(over)
    return cfg


def test_mla_by_hand() -> None:
    m = model_from_config(_deepseek_v2())
    # q: 8*4 + norm 4 + 4*(2 heads*(3+2)) = 32+4+40; kv_a: 8*(6+2)=64 + norm 6;
    # kv_b: 6*2*(3+5)=96; o: 2*5*8=80  -> 322 per layer (norms 10 of it)
    assert m.params.attention == 3 * 312
    att = m.arch.layers[0].attention
    assert att.kind is AttentionKind.MLA and att.mla is not None
    assert att.mla.latent_dim == 8
    # layer 0 dense (3*8*16), layers 1-2 MoE: 4 experts of 3*8*6, 1 shared of 6, router 4*8
    assert m.params.mlp == 384
    assert m.params.experts_routed == 2 * 4 * 144
    assert m.params.experts_shared == 2 * 144
    assert m.params.router == 2 * 32
    assert m.arch.moe_layers == (1, 2)


def test_mla_without_q_lora() -> None:
    m = model_from_config(_deepseek_v2(q_lora_rank=None))
    # q: 8 * 2*(3+2) = 80 instead of 76 (with its norm of 4)
    assert m.params.attention == 3 * (80 + 64 + 96 + 80)


def test_deepseek_v3_mtp_apart() -> None:
    cfg = _deepseek_v2(model_type="deepseek_v3", num_nextn_predict_layers=1)
    m = model_from_config(cfg)
    moe_layer = 322 + 4 * 144 + 144 + 32 + 16
    assert m.params.mtp == moe_layer + 2 * 8 * 8 + 3 * 8
    assert m.params.total == model_from_config(_deepseek_v2()).params.total


def test_moe_layer_freq() -> None:
    m = model_from_config(
        _deepseek_v2(num_hidden_layers=6, first_k_dense_replace=1, moe_layer_freq=2)
    )
    assert m.arch.moe_layers == (2, 4)


def test_qwen3_moe_sparse_step_and_mlp_only() -> None:
    cfg = _llama(
        model_type="qwen3_moe",
        num_hidden_layers=4,
        num_experts=4,
        num_experts_per_tok=1,
        moe_intermediate_size=6,
        decoder_sparse_step=2,
        mlp_only_layers=[3],
    )
    assert model_from_config(cfg).arch.moe_layers == (1,)
