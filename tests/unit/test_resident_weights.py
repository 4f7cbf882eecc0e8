"""vLLM's Hopper MXFP4 experts as its triton kernels keep them, derived by hand from the
layout rules (vLLM mxfp4.py create_weights pads each rank's expert width to 64; triton_kernels'
HopperMXValueLayout pads packed bytes to 64 x 256, HopperMXScaleLayout scale rows to 256 and
columns to 2; expert biases become fp32)."""

from __future__ import annotations

from deepfit import estimate_memory, load_gpu
from deepfit.models import model_from_config

from .test_kv_hybrid import GPT_OSS  # hidden 32, expert width 16, 4 experts, 4 layers


def _weights(gpu: str, engine: str = "vllm") -> int:
    model = model_from_config(GPT_OSS)
    est = estimate_memory(model, load_gpu(gpu), weights="mxfp4", engine=engine, context=64)
    return est.stages[0].weights


def test_tiny_gpt_oss_experts_on_hopper_by_hand() -> None:
    # width 16 -> 64. gate-up: 32/2 = 16 bytes -> 64, 2 x 64 = 128 -> 256;
    # down: 64/2 = 32 -> 64, 32 -> 256; scales: 128 rows -> 256 x 1 col -> 2, 32 rows -> 256
    # x 2 cols; biases (128 + 32) x 4 bytes
    resident = 64 * 256 + 64 * 256 + 256 * 2 + 256 * 2 + (128 + 32) * 4
    # as loaded: e2m1 values, one scale byte per 32, bf16 biases of the 16-wide expert
    loaded = (2 * 16 * 32 + 32 * 16) // 2 + (2 * 16 * 32 + 32 * 16) // 32 + (32 + 32) * 2
    assert _weights("H100") - _weights("A100-80GB") == 4 * 4 * (resident - loaded)


def test_other_engines_and_gpus_keep_the_checkpoint_layout() -> None:
    assert _weights("H100", engine="sglang") == _weights("A100-80GB", engine="sglang")
    assert _weights("B200") == _weights("A100-80GB")
