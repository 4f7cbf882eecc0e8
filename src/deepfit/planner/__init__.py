"""The planner: from a workload and its targets to the best deployments, with cost.
Entry point: :func:`search` (see ``search.py``); presets in ``data/scenarios.json``."""

from __future__ import annotations

from .cost import OwnHardware, Price, cloud_price, read_prices
from .result import Plan, PlanResult, Rejection
from .scenarios import Scenario, load_scenario, scenario_names
from .search import OBJECTIVES, SearchSpace, plan_or_raise, search
from .targets import Targets

__all__ = [
    "OBJECTIVES",
    "OwnHardware",
    "Plan",
    "PlanResult",
    "Price",
    "Rejection",
    "Scenario",
    "SearchSpace",
    "Targets",
    "cloud_price",
    "load_scenario",
    "plan_or_raise",
    "read_prices",
    "scenario_names",
    "search",
]
