"""SGLang's window caches, derived by hand for tiny configs from SGLang's own rules:
``HybridSWAPoolConfigurator`` (srt/model_executor/pool_configurator.py) gives the full pool
budget / (F + r S) tokens and the window pool r times as many (r = --swa-full-tokens-ratio,
0.8); ``is_hybrid_swa_model`` (srt/configs/model_config.py) lists gpt-oss and Llama 4 but
not Gemma 3, whose window layers share the one token pool and keep the whole context."""

from __future__ import annotations

import pytest

from deepfit import estimate_memory, load_gpu
from deepfit.memory.kv import KvDtype, KvSpec, bytes_for_sequence, bytes_per_token, for_engine
from deepfit.models import model_from_config

from .test_kv_hybrid import GPT_OSS

SGLANG = for_engine(KvSpec(KvDtype.BF16), "sglang")
LAYER = 2 * 2 * 8 * 2  # K and V, 2 KV heads of 8, bf16: 64 bytes per token and layer
#: tiny gpt-oss: layers 0 and 2 slide over 16 tokens, 1 and 3 attend to everything
FULL, SWA, WINDOW, RATIO = 2 * LAYER, 2 * LAYER, 16, 0.8
CELL = FULL + RATIO * SWA  # bytes per token of SGLang's max_total_num_tokens


def test_gpt_oss_pools_bytes_per_token_of_the_full_pool() -> None:
    arch = model_from_config(GPT_OSS).arch
    assert bytes_per_token(arch, SGLANG) == pytest.approx(CELL)


def test_gpt_oss_sequences_take_the_pool_that_fills_first() -> None:
    arch = model_from_config(GPT_OSS).arch
    # long: the full pool binds (1,000 of its tokens out of budget / CELL)
    assert bytes_for_sequence(arch, SGLANG, 1000) == pytest.approx(CELL * 1000)
    # short: 10 tokens in each pool, and the window pool is only 0.8 as large
    assert bytes_for_sequence(arch, SGLANG, 10) == pytest.approx(CELL * 10 / RATIO)
    # 16 to 20 tokens: the window stops at 16, 16 / 0.8 = 20 full-pool tokens' worth
    assert bytes_for_sequence(arch, SGLANG, 18) == pytest.approx(CELL * 20)


def test_gemma3_window_layers_keep_the_whole_context_in_sglang() -> None:
    cfg = {
        "model_type": "gemma3_text",
        "hidden_size": 32,
        "num_hidden_layers": 6,
        "num_attention_heads": 2,
        "num_key_value_heads": 1,
        "head_dim": 8,
        "intermediate_size": 16,
        "sliding_window": 16,
        "sliding_window_pattern": 6,
        "vocab_size": 10,
    }
    arch = model_from_config(cfg).arch
    per_layer = 2 * 8 * 2
    assert bytes_for_sequence(arch, SGLANG, 1000) == 6 * 1000 * per_layer
    assert bytes_for_sequence(arch, KvSpec(KvDtype.BF16), 1000) == (1000 + 5 * 16) * per_layer


def test_estimate_follows_sglangs_two_pools() -> None:
    model = model_from_config(GPT_OSS)
    est = estimate_memory(model, load_gpu("H100"), engine="sglang", kv_dtype="bf16", context=8)
    pool = est.stages[0].kv_pool
    full_tokens = int(pool // CELL)  # SGLang's max_total_num_tokens
    swa_tokens = int(full_tokens * RATIO)
    assert est.stages[0].capacity_tokens == full_tokens
    # 8-token sequences: the window pool binds (8 of its tokens each)
    expected = min(full_tokens // 8, swa_tokens // 8)
    assert abs(est.max_concurrency - expected) <= 1  # SGLang floors the full pool first
    assert est.max_concurrency < full_tokens // 8
