"""One KV-pool rule for memory and planner: hand-worked numbers for each engine budget, and
the same answers on numbers and on numpy arrays."""

from __future__ import annotations

import numpy as np
import pytest

from deepfit.memory.budget import budget_and_pool

GIB = 1 << 30
# 80 GiB GPU, 20 GiB weights, 1 GiB activations, 2 GiB outside torch, 0.5 GiB CUDA graphs
ARGS = (80 * GIB, 0.9, 20 * GIB, 1 * GIB, 2 * GIB, GIB // 2)


@pytest.mark.parametrize(
    ("rule", "in_budget", "budget", "pool"),
    [
        # 0.9 x 80 = 72 GiB; 72 - 20 - 1 - 2 = 49 GiB (graphs outside the budget: vLLM 0.19)
        ("fraction_of_total", False, 72 * GIB, 49 * GIB),
        ("fraction_of_total", True, 72 * GIB, 48.5 * GIB),
        # SGLang: the static share holds weights and KV only: 72 - 20
        ("static_fraction", False, 72 * GIB, 52 * GIB),
        # TensorRT-LLM: 0.9 of what is free after everything else: 0.9 x 56.5
        ("fraction_of_free", True, 80 * GIB, 0.9 * 56.5 * GIB),
        # llama.cpp / transformers: the room left
        ("exact", True, 80 * GIB, 56.5 * GIB),
    ],
)
def test_each_rule_by_hand(rule: str, in_budget: bool, budget: float, pool: float) -> None:
    got = budget_and_pool(rule, *ARGS, cudagraph_in_budget=in_budget)  # type: ignore[arg-type]
    assert got == (pytest.approx(budget, abs=1), pytest.approx(pool, abs=1))


@pytest.mark.parametrize(
    "rule", ["fraction_of_total", "static_fraction", "fraction_of_free", "exact"]
)
def test_numbers_and_arrays_agree(rule: str) -> None:
    gpus = [16 * GIB, 24 * GIB, 80 * GIB, 141 * GIB]
    rest = (0.9, 20 * GIB, 1 * GIB, 2 * GIB, GIB // 2, True)
    budgets, pools = budget_and_pool(rule, np.array(gpus, dtype=float), *rest)  # type: ignore[arg-type]
    for i, g in enumerate(gpus):
        b, p = budget_and_pool(rule, g, *rest)  # type: ignore[arg-type]
        assert budgets[i] == b and pools[i] == p
    assert budget_and_pool("fraction_of_free", 16 * GIB, *rest)[1] == 0  # never negative
