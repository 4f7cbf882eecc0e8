"""Performance: per-operator costs, roofline with per-engine efficiency, communication,
steady-state serving. Entry point: :func:`estimate_perf`."""

from __future__ import annotations

from .api import estimate_perf, speculative_factor
from .efficiency import Efficiency, load_efficiency
from .ops import OpCost, StepShape, step_ops, touched_experts
from .result import PerfEstimate
from .roofline import StepTime, step_time

__all__ = [
    "Efficiency",
    "OpCost",
    "PerfEstimate",
    "StepShape",
    "StepTime",
    "estimate_perf",
    "load_efficiency",
    "speculative_factor",
    "step_ops",
    "step_time",
    "touched_experts",
]
