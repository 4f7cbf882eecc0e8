"""The disaggregated prefill/decode rows of InferenceX (``inferencex.csv``, ``disagg =
true``; INFERENCEX-NOTES.md) as runs :func:`~deepfit.perf.disagg.estimate_disagg` can
recompute, and their validation.

What a row means (from the notes): ``concurrency`` clients in a closed loop over the whole
deployment, lengths uniform in [0.8 L, L] (mean 0.9 L, what is modelled), a prefill pool
and a decode pool as ``parallelism`` states them ("disagg prefill 1x(TP8 EP8 DPA) = 8 GPUs;
decode 6x(TP8 EP8 DPA) = 48 GPUs"). Mapped metrics:

- ``output_throughput_per_decode_gpu`` x decode GPUs: output tokens/s of the deployment;
- ``ttft_mean_s`` (KV transfer and queueing included) and ``tpot_mean_s``;
- ``throughput_per_gpu`` and ``interactivity_mean`` repeat those (skipped as such, as for
  the aggregated rows).

Skipped: MTP rows (draft length and acceptance are not in the table, as for aggregated
rows), pools whose stated layout does not cover their GPUs (the notes warn that some
entries say TP1 on 4-GPU workers), models, GPUs and engines outside the catalogue.

The held-in / held-out split is the rule of :mod:`~deepfit.perf.split` applied to these
groups on their own ("InferenceX disaggregated" x model x GPU x engine), so adding them
leaves the aggregated rows' split as it was. Nothing here is fitted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from .groundtruth import GPUS, PublishedRun, Quantity, Skip, _engine, _precision, csv_rows
from .groundtruth import published_run as _identity
from .groundtruth_ix import RANGE_RATIO_MEAN
from .split import assign_split

TABLE = "InferenceX disaggregated"

_METRICS = {
    "output_throughput_per_decode_gpu": Quantity.OUTPUT_TOKENS_PER_S,
    "tpot_mean_s": Quantity.TPOT_S,
    "ttft_mean_s": Quantity.TTFT_S,
}
_POOL = re.compile(
    r"(prefill|decode)\s+(\d+)x\(tp(\d+)\s+ep(\d+)(\s+dpa)?\)\s*=\s*(\d+)\s*gpus", re.IGNORECASE
)


@dataclass(frozen=True)
class PoolLayout:
    """One pool as published: ``workers`` x (TP, EP, DPA)."""

    workers: int
    tp: int
    ep: int
    dp_attention: bool

    @property
    def gpus(self) -> int:
        return self.workers * self.tp


@dataclass(frozen=True)
class DisaggRun:
    """A published disaggregated row: the run (identity, quantity, value, split) and its
    pools; ``prefill`` / ``decode`` are None when the row is skipped."""

    run: PublishedRun
    prefill: PoolLayout | None = None
    decode: PoolLayout | None = None


def read_disagg_runs(path: Path, models: dict[str, str]) -> list[DisaggRun]:
    """The ``disagg = true`` rows of ``inferencex.csv``, split held-in / held-out by group."""
    rows = [r for r in csv_rows(path, "published runs CSV") if _is_disagg(r)]
    parsed = [parse_disagg_row(r, models) for r in rows]
    split = assign_split([d.run for d in parsed])
    return [replace(d, run=run) for d, run in zip(parsed, split, strict=True)]


def bundled_disagg_runs() -> list[DisaggRun]:
    """The bundled InferenceX disaggregated rows, split by group."""
    from importlib import resources

    from .groundtruth import read_model_map

    base = resources.files("deepfit.perf").joinpath("data").joinpath("groundtruth")
    models = read_model_map(Path(str(base.joinpath("throughput_models.csv"))))
    return read_disagg_runs(Path(str(base.joinpath("inferencex.csv"))), models)


def _is_disagg(row: dict[str, str]) -> bool:
    return row.get("disagg", "").strip().lower() == "true"


def parse_disagg_row(row: dict[str, str], models: dict[str, str]) -> DisaggRun:
    base = _identity(row, TABLE)
    try:
        return _parse(row, models, base)
    except Skip as why:
        # keep the group readable for the split even when the row is skipped
        return DisaggRun(replace(base, skip_reason=str(why)))


def _parse(row: dict[str, str], models: dict[str, str], base: PublishedRun) -> DisaggRun:
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
        engine = "trtllm"  # served with trtllm-serve (Dynamo's TensorRT-LLM runtime)
    prefill, decode = pools(row["parallelism"])
    value = float(row["value"])
    if quantity is Quantity.OUTPUT_TOKENS_PER_S:
        value *= decode.gpus  # per decode GPU -> the deployment's output tokens/s
    weights, kv_dtype = _precision(row["precision"], model_id)
    run = replace(
        base,
        model_id=model_id,
        gpu=gpu,
        gpus=prefill.gpus + decode.gpus,
        engine=engine,
        weights=weights,
        kv_dtype=kv_dtype,
        tp=decode.tp,
        ep=decode.ep,
        dp_attention=decode.dp_attention,
        input_len=round(int(row["input_len"]) * RANGE_RATIO_MEAN),
        output_len=round(int(row["output_len"]) * RANGE_RATIO_MEAN),
        concurrency=int(row["concurrency"]),
        closed_loop=True,
        quantity=quantity,
        value=value,
        assumptions=(
            f"lengths {RANGE_RATIO_MEAN:g} x nominal (uniform [0.8 L, L] draw)",
            "KV cache dtype not recorded: the engine's default",
            f"prefill {prefill.workers}x TP{prefill.tp}, decode {decode.workers}x TP{decode.tp}",
        ),
    )
    return DisaggRun(run, prefill, decode)


def pools(text: str) -> tuple[PoolLayout, PoolLayout]:
    """(prefill, decode) from "disagg prefill 1x(TP8 EP8 DPA) = 8 GPUs; decode ..."."""
    found = {m.group(1).lower(): m for m in _POOL.finditer(text)}
    if set(found) != {"prefill", "decode"}:
        raise Skip(f"parallelism {text!r} does not state both pools")
    out = []
    for name in ("prefill", "decode"):
        m = found[name]
        layout = PoolLayout(int(m.group(2)), int(m.group(3)), int(m.group(4)), bool(m.group(5)))
        if layout.gpus != int(m.group(6)):
            raise Skip(
                f"{name} pool {layout.workers}x TP{layout.tp} does not cover its "
                f"{m.group(6)} GPUs (the notes: treat the GPU counts as authoritative)"
            )
        out.append(layout)
    return out[0], out[1]
