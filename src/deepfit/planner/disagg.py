"""The P:D split: the fewest GPUs of disaggregated prefill/decode serving that meet TTFT and
TPOT targets at a request rate, side by side with aggregated serving, and the answer
"do not disaggregate" when aggregated serving needs no more GPUs.

Disaggregated: every prefill worker layout x decode worker layout that fits (TP 1..domain,
EP 1 or TP for MoE models, with and without data-parallel attention), and for each pair the
smallest decode count ``D`` that meets the targets for each prefill count ``P``
(:func:`~deepfit.perf.disagg.estimate_pair` at the open-loop rate; more workers on either
side never hurt, so the first feasible ``D`` is the pair's best for that ``P``). The
objective is the total GPU count, then TTFT, then TPOT.

Aggregated: every layout that fits, with the most sequences per replica that still meet
both targets (:func:`~deepfit.perf.api.estimate_perf`, chunked prefill mixed into decode
steps), and as many replicas as the rate needs. Ties go to aggregated serving: one pool is
simpler to run.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import BadInputError, DeepfitError, InfeasibleError
from ..hardware import load_gpu
from ..models.loader import Model
from ..perf import estimate_perf
from ..perf.comm import scale_up_gpus
from ..perf.disagg import DisaggEstimate, PoolPair, estimate_pair
from ..perf.disagg_pools import Pool, Serving, Worker


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


def _key(est: DisaggEstimate) -> tuple[float, float, float]:
    return (est.gpus, est.ttft_s, est.tpot_s)


def best_split(
    prefill: list[Worker], decode: list[Worker], targets: DisaggTargets, max_gpus: int,
    link: str = "auto",
) -> tuple[DisaggEstimate | None, int]:  # fmt: skip
    """The feasible (layouts, P, D) with the fewest GPUs, and how many points were tried."""
    best: DisaggEstimate | None = None
    tried = 0
    for pre in prefill:
        for dec in decode:
            pair = PoolPair(pre, dec, link)
            gp, gd = pre.pool.gpus_per_worker, dec.pool.gpus_per_worker
            p = 1
            while p * gp + gd <= max_gpus:
                d = 1
                while p * gp + d * gd <= max_gpus:
                    if best is not None and p * gp + d * gd > best.gpus:
                        break
                    tried += 1
                    est = estimate_pair(pair, p, d, rate=targets.rate)
                    if targets.met(est.ttft_s, est.tpot_s):
                        if best is None or _key(est) < _key(best):
                            best = est
                        break  # more decode workers only add GPUs
                    d += 1
                p += 1
    return best, tried


def best_aggregated(
    model: Model, gpus: list[str], targets: DisaggTargets, serving: Serving, max_gpus: int
) -> AggregatedOption | None:
    """The aggregated deployment with the fewest GPUs that meets the targets, if any."""
    best: AggregatedOption | None = None
    for gpu in gpus:
        for worker in fitting_workers(model, worker_layouts(model, gpu, max_gpus), serving):
            option = _aggregated(model, worker, targets, serving)
            if option is None or option.gpus > max_gpus:
                continue
            if best is None or (option.gpus, option.ttft_s) < (best.gpus, best.ttft_s):
                best = option
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
    if max_gpus < 2:
        raise BadInputError("disaggregated serving needs at least 2 GPUs", "e.g. --max-gpus 16")
    decode_gpu = decode_gpu or prefill_gpu
    serving = Serving(targets.input_len, targets.output_len, engine, weights, kv_dtype)
    pre = fitting_workers(model, worker_layouts(model, prefill_gpu, max_gpus), serving)
    dec = fitting_workers(model, worker_layouts(model, decode_gpu, max_gpus), serving)
    split, tried = best_split(pre, dec, targets, max_gpus, link)
    agg = best_aggregated(model, sorted({prefill_gpu, decode_gpu}), targets, serving, max_gpus)
    if split is None and agg is None:
        raise InfeasibleError(
            f"neither disaggregated nor aggregated serving meets TTFT <= {targets.ttft_s:g} s "
            f"and TPOT <= {targets.tpot_s:g} s at {targets.rate:g} requests/s on "
            f"{max_gpus} GPUs or fewer",
            "raise --max-gpus, relax --ttft / --tpot, or lower --rate",
        )
    verdict, reason = _verdict(split, agg)
    return DisaggPlan(targets, split, agg, verdict, reason, tried)


def _n(gpus: int) -> str:
    return "1 GPU" if gpus == 1 else f"{gpus} GPUs"


def _verdict(split: DisaggEstimate | None, agg: AggregatedOption | None) -> tuple[str, str]:
    if split is None:
        assert agg is not None
        return "do not disaggregate", (
            f"no prefill/decode split meets the targets; aggregated serving does on {_n(agg.gpus)}"
        )
    if agg is None:
        return "disaggregate", (
            f"aggregated serving misses the targets; {split.ratio} on {_n(split.gpus)} meets them"
        )
    if agg.gpus <= split.gpus:
        return "do not disaggregate", (
            f"aggregated serving meets the targets on {_n(agg.gpus)}, the best split "
            f"({split.ratio}) needs {split.gpus}"
        )
    return "disaggregate", (
        f"{split.ratio} meets the targets on {_n(split.gpus)}; aggregated serving needs {agg.gpus}"
    )
