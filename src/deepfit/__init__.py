"""deepfit: what hardware a large language model needs, and what it will do on it.

The public API (everything else is private and may change)::

    import deepfit
    model = deepfit.load_model("deepseek-236b")      # catalogue alias, HF id or path
    model.params.total, model.params.active           # exact counts
    gpu = deepfit.load_gpu("H100")                    # datasheet numbers in SI units
"""

from __future__ import annotations

from . import errors
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
from .errors import (
    BadInputError,
    ConfigError,
    DeepfitError,
    InfeasibleError,
    UnknownGpuError,
    UnknownModelError,
    UnsupportedArchitectureError,
)
from .hardware import Gpu
from .memory import MemoryEstimate
from .models import Architecture, Model, ParamBreakdown
from .perf import PerfEstimate
from .train import TrainEstimate

__version__ = "0.1.0"

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
