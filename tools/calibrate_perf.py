"""Fit each engine's roofline efficiency factors on published measurements.

    PYTHONPATH=src python tools/calibrate_perf.py            # fit, print, write engine.json
    PYTHONPATH=src python tools/calibrate_perf.py --dry-run  # fit and print only

Rows used: covered, held-in (``is_held_in``: even SHA-256 of the row id), trust A/A-, of
the quantities chosen with ``--quantities`` (output tokens/s by default). An engine needs
``--min-rows`` (5) such rows; engines with fewer keep the defaults. One factor set per
engine, never per row.

Factors: ``bandwidth_efficiency`` in [0.3, 1], ``compute_efficiency`` in [0.2, 1],
``step_overhead_s`` in [0, 0.05]; ``collective_latency_s`` keeps its default (no row
isolates it). Objective: the mean of |ln(predicted / published)|, a smooth stand-in for
the median APE that treats over- and under-prediction alike. Search: a coarse grid, then
coordinate refinement with a shrinking step.

Speed: every row is estimated once at the default factors; a candidate set of factors
re-times the cached steps (each operator's compute time scales with 1/compute efficiency,
its memory time with 1/bandwidth efficiency, and the step overhead is replaced). The fit
is then re-checked with full ``estimate_perf`` calls and both objectives are printed.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from deepfit.perf.groundtruth import (
    PublishedRun,
    Quantity,
    read_model_map,
    read_throughput_csv,
)
from deepfit.perf.result import PerfEstimate
from deepfit.perf.roofline import StepTime
from deepfit.perf.validate import estimate_run, percentile, validate

ROOT = Path(__file__).resolve().parents[1]
CSV = ROOT / "src" / "deepfit" / "perf" / "data" / "groundtruth" / "throughput.csv"
MODELS = ROOT / "src" / "deepfit" / "perf" / "data" / "groundtruth" / "throughput_models.csv"
ENGINES_DIR = ROOT / "src" / "deepfit" / "engines"
DEFAULTS_JSON = ENGINES_DIR / "defaults.json"

BOUNDS = {
    "bandwidth_efficiency": (0.3, 1.0),
    "compute_efficiency": (0.2, 1.0),
    "step_overhead_s": (0.0, 0.05),
    "token_overhead_s": (0.0, 2e-4),
    "comm_efficiency": (0.2, 1.0),
    "moe_efficiency": (0.1, 1.0),
}
GRID = {
    "bandwidth_efficiency": [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0],
    "compute_efficiency": [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0],
    "step_overhead_s": [0.0, 0.001, 0.002, 0.004, 0.007, 0.01, 0.02, 0.035, 0.05],
    "token_overhead_s": [0.0, 5e-6, 1e-5, 2e-5, 4e-5, 8e-5],
    "comm_efficiency": [0.25, 0.5, 1.0],
    "moe_efficiency": [0.15, 0.3, 0.6, 1.0],
}
Factors = dict[str, float]


@dataclass(frozen=True)
class Cached:
    """A row's estimate at the reference factors, ready to be re-timed."""

    run: PublishedRun
    est: PerfEstimate


def _step_seconds(step: StepTime, ref: Factors, new: Factors) -> float:
    c = ref["compute_efficiency"] / new["compute_efficiency"]
    b = ref["bandwidth_efficiency"] / new["bandwidth_efficiency"]
    moe = ref["moe_efficiency"] / new["moe_efficiency"]
    ops = sum(
        max(o.compute_s * c, o.memory_s * b) * (moe if o.op.name == "experts" else 1.0)
        for o in step.ops
    )
    comm_scale = ref["comm_efficiency"] / new["comm_efficiency"]
    comm = step.comm_s + step.comm_bandwidth_s * (comm_scale - 1)
    return ops + comm + new["step_overhead_s"] + new["token_overhead_s"] * step.tokens


def retimed(row: Cached, ref: Factors, new: Factors) -> float:
    """The row's quantity under ``new`` factors, from its estimate under ``ref``."""
    est = row.est
    tpot = est.tpot_s * _step_seconds(est.decode_step, ref, new) / est.decode_step.seconds
    decode_in_ttft = est.tpot_s if est.concurrency > 1 else 0.0
    prefill = (est.ttft_s - decode_in_ttft) * (
        _step_seconds(est.prefill_step, ref, new) / est.prefill_step.seconds
    )
    values = {
        Quantity.OUTPUT_TOKENS_PER_S: est.concurrency / tpot,
        Quantity.TPOT_S: tpot,
        Quantity.TTFT_S: prefill + (tpot if est.concurrency > 1 else 0.0),
    }
    return values[row.run.quantity]  # type: ignore[index]


def objective(pairs: Sequence[tuple[float, float]]) -> float:
    """Mean |ln(predicted / published)|."""
    return sum(abs(math.log(p / v)) for p, v in pairs) / len(pairs)


def fit(rows: Sequence[Cached], ref: Factors) -> tuple[Factors, float]:
    def loss(f: Factors) -> float:
        return objective([(retimed(r, ref, f), r.run.value) for r in rows])

    names = list(GRID)
    best: Factors = dict(ref)
    best_loss = loss(best)
    for combo in itertools.product(*(GRID[n] for n in names)):
        f = dict(ref, **dict(zip(names, combo, strict=True)))
        if (value := loss(f)) < best_loss:
            best, best_loss = f, value
    return _refine(loss, best, best_loss)


def _refine(
    loss: Callable[[Factors], float], best: Factors, best_loss: float
) -> tuple[Factors, float]:
    steps = {
        "bandwidth_efficiency": 0.05,
        "compute_efficiency": 0.05,
        "step_overhead_s": 0.002,
        "token_overhead_s": 5e-6,
        "comm_efficiency": 0.05,
        "moe_efficiency": 0.05,
    }
    for _ in range(8):
        improved = True
        while improved:
            improved = False
            for name, (lo, hi) in BOUNDS.items():
                for sign in (-1.0, 1.0):
                    f = dict(best)
                    f[name] = min(hi, max(lo, best[name] + sign * steps[name]))
                    if (value := loss(f)) < best_loss - 1e-12:
                        best, best_loss, improved = f, value, True
        steps = {k: v / 2 for k, v in steps.items()}
    return best, best_loss


def defaults() -> Factors:
    data = json.loads(DEFAULTS_JSON.read_text())
    return {k: float(v) for k, v in data["efficiency"].items()}


def engine_file(engine: str) -> Path:
    """``engines/<folder>/engine.json`` of ``engine`` (folder names use ``_`` for ``-``)."""
    return ENGINES_DIR / engine.replace("-", "_") / "engine.json"


def write_fitted(fitted: dict[str, dict[str, object]]) -> None:
    """Replace each engine's ``efficiency.fitted`` object in its own engine.json."""
    for engine, values in fitted.items():
        path = engine_file(engine)
        if not path.is_file():
            raise SystemExit(f"no engine folder for {engine} ({path})")
        data = json.loads(path.read_text())
        data["efficiency"]["fitted"] = values
        path.write_text(json.dumps(data, indent=2) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dry-run", action="store_true", help="print the fit, write nothing")
    ap.add_argument("--min-rows", type=int, default=5)
    ap.add_argument(
        "--quantities",
        default="output_tokens_per_s",
        help="comma list of output_tokens_per_s, tpot_s, ttft_s",
    )
    args = ap.parse_args(argv)
    wanted = {q for q in Quantity if q.attribute in args.quantities.split(",")}
    runs = read_throughput_csv(CSV, read_model_map(MODELS))
    ref = defaults()
    fit_rows = [r for r in runs if r.covered and r.held_in and r.trust_a and r.quantity in wanted]
    fitted: dict[str, dict[str, object]] = {}
    overrides: dict[str, Factors] = {}
    for engine in sorted({r.engine for r in fit_rows}):
        cached = []
        for run in (r for r in fit_rows if r.engine == engine):
            try:
                cached.append(Cached(run, estimate_run(run, ref)))
            except Exception as exc:  # a row deepfit cannot estimate is left out of the fit
                print(f"  {run.row_id}: skipped ({exc})", file=sys.stderr)
        if len(cached) < args.min_rows:
            print(f"{engine}: {len(cached)} rows < {args.min_rows}, keeps the defaults")
            continue
        factors, loss = fit(cached, ref)
        exact = objective(
            [
                (getattr(estimate_run(c.run, factors), c.run.quantity.attribute), c.run.value)
                for c in cached
                if c.run.quantity
            ]
        )
        apes = [abs(retimed(c, ref, factors) / c.run.value - 1) for c in cached]
        print(
            f"{engine}: {len(cached)} rows, mean|ln| {loss:.3f} (re-timed) / {exact:.3f} "
            f"(exact), median APE {percentile(apes, 50):.1%}, p90 {percentile(apes, 90):.1%}, "
            + ", ".join(f"{k}={factors[k]:.4g}" for k in BOUNDS)
        )
        overrides[engine] = factors
        fitted[engine] = {
            **{k: float(f"{factors[k]:.4g}") for k in BOUNDS},
            "collective_latency_s": ref["collective_latency_s"],
            "fitted_on_rows": len(cached),
            "how": f"tools/calibrate_perf.py: min mean|ln(pred/published)| over held-in trust "
            f"A/A- rows ({', '.join(sorted(q.attribute for q in wanted))}) of "
            f"throughput.csv; grid + coordinate refinement",
        }
    report = validate(runs, overrides)
    print(json.dumps(report.summary(trust_a=True), indent=1))
    if not args.dry_run:
        write_fitted(fitted)
        print(f"wrote {', '.join(fitted)} into {ENGINES_DIR}/*/engine.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
