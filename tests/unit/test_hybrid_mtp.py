"""Qwen3.5's multi-token-prediction module, counted by hand for a tiny config from the
checkpoint layout (``mtp.fc`` [h, 2h], ``mtp.pre_fc_norm_embedding``,
``mtp.pre_fc_norm_hidden``, ``mtp.norm``, and ``mtp.layers.0``: one gated full-attention
layer with q/k norms and the main layers' MLP or MoE)."""

from __future__ import annotations

from typing import Any

from deepfit.models import model_from_config

TINY: dict[str, Any] = {
    "model_type": "qwen3_5_text",
    "hidden_size": 16,
    "num_hidden_layers": 4,
    "num_attention_heads": 2,
    "num_key_value_heads": 1,
    "head_dim": 8,
    "intermediate_size": 32,
    "linear_num_key_heads": 2,
    "linear_num_value_heads": 2,
    "linear_key_head_dim": 8,
    "linear_value_head_dim": 8,
    "vocab_size": 10,
    "mtp_num_hidden_layers": 1,
}


def test_dense_mtp_layer_by_hand() -> None:
    h = 16
    q = 2 * (2 * 8) * h  # gated queries: two outputs per head
    kv = 2 * (1 * 8) * h
    o = h * (2 * 8)
    attention = q + kv + o + 2 * 8  # plus per-head q and k norms
    layer = attention + 3 * h * 32 + 2 * h  # gated MLP, two layer norms
    module = h * 2 * h + 3 * h  # fc and three norms
    assert model_from_config(TINY).params.mtp == layer + module


def test_moe_mtp_layer_carries_the_experts() -> None:
    moe = dict(
        TINY,
        model_type="qwen3_5_moe_text",
        num_experts=4,
        num_experts_per_tok=2,
        moe_intermediate_size=8,
        shared_expert_intermediate_size=8,
    )
    h = 16
    attention = 2 * (2 * 8) * h + 2 * (1 * 8) * h + h * (2 * 8) + 2 * 8
    experts = 4 * 3 * h * 8 + 4 * h  # routed experts and their router
    shared = 3 * h * 8 + h  # shared expert and its gate
    layer = attention + experts + shared + 2 * h
    assert model_from_config(moe).params.mtp == layer + h * 2 * h + 3 * h


def test_no_mtp_key_no_mtp() -> None:
    cfg = {k: v for k, v in TINY.items() if k != "mtp_num_hidden_layers"}
    assert model_from_config(cfg).params.mtp == 0
