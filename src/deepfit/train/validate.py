"""deepfit's training estimates against published runs, split by source group.

Each :class:`~.groundtruth.Case` is run through :func:`~.estimate.estimate_training` with
the settings its source states, and compared in the source's own terms: the memory
statistic it names (allocated / reserved / NVML), the fit or out-of-memory outcome, or the
speed figure (tokens/s per GPU, MFU, TFLOP/s, iteration time, GPU-hours, wall time).

Statistics weight every **group** (source table x model x GPU x framework) equally: a row
weighs ``1 / rows of its group`` within a quantity, so one large table does not set the
median. :func:`summarize` reports held-out groups (never used to tune a fitted term) apart
from held-in ones (:func:`~.groundtruth.held_in`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from ..errors import DeepfitError
from .groundtruth import Case, held_in
from .mfu import term

#: Metric -> the quantity it is reported under.
QUANTITY = {
    "tokens_per_s_per_gpu": "speed",
    "mfu": "speed",
    "tflops": "speed",
    "iteration_time_s": "speed",
    "gpu_hours": "gpu_hours",
    "wall_days": "gpu_hours",
    "states": "states",
    "fits": "fits",
}


@dataclass(frozen=True)
class Score:
    """One case with deepfit's figure: a relative error, or a verdict for fit rows."""

    case: Case
    predicted: float
    error: float = 0.0  # predicted / published - 1 (0 for fit rows)
    correct: bool = True  # fit rows: the verdict matches the outcome
    warned: bool = False  # fit rows: deepfit warned that the margin is thin

    @property
    def quantity(self) -> str:
        c = self.case
        if c.metric == "memory":
            return f"memory:{c.definition}"
        return QUANTITY.get(c.metric, c.metric)

    @property
    def held_in(self) -> bool:
        return held_in(self.case.group)


def _estimate(case: Case) -> Any:
    from ..hardware import load_gpu
    from . import (
        LoraConfig,
        Method,
        Offload,
        Recipe,
        Recompute,
        Workload,
        estimate_training,
        find_optimizer,
        training_model,
    )
    from .framework import Runtime, find_framework

    recipe = Recipe(
        method=Method(case.method),
        optimizer=find_optimizer(case.optimizer),
        lora=LoraConfig(case.lora_rank, case.lora_targets),
        double_quant=case.double_quant,
    )
    tokens_per_mb = case.seq_len * case.micro_batch
    gbt = case.global_batch_tokens or tokens_per_mb * max(1, case.gpus // (case.tp * case.pp))
    workload = Workload(
        seq_len=case.seq_len,
        micro_batch=case.micro_batch,
        global_batch_tokens=gbt,
        recompute=Recompute(case.recompute),
        flash=case.flash,
        pipeline_schedule=_schedule(case),
        virtual_stages=case.virtual_stages,
        precision=case.precision,
    )
    runtime = Runtime(
        find_framework(case.framework),
        chunked_loss=case.chunked_loss or None,
        compiled=case.fused_kernels,
        optimizer_in_backward=case.optimizer_in_backward,
        activation_offload=case.activation_offload,
    )
    return estimate_training(
        training_model(case.model),
        load_gpu(case.gpu),
        case.gpus,
        recipe=recipe,
        workload=workload,
        tp=case.tp,
        pp=case.pp,
        ep=case.ep,
        zero=case.zero,
        offload=Offload(case.offload),
        runtime=runtime,
    )


def _schedule(case: Case) -> str:
    if case.zero_bubble:
        return "zero-bubble"
    return "interleaved" if case.virtual_stages > 1 else "1f1b"


def predict(case: Case) -> float:
    """deepfit's figure for ``case`` in the units of its published value (SI)."""
    est = _estimate(case)
    per_gpu = est.tokens_per_s / est.layout.gpus
    metric = case.metric
    if metric == "memory":
        return float(
            {"allocated": est.per_gpu.total_bytes, "reserved": est.reserved_bytes}.get(
                case.definition, est.nvml_bytes
            )
        )
    if metric == "fits":
        return 1.0 if est.fits else 0.0
    if metric == "states":
        return float(est.states.total_bytes - est.states.zero3_buffer_bytes)
    if metric == "tokens_per_s_per_gpu":
        return float(per_gpu)
    if metric == "mfu":
        return float(est.achieved_mfu)
    if metric == "tflops":
        return float(per_gpu * est.flops.hardware)
    if metric == "iteration_time_s":
        return float(est.step.seconds)
    goodput = term("goodput")  # whole runs include failures, restarts and evaluation
    if metric == "gpu_hours":
        return float(case.tokens_trained / per_gpu / 3600 / goodput)
    if metric == "wall_days":
        return float(case.tokens_trained / est.tokens_per_s / goodput)
    raise ValueError(f"no deepfit figure for metric {metric!r}")


def score(case: Case) -> Score:
    """Run ``case`` and compare; raises DeepfitError when deepfit refuses its settings."""
    value = predict(case)
    if case.metric == "fits":
        warned = bool(_estimate(case).thin_margin)
        return Score(case, value, correct=(value >= 0.5) == (case.value >= 0.5), warned=warned)
    return Score(case, value, error=value / case.value - 1)


def score_all(cases: list[Case], trusted_only: bool = True) -> tuple[list[Score], list[str]]:
    """Scores of every runnable case, and a line per case skipped (with its reason)."""
    scores, skipped = [], []
    for c in cases:
        if c.skip or (trusted_only and not c.trusted):
            skipped.append(f"{c.row_id}: {c.skip or 'trust ' + c.trust}")
            continue
        try:
            scores.append(score(c))
        except DeepfitError as err:
            skipped.append(f"{c.row_id}: deepfit refused: {err}")
    return scores, skipped


def weighted_quantile(values: list[float], weights: list[float], q: float) -> float:
    """The ``q`` quantile of ``values`` where each carries ``weights`` (lower value on ties)."""
    pairs = sorted(zip(values, weights, strict=True))
    total = sum(weights)
    acc = 0.0
    for v, w in pairs:
        acc += w
        if acc >= q * total - 1e-12:
            return v
    return pairs[-1][0]


def _weights(scores: list[Score]) -> list[float]:
    per_group = Counter(s.case.group for s in scores)
    return [1.0 / per_group[s.case.group] for s in scores]


def summarize(scores: list[Score], held_out: bool = True) -> dict[str, dict[str, Any]]:
    """Per quantity: rows, groups, group-weighted median / p90 of |error| and the median
    signed error (bias); for fit verdicts the weighted share right and the misses."""
    out: dict[str, dict[str, Any]] = {}
    chosen = [s for s in scores if s.held_in != held_out]
    for quantity in sorted({s.quantity for s in chosen}):
        rows = [s for s in chosen if s.quantity == quantity]
        w = _weights(rows)
        stats: dict[str, Any] = {"rows": len(rows), "groups": len({s.case.group for s in rows})}
        if quantity == "fits":
            stats["right"] = sum(wi for s, wi in zip(rows, w, strict=True) if s.correct) / sum(w)
            stats["oom_called_fits_unwarned"] = sum(
                1 for s in rows if s.case.value < 0.5 and s.predicted >= 0.5 and not s.warned
            )
        else:
            stats["median"] = weighted_quantile([abs(s.error) for s in rows], w, 0.5)
            stats["p90"] = weighted_quantile([abs(s.error) for s in rows], w, 0.9)
            stats["bias"] = weighted_quantile([s.error for s in rows], w, 0.5)
        out[quantity] = stats
    return out
