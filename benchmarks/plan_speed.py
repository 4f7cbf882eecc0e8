"""Candidates per second of the planner's default search (all catalogue GPUs, 1-64 GPUs,
four formats, two KV dtypes, all layouts, a concurrency sweep).

Run: python benchmarks/plan_speed.py [MODEL]
"""

from __future__ import annotations

import sys
import time

from deepfit import load_model
from deepfit.planner import Targets, search


def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 else "deepseek-v3"
    model = load_model(name)
    targets = Targets(input_len=2000, output_len=500, ttft_s=1.0, tpot_s=0.05)
    for run in ("cold", "warm"):
        start = time.perf_counter()
        result = search(model, targets)
        took = time.perf_counter() - start
        print(
            f"{name} ({run}): {result.candidates:,} candidates in {took:.3f} s = "
            f"{result.candidates / took:,.0f} candidates/s; best: {result.plans[0].why[:80]}"
        )


if __name__ == "__main__":
    main()
