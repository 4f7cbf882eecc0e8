"""Named physical terms of the serving step model, read from ``data/serving_terms.json``.

Every term there has a value, bounds and either ``fit: true`` (set by
``tools/calibrate_perf.py`` on held-in groups) or a ``source``. This module turns them into
what the roofline needs for one GPU, format and engine:

- achieved HBM bandwidth by vendor, achieved tensor throughput by vendor and operand bits;
- the per-layer kernel latency floor, the grouped-GEMM (MoE) bandwidth share and tile size;
- the latency (alpha) of one collective call by link: NVLink, xGMI, PCIe, InfiniBand;
- each engine's host overheads and its defaults per GPU (running sequences, step tokens).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from importlib import resources
from typing import Any

from ..hardware import Gpu
from ..memory.formats import WeightFormat
from ..units import GiB

_OVERRIDE: dict[str, float] = {}  # calibration only: candidate values of fitted terms


@lru_cache(maxsize=1)
def raw_terms() -> dict[str, Any]:
    text = resources.files("deepfit.perf").joinpath("data").joinpath("serving_terms.json")
    data: dict[str, Any] = json.loads(text.read_text())
    return data


@lru_cache(maxsize=1)
def term_entries() -> dict[str, dict[str, Any]]:
    """Every term as a flat ``section.name[.key]`` -> entry (value, bounds, fit, source)."""
    out: dict[str, dict[str, Any]] = {}

    def walk(prefix: str, node: Any) -> None:
        if isinstance(node, dict) and "value" in node:
            out[prefix] = node
        elif isinstance(node, dict):
            for key, child in node.items():
                if not key.startswith("_") and key != "limits":
                    walk(f"{prefix}.{key}" if prefix else key, child)

    walk("", raw_terms())
    return out


def value(name: str) -> float:
    """The term's value (a calibration candidate while :func:`overridden` is active)."""
    if name in _OVERRIDE:
        return _OVERRIDE[name]
    return float(term_entries()[name]["value"])


@contextmanager
def overridden(values: dict[str, float]) -> Iterator[None]:
    """Evaluate with candidate term values (used by the calibration tool only)."""
    saved = dict(_OVERRIDE)
    _OVERRIDE.update(values)
    try:
        yield
    finally:
        _OVERRIDE.clear()
        _OVERRIDE.update(saved)


def _vendor(gpu: Gpu) -> str:
    return "amd" if gpu.vendor.strip().lower() == "amd" else "nvidia"


def operand_bits(dtype: str) -> int:
    low = dtype.lower()
    if "4" in low and ("fp4" in low or "int4" in low):
        return 4
    if "8" in low:
        return 8
    return 16


def bandwidth_efficiency(gpu: Gpu) -> float:
    """Achieved fraction of peak HBM bandwidth (NVIDIA's term for other vendors)."""
    return value(f"hardware.bandwidth_efficiency.{_vendor(gpu)}")


def compute_efficiency(gpu: Gpu, dtype: str) -> float:
    """Achieved fraction of the dense tensor peak for ``dtype`` operands."""
    return value(f"hardware.compute_efficiency.{_vendor(gpu)}-{operand_bits(dtype)}")


def weights_compute_dtype(fmt: WeightFormat) -> str:
    """The dtype the format's matmuls are timed at: GGUF kernels dequantise blocks and
    multiply in 16-bit (llama.cpp's matmul paths), not at the INT8 tensor peak."""
    return "fp16" if fmt.gguf_ftype is not None else fmt.compute_dtype


def layer_floor(gpu: Gpu | None) -> float:
    """Shortest time of one layer's kernels on ``gpu``'s vendor (NVIDIA's without a GPU)."""
    return value(f"kernels.layer_floor_s.{_vendor(gpu) if gpu is not None else 'nvidia'}")


def tile_efficiency(rows: float, tile: int) -> float:
    """Share of a tensor-core tile of ``tile`` rows that ``rows`` tokens fill, over the
    ``ceil(rows / tile)`` tiles a GEMM of that many rows runs (1 without rows)."""
    if rows <= 0 or tile <= 0:
        return 1.0
    return rows / (tile * math.ceil(rows / tile))


def intra_node_link(gpu: Gpu) -> str:
    if _vendor(gpu) == "amd" and gpu.interconnect_bidir_bytes_per_s is not None:
        return "xgmi"
    if "infinity fabric" in gpu.interconnect.lower():
        return "xgmi"
    return "nvlink" if gpu.interconnect_bidir_bytes_per_s else "pcie"


def collective_latency(link: str) -> float:
    """Alpha of one collective call over ``link`` (nvlink, xgmi, pcie, infiniband), s."""
    return value(f"collectives.{link}")


def engine_overheads(engine: str) -> tuple[float, float, float] | None:
    """(per step, per token of a step, per request) host overheads of ``engine`` in seconds;
    None for an engine without terms."""
    if engine not in raw_terms()["engines"]:
        return None
    return (
        value(f"engines.{engine}.step_overhead_s"),
        value(f"engines.{engine}.token_overhead_s"),
        value(f"engines.{engine}.request_overhead_s"),
    )


def engine_limits(engine: str, gpu: Gpu) -> tuple[int, int] | None:
    """(max running sequences, max tokens per step) the engine picks by default on ``gpu``;
    None where the engine's own default does not depend on the GPU."""
    entry = raw_terms()["engines"].get(engine, {})
    rule = entry.get("limits", {}).get("rule")
    mem = float(gpu.memory_bytes) if isinstance(gpu.memory_bytes, int) else 0.0
    if rule == "vllm":
        large = mem >= 70 * GiB and "a100" not in gpu.name.lower()
        return (1024, 8192) if large else (256, 2048)
    if rule == "sglang":
        chunk = 2048 if mem < 35 * GiB else 8192 if mem < 160 * GiB else 16384
        return 1024, chunk
    return None


def fitted_report() -> dict[str, Any]:
    """The fitted terms, how many, the rows they were fitted on, and any sitting on a bound
    (a term parked at a bound is not a physical estimate: ``deepfit validate`` flags it)."""
    fitted = {k: e for k, e in term_entries().items() if e.get("fit")}
    on_bound = [
        k
        for k, e in fitted.items()
        if "bounds" in e
        and (
            e["value"] <= e["bounds"][0] * (1 + 1e-6) + 1e-12
            or e["value"] >= e["bounds"][1] * (1 - 1e-6)
        )
    ]
    how = raw_terms().get("_fitted", {})
    return {
        "terms": {k: e["value"] for k, e in fitted.items()},
        "count": len(fitted),
        "fitted_on_rows": how.get("rows"),
        "fitted_on_groups": how.get("groups"),
        "on_bound": on_bound,
        "how": how.get("how", "not fitted yet: the values are starting points"),
    }
