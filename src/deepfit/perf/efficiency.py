"""Per-engine efficiency factors of the roofline, from the engine registry
(``engines/*/engine.json``: fitted terms, else ``engines/defaults.json``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..engines import load_engine
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

    @property
    def calibrated(self) -> bool:
        """True when the factors are fitted (bundled) or calibrated (the user's)."""
        return self.provenance is not Provenance.ROOFLINE


def load_efficiency(
    engine: str, calibration: Calibration | Mapping[str, float] | None = None
) -> Efficiency:
    """The engine's factors: fitted where a fit exists, else the defaults; a
    ``calibration`` (a user's profile, or bare factors) wins over both."""
    spec = load_engine(engine)
    values = dict(spec.efficiency_terms)
    provenance = Provenance.FITTED if spec.efficiency_fitted else Provenance.ROOFLINE
    if calibration is not None and not isinstance(calibration, Calibration):
        calibration = Calibration(dict(calibration))
    if calibration:
        values.update({k: float(v) for k, v in calibration.factors.items()})
        provenance = calibration.provenance
    s = spec.serving
    return Efficiency(
        engine=spec.name,
        bandwidth=values["bandwidth_efficiency"],
        compute=values["compute_efficiency"],
        step_overhead_s=values["step_overhead_s"],
        token_overhead_s=values["token_overhead_s"],
        comm_efficiency=values["comm_efficiency"],
        moe_efficiency=values["moe_efficiency"],
        collective_latency_s=values["collective_latency_s"],
        max_num_seqs=s.max_num_seqs,
        max_num_seqs_large_gpu=s.max_num_seqs_large_gpu,
        max_batched_tokens=s.max_batched_tokens,
        provenance=provenance,
    )
