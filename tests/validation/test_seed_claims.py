"""The seed article's memory claims (shared/seed/NOTES.md), each checked with deepfit and
with a hand derivation from the model's published dimensions. docs/seed-claims.md states
deepfit's answers."""

from __future__ import annotations

from deepfit import estimate_memory, load_gpu, load_model, model_from_config
from deepfit.memory import load_format, weight_bytes
from deepfit.units import GB


def test_fp16_and_bf16_weigh_the_same() -> None:
    """The article: FP16 needs params x 2.5 and BF16 params x 1.25. Both are 2 bytes."""
    arch = load_model("deepseek-7b").arch
    fp16 = weight_bytes(arch, load_format("fp16")).total
    bf16 = weight_bytes(arch, load_format("bf16")).total
    assert fp16 == bf16 == 2 * 6_910_365_696  # transformers' count x 2 bytes


def test_7b_int4_on_a_24gb_card_with_10k_context() -> None:
    """deepseek-llm-7b: 30 layers x 32 KV heads x 128 x 2 (K, V) x 2 bytes = 491,520 B/token,
    so 10,240 tokens need 5.03 GB of KV. GPTQ packs the 6.07e9 non-embedding weights into
    4 bits + an fp16 scale and a 4-bit zero per 128 (0.5195 B each); embedding and head
    (2 x 0.42e9) stay in 16 bits: 3.15 + 1.68 = 4.83 GB."""
    est = estimate_memory(
        load_model("deepseek-7b"), load_gpu("RTX4090"), weights="gptq-int4", context=10_240
    )
    assert est.kv_bytes_per_token == 30 * 32 * 128 * 2 * 2
    assert est.shortfall_bytes == 0 and est.max_concurrency >= 1  # memory: it fits
    by_hand = 6_071_504_896 * (0.5 + 2.5 / 128) + 2 * 419_430_400 * 2
    assert abs(est.per_gpu.weights - by_hand) / by_hand < 0.01
    # ... but the model was trained for 4,096 positions: the engine refuses it, so no fit
    assert not est.context_supported
    assert not est.fits


# DeepSeek-Coder 33B's published dimensions (arXiv:2401.14196, Table 2): 62 layers, hidden
# 7168, 56 heads in 8 KV groups, FFN 19200, vocab 32256, 16K context. Written out here so
# the test does not depend on the bundled copy built from the same table.
CODER_33B = {
    "model_type": "llama",
    "hidden_size": 7168,
    "num_hidden_layers": 62,
    "num_attention_heads": 56,
    "num_key_value_heads": 8,
    "intermediate_size": 19200,
    "vocab_size": 32256,
    "max_position_embeddings": 16384,
    "tie_word_embeddings": False,
}


def test_33b_int4_fits_one_48gb_card() -> None:
    """The article says 33B INT4 needs two A6000. 4-bit weights: ~33.3e9 x 0.52 B = 17.3 GB;
    KV: 62 x 8 x 128 x 2 x 2 = 253,952 B/token, 16K tokens = 4.2 GB: one 48 GB card."""
    model = model_from_config(CODER_33B, "deepseek-coder-33b (paper dims)")
    est = estimate_memory(model, load_gpu("A6000"), weights="gptq-int4", context=16_384)
    assert est.kv_bytes_per_token == 62 * 8 * 128 * 2 * 2
    assert est.fits and est.max_context_tokens == 16_384
    bundled = estimate_memory(
        load_model("deepseek-33b"), load_gpu("A6000"), weights="gptq-int4", context=16_384
    )
    assert bundled.per_gpu == est.per_gpu
    assert 16 * GB < est.per_gpu.weights < 19 * GB


def test_236b_bf16_fits_8x80gb_and_fp32_does_not() -> None:
    """DeepSeek-V2 has 235.7e9 parameters: 471 GB in bf16. At tp=8 every rank also keeps
    the replicated MLA down-projections (60 x 5120 x (1536 + 576)) and routers
    (59 x 160 x 5120): 60.2 GB per GPU, which fits an 80 GB card; fp32 cannot."""
    model = load_model("deepseek-236b")
    bf16 = estimate_memory(model, load_gpu("H100"), gpus=8, weights="bf16", context=8192)
    assert bf16.fits
    replicated = 60 * 5120 * (1536 + 576) + 59 * 160 * 5120
    by_hand = 2 * ((235_741_434_880 - replicated) / 8 + replicated)
    assert abs(bf16.per_gpu.weights - by_hand) / by_hand < 0.005
    fp32 = estimate_memory(model, load_gpu("H100"), gpus=8, weights="fp32", context=8192)
    assert not fp32.fits


def test_mla_cache_is_a_fraction_of_an_mha_cache() -> None:
    """MLA caches 512 + 64 elements per layer; 128 heads of K (192) and V (128) would be
    128 x 320 = 40,960: 71x more, which is what a plain transformers run stores."""
    model = load_model("deepseek-236b")
    vllm = estimate_memory(model, load_gpu("H100"), gpus=8, context=4096, engine="vllm")
    hf = estimate_memory(model, load_gpu("H100"), gpus=8, context=4096, engine="transformers")
    assert vllm.kv_bytes_per_token == 60 * 576 * 2
    assert hf.kv_bytes_per_token == 60 * 128 * (192 + 128) * 2
