"""Per-engine efficiency factors of the roofline, from ``data/engines.json``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from ..memory.engines import load_engine


@dataclass(frozen=True)
class Efficiency:
    """Achievable fractions of peak, and fixed costs, for one engine."""

    engine: str
    bandwidth: float
    compute: float
    step_overhead_s: float
    token_overhead_s: float  # per token of a step: scheduling, sampling, MoE routing
    comm_efficiency: float  # achieved fraction of link bandwidth in collectives
    moe_efficiency: float  # extra factor on routed-expert kernels (grouped/fused MoE GEMMs)
    collective_latency_s: float
    max_num_seqs: int
    max_num_seqs_large_gpu: int
    max_batched_tokens: int
    calibrated: bool


#: Engine limits an override may set (a run's own --max-num-seqs ...); not efficiency factors.
_LIMITS = ("max_num_seqs", "max_num_seqs_large_gpu", "max_batched_tokens")


@lru_cache(maxsize=1)
def _raw() -> dict[str, Any]:
    text = resources.files("deepfit.perf").joinpath("data").joinpath("engines.json").read_text()
    data: dict[str, Any] = json.loads(text)
    return data


def load_efficiency(engine: str, overrides: dict[str, float] | None = None) -> Efficiency:
    """The engine's factors: fitted where a fit exists, else the defaults; ``overrides``
    (a user's calibration profile) win over both."""
    name = load_engine(engine).name
    raw = _raw()
    entry = raw[name]
    values = dict(raw["defaults"])
    values.update(entry.get("fitted", {}))
    calibrated = bool(entry.get("fitted"))
    limits = {k: int(entry[k]) for k in _LIMITS}
    if overrides:
        factors = {k: v for k, v in overrides.items() if k not in _LIMITS}
        limits.update({k: int(v) for k, v in overrides.items() if k in _LIMITS})
        values.update(factors)
        calibrated = calibrated or bool(factors)
    return Efficiency(
        engine=name,
        bandwidth=float(values["bandwidth_efficiency"]),
        compute=float(values["compute_efficiency"]),
        step_overhead_s=float(values["step_overhead_s"]),
        token_overhead_s=float(values.get("token_overhead_s", 0.0)),
        comm_efficiency=float(values.get("comm_efficiency", 1.0)),
        moe_efficiency=float(values.get("moe_efficiency", 1.0)),
        collective_latency_s=float(values["collective_latency_s"]),
        max_num_seqs=limits["max_num_seqs"],
        max_num_seqs_large_gpu=limits["max_num_seqs_large_gpu"],
        max_batched_tokens=limits["max_batched_tokens"],
        calibrated=calibrated,
    )


def fitted_factors() -> dict[str, Any]:
    """Per engine: the fitted factors, the rows they were fitted on, and those that sit on
    a bound of the fit (``bounds`` in engines.json), for ``deepfit validate``."""
    raw = _raw()
    bounds: dict[str, list[float]] = raw.get("bounds", {})
    out: dict[str, Any] = {}
    for name, entry in raw.items():
        fitted = entry.get("fitted") if isinstance(entry, dict) else None
        if not fitted:
            continue
        factors = {k: v for k, v in fitted.items() if k in bounds}
        on_bound = [
            k for k, v in factors.items() if v <= bounds[k][0] + 1e-12 or v >= bounds[k][1] - 1e-12
        ]
        out[name] = {
            "factors": factors,
            "count": len(factors),
            "fitted_on_rows": fitted.get("fitted_on_rows"),
            "on_bound": on_bound,
        }
    return out
