"""deepfit's training estimates against published memory and time figures.

Rows: tests/validation/data/training_runs.csv, each with its source. Memory must be within
15 % (or on the right side of a published bound), time within 25 %. The MFU per GPU
generation is fitted on the rows marked ``fit`` only (checked here to equal the shipped
value in deepfit/train/data/mfu.json) and judged on the ``check`` rows. Rows that miss are
listed in KNOWN_MISSES with the reason; a listed row that starts to pass fails the test so
the list stays true.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from deepfit.hardware import load_gpu
from deepfit.train import (
    LoraConfig,
    Method,
    Offload,
    Recipe,
    Recompute,
    Workload,
    estimate_training,
    find_optimizer,
    flops_per_token,
    make_train_layout,
    mfu_for,
    model_states,
    training_model,
)
from deepfit.train.mfu import fitted_generations, geometric_mean, implied_mfu
from deepfit.train.timing import compute_peak

ROWS = list(csv.DictReader((Path(__file__).parent / "data" / "training_runs.csv").open()))
MEMORY_TOL, TIME_TOL = 0.15, 0.25
KNOWN_MISSES = {
    "llama3.1-8b-gpu-hours": "an 8B model on a cluster sized for goodput: Meta's 1.46M GPU-hours "
    "imply 17 % MFU, less than half of the 405B's; MFU depends on model size, which a "
    "per-generation fit cannot see",
    "llama3.1-70b-gpu-hours": "29 % implied MFU vs 39 % fitted (same reason, milder): "
    "deepfit's time is 26 % short",
}


def _gpu_hours(row: dict[str, str]) -> float:
    model = training_model(row["model"])
    gpu = load_gpu(row["gpu"])
    flops = flops_per_token(model.arch, int(row["seq_len"])).model
    return flops * float(row["tokens"]) / (mfu_for(gpu).mfu * compute_peak(gpu)) / 3600


def _state_bytes(row: dict[str, str]) -> float:
    arch = training_model(row["model"]).arch
    lay = make_train_layout(arch, int(row["gpus"]), zero=int(row["zero"] or 0))
    s = model_states(arch, lay, Recipe())
    return s.total_bytes - s.zero3_buffer_bytes  # the paper counts states, not buffers


def _total_bytes(row: dict[str, str]) -> float:
    method = Method(row["method"])
    # QLoRA: r=64 on all linear layers, bitsandbytes' paged AdamW (sec. 3 of the paper)
    opt = find_optimizer("paged-adamw" if method is Method.QLORA else "adamw")
    recipe = Recipe(method=method, optimizer=opt, lora=LoraConfig(64))
    w = Workload(seq_len=int(row["seq_len"]), recompute=Recompute(row["recompute"]))
    est = estimate_training(
        training_model(row["model"]),
        load_gpu(row["gpu"]),
        int(row["gpus"]),
        recipe=recipe,
        workload=w,
        zero=int(row["zero"] or 0),
        offload=Offload(row["offload"] or "none"),
    )
    return float(est.per_gpu.total_bytes)


def deepfit_value(row: dict[str, str]) -> float:
    """deepfit's number for a row's metric (SI units)."""
    metric = row["metric"]
    if metric == "gpu_hours":
        return _gpu_hours(row)
    if metric == "tokens_per_s_per_gpu":
        gpu = load_gpu(row["gpu"])
        flops = flops_per_token(training_model(row["model"]).arch, int(row["seq_len"])).model
        return mfu_for(gpu).mfu * compute_peak(gpu) / flops
    if metric == "mfu":
        return mfu_for(load_gpu(row["gpu"])).mfu
    if metric == "model_state_bytes":
        return _state_bytes(row)
    if metric == "max_total_bytes":
        return _total_bytes(row)
    if metric == "min_state_bytes":
        arch = training_model(row["model"]).arch
        return float(model_states(arch, make_train_layout(arch, 1), Recipe()).total_bytes)
    raise AssertionError(f"unknown metric {metric}")


def judge(row: dict[str, str]) -> tuple[bool, float, float]:
    """(passes, published, deepfit) for a row."""
    published, ours = float(row["value"]), deepfit_value(row)
    metric = row["metric"]
    if metric == "max_total_bytes":
        return ours <= published, published, ours
    if metric == "min_state_bytes":
        return ours >= published, published, ours
    tol = MEMORY_TOL if metric.endswith("bytes") else TIME_TOL
    return abs(ours / published - 1) <= tol, published, ours


@pytest.mark.parametrize(
    "row", [r for r in ROWS if r["role"] == "check"], ids=lambda r: r["run_id"]
)
def test_check_rows(row: dict[str, str]) -> None:
    ok, published, ours = judge(row)
    if row["run_id"] in KNOWN_MISSES:
        assert not ok, f"{row['run_id']} now passes: remove it from KNOWN_MISSES"
        return
    assert ok, f"{row['run_id']}: published {published:.4g}, deepfit {ours:.4g}"


def test_shipped_mfu_is_the_fit_of_the_fit_rows() -> None:
    implied: dict[str, list[float]] = {}
    for row in ROWS:
        if row["role"] != "fit":
            continue
        gpu = load_gpu(row["gpu"])
        flops = flops_per_token(training_model(row["model"]).arch, int(row["seq_len"])).model
        mfu = implied_mfu(
            flops, float(row["tokens"]), float(row["value"]) * 3600, compute_peak(gpu)
        )
        implied.setdefault(mfu_for(gpu).generation, []).append(mfu)
    fitted = {gen: round(geometric_mean(v), 3) for gen, v in implied.items()}
    assert fitted == fitted_generations()


def test_fit_rows_are_never_checked() -> None:
    fit_ids = {r["run_id"] for r in ROWS if r["role"] == "fit"}
    assert fit_ids.isdisjoint(r["run_id"] for r in ROWS if r["role"] == "check")
    assert all(r["source"] for r in ROWS)


def table() -> list[dict[str, Any]]:
    """Every row with deepfit's figure (for docs/training.md)."""
    out = []
    for row in ROWS:
        ok, published, ours = judge(row)
        out.append(
            {
                "run": row["run_id"],
                "role": row["role"],
                "metric": row["metric"],
                "published": published,
                "deepfit": ours,
                "ok": ok,
            }
        )
    return out
