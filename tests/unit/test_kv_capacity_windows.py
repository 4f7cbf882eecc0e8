"""Tokens a KV pool holds when layers keep only a window: DeepSeek-V4's sliding entries
stop growing past the window, so long sequences cost only their compressed entries."""

from __future__ import annotations

from deepfit import estimate_memory, load_gpu
from deepfit.models import model_from_config

from .test_kv_deepseek_sparse import v4_config

ENTRY = 16 * 2  # one shared K=V head of 16 in bf16
#: per token past the window: CSA entry/4 + its 8-dim indexer key/4, HCA entry/128
GROWING = ENTRY / 4 + 8 * 2 / 4 + ENTRY / 128
FULL_RATE = 3 * ENTRY + GROWING  # every layer's window entry too
#: vLLM's 16-token blocks: each of the 3 windows of 8 takes one block
WINDOWS = 3 * 16 * ENTRY


def _held_by_hand(pool: int, ctx: int) -> int:
    seq = WINDOWS + ctx * GROWING
    whole = int(pool // seq)
    rest = pool - whole * seq
    blocks = int((rest - WINDOWS) // (16 * GROWING)) if rest >= WINDOWS + 16 * GROWING else 0
    return max(whole * ctx + min(16 * blocks, ctx), int(pool // FULL_RATE) // 16 * 16)


def test_long_sequences_count_windows_once_per_sequence() -> None:
    model = model_from_config(v4_config())
    ctx = 4096
    est = estimate_memory(model, load_gpu("H100"), kv_dtype="bf16", context=ctx)
    pool = est.stages[0].kv_pool
    assert est.kv_capacity_tokens == _held_by_hand(pool, ctx)
    # the pool holds max_concurrency whole sequences, so at least that many tokens
    assert est.kv_capacity_tokens >= est.max_concurrency * ctx
    assert est.kv_capacity_tokens > 8 * int(pool // FULL_RATE)


def test_short_sequences_keep_the_engines_full_rate_count() -> None:
    model = model_from_config(v4_config())
    est = estimate_memory(model, load_gpu("H100"), kv_dtype="bf16", context=8)
    pool = est.stages[0].kv_pool
    assert est.kv_capacity_tokens == int(pool // FULL_RATE) // 16 * 16


def test_plain_window_models_keep_the_engines_logged_count() -> None:
    """vLLM logs a Gemma-style pool at every layer's full rate (tests/validation/
    test_hybrid_kv_vllm.py); long sequences do not change that count."""
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
    est = estimate_memory(model_from_config(cfg), load_gpu("H100"), kv_dtype="bf16", context=4096)
    pool = est.stages[0].kv_pool
    assert est.kv_capacity_tokens == int(pool // (6 * 2 * 8 * 2)) // 16 * 16
