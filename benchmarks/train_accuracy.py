"""deepfit train against published training runs: held-out median, p90 and bias per quantity.

Run: python benchmarks/train_accuracy.py [--rows] [--json]
Reads tests/validation/data/training-memory.csv and training-throughput.csv (trust A/A-),
and deepfit's own H200 measurements (training-measured-h200-*.csv, always held out),
splits by source group (source table x model x GPU x framework; each group weighted
equally) and prints held-out and held-in statistics. ``--rows`` lists every row.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from deepfit.train.groundtruth import read_memory_cases
from deepfit.train.groundtruth_time import read_run_cases, read_speed_cases
from deepfit.train.validate import score_all, summarize

DATA = Path(__file__).resolve().parents[1] / "tests/validation/data"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", action="store_true", help="print every scored row")
    ap.add_argument("--json", action="store_true", help="print the summary as JSON")
    ap.add_argument("--group", help="also print the statistics of source groups starting so")
    args = ap.parse_args()
    cases = read_memory_cases(DATA / "training-memory.csv")
    cases += read_speed_cases(DATA / "training-throughput.csv")
    cases += read_run_cases(DATA / "training_runs.csv")
    # deepfit's own measurements on one H200 (benchmarks/device/): always held out
    cases += read_memory_cases(DATA / "training-measured-h200-memory.csv")
    cases += read_speed_cases(DATA / "training-measured-h200-speed.csv")
    scores, skipped = score_all(cases)
    report = {"held_out": summarize(scores, True), "held_in": summarize(scores, False)}
    if args.group:
        mine = [s for s in scores if s.case.source_group.startswith(args.group)]
        report[args.group] = summarize(mine, True)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    if args.rows:
        for s in sorted(scores, key=lambda s: (s.quantity, s.case.group)):
            c = s.case
            side = "in " if s.held_in else "out"
            fig = f"{s.error:+7.1%}" if c.metric != "fits" else ("ok" if s.correct else "MISS")
            print(f"{side} {c.row_id} {s.quantity:18} {fig:>8}  {c.group}")
    for split, stats in report.items():
        print(f"\n{split}")
        for quantity, st in stats.items():
            if quantity == "fits":
                print(
                    f"  {quantity:18} rows {st['rows']:3} groups {st['groups']:3} "
                    f"right {st['right']:.0%}  OOM called fits unwarned "
                    f"{st['oom_called_fits_unwarned']}"
                )
            else:
                print(
                    f"  {quantity:18} rows {st['rows']:3} groups {st['groups']:3} "
                    f"median {st['median']:6.1%} p90 {st['p90']:6.1%} bias {st['bias']:+6.1%}"
                )
    print(f"\n{len(scores)} rows scored, {len(skipped)} skipped")


if __name__ == "__main__":
    main()
