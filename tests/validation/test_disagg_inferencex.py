"""Disaggregated prefill/decode against InferenceX's published disaggregated rows
(shared/groundtruth/inferencex.csv, ``disagg = true``; INFERENCEX-NOTES.md).

Nothing is fitted on these rows: the step model's bundled terms price each pool, the
catalogue's links price the KV transfer. The error bars are checked on held-out groups only
(the split rule of perf/split.py applied to these groups); the figures are in
docs/disaggregated.md.
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources

import pytest

from deepfit.perf.groundtruth import Quantity
from deepfit.perf.groundtruth_disagg import TABLE, DisaggRun, bundled_disagg_runs
from deepfit.perf.validate import ValidationReport
from deepfit.perf.validate_disagg import validate_disagg


@cache
def runs() -> tuple[DisaggRun, ...]:
    return tuple(bundled_disagg_runs())


@cache
def report() -> ValidationReport:
    return validate_disagg(runs())


def _csv_row(row_id: str) -> dict[str, str]:
    path = resources.files("deepfit.perf").joinpath("data").joinpath("groundtruth")
    with (path / "inferencex.csv").open(newline="", encoding="utf-8") as f:
        return next(r for r in csv.DictReader(f) if r["row_id"] == row_id)


def test_output_per_decode_gpu_becomes_the_deployments_tokens() -> None:
    item = next(d for d in runs() if d.run.row_id == "IX0509")
    row = _csv_row("IX0509")
    assert row["metric"] == "output_throughput_per_decode_gpu"
    assert item.decode is not None and item.prefill is not None
    assert item.run.value == pytest.approx(float(row["value"]) * item.decode.gpus)
    assert item.prefill.gpus + item.decode.gpus == int(row["gpu_count"])
    assert item.run.table == TABLE and item.run.concurrency == int(row["concurrency"])


def test_every_row_is_covered_or_says_why() -> None:
    rep = report()
    assert len(rep.results) >= 250
    assert all(why for _, why in rep.skipped)
    assert len(rep.results) + len(rep.skipped) == len(runs())


def test_split_has_both_halves_per_engine() -> None:
    for engine in ("sglang", "trtllm"):
        halves = {r.run.held_in for r in report().results if r.run.engine == engine}
        assert halves == {True, False}, engine


@pytest.mark.parametrize(
    ("quantity", "median", "p90"),
    [
        (Quantity.OUTPUT_TOKENS_PER_S, 0.35, 0.85),  # measured 29% / 78%
        (Quantity.TPOT_S, 0.55, 1.0),  # measured 48% / 91%
    ],
)
def test_held_out_error_bars(quantity: Quantity, median: float, p90: float) -> None:
    stats = report().stats(held_in=False, trust_a=True, quantity=quantity)
    assert stats.count >= 30
    assert stats.median <= median, stats
    assert stats.p90 <= p90, stats
