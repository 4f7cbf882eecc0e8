"""Fit the training-speed terms of deepfit/train/data/mfu.json on held-in groups only.

Run: python benchmarks/train_fit.py [--write]
Terms: the hardware utilization per fitted GPU generation and that of the attention core
(on steady-state speed rows),
and ``goodput`` (the median steady-state
share of the whole-run GPU-hours rows), by coordinate descent. The objective weights each
source group equally (group-weighted mean of |log(deepfit / published)|). Held-out
groups are never read for the fit.
``--write`` stores the fitted values and the fit's provenance in mfu.json.
"""

from __future__ import annotations

import argparse
import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import deepfit.train.mfu as mfu
from deepfit.errors import DeepfitError
from deepfit.train.groundtruth import Case
from deepfit.train.groundtruth_time import read_run_cases, read_speed_cases
from deepfit.train.validate import QUANTITY, predict, weighted_quantile

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests/validation/data"
MFU_JSON = ROOT / "src/deepfit/train/data/mfu.json"
GENERATIONS = ("ampere", "hopper")
#: Generations whose held-in rows pin the attention core's own utilization: the H100 rows
#: sweep the sequence length to 65k tokens; the held-in A100 rows keep it short (attention
#: a small share of the FLOPs), so Ampere's attention stays at its layers' utilization.
ATTENTION_GENERATIONS = ("hopper",)


def _with(data: dict[str, Any]) -> None:
    mfu._data = lambda: data  # type: ignore[assignment]


def _loss(cases: list[Case], data: dict[str, Any]) -> float:
    _with(data)
    per_group = Counter(c.group for c in cases)
    total = 0.0
    for c in cases:
        try:
            total += abs(math.log(predict(c) / c.value)) / per_group[c.group]
        except DeepfitError:
            continue
    return total / len(per_group)


def _golden(f: Any, lo: float, hi: float, steps: int = 14) -> float:
    g = (math.sqrt(5) - 1) / 2
    a, b = lo, hi
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = f(c), f(d)
    for _ in range(steps):
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - g * (b - a)
            fc = f(c)
        else:
            a, c, fc = c, d, fd
            d = a + g * (b - a)
            fd = f(d)
    return (a + b) / 2


def _goodput(whole: list[Case]) -> float:
    """The group-weighted median of steady-state over published whole-run GPU-hours."""
    goodput = mfu.term("goodput")
    ratios, weights = [], []
    per_group = Counter(c.group for c in whole)
    for c in whole:
        steady = predict(c) * goodput  # predict() divides by the goodput in force
        ratios.append(steady / c.value)
        weights.append(1 / per_group[c.group])
    return round(weighted_quantile(ratios, weights, 0.5), 3)


def fit(cases: list[Case], data: dict[str, Any]) -> dict[str, Any]:
    speed = [c for c in cases if QUANTITY.get(c.metric) == "speed"]
    whole = [c for c in cases if QUANTITY.get(c.metric) == "gpu_hours"]
    data = json.loads(json.dumps(data))
    # a fixed start, so the fit does not depend on what mfu.json held before
    for gen in GENERATIONS:
        data["generations"][gen]["peak_utilization"] = 0.55
        data["generations"][gen].pop("attention_utilization", None)
    for gen in ATTENTION_GENERATIONS:
        data["generations"][gen]["attention_utilization"] = 0.3
    data["terms"]["goodput"]["value"] = 0.65
    rows = speed  # steady-state terms from steady-state rows; goodput from whole runs
    for _ in range(2):  # coordinate descent, twice round (goodput does not move speed)
        for gen in GENERATIONS:
            row = data["generations"][gen]

            def f(x: float, row: dict[str, Any] = row) -> float:
                row["peak_utilization"] = x
                return _loss(rows, data)

            row["peak_utilization"] = round(_golden(f, 0.2, 0.95), 3)

            def g(x: float, row: dict[str, Any] = row) -> float:
                row["attention_utilization"] = x
                return _loss(rows, data)

            if gen in ATTENTION_GENERATIONS:
                row["attention_utilization"] = round(_golden(g, 0.05, 0.95), 3)
        data["terms"]["goodput"]["value"] = _goodput(whole)
    groups = len({c.group for c in speed + whole})
    data["fitted_on"] = (
        f"{len(speed)} speed rows and {len(whole)} whole-run rows in {groups} held-in groups "
        "of tests/validation/data/training-throughput.csv and training_runs.csv "
        "(benchmarks/train_fit.py)"
    )
    return data


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--write", action="store_true", help="store the fit in mfu.json")
    args = ap.parse_args()
    cases = [
        c
        for c in read_speed_cases(DATA / "training-throughput.csv")
        + read_run_cases(DATA / "training_runs.csv")
        if not c.skip and c.trusted and held_in_group(c)
    ]
    original = json.loads(MFU_JSON.read_text())
    fitted = fit(cases, original)
    for gen in GENERATIONS:
        row = fitted["generations"][gen]
        print(gen, row["peak_utilization"], "attention", row.get("attention_utilization"))
    for name in ("goodput",):
        print(name, fitted["terms"][name]["value"])
    print(fitted["fitted_on"])
    if args.write:
        MFU_JSON.write_text(json.dumps(fitted, indent=2) + "\n")


def held_in_group(c: Case) -> bool:
    from deepfit.train.groundtruth import held_in

    return held_in(c.group)


if __name__ == "__main__":
    main()
