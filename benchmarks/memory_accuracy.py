"""Print deepfit's memory errors against the published engine logs, row by row.

Run: python benchmarks/memory_accuracy.py   (reads tests/validation/data/memory.csv)
"""

from __future__ import annotations

import csv
from pathlib import Path

from deepfit import load_gpu, load_model
from deepfit.memory import estimate_memory
from deepfit.memory.groundtruth import held_in, is_vllm_v1_sweep, read_memory_csv
from deepfit.units import GiB

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    with (ROOT / "tests/validation/groundtruth_models.csv").open() as fh:
        models = {r["groundtruth_model"]: r["catalogue_id"] for r in csv.DictReader(fh)}
    print(
        f"{'config':10} {'set':8} {'model':36} {'tp':>2} {'pp':>2} "
        f"{'weights%':>8} {'kvtok%':>7} {'total%':>7}"
    )
    worst = {"held-in": [0.0, 0.0, 0.0], "held-out": [0.0, 0.0, 0.0]}
    for dep in read_memory_csv(ROOT / "tests/validation/data/memory.csv"):
        if not is_vllm_v1_sweep(dep) or dep.model not in models:
            continue
        est = estimate_memory(
            load_model(models[dep.model]),
            load_gpu("H100"),
            gpus=dep.tp * dep.pp,
            tp=dep.tp,
            pp=dep.pp,
            weights=dep.weights,
            kv_dtype=dep.kv_dtype,
            context=dep.max_model_len or 8192,
            memory_fraction=dep.memory_fraction,
        )
        s = est.stages[0]
        w = (s.weights / (dep.gib("weights_GiB") or 1) - 1) * 100
        k = (est.kv_capacity_tokens / dep.metrics["kv_cache_tokens"] - 1) * 100
        logged = sum(
            dep.gib(m) or 0
            for m in (
                "weights_GiB",
                "activation_peak_GiB",
                "non_torch_GiB",
                "kv_cache_GiB",
                "cudagraph_GiB",
            )
        )
        t = ((s.weights + s.activations + s.overhead + s.kv_pool) / logged - 1) * 100
        group = "held-in" if held_in(dep) else "held-out"
        worst[group] = [max(a, abs(b)) for a, b in zip(worst[group], (w, k, t), strict=True)]
        print(
            f"{dep.config_id:10} {group:8} {dep.model[:36]:36} {dep.tp:>2} {dep.pp:>2} "
            f"{w:>+8.2f} {k:>+7.2f} {t:>+7.2f}"
        )
    for group, (w, k, t) in worst.items():
        print(f"worst |error| {group}: weights {w:.2f}%, KV tokens {k:.2f}%, total {t:.2f}%")
    print(f"(GiB = {GiB} bytes; vLLM 0.19 sweep on H100, llm-d-planner logs)")


if __name__ == "__main__":
    main()
