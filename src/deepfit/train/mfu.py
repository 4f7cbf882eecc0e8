"""How busy training keeps the GPU's matrix units: fitted, named terms (``data/mfu.json``).

Compute time is the step's **hardware** FLOPs (model FLOPs plus recomputation,
:mod:`.flops`) over ``GPUs x utilization x dense 16-bit peak``. The utilization is

``peak_utilization[generation]``: what a tuned training step's compute reaches on a GPU
generation (kernel efficiency, launch gaps, norms and elementwise work), and

``attention_utilization[generation]``: what the attention core (flash attention's score
and value matmuls, of which a causal kernel runs half) reaches. Flash
attention runs its own kernels, at an efficiency apart from the projections' GEMMs (lower
on Hopper with FlashAttention-2, which was written for Ampere); its share of the FLOPs
grows with the sequence length (``12 L s h`` against ``6 N``), so one utilization for both
makes long sequences too fast. A generation whose held-in rows do not pin it (Ampere: short
sequences only) runs attention at its layers' utilization, as FlashAttention-2 reaches on
A100 about what GEMMs do (Dao 2023: up to 73 % of peak).

A model-width term (``h / (h + c x F / B)``: narrow models do more memory-bound work per
matmul FLOP, more so on GPUs with a high FLOPs-per-byte ratio ``F / B``) was tried: fitted
on the held-in groups from a fixed start, ``c`` goes to zero, so the rows do not support it
and it is not shipped.

Communication, pipeline bubbles and offload are not in these terms: :mod:`.timing` adds
them. MFU (model FLOPs per second over the peak) is then a result, not an input. FP8
training runs the matrix multiplies at the FP8 peak times ``fp8_matmul_gain`` of the
16-bit one (the rest stays 16-bit).

Whole runs (a model card's GPU-hours) also lose time to failures, restarts, evaluation and
checkpoints: ``goodput`` is the share of a run's GPU time that trains.

The terms are fitted by ``benchmarks/train_fit.py`` on the **held-in** source groups only
(:func:`deepfit.train.groundtruth.held_in`); the file records the fit's rows and groups. A
generation with no fitted runs borrows another's value and says so (``source``).
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
    """The utilization deepfit assumes for a GPU and model width, and where it comes from."""

    hfu: float  # hardware FLOPs utilization of the compute (before comm, bubbles)
    peak_utilization: float
    generation: str
    source: Source
    fitted_on: str
    borrowed_from: str | None = None
    attention_utilization: float = 0.0  # of the FLOPs a causal attention kernel runs; 0: hfu

    @property
    def mfu(self) -> float:
        """Kept for callers of the old per-generation MFU: the utilization used."""
        return self.hfu

    def to_dict(self) -> dict[str, Any]:
        return {
            "hardware_utilization": self.hfu,
            "peak_utilization": self.peak_utilization,
            "generation": self.generation,
            "source": self.source,
            "fitted_on": self.fitted_on,
            "borrowed_from": self.borrowed_from,
            "attention_utilization": self.attention_utilization or self.hfu,
        }


@lru_cache(maxsize=1)
def _data() -> dict[str, Any]:
    text = resources.files("deepfit.train").joinpath("data/mfu.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _table() -> dict[str, Any]:
    gens: dict[str, Any] = _data()["generations"]
    return gens


def term(name: str) -> float:
    """A global fitted term of ``data/mfu.json`` (``goodput``, ``fp8_matmul_gain``)."""
    return float(_data()["terms"][name]["value"])


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
    """The fitted (or borrowed, labelled) utilization for ``gpu``."""
    gen = generation_of(gpu)
    row = _table()[gen]
    source: Source = "fitted"
    borrowed = None
    if "peak_utilization" not in row:
        borrowed = str(row["borrow"])
        row = _table()[borrowed]
        source = "borrowed"
    peak = float(row["peak_utilization"])
    # without a fit of its own the attention kernel runs at the layers' utilization
    attention = float(row.get("attention_utilization", peak))
    return MfuFit(peak, peak, gen, source, str(_data()["fitted_on"]), borrowed, attention)


def fitted_generations() -> dict[str, float]:
    """Generation -> the peak utilization shipped for it (fitted generations only)."""
    rows = _table().items()
    return {k: float(v["peak_utilization"]) for k, v in rows if "peak_utilization" in v}


def implied_mfu(
    model_flops_per_token: float, tokens: float, gpu_seconds: float, peak: float
) -> float:
    """The MFU a published run implies: model FLOPs / (GPU-seconds x dense bf16 peak)."""
    return model_flops_per_token * tokens / (gpu_seconds * peak)
