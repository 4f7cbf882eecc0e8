"""The search: every GPU type x format x KV dtype x layout x replicas x concurrency, pruned by
memory, scored by the performance model, filtered by the targets, ranked by the objective."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

from ..deployment import EngineRef, kv_spec
from ..errors import BadInputError, InfeasibleError
from ..hardware import Gpu, load_gpu
from ..memory.formats import WeightFormat, load_format
from ..memory.kv import load_kv_dtype
from ..memory.ledger import Extras
from ..models.loader import Model
from ..perf.calibration import Calibration
from ..perf.efficiency import load_efficiency
from .cost import OwnHardware, Price, cloud_price
from .evaluate import ShapeResult, evaluate_shape, gpu_facts
from .quality import FLOOR_HINT, quality_trade
from .result import Plan, PlanResult
from .select import best_plans, pareto_front, rejections
from .shapes import stage_shapes
from .space import (
    DEFAULT_FORMATS,
    DEFAULT_KV,
    SWEEP,
    LayoutFamily,
    candidate_gpus,
    layouts,
    replicas,
    runs_format,
)
from .targets import Targets

OBJECTIVES = ("cost", "throughput", "latency")


@dataclass(frozen=True)
class SearchSpace:
    gpus: list[str] | None = None
    max_gpus: int = 64
    formats: tuple[str, ...] = DEFAULT_FORMATS
    kv_dtypes: tuple[str, ...] = DEFAULT_KV
    engine: str = "vllm"
    prices: dict[str, Price] = field(default_factory=dict)
    own: OwnHardware | None = None
    #: Efficiency factors that replace the engine's bundled ones on every GPU searched
    #: (None: the bundled fit); the planner reads no calibration file itself.
    calibration: Calibration | None = None
    #: draft model, MTP, LoRA slots every plan serves beside the model (memory/ledger.py)
    extras: Extras | None = None


@dataclass
class _Family:
    """Per GPU x format accumulators for the rejection reasons."""

    unsupported: str | None = None
    fits: bool = False
    best_ttft: float = float("inf")
    best_tpot: float = float("inf")
    slo_ok: bool = False
    best_tokens: float = 0.0
    rate_ok: bool = False
    cheapest: float = float("inf")


def _price(gpu: Gpu, space: SearchSpace) -> tuple[float | None, str | None]:
    if space.own is not None:
        return space.own.usd_per_gpu_hour(gpu), "own hardware"
    price = space.prices.get(gpu.name) or cloud_price(gpu)
    return (price.usd_per_gpu_hour, price.offer) if price else (None, None)


def _check(targets: Targets) -> None:
    if targets.input_len < 1 or targets.output_len < 1:
        raise BadInputError("input and output lengths must be at least 1", "e.g. --input-len 2000")
    if targets.objective not in OBJECTIVES:
        raise BadInputError(
            f"unknown objective '{targets.objective}'", f"use one of: {', '.join(OBJECTIVES)}"
        )
    for name in ("ttft_s", "tpot_s", "rate", "budget_usd_per_hour"):
        value = getattr(targets, name)
        if value is not None and not value > 0:
            raise BadInputError(f"{name} must be positive, got {value}", "or leave it out")


def search(model: Model, targets: Targets, space: SearchSpace | None = None) -> PlanResult:
    """The best deployments of ``model`` for ``targets``, the Pareto front and the rejected
    families with their reasons."""
    space = space or SearchSpace()
    if space.extras is not None:
        space.extras.check(model.arch)
    _check(targets)
    start = time.perf_counter()
    engine = EngineRef.named(space.engine)
    gpus = candidate_gpus(space.gpus)
    if not gpus:
        lacking = "; ".join(
            f"{g.name}: {g.unusable_for().get('plan', 'not plannable')}"
            for g in (load_gpu(n) for n in space.gpus or [])
        )
        raise BadInputError(
            "no GPU in the search has the numbers a plan needs"
            + (f" ({lacking})" if lacking else ""),
            "see `deepfit gpus` (the answers column); deepfit memory still answers for them",
        )
    prices = [_price(g, space) for g in gpus]
    families: dict[tuple[str, str], _Family] = {}
    found: list[Plan] = []
    count = 0
    unknown_quality: list[str] = []
    for fmt_name in space.formats:
        fmt = load_format(fmt_name)
        too_lossy = _quality_floor(model, fmt.name, targets, unknown_quality)
        ok = []
        for g in gpus:
            why = too_lossy or runs_format(g, fmt)
            families.setdefault((g.name, fmt.name), _Family()).unsupported = why
            if why is None:
                ok.append(g)
        if not ok:
            continue
        price_of = {g.name: prices[gpus.index(g)] for g in ok}
        # the engine's defaults (running sequences, step tokens) and the kernel floor depend
        # on the GPU: one evaluation per set of GPUs that share them
        by_limits: dict[tuple[int, int, int, float], list[Gpu]] = {}
        for g in ok:
            e = load_efficiency(space.engine, space.calibration, gpu=g)
            key = (e.max_num_seqs, e.max_num_seqs_large_gpu, e.max_batched_tokens, e.layer_floor_s)
            by_limits.setdefault(key, []).append(g)
        groups = list(by_limits.values())
        count += _search_format(
            model, targets, space, engine, fmt, groups, price_of, families, found
        )
    elapsed = time.perf_counter() - start
    plans = [_with_quality(model, p, targets) for p in best_plans(found, targets.objective)]
    notes_list: list[str] = []
    if any(p.quality for p in plans) and targets.max_quality_loss is None:
        notes_list.append(f"plans that quantize say what it costs; {FLOOR_HINT}")
    if not plans:
        notes_list.append("nothing meets every target; see the rejected families")
    if unknown_quality:
        notes_list.append(
            f"no cited quality figure for {', '.join(unknown_quality)} on this "
            "model: the quality floor could not be checked for them "
            "(deepfit eval measures your deployment)"
        )
    notes = tuple(notes_list)
    own = None
    if space.own is not None and plans:
        own = space.own.economics(next(g for g in gpus if g.name == plans[0].gpu))
    return PlanResult(
        model=model.id,
        objective=targets.objective,
        workload={
            "input_len": targets.input_len,
            "output_len": targets.output_len,
            "ttft_s": targets.ttft_s,
            "tpot_s": targets.tpot_s,
            "rate": targets.rate,
            "budget_usd_per_hour": targets.budget_usd_per_hour,
            "engine": space.engine,
        },
        plans=tuple(plans),
        pareto=tuple(pareto_front(found)),
        rejected=tuple(rejections(families, targets)),
        candidates=count,
        seconds=elapsed,
        notes=notes,
        own_hardware=own,
        provenance=load_efficiency(space.engine, space.calibration).provenance.value,
    )


def _search_format(
    model: Model,
    targets: Targets,
    space: SearchSpace,
    engine: EngineRef,
    fmt: WeightFormat,
    groups: list[list[Gpu]],
    price_of: dict[str, tuple[float | None, str | None]],
    families: dict[tuple[str, str], _Family],
    found: list[Plan],
) -> int:
    """Every layout, KV dtype and concurrency of ``fmt`` on each group of GPUs (a group
    shares the engine's limits); returns how many candidates were scored."""
    arch = model.arch
    profile = engine.engine
    per_group = [
        (g, load_efficiency(space.engine, space.calibration, gpu=g[0]), gpu_facts(g, fmt))
        for g in groups
    ]
    count = 0
    for kv_name in space.kv_dtypes:
        kv_dtype = load_kv_dtype(kv_name, "bf16")
        for fam in layouts(arch, space.max_gpus):
            layout = fam.layout()
            kv = kv_spec(kv_dtype, profile, layout)
            stages = stage_shapes(
                arch,
                fmt,
                kv,
                layout,
                profile,
                targets.input_len,
                targets.output_len,
                space.extras,
            )
            fraction = engine.fraction(layout.tp)
            for gpus, eff, facts in per_group:
                res = evaluate_shape(
                    stages,
                    arch,
                    layout,
                    facts,
                    eff,
                    profile,
                    fraction,
                    targets.input_len,
                    targets.output_len,
                    list(SWEEP),
                )
                count += _collect(
                    res,
                    fam,
                    fmt.name,
                    kv_dtype.value,
                    gpus,
                    price_of,
                    targets,
                    space,
                    families,
                    found,
                )
    return count


def _with_quality(model: Model, plan: Plan, targets: Targets) -> Plan:
    """The plan with its quality trade stated, in the plan and in its ``why``."""
    trade = quality_trade(model, plan.weights, targets.quality_benchmark)
    if trade is None:
        return plan
    return replace(plan, quality=trade, why=f"{plan.why}; quality: {trade}")


def _quality_floor(model: Model, fmt: str, targets: Targets, unknown: list[str]) -> str | None:
    """Why ``fmt`` breaks the quality floor (citing the figure), or None."""
    if targets.max_quality_loss is None or fmt in ("bf16", "fp16", "fp32"):
        return None
    from ..quality import quality_floor_ok, quality_for

    effect = quality_for(model.id, fmt, targets.quality_benchmark)
    ok = quality_floor_ok(effect, targets.max_quality_loss, targets.quality_benchmark)
    if ok is None or effect is None:
        unknown.append(fmt)
        return None
    if ok:
        return None
    where = f", estimated from {effect.from_model}" if effect.estimate else ""
    return (
        f"quality: {fmt} loses {effect.loss_percent:.2f}% ({effect.metric} on "
        f"{effect.benchmark}{where}; {effect.source}), over the "
        f"{targets.max_quality_loss}% floor"
    )


def _collect(
    res: ShapeResult,
    fam: LayoutFamily,
    fmt: str,
    kv: str,
    gpus: list[Gpu],
    price_of: dict[str, tuple[float | None, str | None]],
    targets: Targets,
    space: SearchSpace,
    families: dict[tuple[str, str], _Family],
    found: list[Plan],
) -> int:
    """Turn one shape's arrays into plans that meet the targets; count candidates."""
    import numpy as np

    count = 0
    ok_mem = (
        res.weights_fit[:, None]
        & (res.requested[None, :] <= res.max_per_replica[:, None])
        & (res.requested[None, :] <= res.max_seqs[:, None])
    )
    slo = ok_mem.copy()
    if targets.ttft_s is not None:
        slo &= res.ttft <= targets.ttft_s
    if targets.tpot_s is not None:
        slo &= res.tpot <= targets.tpot_s
    running = np.minimum(res.requested, res.running)
    # Replicas multiply throughput and price alike: per GPU and per user every dp gives the
    # same numbers, so each (GPU, concurrency) is kept once, with the fewest replicas that
    # meet the rate and the budget.
    taken = np.zeros_like(slo)
    for dp in replicas(fam, space.max_gpus):
        n_gpus = fam.tp * fam.pp * dp
        # (G, N) output tokens/s; one sequence alone pays its own prefill (as estimate_perf)
        alone = (running[None, :] * dp == 1) * res.prefill / targets.output_len
        tokens = running[None, :] * dp / (res.tpot + alone)
        count += tokens.size
        for gi, gpu in enumerate(gpus):
            acc = families[(gpu.name, fmt)]
            if not ok_mem[gi].any():
                continue
            acc.fits = True
            acc.best_ttft = min(acc.best_ttft, float(res.ttft[gi][ok_mem[gi]].min()))
            acc.best_tpot = min(acc.best_tpot, float(res.tpot[gi][ok_mem[gi]].min()))
            good = slo[gi]
            if not good.any():
                continue
            acc.slo_ok = True
            acc.best_tokens = max(acc.best_tokens, float(tokens[gi][good].max()))
            if targets.rate is not None:
                good = good & (tokens[gi] >= targets.rate * targets.output_len)
                if not good.any():
                    continue
            acc.rate_ok = True
            usd_gpu, offer = price_of[gpu.name]
            usd = usd_gpu * n_gpus if usd_gpu is not None else None
            if usd is not None:
                acc.cheapest = min(acc.cheapest, usd)
            if targets.budget_usd_per_hour is not None and (
                usd is None or usd > targets.budget_usd_per_hour
            ):
                continue
            good = good & ~taken[gi]
            taken[gi] |= good
            if not good.any():
                continue
            for ni in _worth_keeping(
                good, tokens[gi] / n_gpus, res.tpot[gi], usd, targets.objective
            ):
                found.append(
                    _plan(res, fam, dp, gi, int(ni), gpu, fmt, kv, tokens, usd, offer, space.engine)
                )
    return count


def _worth_keeping(
    good: Any, per_gpu: Any, tpot: Any, usd: float | None, objective: str
) -> list[int]:
    """Of one block's feasible concurrencies, those that can matter: the block's best for the
    objective and its own Pareto points (per-GPU throughput against per-user speed)."""
    import numpy as np

    idx = np.nonzero(good)[0]
    # cost per token and throughput per GPU both favour the most tokens/s within a block
    best = idx[np.argmin(tpot[idx])] if objective == "latency" else idx[np.argmax(per_gpu[idx])]
    keep = {int(best)}
    top = -1.0
    for i in idx[np.argsort(tpot[idx], kind="stable")]:
        if per_gpu[i] > top:
            keep.add(int(i))
            top = per_gpu[i]
    return sorted(keep)


def _plan(
    res: ShapeResult,
    fam: LayoutFamily,
    dp: int,
    gi: int,
    ni: int,
    gpu: Gpu,
    fmt: str,
    kv: str,
    tokens: Any,
    usd: float | None,
    offer: str | None,
    engine: str,
) -> Plan:
    out = float(tokens[gi, ni])
    per_m = usd / (out * 3600) * 1e6 if usd is not None and out > 0 else None
    conc = int(min(res.requested[ni], res.running[ni])) * dp
    return Plan(
        gpu=gpu.name,
        gpus=fam.tp * fam.pp * dp,
        weights=fmt,
        kv_dtype=kv,
        tp=fam.tp,
        pp=fam.pp,
        ep=fam.ep,
        dp=dp,
        dp_attention=fam.attention_dp,
        concurrency=conc,
        ttft_s=float(res.ttft[gi, ni]),
        tpot_s=float(res.tpot[gi, ni]),
        output_tokens_per_s=out,
        usd_per_hour=usd,
        usd_per_million_tokens=per_m,
        why="",
        engine=engine,
        bound=str(res.bound[gi, ni]),
        price_offer=offer,
    )


def plan_or_raise(model: Model, targets: Targets, space: SearchSpace | None = None) -> PlanResult:
    """Like :func:`search`, but "nothing feasible" raises :class:`InfeasibleError`."""
    result = search(model, targets, space)
    if not result.plans:
        raise InfeasibleError(
            "no deployment meets every target",
            "relax a target or allow more GPUs; see the rejections",
        )
    return result
