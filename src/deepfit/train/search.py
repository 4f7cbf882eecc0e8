"""Search: the fewest GPUs of one kind that can train a model, the fastest layout that fits,
and what would fit when a layout does not.

Candidate layouts: ``tp`` a power of two up to 8 that divides the heads, ``pp`` a power of
two up to 16, ``ep`` (MoE) a power of two dividing the experts and ``tp x dp``, ZeRO 0-3,
recomputation none/selective/full; CPU offload only when nothing else fits. GPU counts
tried: 1, 2, 4, then multiples of 8 (whole nodes), up to ``max_gpus``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from ..errors import BadInputError
from ..hardware import Gpu
from ..models import Model
from ..units import GiB
from .estimate import TrainEstimate, Workload, estimate_training
from .methods import Offload, Recompute
from .states import Recipe

MAX_GPUS = 4096


def _pow2(limit: int) -> list[int]:
    out, n = [], 1
    while n <= limit:
        out.append(n)
        n *= 2
    return out


def _counts(max_gpus: int) -> Iterator[int]:
    yield from (n for n in (1, 2, 4) if n <= max_gpus)
    yield from range(8, max_gpus + 1, 8)


def _layouts(model: Model, gpus: int, offload: Offload) -> Iterator[dict[str, Any]]:
    arch = model.arch
    heads = arch.layers[0].attention.num_heads
    experts = max((la.moe.num_experts for la in arch.layers if la.moe), default=0)
    for tp in _pow2(min(8, gpus)):
        if heads % tp:
            continue
        for pp in _pow2(min(16, arch.num_layers, gpus // tp)):
            if gpus % (tp * pp):
                continue
            dp = gpus // (tp * pp)
            eps = [e for e in _pow2(tp * dp) if experts and experts % e == 0 and (tp * dp) % e == 0]
            for ep in eps or [1]:
                for zero in (0, 1, 2, 3) if offload is Offload.NONE else (2, 3):
                    yield dict(tp=tp, pp=pp, ep=ep, zero=zero, offload=offload)


def _try(
    model: Model, gpu: Gpu, gpus: int, recipe: Recipe, w: Workload, **kw: Any
) -> TrainEstimate | None:
    try:
        return estimate_training(model, gpu, gpus, recipe=recipe, workload=w, **kw)
    except BadInputError:
        return None


def fastest_layout(
    model: Model,
    gpu: Gpu,
    gpus: int,
    recipe: Recipe,
    workload: Workload,
    offload: Offload = Offload.NONE,
) -> TrainEstimate | None:
    """The highest-throughput layout on ``gpus`` GPUs that fits, or None."""
    best: TrainEstimate | None = None
    for recompute in (Recompute.NONE, Recompute.SELECTIVE, Recompute.FULL):
        w = replace(workload, recompute=recompute)
        for kw in _layouts(model, gpus, offload):
            est = _try(model, gpu, gpus, recipe, w, **kw)
            if (
                est is not None
                and est.fits
                and (best is None or est.tokens_per_s > best.tokens_per_s)
            ):
                best = est
    return best


def lean_estimate(
    model: Model, gpu: Gpu, gpus: int, recipe: Recipe, w: Workload, offload: Offload
) -> TrainEstimate | None:
    """The most memory-frugal of a few lean layouts (full recompute, ZeRO-3, widest tp/ep)."""
    lean = replace(w, recompute=Recompute.FULL)
    kws = [kw for kw in _layouts(model, gpus, offload) if kw["zero"] == 3 and kw["pp"] == 1]
    kws.sort(key=lambda kw: (-kw["tp"], -kw["ep"]))
    found = [e for kw in kws[:3] if (e := _try(model, gpu, gpus, recipe, lean, **kw))]
    return min(found, key=lambda e: e.per_gpu.total_bytes, default=None)


def smallest_fit(
    model: Model,
    gpu: Gpu,
    recipe: Recipe,
    workload: Workload,
    offload: Offload = Offload.NONE,
    max_gpus: int = MAX_GPUS,
) -> TrainEstimate | None:
    """A lean layout on the fewest GPUs that fits, or None up to ``max_gpus``."""
    for n in _counts(max_gpus):
        est = lean_estimate(model, gpu, n, recipe, workload, offload)
        if est is not None and est.fits:
            return est
    return None


@dataclass(frozen=True)
class SearchResult:
    """The fewest GPUs that fit and the fastest layout there (None: nothing up to max)."""

    min_gpus: int | None
    best: TrainEstimate | None
    offload: Offload

    def to_dict(self) -> dict[str, Any]:
        return {
            "min_gpus": self.min_gpus,
            "offload": self.offload.value,
            "best": None if self.best is None else self.best.to_dict(),
        }


def min_gpus(
    model: Model,
    gpu: Gpu,
    recipe: Recipe,
    workload: Workload,
    offload: Offload = Offload.NONE,
    max_gpus: int = MAX_GPUS,
) -> SearchResult:
    """Fewest ``gpu``s that can train ``model`` with ``recipe``, and the fastest layout."""
    lean = smallest_fit(model, gpu, recipe, workload, offload, max_gpus)
    if lean is None:
        return SearchResult(None, None, offload)
    n = lean.layout.gpus
    return SearchResult(n, fastest_layout(model, gpu, n, recipe, workload, offload), offload)


def what_would_fit(model: Model, gpu: Gpu, est: TrainEstimate) -> dict[str, Any]:
    """Why ``est`` does not fit and what would: more GPUs, offload (with host RAM), LoRA."""
    recipe, w = est.recipe, est.workload
    states_all = est.states.trainable_params * recipe.optimizer.spec.bytes_per_param
    aggregate = gpu.require_memory_bytes() * est.layout.gpus
    out: dict[str, Any] = {
        "why": (
            f"{est.states.trainable_params:,} trainable parameters x "
            f"{recipe.optimizer.spec.bytes_per_param} bytes ({recipe.optimizer.spec.name}) = "
            f"{states_all / 1e12:.2f} TB of model states; {est.layout.gpus} x {gpu.name} hold "
            f"{aggregate / 1e12:.2f} TB (nominal); this layout needs "
            f"{est.per_gpu.total_bytes / GiB:.1f} GiB "
            f"per GPU of {est.gpu_memory_bytes / GiB:.1f} GiB"
        ),
    }
    out["more_gpus"] = _brief(smallest_fit(model, gpu, recipe, w))
    off = lean_estimate(model, gpu, est.layout.gpus, recipe, w, Offload.CPU)
    out["cpu_offload"] = _brief(off)
    return out


def _brief(b: TrainEstimate | None) -> dict[str, Any] | None:
    """A candidate in a few keys (``host_bytes`` is the whole job's host RAM)."""
    if b is None:
        return None
    return {
        "gpus": b.layout.gpus,
        "fits": b.fits,
        "layout": b.layout.describe(),
        "recompute": b.workload.recompute.value,
        "per_gpu_bytes": b.per_gpu.total_bytes,
        "host_bytes": b.host_bytes,
        "host_bytes_per_node": b.host_bytes_per_node,
        "tokens_per_s": b.tokens_per_s,
    }
