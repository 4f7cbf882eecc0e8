"""The KV pool an engine's memory-budget rule leaves on one GPU: one function, evaluated on
plain numbers by ``estimate_memory`` and on numpy arrays (one entry per GPU type) by the
planner, so that both answer from the same rule."""

from __future__ import annotations

from typing import Any

from ..engines.spec import Budget

#: ``Any`` below: bytes as a number, or a numpy array of them (one entry per GPU type).


def _floor(x: Any) -> Any:
    return x // 1


def _positive(x: Any) -> Any:
    return x * (x > 0)


def budget_and_pool(
    rule: Budget,
    gpu_bytes: Any,
    fraction: float | None,
    weights: float,
    activations: float,
    non_torch: float,
    cudagraph: float,
    cudagraph_in_budget: bool,
) -> tuple[Any, Any]:
    """(bytes the engine allows itself, bytes left for its KV pool) on one GPU.

    - ``fraction_of_total`` (vLLM ``gpu_memory_utilization``): the budget is that share of
      the GPU; weights, activations, memory outside torch (and CUDA graphs where the engine
      counts them) come out of it.
    - ``static_fraction`` (SGLang ``mem_fraction_static``): the share holds weights and KV.
    - ``fraction_of_free`` (TensorRT-LLM ``free_gpu_memory_fraction``): the share of what is
      free after everything else.
    - ``exact`` (llama.cpp, transformers): what the workload needs; the room left bounds it.
    """
    rest = activations + non_torch
    if rule == "fraction_of_total" and fraction is not None:
        budget = _floor(gpu_bytes * fraction)
        return budget, budget - weights - rest - (cudagraph if cudagraph_in_budget else 0)
    if rule == "static_fraction" and fraction is not None:
        budget = _floor(gpu_bytes * fraction)
        return budget, budget - weights
    free = gpu_bytes - weights - rest - cudagraph
    if rule == "fraction_of_free" and fraction is not None:
        return gpu_bytes, _floor(_positive(free) * fraction)
    return gpu_bytes, free
