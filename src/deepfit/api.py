"""The public Python API. The CLI and any other adapter call only these functions."""

from __future__ import annotations

from typing import Any

from .engines import load_engine
from .export import Export, ExportRequest, export_config
from .hardware import Gpu, list_gpus, load_gpu
from .memory import MemoryEstimate, estimate_memory
from .memory.advice import what_would_fit
from .memory.offload import OffloadPlan, llamacpp_offload
from .models import Model, catalog, count_params, load_model, model_from_config
from .models.loader import bundled_model
from .perf import PerfEstimate, estimate_perf
from .perf.calibration import Calibration, Provenance
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
    "count_params",
    "estimate_memory",
    "estimate_perf",
    "estimate_training",
    "export_config",
    "list_gpus",
    "llamacpp_offload",
    "load_engine",
    "load_gpu",
    "load_model",
    "model_from_config",
    "plan",
    "precision_matrix",
    "user_calibration",
    "what_would_fit",
]


def user_calibration(engine: str, gpu: Gpu) -> Calibration | None:
    """The user's own efficiency factors for ``engine`` on ``gpu`` (written by ``deepfit
    calibrate`` into their config folder), or None. The core never reads this file itself:
    adapters pass the result to :func:`estimate_perf` as ``efficiency``."""
    from .measure.profile import profile_key, profile_overrides

    factors = profile_overrides(engine, gpu.name)
    if not factors:
        return None
    return Calibration(factors, Provenance.CALIBRATED, origin=profile_key(engine, gpu.name))


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
                "attention": model.arch.layers[0].attention.kind.value,
            }
        )
    return rows
