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
