"""Reading published throughput and latency tables (shared/groundtruth/throughput.csv) into
deployments deepfit can recompute. Used by ``validate`` and the calibration tool; never by
the estimator itself.

The table is long format: one published number per row. Each row becomes a
:class:`PublishedRun` with the deployment in deepfit's terms (catalogue model, GPU, engine,
weight format, tp/pp/ep, lengths, concurrency) and the number converted to one of three
quantities in SI units (:class:`Quantity`). A row deepfit cannot recompute keeps a
``skip_reason``.

Conversions (read from ``metric``, ``unit`` and NOTES.md):

- ``output_throughput_total``, TensorRT-LLM v0.10 ``throughput_total`` ("whole TP group"):
  output tokens/s of the whole deployment, as published.
- ``output_throughput_per_gpu`` (TensorRT-LLM release/1.2, per GPU): times ``gpu_count``.
- ``output_throughput_as_labeled`` (v0.6.1, per-GPU vs total ambiguous): covered at TP1 only,
  where both readings agree.
- ``tokens_per_second`` at batch 1: single-stream output tokens/s.
- ``mean_TTFT_ms`` / ``median_TTFT_ms`` / ``TTFT_ms_batch1`` / ``mean_TTFT_s``: TTFT seconds;
  skipped when every request was sent at once (the TTFT is then mostly queueing).
- ``mean_TPOT_ms`` / ``median_ITL_ms``: TPOT seconds; ``TPOT_intercept_ms`` is the TPOT of
  one request at context ~0.

Held-in / held-out is decided per group of rows (source table x model x GPU x engine), never
per row: see :mod:`deepfit.perf.split`.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path
from typing import Literal

from ..errors import BadInputError

Concurrency = int | Literal["max"]


class Quantity(Enum):
    """A published number in deepfit's terms: the PerfEstimate attribute and its unit."""

    OUTPUT_TOKENS_PER_S = ("output_tokens_per_s", "output tokens/s")
    TTFT_S = ("ttft_s", "s")
    TPOT_S = ("tpot_s", "s")
    E2E_S = ("e2e_s", "s")  # request latency, send to last token (simulated load only)

    def __init__(self, attribute: str, unit: str) -> None:
        self.attribute = attribute
        self.unit = unit


#: Hardware strings of the table -> deepfit GPU catalogue names.
GPUS = {
    "H100-SXM-80GB": "H100",
    "NVIDIA H100-SXM-80GB": "H100",
    "H100 (single GPU)": "H100",
    "H100 80GB": "H100",
    "H100-80GB": "H100",
    "H200-SXM-141GB": "H200",
    "NVIDIA H200-SXM-141GB": "H200",
    "H200-141GB": "H200",
    "H200-141GB (CoreWeave)": "H200",
    "NVIDIA H200-NVL-141GB": "H200-NVL",
    "A100-SXM-80GB": "A100-80GB",
    "A100-SXM4-80GB": "A100-80GB",
    "B200-180GB": "B200",
    "B200-SXM-180GB": "B200",
    "NVIDIA B200-SXM-180GB": "B200",
    "GB200-192GB": "GB200",
    "NVIDIA GB200": "GB200",
    "GB200 NVL72": "GB200",
    "GB200 (NVL72)": "GB200",
    "NVIDIA GB300": "GB300",
    "L40S": "L40S 48GB",
    "L40S-48GB": "L40S 48GB",
    "NVIDIA L4 24GB": "L4 24GB",
    "H800": "H800",
    "H800 (8 per node)": "H800",
    "NVIDIA RTX 4090": "RTX4090",
    "NVIDIA RTX 4090 (Intel 265K host)": "RTX4090",
    "Apple M2 Ultra (76-core GPU, 800 GB/s)": "M2-Ultra",
    "AMD Instinct MI300X 192GB HBM3": "MI300X",
    "AMD Instinct MI325X 256GB HBM3e": "MI325X",
    "B300-288GB": "B300",
    "GB300-288GB": "GB300",
    "MI300X-192GB": "MI300X",
    "MI325X-256GB": "MI325X",
    "MI355X-288GB": "MI355X",
}

_TOTAL = ("output_throughput_total", "output_tokens_per_second_total", "throughput_total")
_PER_GPU = ("output_throughput_per_gpu", "output_tokens_per_second_per_gpu")
_TTFT = {"mean_TTFT_ms": 1e-3, "median_TTFT_ms": 1e-3, "TTFT_ms_batch1": 1e-3, "mean_TTFT_s": 1.0}
_TPOT = {"mean_TPOT_ms": 1e-3, "median_ITL_ms": 1e-3, "TPOT_intercept_ms": 1e-3}


class Skip(Exception):
    """A row deepfit cannot recompute; the message says why."""


@dataclass(frozen=True)
class PublishedRun:
    """One published number and the deployment it was measured on, in deepfit's terms."""

    row_id: str
    published_model: str
    hardware: str
    engine_name: str  # as published
    trust: str
    source: str
    model_id: str = ""
    gpu: str = ""
    gpus: int = 1
    engine: str = ""  # deepfit engine name
    weights: str = "auto"
    kv_dtype: str = "auto"
    tp: int = 1
    pp: int = 1
    ep: int = 1
    dp_attention: bool = False
    input_len: int = 0
    output_len: int = 0
    concurrency: Concurrency = 1
    requests: int | None = None  # "all N requests at once": at most N in flight
    quantity: Quantity | None = None
    value: float = 0.0  # in the quantity's SI unit
    assumptions: tuple[str, ...] = ()
    skip_reason: str | None = None
    table: str = ""  # the published table (document) the row comes from
    held_in: bool = False  # set for whole groups by ``split.assign_split``
    rate: float | None = None  # open-loop request rate (requests/s), when the load is a rate
    percentile: float | None = None  # 50/90/99 for a percentile latency, None for a mean
    prefix_hit_rate: float = 0.0  # share of prompt tokens a prefix cache serves
    max_num_seqs: int | None = None  # the engine's running-sequence cap, when the run set it
    max_batched_tokens: int | None = None  # the engine's per-step token budget, when set
    closed_loop: bool = False  # clients keep ``concurrency`` requests in flight (a benchmark)
    length_spread: float = 0.0  # request lengths uniform in mean x [1 - s, 1 + s]

    @property
    def covered(self) -> bool:
        return self.skip_reason is None

    @property
    def group(self) -> tuple[str, str, str, str]:
        """(source table, model, GPU, engine): the unit of the held-in / held-out split."""
        return (
            self.table,
            self.model_id or self.published_model,
            self.gpu or self.hardware,
            self.engine or self.engine_name,
        )

    @property
    def trust_a(self) -> bool:
        """Trust A or A- (audited, vendor/engine tables, logs with full command lines)."""
        return self.trust.split(" ")[0] in ("A", "A-")


def published_run(row: dict[str, str], table: str) -> PublishedRun:
    """The identity of one published row (id, model, hardware, engine, trust, source), the
    part every reader of published tables fills the same way."""
    return PublishedRun(
        row_id=row["row_id"],
        published_model=row["model"],
        hardware=row["hardware"],
        engine_name=row["engine"],
        trust=row["trust"],
        source=row["source"],
        table=table,
    )


def csv_rows(path: Path, what: str) -> list[dict[str, str]]:
    """The rows of a CSV file, read through the bounded reader (regular file, size cap,
    strict UTF-8); a malformed or empty file is bad input."""
    from .._files import read_text

    text = read_text(path, what, max_bytes=64 << 20, hint="give a CSV in throughput.csv's format")
    try:
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise BadInputError(
            f"{path} is not CSV ({exc})", "give a CSV in throughput.csv's format"
        ) from None
    if not rows:
        raise BadInputError(f"{path} holds no rows", "give a CSV in throughput.csv's format")
    return rows


def _bad_row(path: Path, n: int, exc: BaseException) -> BadInputError:
    detail = f"no column {exc}" if isinstance(exc, KeyError) else str(exc)[:120]
    return BadInputError(
        f"{path} row {n}: {detail}",
        "use the columns of deepfit's own throughput.csv (data/groundtruth/NOTES.md)",
    )


def read_model_map(path: Path) -> dict[str, str]:
    """Published model name -> deepfit catalogue id (``throughput_models.csv``)."""
    out: dict[str, str] = {}
    for n, r in enumerate(csv_rows(path, "model map"), 2):
        try:
            out[r["published_model"]] = r["catalogue_id"]
        except KeyError as exc:
            raise _bad_row(path, n, exc) from None
    return out


def read_throughput_csv(path: Path, models: dict[str, str]) -> list[PublishedRun]:
    """Every row of ``throughput.csv``; rows deepfit cannot recompute carry a skip reason."""
    out = []
    for n, row in enumerate(csv_rows(path, "published runs CSV"), 2):
        try:
            out.append(parse_row(row, models))
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            raise _bad_row(path, n, exc) from None
    return out


def parse_row(row: dict[str, str], models: dict[str, str]) -> PublishedRun:
    """One CSV row as a :class:`PublishedRun` (never raises on bad rows: it skips them)."""
    base = published_run(row, row["source"].split("#")[0].strip())
    notes: list[str] = []
    try:
        fields = _deployment(row, models, notes)
    except Skip as why:
        return replace(base, skip_reason=str(why))
    return replace(base, assumptions=tuple(notes), **fields)  # type: ignore[arg-type]


def _deployment(row: dict[str, str], models: dict[str, str], notes: list[str]) -> dict[str, object]:
    scenario = row["scenario"].lower().split(";")[0]  # the rest is the serve command
    if "mlperf" in scenario and any(w in scenario for w in ("server", "interactive")):
        raise Skip("MLPerf Server/Interactive: tokens/s under latency limits, not capacity")
    if any(
        w in scenario
        for w in (
            "prefill",
            "decode-phase",
            "decode profile",
            "production",
            "decode throughput",
            "completion",
        )
    ):
        raise Skip("phase-only, disaggregated or production figure (one phase is not modelled)")
    model_id = models.get(row["model"])
    if model_id is None:
        raise Skip(f"model {row['model']!r} is not in deepfit's catalogue")
    gpu = GPUS.get(row["hardware"])
    if gpu is None:
        raise Skip(f"hardware {row['hardware']!r} is not in deepfit's GPU catalogue")
    engine = _engine(row["engine"], row.get("engine_version", ""))
    tp, pp, ep, dp_attention = _parallelism(row["parallelism"], notes)
    gpus = _int(row["gpu_count"])
    if gpus is None:
        raise Skip(f"GPU count {row['gpu_count']!r} is not a number")
    quantity, value = _quantity(row, gpus, tp * pp)
    concurrency, requests = _concurrency(row["batch_or_concurrency"], notes)
    if quantity is Quantity.TTFT_S and requests is not None:
        raise Skip("TTFT of requests all sent at once is mostly queueing (not modelled)")
    input_len, output_len = _lengths(row, notes)
    weights, kv_dtype = _precision(row["precision"], model_id)
    return {
        "model_id": model_id,
        "gpu": gpu,
        "gpus": gpus,
        "engine": engine,
        "weights": weights,
        "kv_dtype": kv_dtype,
        "tp": tp,
        "pp": pp,
        "ep": ep,
        "dp_attention": dp_attention,
        "input_len": input_len,
        "output_len": output_len,
        "concurrency": concurrency,
        "requests": requests,
        "quantity": quantity,
        "value": value,
    }


def _int(text: str) -> int | None:
    m = re.match(r"\s*(\d+)\s*$", text or "")
    return int(m.group(1)) if m else None


def _number(text: str) -> float | None:
    """The leading number of ``text`` ("219 (avg; ...)", "~20000 (+-15%)", "avg 265.0 ...")."""
    m = re.match(r"\s*(?:avg\s+|~\s*)?(\d[\d,]*(?:\.\d+)?)", text or "")
    return float(m.group(1).replace(",", "")) if m else None


def _engine(name: str, version: str = "") -> str:
    """The engine profile of a row, by the ``groundtruth.prefix`` each engine's data gives.
    Where one program has versions with different behaviour (TensorRT-LLM's C++ runtime on
    prebuilt TensorRT engines in 0.x releases and MLPerf harnesses, and its 1.x PyTorch
    backend), ``groundtruth.runtime`` picks the profile, each fitted on its own rows."""
    from ..engines import engines

    key = name.lower()
    found = [e for e in engines() if e.groundtruth_prefix and key.startswith(e.groundtruth_prefix)]
    if len(found) > 1:
        runtime = _runtime(name, version)
        found = [e for e in found if e.groundtruth_runtime in (None, runtime)]
    if not found:
        raise Skip(f"engine {name!r} is not modelled")
    return found[0].name


def _runtime(name: str, version: str) -> str:
    """``pytorch`` for a 1.x release or a row that says PyTorch backend, else ``cpp``."""
    low = f"{name} {version}".lower()
    pytorch = "pytorch" in low or re.search(r"(^|[^.\d])v?1\.\d", version or "") is not None
    return "pytorch" if pytorch else "cpp"


def _parallelism(text: str, notes: list[str]) -> tuple[int, int, int, bool]:
    """(tp, pp, ep, attention data-parallel) from "TP8", "TP4 PP2", "DEP4", "TP8 EP8 + ..."."""
    low = text.lower()
    if low.startswith("single"):
        return 1, 1, 1, False
    if not re.match(r"\s*(tp|dep)\d", low):
        raise Skip(f"parallelism {text!r} is not stated precisely")
    if m := re.match(r"\s*dep(\d+)", low):
        n = int(m.group(1))
        return n, 1, n, True
    tp = int(re.search(r"tp(\d+)", low).group(1))  # type: ignore[union-attr]
    pp = int(m.group(1)) if (m := re.search(r"pp(\d+)", low)) else 1
    ep = int(m.group(1)) if (m := re.search(r"\bep(\d+)", low)) else 1
    dp_attention = "attention dp" in low or "attention-dp" in low
    if "ep per moe recipe" in low:
        # TensorRT-LLM perf-overview (v1.0), "For MoE models": trtllm-bench --ep $ep_size with
        # enable_attention_dp: true in llm_options.yml; the EP degree itself is not printed
        ep, dp_attention = tp, True
        notes.append("MoE recipe of the TensorRT-LLM perf overview: attention DP, EP taken = TP")
    return tp, pp, ep, dp_attention


def _quantity(row: dict[str, str], gpus: int, group: int) -> tuple[Quantity, float]:
    metric, unit, value = row["metric"], row["unit"].lower(), float(row["value"])
    if metric in _TOTAL:
        if metric == "throughput_total" and "whole tp group" not in unit:
            raise Skip(f"unit {row['unit']!r} of throughput_total is not the TP group's")
        return Quantity.OUTPUT_TOKENS_PER_S, value
    if metric in _PER_GPU:
        return Quantity.OUTPUT_TOKENS_PER_S, value * gpus
    if metric == "output_throughput_as_labeled":
        if gpus != 1 or group != 1:
            raise Skip("v0.6.1 table: per-GPU vs total is ambiguous above one GPU")
        return Quantity.OUTPUT_TOKENS_PER_S, value
    if metric == "tokens_per_second_system":
        raise Skip("MLPerf: dataset input lengths vary and are not restated")
    if metric == "tokens_per_second":
        if "prompt" in row["scenario"].lower():
            raise Skip("prompt-processing tokens/s is not an output quantity")
        return Quantity.OUTPUT_TOKENS_PER_S, value
    if metric in _TTFT:
        return Quantity.TTFT_S, value * _TTFT[metric]
    if metric in _TPOT:
        return Quantity.TPOT_S, value * _TPOT[metric]
    raise Skip(f"metric {metric!r} is not modelled")


def _concurrency(text: str, notes: list[str]) -> tuple[Concurrency, int | None]:
    """(concurrency, requests in flight at most) from the table's load description."""
    low = text.lower()
    if m := re.match(r"\s*all (\d+) requests at once", low):
        return "max", int(m.group(1))
    if any(w in low for w in ("max_batch_size", "max load", "offline", "concurrency -1")):
        return "max", None
    if m := re.match(r"\s*(\d+)(?:\s+concurrency|\s*\(|\s*$)", low):
        if "static batch" in low and int(m.group(1)) > 1:
            notes.append("static batch modelled as continuous batching at that batch")
        return int(m.group(1)), None
    raise Skip(f"load {text!r} is not a concurrency deepfit can set")


def _lengths(row: dict[str, str], notes: list[str]) -> tuple[int, int]:
    if row["metric"] == "TPOT_intercept_ms":
        notes.append("TPOT intercept modelled as one request at context 1")
        return 1, 1
    if row["metric"] == "TTFT_ms_batch1":
        return _length(row["input_len"], "input"), 1
    inp, out = row["input_len"], row["output_len"]
    if inp.strip().lower() == "short prompt":
        notes.append("'short prompt' taken as 32 tokens")
        inp = "32"
    if out.strip().lower() == "(generation)":
        notes.append("unstated generation length taken as 256 tokens")
        out = "256"
    return max(1, _length(inp, "input", allow_zero=True)), _length(out, "output")


def _length(text: str, what: str, allow_zero: bool = False) -> int:
    value = _number(text)
    if value is None or (value < 1 and not allow_zero):
        raise Skip(f"{what} length {text!r} is not stated as a number")
    return round(value)


def _precision(text: str, model_id: str) -> tuple[str, str]:
    """(weight format, KV dtype) from the ``precision`` column."""
    low = text.lower()
    kv = "auto"
    if re.search(r"kv fp8|fp8 kv", low):
        kv = "fp8"
    elif re.search(r"kv bf16|bf16 kv|bf16 mla kv", low):
        kv = "bf16"
    if "not stated" in low:
        raise Skip("precision not stated")
    for key, fmt in (
        ("mxfp4", "mxfp4"),
        ("nvfp4", "nvfp4"),
        ("fp4", "nvfp4"),
        ("awq", "awq-int4"),
        ("gptq", "gptq-int4"),
        ("q4_k_m", "gguf-q4_k_m"),
        ("q4_0", "gguf-q4_0"),
        ("q8_0", "gguf-q8_0"),
    ):
        if key in low:
            return fmt, kv
    if "fp8" in low:
        # DeepSeek's own checkpoints and Qwen's "-FP8" ones are 128x128 block-scaled;
        # ModelOpt (nvidia/*) checkpoints of the TensorRT-LLM tables are per-tensor
        block = "block" in low or "native" in low or "deepseek" in model_id.lower()
        return ("fp8-block" if block else "fp8"), kv
    if "fp16" in low and "bf16" not in low:
        return "fp16", kv
    if "bf16" in low:
        return "bf16", kv
    raise Skip(f"precision {text!r} has no deepfit weight format")
