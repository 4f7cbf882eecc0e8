"""Inference memory against published engine logs (tests/validation/data/memory.csv, a copy
of shared/groundtruth/memory.csv with its sources).

- vLLM 0.19 sweep on H100 (llm-d-planner logs): weights within 2%, KV capacity in tokens
  within 5%, total within 5%. vLLM's overhead terms were fitted on the even-numbered
  configs (held in, ``tools/calibrate_memory.py``); odd-numbered ones are held out and must
  meet the same bars.
- Any engine or version: logged weights of a covered model within 2% (5% for 4-bit; vLLM's
  Hopper MXFP4 experts as its triton kernels re-lay them out, memory/resident.py), and
  logged KV bytes per token (GiB / tokens) equal to deepfit's formula within 2%.
Rows deepfit does not cover are skipped with the reason (``pytest -rs`` lists them).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from deepfit import load_gpu, load_model
from deepfit.memory import estimate_memory
from deepfit.memory.groundtruth import LoggedDeployment, is_vllm_v1_sweep, read_memory_csv
from deepfit.units import GiB

HERE = Path(__file__).parent
DEPLOYMENTS = read_memory_csv(HERE / "data" / "memory.csv")
with (HERE / "groundtruth_models.csv").open() as fh:
    MODELS = {r["groundtruth_model"]: r["catalogue_id"] for r in csv.DictReader(fh)}
GPUS = {
    "NVIDIA H100 80GB": "H100",
    "NVIDIA A100 80GB": "A100-80GB",
    "NVIDIA RTX 3090 24GB": "RTX3090",
    "NVIDIA H20 96GB": "H20",
}


#: Rows of covered models that deepfit knowingly does not reproduce, and why.
KNOWN_GAPS = {
    "VLLM-PR13109": "vLLM V0 (Feb 2025) Triton MLA backend padded the latent to 640 elements "
    "(NOTES caveat 5) and logged 10.45 GiB for AWQ-MoE weights whose 4-bit layout is 8.2 GiB; "
    "that engine version is not modelled",
}


def _covered(dep: LoggedDeployment) -> str | None:
    """Why a row is skipped, or None when deepfit covers it."""
    if dep.config_id in KNOWN_GAPS:
        return KNOWN_GAPS[dep.config_id]
    if dep.model not in MODELS:
        return f"model {dep.model!r} has no bundled config"
    return None


def _estimate(dep: LoggedDeployment):  # type: ignore[no-untyped-def]
    model = load_model(MODELS[dep.model])
    gpu = load_gpu(GPUS.get(dep.hardware, "H100"))
    return estimate_memory(
        model,
        gpu,
        gpus=dep.tp * dep.pp,
        tp=dep.tp,
        pp=dep.pp,
        weights=dep.weights,
        kv_dtype=dep.kv_dtype,
        context=dep.max_model_len or 8192,
        engine="vllm",
        memory_fraction=dep.memory_fraction,
    )


def _rel(predicted: float, logged: float) -> float:
    return abs(predicted - logged) / abs(logged)


SWEEP = [d for d in DEPLOYMENTS if is_vllm_v1_sweep(d)]


@pytest.mark.parametrize("dep", SWEEP, ids=[d.config_id for d in SWEEP])
def test_vllm_sweep(dep: LoggedDeployment) -> None:
    if (why := _covered(dep)) is not None:
        pytest.skip(why)
    est = _estimate(dep)
    first = est.stages[0]  # the logged worker of a pipeline is its first stage
    assert _rel(first.weights, dep.gib("weights_GiB") or 0) <= 0.02
    tokens = dep.metrics["kv_cache_tokens"]
    assert _rel(est.kv_capacity_tokens, tokens) <= 0.05, (est.kv_capacity_tokens, tokens)
    logged_total = sum(
        dep.gib(m) or 0
        for m in (
            "weights_GiB",
            "activation_peak_GiB",
            "non_torch_GiB",
            "kv_cache_GiB",
            "cudagraph_GiB",
        )
    )
    ours = first.weights + first.activations + first.overhead + first.kv_pool
    assert _rel(ours, logged_total) <= 0.05, (ours / GiB, logged_total / GiB)


WEIGHT_ROWS = [
    d
    for d in DEPLOYMENTS
    if "weights_GiB" in d.metrics and d.engine.startswith("vLLM") and d.weights != "auto"
]


@pytest.mark.parametrize("dep", WEIGHT_ROWS, ids=[d.config_id for d in WEIGHT_ROWS])
def test_logged_weights_any_version(dep: LoggedDeployment) -> None:
    if (why := _covered(dep)) is not None:
        pytest.skip(why)
    est = _estimate(dep)
    tolerance = 0.05 if "int4" in dep.weights else 0.02
    assert _rel(est.stages[0].weights, dep.gib("weights_GiB") or 0) <= tolerance


KV_ROWS = [d for d in DEPLOYMENTS if {"kv_cache_GiB", "kv_cache_tokens"} <= set(d.metrics)]


@pytest.mark.parametrize("dep", KV_ROWS, ids=[d.config_id for d in KV_ROWS])
def test_logged_kv_bytes_per_token(dep: LoggedDeployment) -> None:
    if (why := _covered(dep)) is not None:
        pytest.skip(why)
    est = _estimate(dep)
    logged = (dep.gib("kv_cache_GiB") or 0) / dep.metrics["kv_cache_tokens"]
    ours = est.stages[0].kv_bytes_per_token
    # GiB are logged with two decimals: allow that rounding on small pools
    tolerance = max(0.02, 0.006 / dep.metrics["kv_cache_GiB"])
    assert _rel(ours, logged) <= tolerance, (ours, logged)
