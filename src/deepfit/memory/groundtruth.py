"""Reading published engine memory logs (shared/groundtruth/memory.csv) into deployments
deepfit can recompute. Used by the calibration tool and the validation tests; never by the
estimator itself."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ..units import GiB


@dataclass
class LoggedDeployment:
    """One ``config_id`` of memory.csv: the setting and the metrics it logged."""

    config_id: str
    model: str
    engine: str
    engine_version: str
    hardware: str
    weights: str
    kv_dtype: str
    tp: int
    pp: int
    memory_fraction: float | None
    max_model_len: int | None
    metrics: dict[str, float] = field(default_factory=dict)

    def gib(self, metric: str) -> float | None:
        value = self.metrics.get(metric)
        return None if value is None else value * GiB


def _int(text: str) -> int | None:
    m = re.match(r"\s*(\d+)", text or "")
    return int(m.group(1)) if m else None


def _fraction(text: str) -> float | None:
    m = re.search(r"=\s*([0-9.]+)", text or "")
    return float(m.group(1)) if m else None


def _weights(row: dict[str, str]) -> str:
    quant = (row["quantization"] or "").lower()
    dtype = (row["weight_dtype"] or "").lower()
    if "block" in quant and "fp8" in quant:
        return "fp8-block"
    if "awq" in quant:
        return "awq-int4"
    if "gptq" in quant:
        return "gptq-int4"
    if "compressed" in quant or "fp8" in quant:
        return "fp8"
    if "mxfp4" in quant:
        return "mxfp4"
    return {"float32": "fp32", "float16": "fp16"}.get(dtype, "bf16")


def read_memory_csv(path: Path) -> list[LoggedDeployment]:
    """Group the long-format rows by ``config_id``."""
    groups: dict[str, LoggedDeployment] = {}
    metrics: dict[str, dict[str, float]] = defaultdict(dict)
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            cid = row["config_id"]
            try:
                metrics[cid][row["metric"]] = float(row["value"])
            except ValueError:
                continue
            if cid not in groups:
                kv = (row["kv_cache_dtype"] or "auto").strip().lower()
                groups[cid] = LoggedDeployment(
                    config_id=cid,
                    model=row["model"],
                    engine=row["engine"],
                    engine_version=row["engine_version"],
                    hardware=row["hardware"],
                    weights=_weights(row),
                    kv_dtype="fp8" if "fp8" in kv else "auto",
                    tp=_int(row["tp"]) or 1,
                    pp=_int(row["pp"]) or 1,
                    memory_fraction=_fraction(row["mem_util_setting"]),
                    max_model_len=_int(row["max_model_len"]),
                )
    for cid, dep in groups.items():
        dep.metrics = metrics[cid]
    return list(groups.values())


def is_vllm_v1_sweep(dep: LoggedDeployment) -> bool:
    """The llm-d-planner vLLM 0.19 sweep on H100 (the rows vLLM's terms are fitted on)."""
    return dep.engine == "vLLM" and dep.engine_version.startswith("0.19")


def held_in(dep: LoggedDeployment) -> bool:
    """Calibration rows: the sweep's configs with an even number; odd ones are held out."""
    num = _int(dep.config_id.split("-")[-1])
    return is_vllm_v1_sweep(dep) and num is not None and num % 2 == 0
