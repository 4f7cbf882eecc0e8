"""llama.cpp CPU+GPU offload: layers on the GPU, the rest in host RAM."""

from __future__ import annotations

import pytest

from deepfit import load_gpu, load_model
from deepfit.memory import load_format, weight_bytes
from deepfit.memory.offload import llamacpp_offload


def test_small_model_goes_entirely_to_the_gpu() -> None:
    plan = llamacpp_offload(load_model("qwen2.5-7b"), load_gpu("RTX4090"), context=4096)
    assert plan.n_gpu_layers == 28 + 1  # every layer and the output layer
    assert plan.gpu_bytes <= plan.gpu_memory_bytes


@pytest.mark.parametrize("gpu", ["RTX3090", "A6000", "H100"])
def test_partial_offload_fills_but_never_overflows(gpu: str) -> None:
    plan = llamacpp_offload(load_model("llama-3.1-70b"), load_gpu(gpu), context=8192)
    assert plan.gpu_bytes <= plan.gpu_memory_bytes
    assert 0 < plan.n_gpu_layers <= 81


def test_more_memory_more_layers() -> None:
    model = load_model("llama-3.1-70b")
    layers = [
        llamacpp_offload(model, load_gpu(g), context=8192).n_gpu_layers
        for g in ("RTX3090", "A6000", "H100")
    ]
    assert layers == sorted(layers) and layers[0] < layers[-1]


def test_gpu_plus_host_hold_all_weights() -> None:
    model = load_model("llama-3.1-70b")
    plan = llamacpp_offload(model, load_gpu("RTX4090"), context=1)
    weights = weight_bytes(model.arch, load_format("gguf-q4_k_m")).total
    # with a 1-token context, GPU = its layers + buffers; all weights are somewhere
    assert plan.host_bytes + plan.gpu_bytes >= weights


def test_experts_on_host_lets_a_moe_model_onto_a_small_gpu() -> None:
    model = load_model("deepseek-r1")
    plain = llamacpp_offload(model, load_gpu("RTX4090"), context=8192)
    cpu_moe = llamacpp_offload(model, load_gpu("RTX4090"), context=8192, experts_on_host=True)
    assert plain.n_gpu_layers < 10
    assert cpu_moe.n_gpu_layers == 62  # attention, shared experts, KV all on the GPU
    assert cpu_moe.host_bytes > 300e9  # the routed experts, ~95% of R1's weights
