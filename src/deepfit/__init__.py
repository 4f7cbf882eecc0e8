"""deepfit: what hardware a large language model needs, and what it will do on it.

The public API (everything else is private and may change)::

    import deepfit
    model = deepfit.load_model("deepseek-236b")      # catalogue alias, HF id or path
    model.params.total, model.params.active           # exact counts
    gpu = deepfit.load_gpu("H100")                    # datasheet numbers in SI units

Names are imported on first use (PEP 562), so ``import deepfit`` and every command pay only
for the parts they touch.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from . import errors
from .errors import (
    BadInputError,
    ConfigError,
    DeepfitError,
    InfeasibleError,
    UnknownGpuError,
    UnknownModelError,
    UnsupportedArchitectureError,
)

if TYPE_CHECKING:
    from .api import (
        catalog_summary,
        count_params,
        estimate_memory,
        estimate_perf,
        estimate_training,
        list_gpus,
        load_gpu,
        load_model,
        model_from_config,
        what_would_fit,
    )
    from .hardware import Gpu
    from .memory import MemoryEstimate
    from .models import Architecture, Model, ParamBreakdown
    from .perf import PerfEstimate
    from .train import TrainEstimate

__version__ = "0.1.0"

#: public name -> the module that defines it
_LAZY = {
    "catalog_summary": "api",
    "count_params": "api",
    "estimate_memory": "api",
    "estimate_perf": "api",
    "estimate_training": "api",
    "list_gpus": "api",
    "load_gpu": "api",
    "load_model": "api",
    "model_from_config": "api",
    "what_would_fit": "api",
    "Gpu": "hardware",
    "MemoryEstimate": "memory",
    "Architecture": "models",
    "Model": "models",
    "ParamBreakdown": "models",
    "PerfEstimate": "perf",
    "TrainEstimate": "train",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'deepfit' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "Architecture",
    "BadInputError",
    "ConfigError",
    "DeepfitError",
    "Gpu",
    "InfeasibleError",
    "MemoryEstimate",
    "Model",
    "ParamBreakdown",
    "PerfEstimate",
    "TrainEstimate",
    "UnknownGpuError",
    "UnknownModelError",
    "UnsupportedArchitectureError",
    "__version__",
    "catalog_summary",
    "count_params",
    "errors",
    "estimate_memory",
    "estimate_perf",
    "estimate_training",
    "list_gpus",
    "load_gpu",
    "load_model",
    "model_from_config",
    "what_would_fit",
]
