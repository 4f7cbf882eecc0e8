"""Per-engine terms of the roofline: host overheads and kernel terms from
``perf/data/serving_terms.json`` (fitted on published runs), limits from the engine registry
(``engines/*/engine.json``) and per GPU from the engines' own default rules; engines without
serving terms keep ``engines/defaults.json``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..engines import load_engine
from ..hardware import Gpu
from .calibration import Calibration, Provenance


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
    provenance: Provenance = Provenance.ROOFLINE
    layer_floor_s: float = 0.0  # a layer's kernels take at least this long (terms.py)
    gemm_tile_rows: int = 0  # tensor-core tile rows of grouped MoE GEMMs (0: no tiling)
    request_overhead_s: float = 0.0  # per request, outside the steps: added to TTFT

    @property
    def calibrated(self) -> bool:
        """True when the factors are fitted (bundled) or calibrated (the user's)."""
        return self.provenance is not Provenance.ROOFLINE


#: Engine limits a calibration may set (a run's own --max-num-seqs ...): not factors.
_LIMITS = ("max_num_seqs", "max_num_seqs_large_gpu", "max_batched_tokens")


def load_efficiency(
    engine: str,
    calibration: Calibration | Mapping[str, float] | None = None,
    gpu: Gpu | None = None,
) -> Efficiency:
    """The engine's terms: its host overheads from ``perf/data/serving_terms.json`` (fitted
    there) or the registry's defaults, the kernel terms, and on ``gpu`` the engine's default
    limits for that GPU; a ``calibration`` (a user's profile, bare factors, a run's own
    limits) wins over all. The achieved bandwidth and tensor throughput are the GPU's
    (``terms.py``); ``bandwidth`` and ``compute`` here are engine-level multipliers (1.0
    unless calibrated)."""
    from . import terms

    spec = load_engine(engine)
    values = dict(spec.efficiency_terms)
    values["moe_efficiency"] = terms.value("kernels.moe_bandwidth_efficiency")
    values["layer_floor_s"] = terms.layer_floor(gpu)
    values["gemm_tile_rows"] = terms.value("kernels.gemm_tile_rows")
    overheads = terms.engine_overheads(spec.name)
    provenance = Provenance.ROOFLINE
    if overheads is not None:
        (
            values["step_overhead_s"],
            values["token_overhead_s"],
            values["request_overhead_s"],
        ) = overheads
        if "_fitted" in terms.raw_terms():
            provenance = Provenance.FITTED
    s = spec.serving
    limits = {
        "max_num_seqs": s.max_num_seqs,
        "max_num_seqs_large_gpu": s.max_num_seqs_large_gpu,
        "max_batched_tokens": s.max_batched_tokens,
    }
    per_gpu = terms.engine_limits(spec.name, gpu) if gpu is not None else None
    if per_gpu is not None:
        limits["max_num_seqs"] = limits["max_num_seqs_large_gpu"] = per_gpu[0]
        limits["max_batched_tokens"] = per_gpu[1]
    if calibration is not None and not isinstance(calibration, Calibration):
        calibration = Calibration(dict(calibration))
    if calibration:
        factors = {k: float(v) for k, v in calibration.factors.items() if k not in _LIMITS}
        limits.update({k: int(v) for k, v in calibration.factors.items() if k in _LIMITS})
        values.update(factors)
        if factors:
            provenance = calibration.provenance
    return Efficiency(
        engine=spec.name,
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
        provenance=provenance,
        layer_floor_s=float(values["layer_floor_s"]),
        gemm_tile_rows=int(values["gemm_tile_rows"]),
        request_overhead_s=float(values.get("request_overhead_s", 0.0)),
    )


def fitted_factors() -> dict[str, object]:
    """The fitted serving terms counted against their rows (see ``terms.fitted_report``)."""
    from .terms import fitted_report

    return fitted_report()
