"""Fit an engine's efficiency factors on one GPU from measured bench runs.

Each bench level becomes a :class:`Point`: the deployment, the token counts the server
reported, the concurrency, and the measured median TPOT and TTFT. Every point is
estimated once at the reference factors (the bundled ones, no user profile); a candidate
set of factors then re-times the cached steps (each operator's compute time scales with
1/compute efficiency, its memory time with 1/bandwidth efficiency, the fixed step overhead
is replaced), the same idea as ``tools/calibrate_perf.py``. Objective: the weighted mean of
|ln(predicted / measured)|, plus a small pull towards the reference so that factors the
data cannot separate stay where they were. Search: a coarse grid, then coordinate
refinement with a shrinking step. The fit is re-checked with full ``estimate_perf`` calls.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..perf import PerfEstimate
from ..perf.efficiency import load_efficiency
from ..perf.roofline import StepTime
from .compare import predict, workload_of
from .results import BenchRun, Deployment
from .stats import level_stats

Factors = dict[str, float]
FITTED = ("bandwidth_efficiency", "compute_efficiency", "step_overhead_s")
# Wider than tools/calibrate_perf.py: a probed CPU's "peak" is itself a measurement, and
# small engines on CPUs can sit far from it.
BOUNDS: dict[str, tuple[float, float]] = {
    "bandwidth_efficiency": (0.05, 1.5),
    "compute_efficiency": (0.01, 1.5),
    "step_overhead_s": (0.0, 0.25),
}
GRID: dict[str, list[float]] = {
    "bandwidth_efficiency": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2, 1.5],
    "compute_efficiency": [0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.6, 0.8, 1.0, 1.2],
    "step_overhead_s": [0.0, 0.001, 0.002, 0.004, 0.008, 0.015, 0.03, 0.06, 0.12, 0.25],
}
WEIGHTS = {"tpot_s": 1.0, "ttft_s": 0.5}
PULL = 0.01  # weight of |ln(factor / reference)| in the objective


@dataclass(frozen=True)
class Point:
    """One measured level: what was run and its median TPOT/TTFT in seconds."""

    deployment: Deployment
    input_len: int
    output_len: int
    concurrency: int
    tpot_s: float | None
    ttft_s: float | None
    source: str  # "file#run_id level"

    def measured(self) -> dict[str, float]:
        return {k: v for k, v in (("tpot_s", self.tpot_s), ("ttft_s", self.ttft_s)) if v}


@dataclass(frozen=True)
class Fit:
    """The result for one engine on one GPU."""

    engine: str
    gpu: str
    factors: Factors
    reference: Factors
    points: tuple[Point, ...]
    error_before: float  # mean |ln(pred/measured)| at the reference factors
    error_after: float  # the same, exact, at the fitted factors
    per_point: tuple[dict[str, Any], ...]

    def to_entry(self, fitted_at: str) -> dict[str, Any]:
        """The profile entry: factors and the record of what they came from."""
        return {
            "factors": {k: float(f"{v:.4g}") for k, v in self.factors.items()},
            "reference": {k: float(f"{v:.4g}") for k, v in self.reference.items()},
            "fitted": list(FITTED),
            "fitted_at": fitted_at,
            "objective": "weighted mean |ln(predicted / measured)| of median TPOT (1) "
            "and TTFT (0.5)",
            "error_before": self.error_before,
            "error_after": self.error_after,
            "from": list(self.per_point),
        }


def points_from_runs(runs: Sequence[BenchRun]) -> list[Point]:
    """One point per level of each run whose deployment deepfit can predict."""
    out = []
    for run in runs:
        dep = run.header.deployment
        if not dep.complete:
            continue
        for level in dict.fromkeys(r.level for r in run.requests):
            recs = [r for r in run.requests if r.level == level]
            st = level_stats(level, recs)
            if st.ok == 0:
                continue
            inp, out_len, conc = workload_of(st, run.header.workload.get("input_len_mean"))
            src = f"{run.source}#{run.header.run_id} {level}"
            out.append(Point(dep, inp, out_len, conc, st.p("tpot_s"), st.p("ttft_s"), src))
    return out


def reference_factors(engine: str) -> Factors:
    e = load_efficiency(engine)
    return {
        "bandwidth_efficiency": e.bandwidth,
        "compute_efficiency": e.compute,
        "step_overhead_s": e.step_overhead_s,
        "token_overhead_s": e.token_overhead_s,
        "collective_latency_s": e.collective_latency_s,
        "comm_efficiency": e.comm_efficiency,
        "moe_efficiency": e.moe_efficiency,
    }


def _step_seconds(step: StepTime, ref: Factors, new: Factors) -> float:
    c = ref["compute_efficiency"] / new["compute_efficiency"]
    b = ref["bandwidth_efficiency"] / new["bandwidth_efficiency"]
    ops = sum(max(o.compute_s * c, o.memory_s * b) for o in step.ops)
    return ops + step.comm_s + new["step_overhead_s"] + new["token_overhead_s"] * step.tokens


def retimed(est: PerfEstimate, ref: Factors, new: Factors) -> dict[str, float]:
    """TPOT and TTFT of ``est`` (made at ``ref``) under ``new`` factors."""
    tpot = est.tpot_s * _step_seconds(est.decode_step, ref, new) / est.decode_step.seconds
    in_ttft = est.tpot_s if est.concurrency > 1 else 0.0
    scale = _step_seconds(est.prefill_step, ref, new) / est.prefill_step.seconds
    return {"tpot_s": tpot, "ttft_s": (est.ttft_s - in_ttft) * scale + (tpot if in_ttft else 0.0)}


def _loss(
    cached: Sequence[tuple[Point, PerfEstimate]], ref: Factors, f: Factors, pull: bool = True
) -> float:
    total = weight = 0.0
    for point, est in cached:
        pred = retimed(est, ref, f)
        for q, measured in point.measured().items():
            total += WEIGHTS[q] * abs(math.log(pred[q] / measured))
            weight += WEIGHTS[q]
    loss = total / weight if weight else 0.0
    if pull:
        loss += PULL * sum(abs(math.log((f[k] + 1e-3) / (ref[k] + 1e-3))) for k in FITTED)
    return loss


def fit_points(engine: str, gpu: str, points: Sequence[Point]) -> Fit:
    """Fit :data:`FITTED` for one engine on one GPU."""
    ref = reference_factors(engine)
    cached = [(p, _estimate(p, ref)) for p in points]

    def loss(f: Factors) -> float:
        return _loss(cached, ref, f)

    best, best_loss = dict(ref), loss(ref)
    for combo in itertools.product(*(GRID[n] for n in FITTED)):
        f = dict(ref, **dict(zip(FITTED, combo, strict=True)))
        if (value := loss(f)) < best_loss:
            best, best_loss = f, value
    best = _refine(loss, best, best_loss)
    per_point = []
    for p in points:
        before, after = _estimate(p, ref), _estimate(p, best)
        per_point.append(
            {
                "source": p.source,
                "model": p.deployment.model,
                "weights": p.deployment.weights,
                "input_len": p.input_len,
                "output_len": p.output_len,
                "concurrency": p.concurrency,
                "measured": p.measured(),
                "predicted_before": {"tpot_s": before.tpot_s, "ttft_s": before.ttft_s},
                "predicted_after": {"tpot_s": after.tpot_s, "ttft_s": after.ttft_s},
            }
        )
    exact = [(p, _estimate(p, best)) for p in points]
    return Fit(
        engine=engine,
        gpu=gpu,
        factors={k: best[k] for k in FITTED},
        reference=ref,
        points=tuple(points),
        error_before=_loss(cached, ref, ref, pull=False),
        error_after=_loss(exact, best, best, pull=False),
        per_point=tuple(per_point),
    )


def _estimate(p: Point, factors: Factors) -> PerfEstimate:
    return predict(p.deployment, p.input_len, p.output_len, p.concurrency, efficiency=factors)


def _refine(loss: Callable[[Factors], float], best: Factors, best_loss: float) -> Factors:
    steps = {"bandwidth_efficiency": 0.05, "compute_efficiency": 0.05, "step_overhead_s": 0.004}
    for _ in range(10):
        improved = True
        while improved:
            improved = False
            for name in FITTED:
                lo, hi = BOUNDS[name]
                for sign in (-1.0, 1.0):
                    f = dict(best)
                    f[name] = min(hi, max(lo, best[name] + sign * steps[name]))
                    if (value := loss(f)) < best_loss - 1e-12:
                        best, best_loss, improved = f, value, True
        steps = {k: v / 2 for k, v in steps.items()}
    return best


def group_points(points: Sequence[Point]) -> dict[tuple[str, str], list[Point]]:
    """Points by (canonical engine, canonical GPU name): one fit per key."""
    from ..api import load_gpu
    from ..engines import load_engine

    groups: dict[tuple[str, str], list[Point]] = {}
    for p in points:
        assert p.deployment.engine and p.deployment.gpu
        key = (load_engine(p.deployment.engine).name, load_gpu(p.deployment.gpu).name)
        groups.setdefault(key, []).append(p)
    return groups
