"""The P:D planner against a brute force over a small space, and its verdict.

The brute force is independent of the search: it lists every prefill layout x P x decode
layout x D within the GPU budget itself, prices each with the public ``estimate_disagg``,
keeps those that meet both targets and takes the smallest (GPUs, TTFT, TPOT) directly.
"""

from __future__ import annotations

import itertools

import pytest

from deepfit import api
from deepfit.errors import InfeasibleError
from deepfit.perf.disagg import estimate_disagg
from deepfit.perf.disagg_pools import Pool
from deepfit.planner.disagg import DisaggTargets, plan_disagg

MODEL = "meta-llama/llama-3.1-8b"  # dense: EP 1, no DP attention
GPU = "H100"
MAX_GPUS = 8


def brute_force(targets: DisaggTargets, engine: str) -> tuple[int, float, float, str]:
    model = api.load_model(MODEL)
    best: tuple[int, float, float, str] | None = None
    tps = (1, 2, 4, 8)
    for tp_p, tp_d in itertools.product(tps, tps):
        for p in range(1, MAX_GPUS // tp_p + 1):
            for d in range(1, MAX_GPUS // tp_d + 1):
                if p * tp_p + d * tp_d > MAX_GPUS:
                    continue
                est = estimate_disagg(
                    model,
                    Pool(GPU, p, tp_p),
                    Pool(GPU, d, tp_d),
                    input_len=targets.input_len,
                    output_len=targets.output_len,
                    rate=targets.rate,
                    engine=engine,
                )
                if not (est.fits and est.ttft_s <= targets.ttft_s and est.tpot_s <= targets.tpot_s):
                    continue
                key = (p * tp_p + d * tp_d, est.ttft_s, est.tpot_s, f"{p}xTP{tp_p}:{d}xTP{tp_d}")
                if best is None or key[:3] < best[:3]:
                    best = key
    assert best is not None, "the brute force found no feasible split: pick other targets"
    return best


@pytest.mark.parametrize(
    "targets",
    [
        DisaggTargets(8000, 300, 10.0, 1.5, 0.015),  # several prefill workers needed
        DisaggTargets(2000, 200, 20.0, 0.5, 0.012),
        DisaggTargets(8000, 200, 6.0, 1.0, 0.03),
    ],
)
def test_split_matches_brute_force(targets: DisaggTargets) -> None:
    expected = brute_force(targets, "vllm")
    plan = plan_disagg(
        api.load_model(MODEL), targets, prefill_gpu=GPU, max_gpus=MAX_GPUS, engine="vllm"
    )
    found = plan.disaggregated
    assert found is not None
    assert found.gpus == expected[0]
    assert found.ttft_s == pytest.approx(expected[1], rel=1e-9)
    assert found.tpot_s == pytest.approx(expected[2], rel=1e-9)
    label = (
        f"{found.prefill.workers}xTP{found.prefill.tp}:{found.decode.workers}xTP{found.decode.tp}"
    )
    assert label == expected[3]
    assert plan.considered > 0


def test_do_not_disaggregate_when_one_gpu_serves_it() -> None:
    """At a low rate one H100 serving alone already meets the targets (checked with the
    aggregated estimate directly): no split, which needs two GPUs at least, can beat it."""
    model = api.load_model(MODEL)
    targets = DisaggTargets(1000, 200, 0.2, 1.0, 0.05)
    alone = api.estimate_perf(
        model, api.load_gpu(GPU), input_len=1000, output_len=200, concurrency=1, engine="vllm"
    )
    assert alone.ttft_s <= targets.ttft_s and alone.tpot_s <= targets.tpot_s
    assert alone.output_tokens_per_s / 200 >= targets.rate
    plan = plan_disagg(model, targets, prefill_gpu=GPU, max_gpus=MAX_GPUS, engine="vllm")
    assert plan.verdict == "do not disaggregate"
    assert plan.aggregated is not None and plan.aggregated.gpus == 1
    assert plan.to_dict()["verdict"] == "do not disaggregate"


def test_disaggregate_when_aggregated_misses_the_tpot_target() -> None:
    """Long prompts mixed into decode steps push aggregated TPOT past a tight target
    (the chunk cost lands in every step that carries one); decode-only workers meet it."""
    model = api.load_model(MODEL)
    targets = DisaggTargets(8000, 300, 10.0, 1.5, 0.015)
    plan = plan_disagg(model, targets, prefill_gpu=GPU, max_gpus=MAX_GPUS, engine="vllm")
    assert plan.verdict == "disaggregate"
    assert plan.disaggregated is not None and plan.disaggregated.tpot_s <= 0.015


def test_nothing_meets_the_targets_is_an_infeasible_error() -> None:
    model = api.load_model(MODEL)
    with pytest.raises(InfeasibleError):
        plan_disagg(model, DisaggTargets(8000, 300, 500.0, 0.1, 0.001), prefill_gpu=GPU, max_gpus=4)


def test_two_gpu_types_minimise_dollars_like_a_brute_force() -> None:
    """Prefill on H100, decode on H200: the objective is US$/hour at the catalogue's prices
    (read here from the catalogue directly), and the KV cache crosses the network (two GPU
    types never share an NVLink node)."""
    from deepfit.hardware import list_instances

    def cheapest(name: str) -> float:
        gpu = api.load_gpu(name)
        return min(
            o.usd_per_gpu_hour
            for o in list_instances()
            if o.gpu is not None and o.gpu.name == gpu.name and o.usd_per_gpu_hour
        )

    price = {"H100": cheapest("H100"), "H200": cheapest("H200")}
    model = api.load_model(MODEL)
    targets = DisaggTargets(8000, 300, 10.0, 1.5, 0.015)
    best: float | None = None
    tps = (1, 2, 4, 8)
    for tp_p, tp_d in itertools.product(tps, tps):
        for p in range(1, MAX_GPUS // tp_p + 1):
            for d in range(1, (MAX_GPUS - p * tp_p) // tp_d + 1):
                est = estimate_disagg(
                    model, Pool("H100", p, tp_p), Pool("H200", d, tp_d), input_len=8000,
                    output_len=300, rate=10.0, engine="vllm",
                )  # fmt: skip
                assert est.transfer.link.kind == "infiniband"
                if est.fits and est.ttft_s <= 1.5 and est.tpot_s <= 0.015:
                    cost = p * tp_p * price["H100"] + d * tp_d * price["H200"]
                    best = cost if best is None else min(best, cost)
    assert best is not None
    plan = plan_disagg(
        model, targets, prefill_gpu="H100", decode_gpu="H200", max_gpus=MAX_GPUS, engine="vllm"
    )
    assert plan.objective == "US$/hour"
    found = plan.disaggregated
    assert found is not None
    cost = found.prefill.gpus * price["H100"] + found.decode.gpus * price["H200"]
    assert cost == pytest.approx(best, rel=1e-9)
