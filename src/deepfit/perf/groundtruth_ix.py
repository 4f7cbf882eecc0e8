"""Reading InferenceX measured serving runs (``data/groundtruth/inferencex.csv``, with
INFERENCEX-NOTES.md) into :class:`~deepfit.perf.groundtruth.PublishedRun`.

What a row means (from the notes): a closed loop of ``concurrency`` clients on a single node
(``disagg = false``), random prompts whose input and output lengths are drawn uniformly from
[0.8 L, L] (mean 0.9 L, which is what is modelled), ``--ignore-eos``. Mapped metrics:

- ``output_throughput_per_gpu`` x ``gpu_count``: output tokens/s of the deployment;
- ``tpot_mean_s``: mean TPOT; ``ttft_mean_s``: mean TTFT (queueing included);
- ``throughput_per_gpu`` (input + output tokens) and ``interactivity_mean`` (1 / TPOT) repeat
  the rows above and are skipped as such.

Skipped groups: disaggregated prefill/decode (validated apart, with their own pools and
KV transfer: :mod:`deepfit.perf.groundtruth_disagg`),
MTP speculative decoding (the recipes' draft length is not in the table and acceptance on
random tokens is unknown), engines deepfit has no profile for (ATOM), models outside the
catalogue.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from .groundtruth import (
    GPUS,
    PublishedRun,
    Quantity,
    Skip,
    _engine,
    _precision,
    csv_rows,
    published_run,
)

#: Mean over the benchmark's uniform [0.8 L, L] length draw.
RANGE_RATIO_MEAN = 0.9

_METRICS = {
    "output_throughput_per_gpu": Quantity.OUTPUT_TOKENS_PER_S,
    "tpot_mean_s": Quantity.TPOT_S,
    "ttft_mean_s": Quantity.TTFT_S,
}


def read_inferencex_csv(path: Path, models: dict[str, str]) -> list[PublishedRun]:
    """Every row of ``inferencex.csv``; rows deepfit cannot recompute carry a skip reason."""
    return [parse_ix_row(row, models) for row in csv_rows(path, "published runs CSV")]


def parse_ix_row(row: dict[str, str], models: dict[str, str]) -> PublishedRun:
    base = published_run(row, "InferenceX")
    notes = [
        f"lengths {RANGE_RATIO_MEAN:g} x nominal (uniform [0.8 L, L] draw)",
        "KV cache dtype not recorded: the engine's default",
    ]
    try:
        fields = _ix_deployment(row, models)
    except Skip as why:
        return replace(base, skip_reason=str(why))
    return replace(base, assumptions=tuple(notes), **fields)  # type: ignore[arg-type]


def _ix_deployment(row: dict[str, str], models: dict[str, str]) -> dict[str, object]:
    if row["disagg"].strip().lower() == "true":
        raise Skip("disaggregated prefill/decode: validated apart (groundtruth_disagg)")
    if row["spec_decoding"].strip().lower() != "none":
        raise Skip("MTP speculative decoding: draft length and acceptance are not in the table")
    metric = row["metric"]
    if metric in ("throughput_per_gpu", "interactivity_mean"):
        raise Skip(f"{metric} repeats the output-throughput / TPOT rows of the same run")
    quantity = _METRICS.get(metric)
    if quantity is None:
        raise Skip(f"metric {metric!r} is not modelled")
    model_id = models.get(row["model"])
    if model_id is None:
        raise Skip(f"model {row['model']!r} is not in deepfit's catalogue")
    gpu = GPUS.get(row["hardware"])
    if gpu is None:
        raise Skip(f"hardware {row['hardware']!r} is not in deepfit's GPU catalogue")
    engine = _engine(row["engine"], row.get("engine_version", ""))
    if engine == "trtllm-cpp":
        # InferenceX serves TensorRT-LLM with trtllm-serve (the 1.x PyTorch flow); older
        # rows just lack the image tag
        engine = "trtllm"
    gpus = int(row["gpu_count"])
    tp, ep, dpa = _ix_parallelism(row["parallelism"])
    if tp != gpus:
        raise Skip(f"parallelism {row['parallelism']!r} does not cover the {gpus} GPUs")
    value = float(row["value"]) * (gpus if quantity is Quantity.OUTPUT_TOKENS_PER_S else 1.0)
    weights, kv_dtype = _precision(row["precision"], model_id)
    return {
        "model_id": model_id,
        "gpu": gpu,
        "gpus": gpus,
        "engine": engine,
        "weights": weights,
        "kv_dtype": kv_dtype,
        "tp": tp,
        "ep": ep,
        "dp_attention": dpa,
        "input_len": round(int(row["input_len"]) * RANGE_RATIO_MEAN),
        "output_len": round(int(row["output_len"]) * RANGE_RATIO_MEAN),
        "concurrency": int(row["concurrency"]),
        "closed_loop": True,
        # uniform [0.8 L, L] is mean 0.9 L x [1 - 1/9, 1 + 1/9]
        "length_spread": (1 - RANGE_RATIO_MEAN) / RANGE_RATIO_MEAN,
        "quantity": quantity,
        "value": value,
    }


def _ix_parallelism(text: str) -> tuple[int, int, bool]:
    """(tp, ep, attention data-parallel) from "TP8 EP8 DPA", "TP4 EP1", "TP8 (EP not stated...)"."""
    low = text.lower()
    m = re.match(r"\s*tp(\d+)", low)
    if m is None:
        raise Skip(f"parallelism {text!r} is not stated precisely")
    tp = int(m.group(1))
    ep_match = re.search(r"\bep(\d+)", low)
    if ep_match is None:
        raise Skip(f"parallelism {text!r}: the expert-parallel degree is not stated")
    return tp, int(ep_match.group(1)), bool(re.search(r"\bdpa\b", low))
