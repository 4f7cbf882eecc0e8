"""Engines other than vLLM 0.19 against the rows of memory.csv that log them, and
data-parallel attention derived by hand.

Not used: SGL-12890 (SGLang accepted DeepSeek-V3's full 163,840-token context on 8 x H20)
records that SGLang does not check the context length against its KV pool at start, not a
memory figure; deepfit says one such sequence needs 10.7 GiB of latent cache per GPU where
SGLang's default budget leaves about 6 GiB.
"""

from __future__ import annotations

from deepfit import estimate_memory, load_gpu, load_model
from deepfit.models.tensors import ATTENTION_ROLES, Split, tensors
from deepfit.units import MiB


def test_llamacpp_mla_latent_q8_0_kv_and_compute_buffer() -> None:
    """ik_llama.cpp PR #259 (memory.csv IKL-259): DeepSeek-R1 at a 32,768-token context with
    a q8_0 latent cache logged KV 1,166.62 MiB and a compute buffer of 8,470 MiB."""
    est = estimate_memory(
        load_model("deepseek-r1"),
        load_gpu("H200"),
        engine="llamacpp",
        weights="gguf-q4_k_m",
        kv_dtype="q8_0",
        context=32_768,
    )
    stage = est.stages[0]
    assert abs(stage.kv_needed / MiB - 1166.62) / 1166.62 < 0.01
    assert abs(stage.activations / MiB - 8470) / 8470 < 0.05


def test_dp_attention_replicates_attention_and_keeps_kv_per_rank() -> None:
    """With data-parallel attention each of the 8 ranks holds all attention weights (instead
    of an eighth) and the whole latent cache of its own sequences."""
    model = load_model("deepseek-v3")
    gpu = load_gpu("H200")
    tp = estimate_memory(model, gpu, gpus=8, engine="sglang", context=4096)
    dpa = estimate_memory(model, gpu, gpus=8, engine="sglang", context=4096, dp_attention=True)
    # the attention tensors TP splits (MLA's down-projections are replicated either way)
    attention_params = sum(
        t.numel
        for t in tensors(model.arch)
        if t.role in ATTENTION_ROLES and t.split is not Split.NONE
    )
    # fp8-block weights: ~1 byte per attention parameter, 7/8 of them added per GPU
    extra = dpa.per_gpu.weights - tp.per_gpu.weights
    assert abs(extra - attention_params * 7 / 8) / (attention_params * 7 / 8) < 0.01
    # the latent is replicated under TP attention, private per rank under DP attention: the
    # same bytes per token per GPU, so 8 ranks hold ~8x the sequences (less the weights)
    assert dpa.stages[0].kv_bytes_per_token == tp.stages[0].kv_bytes_per_token
    assert dpa.max_concurrency > 5 * tp.max_concurrency
