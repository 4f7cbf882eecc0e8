"""Engine memory profiles, read from ``data/engines.json`` (defaults with sources, and the
factors fitted on published engine logs by ``tools/calibrate_memory.py``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from .._data import data_path
from ..errors import BadInputError, CatalogError
from ..units import GiB

Budget = Literal["fraction_of_total", "static_fraction", "fraction_of_free", "exact"]
ENGINES = ("vllm", "sglang", "trtllm", "trtllm-cpp", "llamacpp", "transformers")
_ALIASES = {
    "tensorrt-llm": "trtllm",
    "tensorrt_llm": "trtllm",
    "trt-llm": "trtllm",
    "llama.cpp": "llamacpp",
    "llama-cpp": "llamacpp",
    "hf": "transformers",
    "ollama": "llamacpp",
}


@dataclass(frozen=True)
class EngineProfile:
    """How one engine lays out GPU memory. Byte figures are per GPU."""

    name: str
    label: str
    budget: Budget
    mla_latent: bool
    block_tokens: int
    max_batched_tokens: int
    cudagraph_in_budget: bool
    memory_fraction_default: float | None = None
    memory_fraction_by_tp: tuple[tuple[int, float], ...] = ()
    fitted: dict[str, Any] = field(default_factory=dict)

    def memory_fraction(self, tp: int) -> float | None:
        """The engine's default budget knob (vLLM gpu_memory_utilization, SGLang
        mem_fraction_static, TensorRT-LLM free_gpu_memory_fraction)."""
        for min_tp, fraction in self.memory_fraction_by_tp:
            if tp >= min_tp:
                return fraction
        return self.memory_fraction_default

    def fit(self, key: str, default: float) -> float:
        value = self.fitted.get(key, default)
        return float(value) if isinstance(value, (int, float)) else default


@lru_cache(maxsize=1)
def _raw() -> dict[str, Any]:
    text = data_path("deepfit.memory", "data", "engines.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def load_engine(name: str) -> EngineProfile:
    key = _ALIASES.get(name.strip().lower(), name.strip().lower())
    if key not in ENGINES:
        raise BadInputError(f"unknown engine '{name}'", f"use one of: {', '.join(ENGINES)}")
    try:
        raw = _raw()[key]
        return EngineProfile(
            name=key,
            label=raw["label"],
            budget=raw["budget"],
            mla_latent=bool(raw["mla_latent"]),
            block_tokens=int(raw["block_tokens"]),
            max_batched_tokens=int(raw["max_batched_tokens_default"]),
            cudagraph_in_budget=bool(raw["cudagraph_in_budget"]),
            memory_fraction_default=raw.get("memory_fraction_default"),
            memory_fraction_by_tp=tuple(tuple(x) for x in raw.get("memory_fraction_by_tp", ())),
            fitted=dict(raw.get("fitted", {})),
        )
    except (KeyError, TypeError, ValueError, OSError) as exc:
        raise CatalogError(
            f"engine profile '{key}' is damaged: {exc}", "reinstall deepfit"
        ) from None


#: Memory outside torch's allocator on a single GPU (CUDA context, cuBLAS workspace), as
#: vLLM 0.19 logged it on H100 (0.24-0.26 GiB, shared/groundtruth/memory.csv, LLMD rows);
#: used for engines that do not log it.
BASE_NON_TORCH_BYTES = int(0.25 * GiB)
