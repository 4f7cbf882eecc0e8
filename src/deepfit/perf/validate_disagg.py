"""Disaggregated prefill/decode estimates against the published InferenceX rows.

Every covered :class:`~deepfit.perf.groundtruth_disagg.DisaggRun` is recomputed with
:func:`~deepfit.perf.disagg.estimate_pair` (closed loop at the row's concurrency, the
engine's bundled terms, nothing fitted on these rows) and scored like the aggregated rows
(:class:`~deepfit.perf.validate.ValidationReport`: APE and bias, median and p90, held-in
and held-out groups apart).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..errors import DeepfitError
from ..models import load_model
from .disagg import DisaggEstimate, PoolPair, estimate_pair, worker_pair
from .disagg_pools import Pool, Serving
from .groundtruth import Quantity
from .groundtruth_disagg import DisaggRun, PoolLayout
from .validate import RowResult, ValidationReport


def _pool(gpu: str, layout: PoolLayout) -> Pool:
    return Pool(gpu, layout.workers, layout.tp, layout.ep, 1, layout.dp_attention)


def _estimate(item: DisaggRun, pairs: dict[tuple[Any, ...], PoolPair]) -> DisaggEstimate:
    run = item.run
    assert item.prefill is not None and item.decode is not None
    prefill, decode = _pool(run.gpu, item.prefill), _pool(run.gpu, item.decode)
    key = (run.model_id, run.gpu, run.engine, run.weights, run.kv_dtype, run.input_len,
           run.output_len, prefill, decode)  # fmt: skip
    if key not in pairs:
        serving = Serving(run.input_len, run.output_len, run.engine, run.weights, run.kv_dtype)
        pairs[key] = worker_pair(load_model(run.model_id), prefill, decode, serving)
    assert isinstance(run.concurrency, int)
    return estimate_pair(pairs[key], prefill.workers, decode.workers, concurrency=run.concurrency)


def predicted(run_quantity: Quantity, est: DisaggEstimate) -> float:
    return float(getattr(est, run_quantity.attribute))


def validate_disagg(items: Iterable[DisaggRun]) -> ValidationReport:
    """Recompute every covered disaggregated row (see the module docstring)."""
    results: list[RowResult] = []
    skipped: list[tuple[str, str]] = []
    pairs: dict[tuple[Any, ...], PoolPair] = {}
    for item in items:
        run = item.run
        if run.skip_reason is not None or run.quantity is None:
            skipped.append((run.row_id, run.skip_reason or "no quantity"))
            continue
        try:
            est = _estimate(item, pairs)
        except DeepfitError as exc:
            skipped.append((run.row_id, f"deepfit: {exc.message}"))
            continue
        value = predicted(run.quantity, est)
        concurrency = round(est.decode_running_per_worker * est.decode.workers)
        results.append(RowResult(run, value, concurrency, est.source, est.source))
    return ValidationReport(tuple(results), tuple(skipped))


def disagg_summary(report: ValidationReport) -> dict[str, Any]:
    """Held-in and held-out median / p90 APE per metric (trust A rows: all of them are)."""
    return {
        "table": "InferenceX disaggregated (inferencex.csv, disagg = true)",
        "covered": len(report.results),
        "skipped": len(report.skipped),
        "summary": report.summary(trust_a=True),
        "fitted_on_these_rows": 0,
    }
