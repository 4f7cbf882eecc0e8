"""Time `estimate_perf` and `estimate_memory` over the whole bundled catalogue.

Run: python benchmarks/perf_speed.py
Prints the mean and worst time per estimate (after the catalogue files are read once).
"""

from __future__ import annotations

import time

from deepfit import Model, catalog_summary, estimate_memory, load_gpu, load_model
from deepfit.perf import estimate_perf


def main() -> None:
    gpu = load_gpu("H200")
    models = [load_model(m["id"]) for m in catalog_summary() if m["bundled"]]

    def tp(model: Model) -> int:  # the largest tensor-parallel size <= 8 the heads allow
        heads = model.arch.layers[0].attention.num_heads
        return max(d for d in (1, 2, 4, 8) if heads % d == 0)

    for model in models:  # warm the caches (catalogues, engine profiles)
        estimate_perf(model, gpu, gpus=tp(model), input_len=1024, output_len=256, concurrency=16)
    for name, fn in (
        ("memory", lambda m: estimate_memory(m, gpu, gpus=tp(m), context=4096)),
        (
            "perf",
            lambda m: estimate_perf(
                m, gpu, gpus=tp(m), input_len=1024, output_len=256, concurrency=16
            ),
        ),
    ):
        times = []
        for model in models:
            start = time.perf_counter()
            for _ in range(5):
                fn(model)
            times.append((time.perf_counter() - start) / 5)
        worst = max(zip(times, (m.id for m in models), strict=True))
        print(
            f"{name}: {len(models)} models, mean {sum(times) / len(times) * 1e3:.2f} ms, "
            f"worst {worst[0] * 1e3:.2f} ms ({worst[1]})"
        )


if __name__ == "__main__":
    main()
