"""The answer to "will it fit?": :class:`MemoryEstimate`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .estimate import StageMemory
from .ledger import Extras


@dataclass(frozen=True)
class PerGpu:
    """Memory on the binding GPU, in bytes, every row >= 0 and ``total`` their sum. The KV row
    is the pool the engine allocates (vLLM and SGLang preallocate it whatever the workload;
    0 when the weights and workspace leave no room) or, for engines that allocate exactly,
    what the workload needs. What the workload lacks is ``MemoryEstimate.shortfall_bytes``."""

    weights: int
    kv_cache: int
    activations: int
    overhead: int
    total: int
    #: weights served beside the model (draft, MTP, LoRA slots; see ``MemoryEstimate.ledger``)
    extras: int = 0

    def to_dict(self) -> dict[str, int]:
        out = {
            "weights_bytes": self.weights,
            "kv_cache_bytes": self.kv_cache,
            "activations_bytes": self.activations,
            "overhead_bytes": self.overhead,
            "total_bytes": self.total,
        }
        if self.extras:  # the key appears only when something is served beside the model
            out["extras_bytes"] = self.extras
        return out


@dataclass(frozen=True)
class MemoryEstimate:
    """Inference memory of one deployment. Sizes in bytes, lengths in tokens."""

    model_id: str
    params_total: int
    params_active: int
    engine: str
    gpu: str
    gpus: int
    tp: int
    pp: int
    ep: int
    dp: int
    dp_attention: bool
    weights_format: str
    kv_dtype: str
    context_tokens: int
    batch: int
    memory_fraction: float | None
    gpu_memory_bytes: int
    kv_bytes_per_token: int
    per_gpu: PerGpu
    fits: bool
    max_context_tokens: int
    max_concurrency: int
    kv_capacity_tokens: int
    model_max_context: int | None
    stages: tuple[StageMemory, ...]
    source: str = "calibrated"
    reasons: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())
    #: bytes more per GPU the workload needs (0 when it fits in memory)
    shortfall_bytes: int = 0
    #: what is served beside the model (``ledger`` in the JSON), for answers derived from this
    extras: Extras | None = None

    @property
    def context_supported(self) -> bool:
        """Whether the model was trained for ``context_tokens`` positions (engines refuse a
        longer max_model_len without rope scaling, so ``fits`` is false without it)."""
        return self.model_max_context is None or self.context_tokens <= self.model_max_context

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": {
                "id": self.model_id,
                "params_total": self.params_total,
                "params_active": self.params_active,
            },
            "engine": self.engine,
            "gpu": self.gpu,
            "gpus": self.gpus,
            "parallel": {
                "tp": self.tp,
                "pp": self.pp,
                "ep": self.ep,
                "dp": self.dp,
                "dp_attention": self.dp_attention,
            },
            "weights": self.weights_format,
            "kv_dtype": self.kv_dtype,
            "context_tokens": self.context_tokens,
            "batch": self.batch,
            "memory_fraction": self.memory_fraction,
            "kv_bytes_per_token": self.kv_bytes_per_token,
            "per_gpu": self.per_gpu.to_dict(),
            "gpu_memory_bytes": self.gpu_memory_bytes,
            "fits": self.fits,
            "shortfall_bytes": self.shortfall_bytes,
            "max_context_tokens": self.max_context_tokens,
            "max_concurrency": self.max_concurrency,
            "kv_capacity_tokens": self.kv_capacity_tokens,
            "model_max_context_tokens": self.model_max_context,
            "context_supported": self.context_supported,
            "stages": [
                {
                    "stage": s.stage,
                    "layers": [s.layers.start, s.layers.stop],
                    "weights_bytes": s.weights,
                    "activations_bytes": s.activations,
                    "non_torch_bytes": s.non_torch,
                    "cudagraph_bytes": s.cudagraph,
                    "kv_pool_bytes": s.kv_pool,
                    "kv_needed_bytes": s.kv_needed,
                    "kv_capacity_tokens": s.capacity_tokens,
                }
                for s in self.stages
            ],
            "source": self.source,
            "reasons": list(self.reasons),
            "notes": list(self.notes),
            **self._ledger(),
        }

    def _ledger(self) -> dict[str, Any]:
        """``ledger``: each extra (draft, MTP, LoRA slots) on the GPU that holds the most of it,
        with its weights and the part of that GPU's KV pool its attention layers take;
        absent when nothing is served beside the model."""
        rows: dict[str, dict[str, Any]] = {}
        for s in self.stages:
            for x in s.extras:
                row = x.to_dict(s.line_kv_bytes(x))
                if x.name not in rows or row["weights_bytes"] > rows[x.name]["weights_bytes"]:
                    rows[x.name] = row
        return {"ledger": list(rows.values())} if rows else {}
