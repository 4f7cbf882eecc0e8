"""``validate``: deepfit's speed estimates against published measurements.

Every covered :class:`~deepfit.perf.groundtruth.PublishedRun` is recomputed with
:func:`~deepfit.perf.api.estimate_perf` and scored by its absolute percentage error,
APE = |predicted - published| / published, and its signed bias, predicted / published - 1.
The report gives the median and 90th percentile APE and the median bias per (engine, metric),
(GPU, metric) or metric, separately for held-in groups (those calibration may use) and
held-out groups (never used; see :mod:`deepfit.perf.split`), the fitted factors counted
against the rows they were fitted on with any factor that sits on a bound, and every skipped
row with its reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import DeepfitError
from ..hardware import load_gpu
from ..models import load_model
from .api import estimate_perf
from .groundtruth import PublishedRun, Quantity
from .result import PerfEstimate
from .simulate import Load, percentile

__all__ = ["ErrorStats", "RowResult", "ValidationReport", "percentile", "validate"]


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

    @property
    def bias(self) -> float:
        """Signed error as a fraction: > 0 when deepfit predicts more than was published."""
        return self.predicted / self.run.value - 1.0

    def key(self, by: str) -> str:
        """The row's bucket for ``--by engine|gpu|metric`` (always split by metric too)."""
        r = self.run
        metric = r.quantity.attribute if r.quantity else "?"
        if r.percentile is not None:
            metric = f"{metric}@p{r.percentile:g}"
        elif r.rate is not None:
            metric = f"{metric}@mean"
        head = {"engine": r.engine, "gpu": r.gpu, "metric": ""}[by]
        return f"{head}/{metric}" if head else metric

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
            "bias": self.bias,
            "group": list(r.group),
            "held_in": r.held_in,
            "trust": r.trust,
            "assumptions": list(r.assumptions),
        }


@dataclass(frozen=True)
class ErrorStats:
    """Median and 90th-percentile APE and median bias over ``count`` rows of ``groups``
    groups (fractions)."""

    count: int
    median: float
    p90: float
    bias: float = float("nan")
    groups: int = 0

    @classmethod
    def of(cls, apes: Sequence[float]) -> ErrorStats:
        return cls(len(apes), percentile(apes, 50.0), percentile(apes, 90.0))

    @classmethod
    def of_rows(cls, rows: Sequence[RowResult]) -> ErrorStats:
        apes = [r.ape for r in rows]
        return cls(
            len(rows),
            percentile(apes, 50.0),
            percentile(apes, 90.0),
            percentile([r.bias for r in rows], 50.0),
            len({r.run.group for r in rows}),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.count,
            "groups": self.groups,
            "median_ape": self.median,
            "p90_ape": self.p90,
            "median_bias": self.bias,
        }


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
        return ErrorStats.of_rows(self.select(**criteria))

    def by(self, by: str, *, held_in: bool, trust_a: bool | None = True) -> dict[str, Any]:
        """Error statistics per bucket of ``by`` (engine, gpu or metric), each split by metric."""
        buckets: dict[str, list[RowResult]] = {}
        for r in self.select(held_in=held_in, trust_a=trust_a):
            buckets.setdefault(r.key(by), []).append(r)
        return {k: ErrorStats.of_rows(v).to_dict() for k, v in sorted(buckets.items())}

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
                if self.select(held_in=held, trust_a=trust_a, quantity=q)
            }
            out[split] = {"by_engine": groups, "overall": overall}
        return out

    def to_dict(self, by: str = "engine") -> dict[str, Any]:
        from .efficiency import fitted_factors

        return {
            "by": by,
            "held_out": self.by(by, held_in=False),
            "held_in": self.by(by, held_in=True),
            "factors": fitted_factors(),
            "covered": len(self.results),
            "skipped": len(self.skipped),
            "summary_trust_a": self.summary(trust_a=True),
            "summary_all_trust": self.summary(trust_a=None),
            "rows": [r.to_dict() for r in self.results],
            "skipped_rows": [{"row_id": i, "reason": why} for i, why in self.skipped],
            "efficiency_overrides": self.efficiency_overrides,
        }


def simulated_load(run: PublishedRun) -> Load | None:
    """The load to simulate for ``run``: open-loop rows always; closed-loop benchmark TTFT
    rows, whose TTFT is mostly the wait for a slot in the step (steady state has none)."""
    if run.rate is not None:
        return Load("rate", run.rate, arrivals="constant", length_spread=run.length_spread)
    if run.closed_loop and run.quantity is Quantity.TTFT_S and isinstance(run.concurrency, int):
        return Load("concurrency", run.concurrency, length_spread=run.length_spread)
    return None


def estimate_run(run: PublishedRun, efficiency: dict[str, float] | None = None) -> PerfEstimate:
    """deepfit's estimate for one covered run (raises DeepfitError when it cannot)."""
    model, gpu = load_model(run.model_id), load_gpu(run.gpu)
    factors: dict[str, float] = dict(efficiency or {})  # never the user's own profile
    if run.max_num_seqs is not None:
        factors["max_num_seqs"] = factors["max_num_seqs_large_gpu"] = run.max_num_seqs
    if run.max_batched_tokens is not None:
        factors["max_batched_tokens"] = run.max_batched_tokens
    load = simulated_load(run)

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
            prefix_hit_rate=run.prefix_hit_rate,
            efficiency=factors,
            load=load,
        )

    est = at(run.concurrency)
    if run.requests is not None and run.requests < est.concurrency:
        est = at(run.requests)  # fewer requests than the engine could run at once
    return est


def predicted_value(run: PublishedRun, est: PerfEstimate) -> float:
    """The estimate's number for ``run``'s quantity (a simulated percentile where asked)."""
    assert run.quantity is not None
    sim = est.simulated
    if sim is not None and run.quantity is not Quantity.OUTPUT_TOKENS_PER_S:
        dist = getattr(sim, run.quantity.attribute.removesuffix("_s"))
        if run.percentile is None:
            return float(dist.mean)
        return float(getattr(dist, f"p{run.percentile:g}"))
    return float(getattr(est, run.quantity.attribute))


def validate(
    rows: Iterable[PublishedRun], efficiency_overrides: dict[str, dict[str, float]] | None = None
) -> ValidationReport:
    """Recompute every covered row; ``efficiency_overrides`` maps an engine to factors
    (``bandwidth_efficiency`` ...) that replace the bundled ones for that engine."""
    overrides = efficiency_overrides or {}
    results: list[RowResult] = []
    skipped: list[tuple[str, str]] = []
    memo: dict[tuple[PublishedRun, Load | None], PerfEstimate] = {}
    for run in rows:
        if run.skip_reason is not None or run.quantity is None:
            skipped.append((run.row_id, run.skip_reason or "no quantity"))
            continue
        # rows of one run (several metrics) share one estimate
        key = (
            replace(run, row_id="", quantity=None, value=0.0, percentile=None, assumptions=()),
            simulated_load(run),
        )
        try:
            if key not in memo:
                memo[key] = estimate_run(run, overrides.get(run.engine))
            est = memo[key]
        except DeepfitError as exc:
            skipped.append((run.row_id, f"deepfit: {exc.message}"))
            continue
        predicted = predicted_value(run, est)
        results.append(RowResult(run, predicted, est.concurrency, est.source, est.provenance.value))
    return ValidationReport(tuple(results), tuple(skipped), dict(overrides))
