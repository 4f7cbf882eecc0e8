"""Properties of the memory estimate over generated models and deployments."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from deepfit import load_gpu
from deepfit.memory import estimate_memory
from deepfit.models import model_from_config

from ..strategies import configs

GPU = load_gpu("L4")
ENGINES = st.sampled_from(["vllm", "sglang", "trtllm", "llamacpp", "transformers"])
COMMON = settings(max_examples=150, deadline=None, derandomize=True)


def _big(cfg: dict[str, Any]) -> dict[str, Any]:
    """Scale a generated toy config up to real proportions (a scale per 2-element row
    would outweigh the row itself), keeping it valid."""
    out = dict(
        cfg,
        vocab_size=cfg["vocab_size"] * 1000,
        intermediate_size=cfg["intermediate_size"] * 100,
        hidden_size=cfg["hidden_size"] * 16,
    )
    if "head_dim" in cfg:
        out["head_dim"] = cfg["head_dim"] * 16
    return out


@COMMON
@given(configs(), ENGINES, st.integers(1, 1 << 18), st.integers(1, 1 << 16))
def test_total_never_decreases_with_context(
    cfg: dict[str, Any], engine: str, ctx: int, more: int
) -> None:
    model = model_from_config(_big(cfg))
    a = estimate_memory(model, GPU, context=ctx, engine=engine)
    b = estimate_memory(model, GPU, context=ctx + more, engine=engine)
    assert b.per_gpu.total >= a.per_gpu.total
    assert b.fits <= a.fits  # what does not fit at ctx never fits at a longer one


@COMMON
@given(configs(), ENGINES, st.integers(1, 64), st.integers(1, 64))
def test_total_never_decreases_with_batch(
    cfg: dict[str, Any], engine: str, batch: int, more: int
) -> None:
    model = model_from_config(_big(cfg))
    a = estimate_memory(model, GPU, context=4096, batch=batch, engine=engine)
    b = estimate_memory(model, GPU, context=4096, batch=batch + more, engine=engine)
    assert b.per_gpu.total >= a.per_gpu.total


@COMMON
@given(
    configs(),
    ENGINES,
    st.sampled_from(
        [("fp8", "bf16"), ("bf16", "fp32"), ("awq-int4", "fp8"), ("gguf-q4_k_m", "gguf-q8_0")]
    ),
)
def test_wider_weights_never_use_less(
    cfg: dict[str, Any], engine: str, pair: tuple[str, str]
) -> None:
    model = model_from_config(_big(cfg))
    narrow = estimate_memory(
        model, GPU, weights=pair[0], kv_dtype="bf16", context=2048, engine=engine
    )
    wide = estimate_memory(
        model, GPU, weights=pair[1], kv_dtype="bf16", context=2048, engine=engine
    )
    assert wide.per_gpu.weights >= narrow.per_gpu.weights
    assert wide.per_gpu.total >= narrow.per_gpu.total or not wide.fits


@COMMON
@given(configs(), ENGINES, st.sampled_from(["fp8", "bf16"]))
def test_wider_kv_never_holds_more(cfg: dict[str, Any], engine: str, weights: str) -> None:
    model = model_from_config(_big(cfg))
    fp8 = estimate_memory(model, GPU, weights=weights, kv_dtype="fp8", context=2048, engine=engine)
    bf16 = estimate_memory(
        model, GPU, weights=weights, kv_dtype="bf16", context=2048, engine=engine
    )
    assert bf16.kv_bytes_per_token >= fp8.kv_bytes_per_token
    assert bf16.per_gpu.total >= fp8.per_gpu.total
    assert bf16.max_context_tokens <= fp8.max_context_tokens


@COMMON
@given(configs(), st.sampled_from([1, 2, 4, 8]))
def test_more_tp_never_more_weights_per_gpu(cfg: dict[str, Any], tp: int) -> None:
    heads = cfg["num_attention_heads"]
    model = model_from_config(
        _big(
            dict(
                cfg,
                num_attention_heads=heads * 16,
                num_key_value_heads=cfg["num_key_value_heads"] * 16,
                hidden_size=cfg["hidden_size"] * 16,
            )
        )
    )
    one = estimate_memory(model, GPU, gpus=tp, tp=tp, context=1024)
    two = estimate_memory(model, GPU, gpus=2 * tp, tp=2 * tp, context=1024)
    assert two.per_gpu.weights <= one.per_gpu.weights
