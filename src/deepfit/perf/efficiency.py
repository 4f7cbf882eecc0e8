"""Per-engine efficiency factors of the roofline, from ``data/engines.json``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .._data import data_path
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


@lru_cache(maxsize=1)
def _raw() -> dict[str, Any]:
    text = data_path("deepfit.perf", "data", "engines.json").read_text(encoding="utf-8")
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
    if overrides:
        values.update(overrides)
        calibrated = True
    return Efficiency(
        engine=name,
        bandwidth=float(values["bandwidth_efficiency"]),
        compute=float(values["compute_efficiency"]),
        step_overhead_s=float(values["step_overhead_s"]),
        token_overhead_s=float(values.get("token_overhead_s", 0.0)),
        comm_efficiency=float(values.get("comm_efficiency", 1.0)),
        moe_efficiency=float(values.get("moe_efficiency", 1.0)),
        collective_latency_s=float(values["collective_latency_s"]),
        max_num_seqs=int(entry["max_num_seqs"]),
        max_num_seqs_large_gpu=int(entry["max_num_seqs_large_gpu"]),
        max_batched_tokens=int(entry["max_batched_tokens"]),
        calibrated=calibrated,
    )
