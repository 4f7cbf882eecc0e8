"""The public Python API. The CLI and any other adapter call only these functions."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .engines import load_engine
    from .export import Export, ExportRequest, export_config
    from .hardware import Gpu, list_gpus, load_gpu
    from .memory import MemoryEstimate, estimate_memory
    from .memory.advice import what_would_fit
    from .memory.offload import OffloadPlan, llamacpp_offload, offload_splits
    from .models import Model, count_params, load_model, model_from_config
    from .models.checkpoint import CheckpointBytes
    from .perf import PerfEstimate, estimate_perf
    from .perf.calibration import Calibration
    from .perf.disagg import DisaggEstimate, estimate_disagg
    from .perf.disagg_pools import Pool
    from .perf.kv_offload import kv_offload
    from .perf.matrix import precision_matrix
    from .planner import PlanResult, SearchSpace, Targets
    from .planner import search as plan
    from .planner.disagg import DisaggPlan, DisaggTargets, plan_disagg
    from .train import TrainEstimate, estimate_training

#: public name -> (module, name there): imported on first use, so a command loads only the
#: parts it calls (``deepfit memory`` never imports the exporters, planner or training).
_LAZY = {
    "Export": (".export", "Export"),
    "ExportRequest": (".export", "ExportRequest"),
    "export_config": (".export", "export_config"),
    "list_gpus": (".hardware", "list_gpus"),
    "load_engine": (".engines", "load_engine"),
    "load_gpu": (".hardware", "load_gpu"),
    "MemoryEstimate": (".memory", "MemoryEstimate"),
    "estimate_memory": (".memory", "estimate_memory"),
    "what_would_fit": (".memory.advice", "what_would_fit"),
    "OffloadPlan": (".memory.offload", "OffloadPlan"),
    "llamacpp_offload": (".memory.offload", "llamacpp_offload"),
    "offload_splits": (".memory.offload", "offload_splits"),
    "Model": (".models", "Model"),
    "count_params": (".models", "count_params"),
    "load_model": (".models", "load_model"),
    "model_from_config": (".models", "model_from_config"),
    "PerfEstimate": (".perf", "PerfEstimate"),
    "estimate_perf": (".perf", "estimate_perf"),
    "precision_matrix": (".perf.matrix", "precision_matrix"),
    "kv_offload": (".perf.kv_offload", "kv_offload"),
    "DisaggEstimate": (".perf.disagg", "DisaggEstimate"),
    "estimate_disagg": (".perf.disagg", "estimate_disagg"),
    "Pool": (".perf.disagg_pools", "Pool"),
    "DisaggPlan": (".planner.disagg", "DisaggPlan"),
    "DisaggTargets": (".planner.disagg", "DisaggTargets"),
    "plan_disagg": (".planner.disagg", "plan_disagg"),
    "PlanResult": (".planner", "PlanResult"),
    "SearchSpace": (".planner", "SearchSpace"),
    "Targets": (".planner", "Targets"),
    "plan": (".planner", "search"),
    "TrainEstimate": (".train", "TrainEstimate"),
    "estimate_training": (".train", "estimate_training"),
}


def __getattr__(name: str) -> Any:
    found = _LAZY.get(name)
    if found is None:
        raise AttributeError(f"module 'deepfit.api' has no attribute {name!r}")
    value = getattr(import_module(found[0], __package__), found[1])
    globals()[name] = value
    return value


__all__ = [
    "DisaggEstimate",
    "DisaggPlan",
    "DisaggTargets",
    "Export",
    "ExportRequest",
    "MemoryEstimate",
    "OffloadPlan",
    "PerfEstimate",
    "PlanResult",
    "Pool",
    "SearchSpace",
    "Targets",
    "TrainEstimate",
    "catalog_summary",
    "checkpoint_bytes",
    "count_params",
    "estimate_disagg",
    "estimate_memory",
    "estimate_perf",
    "estimate_training",
    "export_config",
    "kv_offload",
    "list_gpus",
    "llamacpp_offload",
    "load_engine",
    "load_gpu",
    "load_model",
    "model_from_config",
    "offload_splits",
    "plan",
    "plan_disagg",
    "precision_matrix",
    "user_calibration",
    "what_would_fit",
]


def checkpoint_bytes(
    model: Model, location: str | None = None, *, hub: bool = False
) -> CheckpointBytes | None:
    """Exact weight bytes from checkpoint headers: ``location`` (a .safetensors or .gguf
    path or URL), else with ``hub`` the model's Hugging Face repository; None when neither
    applies (a local config without a checkpoint). Reads headers only; results are cached."""
    from .models.catalog import HUB_ID

    layers = model.arch.num_layers
    if location:
        from .models.checkpoint import read_checkpoint  # the readers only when asked

        return read_checkpoint(location, layers)
    if hub and model.origin in ("bundled", "hub") and HUB_ID.match(model.id):
        from .models.checkpoint import hub_checkpoint

        return hub_checkpoint(model.id, num_layers=layers)
    return None


def user_calibration(engine: str, gpu: Gpu) -> Calibration | None:
    """The user's own efficiency factors for ``engine`` on ``gpu`` (written by ``deepfit
    calibrate`` into their config folder), or None. The core never reads this file itself:
    adapters pass the result to :func:`estimate_perf` as ``efficiency``."""
    from .measure.profile import profile_key, profile_overrides
    from .perf.calibration import Calibration, Provenance

    factors = profile_overrides(engine, gpu.name)
    if not factors:
        return None
    return Calibration(factors, Provenance.CALIBRATED, origin=profile_key(engine, gpu.name))


def catalog_summary() -> list[dict[str, Any]]:
    """Every bundled model with its family and exact total/active parameter counts."""
    from .models import catalog
    from .models.loader import bundled_model

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
