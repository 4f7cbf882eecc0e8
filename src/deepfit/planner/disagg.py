"""The P:D split: the fewest GPUs of disaggregated prefill/decode serving that meet TTFT and
TPOT targets at a request rate, side by side with aggregated serving, and the answer
"do not disaggregate" when aggregated serving needs no more GPUs.

Disaggregated: every prefill worker layout x decode worker layout that fits (TP 1..domain,
EP 1 or TP for MoE models, with and without data-parallel attention), and for each pair the
smallest decode count ``D`` that meets the targets for each prefill count ``P``
(:func:`~deepfit.perf.disagg.estimate_pair` at the open-loop rate; more workers on either
side never hurt, so the first feasible ``D`` is the pair's best for that ``P``). The
objective is the total GPU count (US$/hour from the catalogue's prices when the two pools
use two GPU types), then TTFT, then TPOT.

Aggregated: every layout that fits, with the most sequences per replica that still meet
both targets (:func:`~deepfit.perf.api.estimate_perf`, chunked prefill mixed into decode
steps), and as many replicas as the rate needs. Ties go to aggregated serving: one pool is
simpler to run.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import BadInputError, DeepfitError, InfeasibleError
from ..hardware import load_gpu
from ..models.loader import Model
from ..perf import estimate_perf
from ..perf.comm import scale_up_gpus
from ..perf.disagg import DisaggEstimate, PoolPair, estimate_pair, prefill_side
from ..perf.disagg_pools import Pool, Serving, Worker
from .cost import cloud_price

#: The largest GPU budget searched (a few racks; the split search is P x D per layout pair).
MAX_GPUS = 1024


@dataclass(frozen=True)
class DisaggTargets:
    """The workload and its targets: lengths in tokens, rate in requests/s, seconds."""

    input_len: int
    output_len: int
    rate: float
    ttft_s: float
    tpot_s: float

    def check(self) -> None:
        if self.input_len < 1 or self.output_len < 1:
            raise BadInputError("input and output lengths must be at least 1", "e.g. 2000")
        if not (self.rate > 0 and self.ttft_s > 0 and self.tpot_s > 0):
            raise BadInputError(
                "the rate and the TTFT / TPOT targets must be positive",
                "e.g. --rate 4 --ttft 2 --tpot 0.05",
            )

    def met(self, ttft: float, tpot: float) -> bool:
        return ttft <= self.ttft_s and tpot <= self.tpot_s


@dataclass(frozen=True)
class AggregatedOption:
    """Aggregated serving: ``replicas`` engines of ``tp`` GPUs, each with ``concurrency``
    sequences, meeting the targets (or the best it reaches when ``meets`` is False)."""

    pool: Pool  # workers = replicas
    concurrency: int  # per replica
    ttft_s: float
    tpot_s: float
    requests_per_s_per_replica: float
    source: str

    @property
    def gpus(self) -> int:
        return self.pool.gpus

    def to_dict(self) -> dict[str, Any]:
        return {
            "pool": self.pool.to_dict(),
            "gpus": self.gpus,
            "replicas": self.pool.workers,
            "concurrency_per_replica": self.concurrency,
            "ttft_s": self.ttft_s,
            "tpot_s": self.tpot_s,
            "requests_per_s_per_replica": self.requests_per_s_per_replica,
            "source": self.source,
            "provenance": "step model (perf.estimate_perf, chunked prefill mixed into decode "
            "steps); replicas = ceil(rate / requests/s per replica)",
        }


@dataclass(frozen=True)
class DisaggPlan:
    """The best disaggregated split and the best aggregated deployment, and the verdict."""

    targets: DisaggTargets
    disaggregated: DisaggEstimate | None
    aggregated: AggregatedOption | None
    verdict: str  # "disaggregate" or "do not disaggregate"
    reason: str
    considered: int  # disaggregated (layout pair, P, D) points evaluated
    objective: str = "GPUs"  # or "US$/hour" when the pools use two priced GPU types

    def to_dict(self) -> dict[str, Any]:
        t = self.targets
        return {
            "targets": {
                "input_len": t.input_len,
                "output_len": t.output_len,
                "rate_requests_per_s": t.rate,
                "ttft_s": t.ttft_s,
                "tpot_s": t.tpot_s,
            },
            "verdict": self.verdict,
            "reason": self.reason,
            "disaggregated": None if self.disaggregated is None else self.disaggregated.to_dict(),
            "aggregated": None if self.aggregated is None else self.aggregated.to_dict(),
            "considered": self.considered,
            "objective": self.objective,
        }


def worker_layouts(model: Model, gpu_name: str, max_gpus: int) -> Iterator[Pool]:
    """One-worker pools to try on ``gpu_name``: TP in powers of two up to the scale-up
    domain (and ``max_gpus``); EP = TP for MoE models (and 1); DP attention on or off."""
    domain = scale_up_gpus(load_gpu(gpu_name))
    moe = model.arch.is_moe
    tp = 1
    while tp <= min(domain, max_gpus):
        for ep in sorted({1, tp}) if moe else (1,):
            for dpa in (False, True) if (moe and tp > 1) else (False,):
                yield Pool(gpu_name, 1, tp, ep, 1, dpa)
        tp *= 2


def fitting_workers(model: Model, pools: Iterable[Pool], serving: Serving) -> list[Worker]:
    """The workers of ``pools`` whose memory fits (the rest cannot run)."""
    out = []
    for pool in pools:
        try:
            worker = Worker(model, load_gpu(pool.gpu), pool, serving)
        except DeepfitError:
            continue  # a layout the model cannot take (heads not divisible ...)
        if worker.fits:
            out.append(worker)
    return out


def gpu_weights(names: set[str]) -> tuple[dict[str, float], str]:
    """What one GPU of each type counts in the objective: 1 (the GPU count) for one type;
    the catalogue's cheapest US$/GPU-hour when the pools use two types that both have one."""
    ones = {n: 1.0 for n in names}
    if len(names) == 1:
        return ones, "GPUs"
    prices = {n: cloud_price(load_gpu(n)) for n in names}
    if any(p is None for p in prices.values()):
        return ones, "GPUs (a GPU type has no price in the catalogue)"
    return {n: p.usd_per_gpu_hour for n, p in prices.items() if p is not None}, "US$/hour"


def split_cost(est: DisaggEstimate, weights: Mapping[str, float] | None = None) -> float:
    w = weights or {}
    pre, dec = est.prefill, est.decode
    return pre.gpus * w.get(pre.gpu, 1.0) + dec.gpus * w.get(dec.gpu, 1.0)


def best_split(
    prefill: list[Worker], decode: list[Worker], targets: DisaggTargets, max_gpus: int,
    link: str = "auto", weights: Mapping[str, float] | None = None,
) -> tuple[DisaggEstimate | None, int]:  # fmt: skip
    """The feasible (layouts, P, D) of the least cost (GPUs, or US$/hour with ``weights``),
    then TTFT, then TPOT, and how many points were tried."""
    w = weights or {}
    best: DisaggEstimate | None = None
    best_key = (math.inf, math.inf, math.inf)
    tried = 0
    for pre in prefill:
        for dec in decode:
            pair = PoolPair(pre, dec, link)
            gp, gd = pre.pool.gpus_per_worker, dec.pool.gpus_per_worker
            cp, cd = gp * w.get(pre.pool.gpu, 1.0), gd * w.get(dec.pool.gpu, 1.0)
            # bounds that skip only points that cannot meet the targets: no decode step is
            # faster than with one sequence, no prompt faster than on an idle worker
            fastest = dec.tpot(1)
            # the KV transfer is never quicker than over the pools' own scale-up link
            moved = min(pair.transfer(gp + gd).seconds, pair.transfer(max_gpus + 1).seconds)
            fastest_after = fastest + moved
            idle = prefill_side(pair, 1, 0.0)[0]
            if fastest > targets.tpot_s or idle + fastest_after > targets.ttft_s:
                continue
            # fewer prefill workers than this cannot take the rate at all
            p = max(1, math.floor(targets.rate / pre.prefill_requests_per_s) + 1)
            while p * gp + gd <= max_gpus and p * cp + cd <= best_key[0]:
                if prefill_side(pair, p, targets.rate)[0] + fastest_after > targets.ttft_s:
                    p += 1  # no decode count brings TTFT under the target with this P
                    continue
                d = 1
                while p * gp + d * gd <= max_gpus and p * cp + d * cd <= best_key[0]:
                    tried += 1
                    est = estimate_pair(pair, p, d, rate=targets.rate)
                    if targets.met(est.ttft_s, est.tpot_s):
                        key = (p * cp + d * cd, est.ttft_s, est.tpot_s)
                        if key < best_key:
                            best, best_key = est, key
                        break  # more decode workers only add cost
                    if est.decode_running_per_worker <= 1 and est.transfer.link.kind != "pcie":
                        # one sequence per worker already: more workers change only the
                        # link, to the network, which is no faster than NVLink / xGMI
                        break
                    d += 1
                p += 1
    return best, tried


def best_aggregated(
    model: Model, gpus: list[str], targets: DisaggTargets, serving: Serving, max_gpus: int,
    weights: Mapping[str, float] | None = None,
) -> AggregatedOption | None:  # fmt: skip
    """The aggregated deployment of the least cost that meets the targets, if any."""
    w = weights or {}
    best: AggregatedOption | None = None
    best_key = (math.inf, math.inf)
    for gpu in gpus:
        for worker in fitting_workers(model, worker_layouts(model, gpu, max_gpus), serving):
            option = _aggregated(model, worker, targets, serving)
            if option is None or option.gpus > max_gpus:
                continue
            key = (option.gpus * w.get(gpu, 1.0), option.ttft_s)
            if key < best_key:
                best, best_key = option, key
    return best


def _aggregated(
    model: Model, worker: Worker, targets: DisaggTargets, serving: Serving
) -> AggregatedOption | None:
    """The most sequences per replica of ``worker``'s layout that meet both targets
    (bisection: TTFT and TPOT grow with the batch), and the replicas the rate needs."""
    pool = worker.pool

    def at(n: int) -> Any:
        return estimate_perf(
            model,
            worker.gpu,
            input_len=serving.input_len,
            output_len=serving.output_len,
            concurrency=n,
            gpus=pool.gpus_per_worker,
            tp=pool.tp,
            ep=pool.ep,
            weights=serving.weights,
            kv_dtype=serving.kv_dtype,
            engine=serving.engine,
            dp_attention=pool.dp_attention,
        )

    first = at(1)
    if not targets.met(first.ttft_s, first.tpot_s):
        return None
    lo, hi = 1, max(1, worker.mem.max_concurrency)
    chosen = first
    while lo < hi:
        mid = (lo + hi + 1) // 2
        est = at(mid)
        if targets.met(est.ttft_s, est.tpot_s):
            lo, chosen = mid, est
        else:
            hi = mid - 1
    per_replica = chosen.output_tokens_per_s / serving.output_len
    replicas = max(1, math.ceil(targets.rate / per_replica))
    return AggregatedOption(
        Pool(pool.gpu, replicas, pool.tp, pool.ep, pool.pp, pool.dp_attention),
        chosen.concurrency,
        chosen.ttft_s,
        chosen.tpot_s,
        per_replica,
        chosen.source,
    )


def plan_disagg(
    model: Model,
    targets: DisaggTargets,
    *,
    prefill_gpu: str,
    decode_gpu: str | None = None,
    max_gpus: int = 64,
    engine: str = "sglang",
    weights: str = "auto",
    kv_dtype: str = "auto",
    link: str = "auto",
) -> DisaggPlan:
    """The P:D split that meets ``targets`` on the fewest GPUs, against aggregated serving
    on the same GPU types (see the module docstring). Raises :class:`InfeasibleError` when
    neither meets the targets within ``max_gpus``."""
    targets.check()
    if not 2 <= max_gpus <= MAX_GPUS:
        raise BadInputError(f"the GPU budget must be 2 to {MAX_GPUS:,} GPUs", "e.g. --max-gpus 64")
    decode_gpu = decode_gpu or prefill_gpu
    serving = Serving(targets.input_len, targets.output_len, engine, weights, kv_dtype)
    pre = fitting_workers(model, worker_layouts(model, prefill_gpu, max_gpus), serving)
    dec = fitting_workers(model, worker_layouts(model, decode_gpu, max_gpus), serving)
    per_gpu, objective = gpu_weights({prefill_gpu, decode_gpu})
    split, tried = best_split(pre, dec, targets, max_gpus, link, per_gpu)
    types = sorted({prefill_gpu, decode_gpu})
    agg = best_aggregated(model, types, targets, serving, max_gpus, per_gpu)
    if split is None and agg is None:
        raise InfeasibleError(
            f"neither disaggregated nor aggregated serving meets TTFT <= {targets.ttft_s:g} s "
            f"and TPOT <= {targets.tpot_s:g} s at {targets.rate:g} requests/s on "
            f"{max_gpus} GPUs or fewer",
            "raise --max-gpus, relax --ttft / --tpot, or lower --rate",
        )
    verdict, reason = _verdict(split, agg, per_gpu, objective)
    return DisaggPlan(targets, split, agg, verdict, reason, tried, objective)


def _n(gpus: int) -> str:
    return "1 GPU" if gpus == 1 else f"{gpus} GPUs"


def _verdict(
    split: DisaggEstimate | None,
    agg: AggregatedOption | None,
    weights: Mapping[str, float],
    objective: str,
) -> tuple[str, str]:
    if split is None:
        assert agg is not None
        return "do not disaggregate", (
            f"no prefill/decode split meets the targets; aggregated serving does on {_n(agg.gpus)}"
        )
    if agg is None:
        return "disaggregate", (
            f"aggregated serving misses the targets; {split.ratio} on {_n(split.gpus)} meets them"
        )
    agg_cost, split_at = agg.gpus * weights.get(agg.pool.gpu, 1.0), split_cost(split, weights)
    if objective == "US$/hour":
        cheaper = agg_cost <= split_at
        costs = f"US${agg_cost:,.2f}/h aggregated against US${split_at:,.2f}/h split"
        return ("do not disaggregate" if cheaper else "disaggregate"), (
            f"{costs} ({_n(agg.gpus)} aggregated, {split.ratio} on {_n(split.gpus)})"
        )
    if agg_cost <= split_at:
        return "do not disaggregate", (
            f"aggregated serving meets the targets on {_n(agg.gpus)}, the best split "
            f"({split.ratio}) needs {split.gpus}"
        )
    return "disaggregate", (
        f"{split.ratio} meets the targets on {_n(split.gpus)}; aggregated serving needs {agg.gpus}"
    )
