"""Reading the measured vLLM runs under open-loop request rates (``data/groundtruth/
vllm-runs.csv``, with VLLM-RUNS-NOTES.md) into :class:`~deepfit.perf.groundtruth.PublishedRun`.

Each kept row is one stage of a run at a constant request rate: TTFT, TPOT and end-to-end
latency at the mean or at p50/p90/p99. They need the serving simulation
(:mod:`deepfit.perf.simulate`): a steady-state step time says nothing about queueing.

Mapping (from the notes): vLLM 0.15 V1 on H100 SXM, TP as stated, the run's own
``max_num_seqs`` (128 where committed, vLLM's default 1024 otherwise) and
``max_num_batched_tokens``; prompts share a system prompt of the stated length, served from
vLLM's prefix cache (on by default) after its first use: modelled as a prefix hit rate of
system prompt / prompt. Skipped: whole-run rows (they mix stages of different rates), runs the
notes mark as overloaded (``blis_split = not-used``), stages whose rate is not committed,
inter-token gaps pooled over chunks (``itl_*``: TPOT is the decode speed), throughputs and
counts (set by the offered rate below capacity), and inference-perf's per-request ``tpot_*``
of the raw runs (physically impossible: see ``_vl_deployment``; their E2E and TTFT are kept,
and ``tpot_from_means_s`` of the other runs is a mean TPOT).
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from .groundtruth import GPUS, PublishedRun, Quantity, Skip, _engine, csv_rows, published_run

_QUANTITIES = {"ttft": Quantity.TTFT_S, "tpot": Quantity.TPOT_S, "e2e": Quantity.E2E_S}


def read_vllm_runs_csv(path: Path, models: dict[str, str]) -> list[PublishedRun]:
    """Every row of ``vllm-runs.csv``; rows deepfit cannot recompute carry a skip reason."""
    return [parse_vl_row(row, models) for row in csv_rows(path, "published runs CSV")]


def parse_vl_row(row: dict[str, str], models: dict[str, str]) -> PublishedRun:
    base = published_run(row, "vllm-runs (BLIS)")
    notes: list[str] = []
    try:
        fields = _vl_deployment(row, models, notes)
    except Skip as why:
        return replace(base, skip_reason=str(why))
    return replace(base, assumptions=tuple(notes), **fields)  # type: ignore[arg-type]


def _vl_deployment(
    row: dict[str, str], models: dict[str, str], notes: list[str]
) -> dict[str, object]:
    if "whole run" in row["scenario"]:
        raise Skip("whole-run figure mixes stages of different request rates")
    if row["blis_split"].strip() == "not-used":
        raise Skip("overloaded run (most requests failed): latencies of the survivors only")
    metric = row["metric"]
    if metric == "tpot_from_means_s":
        metric = "tpot_mean_s"  # (mean E2E - mean TTFT) / (mean output - 1): a mean TPOT
    elif metric.startswith("tpot_"):
        # inference-perf's per-request TPOT on these runs is ~2.6x under (E2E - TTFT) /
        # (output - 1) of the same requests and below the HBM floor (a 13.5 GB model read
        # in 3.6 ms would need 3.7 TB/s on a 3.35 TB/s H100): it is not comparable
        raise Skip("inference-perf TPOT is below the HBM floor and disagrees with its E2E")
    m = re.match(r"(ttft|tpot|e2e)_(mean|p50|p90|p99)_s$", metric)
    if m is None:
        raise Skip(f"metric {row['metric']!r} is not modelled (TPOT is the decode speed)")
    if not row["request_rate"].strip():
        raise Skip("the stage's request rate is not committed")
    model_id = models.get(row["model"])
    if model_id is None:
        raise Skip(f"model {row['model']!r} is not in deepfit's catalogue")
    gpu = GPUS.get(row["hardware"])
    if gpu is None:
        raise Skip(f"hardware {row['hardware']!r} is not in deepfit's GPU catalogue")
    tp = int(row["gpu_count"])
    input_len = float(row["input_len"])
    system = re.search(r"system_prompt_len=(\d+)", row["notes"])
    hit = int(system.group(1)) / input_len if system else 0.0
    notes.append(f"shared system prompt served from the prefix cache: hit rate {hit:.2f}")
    max_seqs = row["max_num_seqs"].strip()
    if not max_seqs:
        notes.append("max_num_seqs not committed: vLLM's default taken")
    if "cpu_offload=True" in row["notes"]:
        notes.append("CPU KV-cache offload on: not modelled")
    return {
        "model_id": model_id,
        "gpu": gpu,
        "gpus": tp,
        "engine": _engine(row["engine"], row["engine_version"]),
        "weights": "auto",
        "tp": tp,
        "input_len": round(input_len),
        "output_len": round(float(row["output_len"])),
        "concurrency": 1,
        "rate": float(row["request_rate"]),
        "percentile": None if m.group(2) == "mean" else float(m.group(2)[1:]),
        "prefix_hit_rate": hit,
        "max_num_seqs": int(max_seqs) if max_seqs else None,
        "max_batched_tokens": int(row["max_num_batched_tokens"]),
        "quantity": _QUANTITIES[m.group(1)],
        "value": float(row["value"]),
    }
