"""Every family added for the 2025-26 models answers memory and perf questions on a
deployment that holds it, with the structure its architecture implies."""

from __future__ import annotations

import math

import pytest

from deepfit import estimate_memory, estimate_perf, load_gpu, load_model

# (model, GPU, GPU count): the smallest usual node that holds the native checkpoint
DEPLOYMENTS = [
    ("deepseek-v4-flash", "H200", 4),
    ("deepseek-v4-pro", "B200", 8),
    ("deepseek-v3.2", "H200", 8),
    ("kimi-k2", "H200", 16),
    ("gpt-oss-20b", "H100", 1),
    ("gpt-oss-120b", "H100", 1),
    ("qwen3-next", "H100", 4),
    ("minimax-m2", "H200", 2),
    ("gemma-3-1b", "L4", 1),
    ("qwen3.5-397b-a17b", "H200", 8),
    ("qwen3.5-0.8b", "L4", 1),
    ("kimi-k2.5", "H200", 8),  # INT4 routed experts: a derived format perf hands back by name
]


@pytest.mark.parametrize(("name", "gpu", "gpus"), DEPLOYMENTS, ids=[d[0] for d in DEPLOYMENTS])
def test_memory_and_perf_answer(name: str, gpu: str, gpus: int) -> None:
    model, device = load_model(name), load_gpu(gpu)
    mem = estimate_memory(model, device, gpus=gpus, context=8192)
    assert mem.fits, mem.reasons
    assert mem.kv_capacity_tokens > 8192
    perf = estimate_perf(model, device, gpus=gpus, input_len=2000, output_len=500)
    for value in (perf.ttft_s, perf.tpot_s, perf.output_tokens_per_s):
        assert math.isfinite(value) and value > 0


def test_long_context_costs_v4_little_and_v32_more() -> None:
    """Going from 8K to 128K tokens of context: DeepSeek-V4's decode step grows by its
    compressed entries only, V3.2's by its indexer scanning every token (top-k fixed)."""

    def tpot(name: str, gpu: str, gpus: int, context: int) -> float:
        est = estimate_perf(
            load_model(name), load_gpu(gpu), gpus=gpus, input_len=context, output_len=64
        )
        return est.tpot_s

    v4 = tpot("deepseek-v4-flash", "H200", 4, 128_000) / tpot("deepseek-v4-flash", "H200", 4, 8000)
    v32 = tpot("deepseek-v3.2", "H200", 8, 128_000) / tpot("deepseek-v3.2", "H200", 8, 8000)
    assert 1.0 < v4 < v32
