"""``validate``: deepfit's speed estimates against published measurements.

Every covered :class:`~deepfit.perf.groundtruth.PublishedRun` is recomputed with
:func:`~deepfit.perf.api.estimate_perf` and scored by its absolute percentage error,
APE = |predicted - published| / published. The report gives the median and 90th percentile
APE per (engine, quantity) and overall, separately for held-in rows (those calibration may
use) and held-out rows (never used), plus every skipped row with its reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import DeepfitError
from ..hardware import load_gpu
from ..models import load_model
from .api import estimate_perf
from .groundtruth import PublishedRun, Quantity
from .result import PerfEstimate


@dataclass(frozen=True)
class RowResult:
    """One recomputed row: what was published, what deepfit predicts, and the error."""

    run: PublishedRun
    predicted: float
    estimate_concurrency: int
    source: str = "roofline"  # the contract's spelling of the provenance
    provenance: str = "roofline"  # roofline, fitted or calibrated

    @property
    def ape(self) -> float:
        """Absolute percentage error as a fraction (0.2 = 20%)."""
        return abs(self.predicted - self.run.value) / abs(self.run.value)

    def to_dict(self) -> dict[str, Any]:
        r = self.run
        return {
            "row_id": r.row_id,
            "model": r.model_id,
            "gpu": r.gpu,
            "gpus": r.gpus,
            "engine": r.engine,
            "weights": r.weights,
            "tp": r.tp,
            "pp": r.pp,
            "ep": r.ep,
            "dp_attention": r.dp_attention,
            "input_len": r.input_len,
            "output_len": r.output_len,
            "concurrency": r.concurrency,
            "modelled_concurrency": self.estimate_concurrency,
            "quantity": r.quantity.attribute if r.quantity else None,
            "published": r.value,
            "predicted": self.predicted,
            "source": self.source,
            "provenance": self.provenance,
            "ape": self.ape,
            "held_in": r.held_in,
            "trust": r.trust,
            "assumptions": list(r.assumptions),
        }


@dataclass(frozen=True)
class ErrorStats:
    """Median and 90th-percentile APE over ``count`` rows (fractions)."""

    count: int
    median: float
    p90: float

    @classmethod
    def of(cls, apes: Sequence[float]) -> ErrorStats:
        return cls(len(apes), percentile(apes, 50.0), percentile(apes, 90.0))

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.count, "median_ape": self.median, "p90_ape": self.p90}


@dataclass(frozen=True)
class ValidationReport:
    results: tuple[RowResult, ...]
    skipped: tuple[tuple[str, str], ...]  # (row_id, reason)
    efficiency_overrides: dict[str, dict[str, float]] = field(default_factory=dict)

    def select(
        self,
        *,
        held_in: bool | None = None,
        trust_a: bool | None = None,
        engine: str | None = None,
        quantity: Quantity | None = None,
    ) -> list[RowResult]:
        return [
            r
            for r in self.results
            if (held_in is None or r.run.held_in == held_in)
            and (trust_a is None or r.run.trust_a == trust_a)
            and (engine is None or r.run.engine == engine)
            and (quantity is None or r.run.quantity is quantity)
        ]

    def stats(self, **criteria: Any) -> ErrorStats:
        return ErrorStats.of([r.ape for r in self.select(**criteria)])

    def summary(self, *, trust_a: bool | None = True) -> dict[str, Any]:
        """Median/p90 APE per split, per (engine, quantity) and overall."""
        out: dict[str, Any] = {}
        for split, held in (("held_in", True), ("held_out", False)):
            groups: dict[str, Any] = {}
            keys = sorted(
                {
                    (r.run.engine, r.run.quantity.attribute)  # type: ignore[union-attr]
                    for r in self.select(held_in=held, trust_a=trust_a)
                }
            )
            for engine, attr in keys:
                q = next(q for q in Quantity if q.attribute == attr)
                groups[f"{engine}/{attr}"] = self.stats(
                    held_in=held, trust_a=trust_a, engine=engine, quantity=q
                ).to_dict()
            overall = {
                q.attribute: self.stats(held_in=held, trust_a=trust_a, quantity=q).to_dict()
                for q in Quantity
            }
            out[split] = {"by_engine": groups, "overall": overall}
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "covered": len(self.results),
            "skipped": len(self.skipped),
            "summary_trust_a": self.summary(trust_a=True),
            "summary_all_trust": self.summary(trust_a=None),
            "rows": [r.to_dict() for r in self.results],
            "skipped_rows": [{"row_id": i, "reason": why} for i, why in self.skipped],
            "efficiency_overrides": self.efficiency_overrides,
        }


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default); NaN for no values."""
    if not values:
        return float("nan")
    data = sorted(values)
    pos = (len(data) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def estimate_run(run: PublishedRun, efficiency: dict[str, float] | None = None) -> PerfEstimate:
    """deepfit's estimate for one covered run (raises DeepfitError when it cannot)."""
    model, gpu = load_model(run.model_id), load_gpu(run.gpu)

    def at(concurrency: int | str) -> PerfEstimate:
        return estimate_perf(
            model,
            gpu,
            input_len=run.input_len,
            output_len=run.output_len,
            concurrency=concurrency,
            gpus=run.gpus,
            tp=run.tp,
            pp=run.pp,
            ep=run.ep,
            weights=run.weights,
            kv_dtype=run.kv_dtype,
            engine=run.engine,
            dp_attention=run.dp_attention,
            efficiency=efficiency,
        )

    est = at(run.concurrency)
    if run.requests is not None and run.requests < est.concurrency:
        est = at(run.requests)  # fewer requests than the engine could run at once
    return est


def validate(
    rows: Iterable[PublishedRun], efficiency_overrides: dict[str, dict[str, float]] | None = None
) -> ValidationReport:
    """Recompute every covered row; ``efficiency_overrides`` maps an engine to factors
    (``bandwidth_efficiency`` ...) that replace the bundled ones for that engine."""
    overrides = efficiency_overrides or {}
    results: list[RowResult] = []
    skipped: list[tuple[str, str]] = []
    for run in rows:
        if run.skip_reason is not None or run.quantity is None:
            skipped.append((run.row_id, run.skip_reason or "no quantity"))
            continue
        try:
            est = estimate_run(run, overrides.get(run.engine))
        except DeepfitError as exc:
            skipped.append((run.row_id, f"deepfit: {exc.message}"))
            continue
        predicted = float(getattr(est, run.quantity.attribute))
        results.append(RowResult(run, predicted, est.concurrency, est.source, est.provenance.value))
    return ValidationReport(tuple(results), tuple(skipped), dict(overrides))
