"""The public Python API. The CLI and any other adapter call only these functions."""

from __future__ import annotations

from typing import Any

from .export import Export, ExportRequest, export_config
from .hardware import list_gpus, load_gpu
from .memory import MemoryEstimate, estimate_memory
from .memory.advice import what_would_fit
from .memory.offload import OffloadPlan, llamacpp_offload
from .models import Model, catalog, count_params, load_model, model_from_config
from .models.catalog import HUB_ID
from .models.checkpoint import CheckpointBytes, hub_checkpoint, read_checkpoint
from .models.loader import bundled_model
from .perf import PerfEstimate, estimate_perf
from .perf.matrix import precision_matrix
from .planner import PlanResult, SearchSpace, Targets
from .planner import search as plan
from .train import TrainEstimate, estimate_training

__all__ = [
    "Export",
    "ExportRequest",
    "MemoryEstimate",
    "OffloadPlan",
    "PerfEstimate",
    "PlanResult",
    "SearchSpace",
    "Targets",
    "TrainEstimate",
    "catalog_summary",
    "checkpoint_bytes",
    "count_params",
    "estimate_memory",
    "estimate_perf",
    "estimate_training",
    "export_config",
    "list_gpus",
    "llamacpp_offload",
    "load_gpu",
    "load_model",
    "model_from_config",
    "plan",
    "precision_matrix",
    "what_would_fit",
]


def checkpoint_bytes(
    model: Model, location: str | None = None, *, hub: bool = False
) -> CheckpointBytes | None:
    """Exact weight bytes from checkpoint headers: ``location`` (a .safetensors or .gguf
    path or URL), else with ``hub`` the model's Hugging Face repository; None when neither
    applies (a local config without a checkpoint). Reads headers only; results are cached."""
    layers = model.arch.num_layers
    if location:
        return read_checkpoint(location, layers)
    if hub and model.origin in ("bundled", "hub") and HUB_ID.match(model.id):
        return hub_checkpoint(model.id, num_layers=layers)
    return None


def catalog_summary() -> list[dict[str, Any]]:
    """Every bundled model with its family and exact total/active parameter counts."""
    rows = []
    for entry in catalog():
        if not entry.bundled:
            rows.append(
                {
                    **entry.to_dict(),
                    "family": None,
                    "params_total": None,
                    "params_active": None,
                    "is_moe": None,
                    "attention": None,
                }
            )
            continue
        model: Model = bundled_model(entry)
        p = model.params
        rows.append(
            {
                **entry.to_dict(),
                "family": model.arch.family,
                "params_total": p.total,
                "params_active": p.active,
                "is_moe": model.arch.is_moe,
                "attention": "+".join(
                    dict.fromkeys(la.attention.kind.value for la in model.arch.layers)
                ),
            }
        )
    return rows
