"""Published training-speed rows as :class:`~.groundtruth.Case` s.

``training-throughput.csv`` (tokens/s, MFU, TFLOP/s, iteration times, whole-run GPU-hours
and wall time) and the time rows of ``training_runs.csv`` (model cards and papers), with the
layouts their sources state. Units, groups and skips as in :mod:`.groundtruth`.
"""

from __future__ import annotations

import re
from pathlib import Path

from .groundtruth import (
    Case,
    _framework,
    _gpu,
    _int,
    _lora_targets,
    _method,
    _model,
    _read,
    _recompute,
    _sharding,
    _tokens,
    _why_not,
)

#: Throughput metrics -> (kind, factor to SI).
_SPEED = {
    "tokens_per_s_per_gpu": ("tokens_per_s_per_gpu", 1.0),
    "tokens_per_s": ("tokens_per_s_per_gpu", 1.0),  # torchtune's single-GPU rows
    "mfu_pct": ("mfu", 0.01),
    "tflops_per_gpu": ("tflops", 1e12),
    "iteration_time_s": ("iteration_time_s", 1.0),
    "gpu_hours": ("gpu_hours", 1.0),
    "wall_days": ("wall_days", 86400.0),
}


def _global_tokens(r: dict[str, str], seq: int) -> int:
    text = r["global_batch_tokens"].strip()
    if text.endswith("M"):
        return int(float(text[:-1]) * 1024 * 1024)
    if text:
        return _int(text)
    return _int(r["global_batch_seqs"]) * seq


def _speed_case(r: dict[str, str]) -> Case:
    kind, factor = _SPEED.get(r["metric"], (r["metric"], 0.0))
    seq = _int(r["seq_len"])
    gbt = _global_tokens(r, seq)
    gpus = _int(r["gpu_count"])
    if not gpus and gbt and seq:  # whole-run rows without a GPU count: one sequence per GPU
        gpus = min(4096, gbt // seq)
    model, gpu = _model(r["model"]), _gpu(r["gpu"])
    zero, _ = _sharding(r["sharding"], "")
    framework = _framework(r["framework"], r["sharding"])
    if framework == "fsdp" and not zero:
        zero = 3  # torchtitan FSDP2 / LLM Foundry FULL_SHARD unless the row says otherwise
    skip = _why_not(r, model, gpu, seq) if factor else "not a throughput metric"
    if not skip and not gpus:
        skip = "GPU count not stated"
    if not skip and r["trust"] == "B":
        skip = "trust B: incomplete run settings"
    if not skip and "unpacked" in r["note"]:
        skip = "unpacked short samples: tokens per step unknown"
    interleaved = re.search(r"interleaved schedule m=(\d+)", r["layout_note"])
    tokens = _tokens(r["tokens_trained"])
    method, _ = _method(r["method"], "")
    rank = _int(r.get("lora_rank", "")) or _int(r["method"], 8)  # "LoRA r64"
    if kind in ("gpu_hours", "wall_days") and not tokens:
        skip = skip or "tokens trained not stated"
    return Case(
        row_id=r["row_id"],
        config_id=r["config_id"],
        source_group=r["source_group"],
        trust=r["trust"],
        metric=kind,
        value=float(r["value"] or 0) * factor,
        model=model,
        gpu=gpu,
        gpus=gpus or 1,
        framework=framework,
        method=method or "full",
        lora_rank=rank or 8,
        lora_targets=_lora_targets(r.get("lora_targets", "")),
        optimizer="adamw-bf16" if "PURE" in r["precision"] else "adamw",
        seq_len=seq or 1,
        micro_batch=_int(r["micro_batch"], 1) or 1,
        global_batch_tokens=gbt,
        recompute=_recompute(r["act_ckpt"]),
        zero=zero,
        tp=_int(r["tp"], 1) or 1,
        pp=_int(r["pp"], 1) or 1,
        virtual_stages=int(interleaved.group(1)) if interleaved else 1,
        tokens_trained=tokens,
        skip=skip,
    )


def read_speed_cases(path: Path) -> list[Case]:
    """Every row of ``training-throughput.csv`` as a :class:`Case` (skipped ones say why)."""
    return [_speed_case(r) for r in _read(path)]


_RUN_METRICS = {
    "gpu_hours": "gpu_hours",
    "tokens_per_s_per_gpu": "tokens_per_s_per_gpu",
    "mfu": "mfu",
}


def _run_case(r: dict[str, str]) -> Case:
    """A time row of ``training_runs.csv`` (model cards and papers: Llama 2 / 3.1,
    DeepSeek); its group is the citation's first part x model x GPU."""
    kind = _RUN_METRICS.get(r["metric"], "")
    seq = _int(r["seq_len"])
    gbt = _int(r["global_batch_tokens"]) or 4 * 1024 * 1024
    gpus = _int(r["gpus"]) or min(4096, gbt // max(seq, 1))
    skip = "" if kind else "a memory row (tests/validation/test_train_published.py)"
    if r["run_id"].startswith("llama-"):
        skip = "LLaMA 1 is already in training-throughput.csv (llama1-paper)"
    return Case(
        row_id=r["run_id"],
        config_id=r["run_id"],
        source_group="model-cards: " + r["source"].split(",")[0],
        trust="A",
        metric=kind or r["metric"],
        value=float(r["value"]),
        model=r["model"],
        gpu=r["gpu"],
        gpus=gpus,
        framework="megatron" if _int(r["tp"]) > 1 or _int(r["pp"]) > 1 else "fsdp",
        seq_len=seq or 4096,
        global_batch_tokens=gbt,
        recompute="none",
        zero=_int(r["zero"]) if r["zero"] else (1 if _int(r["pp"]) > 1 else 3),
        tp=_int(r["tp"], 1) or 1,
        pp=_int(r["pp"], 1) or 1,
        ep=_int(r["ep"], 1) or 1,
        zero_bubble="DualPipe" in r["notes"],
        precision=r["precision"] or "bf16",
        tokens_trained=float(r["tokens"] or 0),
        skip=skip,
    )


def read_run_cases(path: Path) -> list[Case]:
    """The time rows of ``training_runs.csv`` as :class:`Case` s."""
    return [_run_case(r) for r in _read(path)]
