"""Achievable MFU per GPU generation, fitted on published training runs (``data/mfu.json``).

MFU here is model FLOPs (:mod:`.flops`) per second over the GPU's dense bf16 peak, as
published runs report it (Llama 3: 38-43 % on H100). A generation with no published run
in the fit borrows another generation's value; the result says so (``source``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from ..errors import CatalogError
from ..hardware import Gpu

Source = Literal["fitted", "borrowed"]


@dataclass(frozen=True)
class MfuFit:
    """The MFU deepfit assumes for a GPU, and where it comes from."""

    mfu: float
    generation: str
    source: Source
    fitted_on: tuple[str, ...]
    borrowed_from: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "mfu": self.mfu,
            "generation": self.generation,
            "source": self.source,
            "fitted_on": list(self.fitted_on),
            "borrowed_from": self.borrowed_from,
        }


@lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    text = resources.files("deepfit.train").joinpath("data/mfu.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)["generations"]
    return data


def generation_of(gpu: Gpu) -> str:
    """The generation key of ``gpu`` in ``data/mfu.json``; CatalogError if absent."""
    for name, row in _table().items():
        if gpu.name in row["gpus"]:
            return str(name)
    raise CatalogError(
        f"no training efficiency is known for {gpu.name}",
        "add the GPU to a generation in deepfit/train/data/mfu.json",
    )


def mfu_for(gpu: Gpu) -> MfuFit:
    """The fitted (or borrowed, labelled) MFU for ``gpu``."""
    gen = generation_of(gpu)
    row = _table()[gen]
    if "mfu" in row:
        return MfuFit(float(row["mfu"]), gen, "fitted", tuple(row["fitted_on"]))
    other = _table()[row["borrow"]]
    return MfuFit(
        float(other["mfu"]), gen, "borrowed", tuple(other["fitted_on"]), str(row["borrow"])
    )


def fitted_generations() -> dict[str, float]:
    """Generation -> the MFU shipped for it (fitted generations only)."""
    return {k: float(v["mfu"]) for k, v in _table().items() if "mfu" in v}


def implied_mfu(
    model_flops_per_token: float, tokens: float, gpu_seconds: float, peak: float
) -> float:
    """The MFU a published run implies: model FLOPs / (GPU-seconds x dense bf16 peak)."""
    return model_flops_per_token * tokens / (gpu_seconds * peak)


def geometric_mean(values: list[float]) -> float:
    """How a generation's fit combines its runs (a ratio's natural average)."""
    from math import exp, log

    return exp(sum(log(v) for v in values) / len(values))
