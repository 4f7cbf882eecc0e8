"""The pinned export cases: DeepSeek-V3 on 8 x H200, a 7B on one RTX 4090 with llama.cpp,
and Llama 3.1 70B across two nodes of 8 GPUs (tp=8, pp=2)."""

from __future__ import annotations

from typing import Any

_DSV3: dict[str, Any] = dict(gpus=8, tp=8, ep=8, context=32768, concurrency=16)
_L70: dict[str, Any] = dict(gpus=16, tp=8, pp=2, context=8192, concurrency=64)

CASES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "deepseek-v3-h200-vllm": ("deepseek-v3", "H200", {**_DSV3, "engine": "vllm", "spec_tokens": 1}),
    "deepseek-v3-h200-sglang": ("deepseek-v3", "H200", {**_DSV3, "engine": "sglang"}),
    "deepseek-v3-h200-trtllm": ("deepseek-v3", "H200", {**_DSV3, "engine": "trtllm"}),
    "deepseek-v3-h200-skypilot": ("deepseek-v3", "H200", {**_DSV3, "engine": "skypilot"}),
    "deepseek-v3-h200-kubernetes": ("deepseek-v3", "H200", {**_DSV3, "engine": "kubernetes"}),
    "qwen2.5-7b-rtx4090-llamacpp": (
        "qwen2.5-7b",
        "RTX4090",
        dict(
            engine="llamacpp", weights="gguf-q4_k_m", kv_dtype="q8_0", context=8192, concurrency=4
        ),
    ),
    "llama-3.1-70b-a100x16-vllm": ("llama-3.1-70b", "A100-80GB", {**_L70, "engine": "vllm"}),
    "llama-3.1-70b-h100x16-trtllm": ("llama-3.1-70b", "H100", {**_L70, "engine": "trtllm"}),
    "llama-3.1-70b-h100x16-skypilot": ("llama-3.1-70b", "H100", {**_L70, "engine": "skypilot"}),
    "llama-3.1-70b-h100x16-kubernetes": ("llama-3.1-70b", "H100", {**_L70, "engine": "k8s"}),
}
