"""Workload presets (``data/scenarios.json``): the seed article's three recipes and common
serving patterns, each with its lengths, latency targets and objective."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from ..errors import BadInputError


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    input_len: int
    output_len: int
    ttft_s: float | None
    tpot_s: float | None
    rate: float | None
    objective: str


@lru_cache(maxsize=1)
def _raw() -> dict[str, Any]:
    text = resources.files("deepfit.planner").joinpath("data").joinpath("scenarios.json")
    data: dict[str, Any] = json.loads(text.read_text())
    return {k: v for k, v in data.items() if not k.startswith("_")}


def scenario_names() -> list[str]:
    return sorted(_raw())


def load_scenario(name: str) -> Scenario:
    raw = _raw().get(name.strip().lower())
    if raw is None:
        raise BadInputError(
            f"unknown scenario '{name}'", f"use one of: {', '.join(scenario_names())}"
        )
    return Scenario(name=name.strip().lower(), **raw)
