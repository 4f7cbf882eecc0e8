"""What a plan must meet: :class:`Targets` (apart from the search so that choosing among
plans, planner/select.py, does not import the search that calls it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Targets:
    input_len: int
    output_len: int
    ttft_s: float | None = None
    tpot_s: float | None = None
    rate: float | None = None  # requests per second the deployment must sustain
    budget_usd_per_hour: float | None = None
    objective: str = "cost"
    #: Quality floor: formats whose cited loss (deepfit.quality) exceeds this many percent
    #: (on ``quality_benchmark`` when given) are rejected; formats with no cited figure pass,
    #: and the result says so.
    max_quality_loss: float | None = None
    quality_benchmark: str | None = None
