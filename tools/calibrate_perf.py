"""Fit the serving model's physical terms on held-in groups of published runs.

    PYTHONPATH=src python tools/calibrate_perf.py            # fit, print, write the terms
    PYTHONPATH=src python tools/calibrate_perf.py --dry-run  # fit and print only

Rows used: covered, trust A/A-, closed-loop (not open-loop rate rows), of held-in groups
only (``deepfit.perf.split``: whole groups of source table x model x GPU x engine), for the
quantities chosen with ``--quantities`` (output tokens/s and TPOT by default: the steady-state
quantities; closed-loop TTFT is queueing and is left to the serving simulation).

Terms: those marked ``"fit": true`` in ``src/deepfit/perf/data/serving_terms.json``, each
within its bounds. The engines' per-request overheads (``"fit_on": "ttft"``) are fitted last,
each alone, on the held-in mean-TTFT rows (closed-loop benchmarks and open-loop rates, both
through the serving simulation): they add to TTFT and to nothing else.

Objective: mean |ln(predicted / published)| with every group weighing the
same (a group's rows share one deployment: 50 rows of one sweep must not outvote 5 of
another). Search: coordinate descent with multiplicative steps that shrink. Held-out groups
are never read here; ``deepfit validate`` reports them afterwards.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from deepfit.errors import DeepfitError
from deepfit.perf import terms
from deepfit.perf.groundtruth import PublishedRun, Quantity
from deepfit.perf.published import bundled_runs
from deepfit.perf.result import PerfEstimate
from deepfit.perf.validate import estimate_run, percentile, predicted_value, validate

ROOT = Path(__file__).resolve().parents[1]
TERMS_JSON = ROOT / "src" / "deepfit" / "perf" / "data" / "serving_terms.json"

Values = dict[str, float]


def fit_rows(runs: Sequence[PublishedRun], wanted: set[Quantity]) -> list[PublishedRun]:
    return [
        r
        for r in runs
        if r.covered and r.held_in and r.trust_a and r.rate is None and r.quantity in wanted
    ]


def predictions(rows: Sequence[PublishedRun], values: Values) -> list[float | None]:
    out: list[float | None] = []
    memo: dict[PublishedRun, PerfEstimate | None] = {}
    with terms.overridden(values):
        for run in rows:
            key = replace(run, row_id="", quantity=None, value=0.0, assumptions=())
            if key not in memo:  # the metrics of one run share its estimate
                try:
                    memo[key] = estimate_run(run)
                except DeepfitError:
                    memo[key] = None
            est = memo[key]
            out.append(None if est is None else predicted_value(run, est))
    return out


def loss(rows: Sequence[PublishedRun], values: Values, weights: Sequence[float]) -> float:
    total = norm = 0.0
    for run, pred, w in zip(rows, predictions(rows, values), weights, strict=True):
        if pred is None or pred <= 0:
            continue
        total += w * abs(math.log(pred / run.value))
        norm += w
    return total / norm if norm else float("inf")


def fit(
    rows: Sequence[PublishedRun], start: Values, bounds: dict[str, tuple[float, float]]
) -> Values:
    sizes = Counter(r.group for r in rows)
    weights = [1.0 / sizes[r.group] for r in rows]
    best = dict(start)
    best_loss = loss(rows, best, weights)
    print(f"start: mean|ln| {best_loss:.4f}", file=sys.stderr)
    step = 0.4  # multiplicative: x * (1 +- step)
    while step > 0.02:
        improved = True
        while improved:
            improved = False
            for name, (lo, hi) in bounds.items():
                for sign in (-1.0, 1.0):
                    cand = dict(best)
                    cand[name] = min(hi, max(lo, best[name] * (1 + sign * step)))
                    if cand[name] == best[name]:
                        continue
                    if (value := loss(rows, cand, weights)) < best_loss - 1e-6:
                        best, best_loss, improved = cand, value, True
        step /= 2
        print(f"step {step:.3f}: mean|ln| {best_loss:.4f}", file=sys.stderr)
    return best


def fit_request_overheads(runs: Sequence[PublishedRun], values: Values) -> Values:
    """Each engine's request overhead: the constant that best lifts the simulated TTFT of
    its held-in mean-TTFT rows (groups weighted equally)."""
    rows = [
        r
        for r in runs
        if r.covered
        and r.held_in
        and r.trust_a
        and r.quantity is Quantity.TTFT_S
        and r.percentile is None
    ]
    names = {k for k, e in terms.term_entries().items() if e.get("fit_on") == "ttft"}
    zero = dict(values, **dict.fromkeys(names, 0.0))
    base: list[tuple[PublishedRun, float]] = []
    with terms.overridden(zero):
        for run in rows:
            try:
                base.append((run, predicted_value(run, estimate_run(run))))
            except DeepfitError:
                continue
    out = dict(values)
    for name in sorted(names):
        engine = name.split(".")[1]
        mine = [(r, p) for r, p in base if r.engine == engine]
        lo, hi = terms.term_entries()[name]["bounds"]
        if not mine:
            print(f"  {name}: no held-in TTFT rows, keeps {out.get(name)}", file=sys.stderr)
            continue
        sizes = Counter(r.group for r, _ in mine)

        def cost(
            x: float,
            mine: list[tuple[PublishedRun, float]] = mine,
            sizes: Counter[tuple[str, str, str, str]] = sizes,
        ) -> float:
            return sum(abs(math.log((p + x) / r.value)) / sizes[r.group] for r, p in mine)

        grid = [lo + (hi - lo) * i / 600 for i in range(601)]
        out[name] = min(grid, key=cost)
        print(f"  {name}: {len(mine)} rows of {len(sizes)} groups", file=sys.stderr)
    return out


def write_terms(values: Values, rows: Sequence[PublishedRun], how: str) -> None:
    data = json.loads(TERMS_JSON.read_text())
    for name, v in values.items():
        node = data
        for part in name.split("."):
            node = node[part]
        node["value"] = float(f"{v:.4g}")
    data["_fitted"] = {
        "rows": len(rows),
        "groups": len({r.group for r in rows}),
        "how": how,
    }
    TERMS_JSON.write_text(json.dumps(data, indent=2) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--dry-run", action="store_true", help="print the fit, write nothing")
    ap.add_argument(
        "--quantities",
        default="output_tokens_per_s,tpot_s",
        help="comma list of output_tokens_per_s, tpot_s, ttft_s",
    )
    args = ap.parse_args(argv)
    wanted = {q for q in Quantity if q.attribute in args.quantities.split(",")}
    runs = bundled_runs()
    rows = fit_rows(runs, wanted)
    entries = {
        k: e for k, e in terms.term_entries().items() if e.get("fit") and e.get("fit_on") != "ttft"
    }
    start = {k: float(e["value"]) for k, e in entries.items()}
    bounds = {k: (float(e["bounds"][0]), float(e["bounds"][1])) for k, e in entries.items()}
    print(
        f"fitting {len(bounds)} terms on {len(rows)} rows of "
        f"{len({r.group for r in rows})} held-in groups",
        file=sys.stderr,
    )
    best = fit(rows, start, bounds)
    best = fit_request_overheads(runs, best)
    for name, v in best.items():
        lo, hi = terms.term_entries()[name]["bounds"]
        flag = "  <- ON A BOUND" if v <= lo * (1 + 1e-6) or v >= hi * (1 - 1e-6) else ""
        print(f"  {name} = {v:.4g}  [{lo:g}, {hi:g}]{flag}")
    with terms.overridden(best):
        report = validate(runs)
    # held-in only: held-out figures are ``deepfit validate``'s, read once the fit is done
    for key, st in report.by("engine", held_in=True).items():
        print(
            f"held-in  {key:34s} groups {st['groups']:3d} "
            f"rows {st['rows']:4d} median {st['median_ape']:.1%} p90 {st['p90_ape']:.1%} "
            f"bias {st['median_bias']:+.1%}"
        )
    apes = [abs(p / r.value - 1) for r, p in zip(rows, predictions(rows, best), strict=True) if p]
    print(f"fit rows: median APE {percentile(apes, 50):.1%}, p90 {percentile(apes, 90):.1%}")
    if not args.dry_run:
        how = (
            "tools/calibrate_perf.py: coordinate descent on mean |ln(pred/published)|, groups "
            f"weighted equally, over held-in trust A/A- closed-loop rows "
            f"({', '.join(sorted(q.attribute for q in wanted))}) of the bundled published runs"
        )
        write_terms(best, rows, how)
        terms.raw_terms.cache_clear()
        terms.term_entries.cache_clear()
        print(f"wrote {len(best)} terms into {TERMS_JSON}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
