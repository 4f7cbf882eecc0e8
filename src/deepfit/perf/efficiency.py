"""Per-engine efficiency factors of the roofline, from ``data/engines.json``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from ..hardware import Gpu
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
    layer_floor_s: float = 0.0  # a layer's kernels take at least this long (terms.py)
    gemm_tile_rows: int = 0  # tensor-core tile rows of grouped MoE GEMMs (0: no tiling)
    request_overhead_s: float = 0.0  # per request, outside the steps: added to TTFT


#: Engine limits an override may set (a run's own --max-num-seqs ...); not efficiency factors.
_LIMITS = ("max_num_seqs", "max_num_seqs_large_gpu", "max_batched_tokens")


@lru_cache(maxsize=1)
def _raw() -> dict[str, Any]:
    text = resources.files("deepfit.perf").joinpath("data").joinpath("engines.json").read_text()
    data: dict[str, Any] = json.loads(text)
    return data


def load_efficiency(
    engine: str, overrides: dict[str, float] | None = None, gpu: Gpu | None = None
) -> Efficiency:
    """The engine's terms: its host overheads from ``serving_terms.json`` (fitted there) or
    the defaults, the kernel terms, and on ``gpu`` its default limits for that GPU;
    ``overrides`` (a user's calibration profile, a run's own limits) win over all."""
    from . import terms

    name = load_engine(engine).name
    raw = _raw()
    entry = raw[name]
    values = dict(raw["defaults"])
    values["moe_efficiency"] = terms.value("kernels.moe_bandwidth_efficiency")
    values["layer_floor_s"] = terms.layer_floor(gpu)
    values["gemm_tile_rows"] = terms.value("kernels.gemm_tile_rows")
    overheads = terms.engine_overheads(name)
    if overheads is not None:
        (
            values["step_overhead_s"],
            values["token_overhead_s"],
            values["request_overhead_s"],
        ) = overheads
    calibrated = overheads is not None and "_fitted" in terms.raw_terms()
    limits = {k: int(entry[k]) for k in _LIMITS}
    per_gpu = terms.engine_limits(name, gpu) if gpu is not None else None
    if per_gpu is not None:
        limits["max_num_seqs"] = limits["max_num_seqs_large_gpu"] = per_gpu[0]
        limits["max_batched_tokens"] = per_gpu[1]
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
        layer_floor_s=float(values["layer_floor_s"]),
        gemm_tile_rows=int(values["gemm_tile_rows"]),
        request_overhead_s=float(values.get("request_overhead_s", 0.0)),
    )


def fitted_factors() -> dict[str, Any]:
    """The fitted serving terms counted against their rows (see ``terms.fitted_report``)."""
    from .terms import fitted_report

    return fitted_report()
