"""Choosing among feasible plans: ranking by the objective, the Pareto front of throughput
per GPU against speed per user, and the reason each rejected family was rejected."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .result import Plan, Rejection

if TYPE_CHECKING:
    from .targets import Targets

TOP = 5


def _key(objective: str) -> Any:
    if objective == "cost":
        # unpriced plans last; among them, the usual tie-breaks
        return lambda p: (
            (1, 0.0) if p.usd_per_million_tokens is None else (0, p.usd_per_million_tokens),
            p.gpus,
            p.tpot_s,
        )
    if objective == "throughput":
        return lambda p: (-p.per_gpu_tokens_per_s, p.gpus, p.tpot_s)
    return lambda p: (p.tpot_s, p.ttft_s, p.gpus)


def _why(p: Plan, objective: str, runner_up: Plan | None) -> str:
    parts = [
        f"{p.gpus} x {p.gpu} ({p.weights} weights, KV {p.kv_dtype}, tp={p.tp} pp={p.pp}"
        f"{f' ep={p.ep}' if p.ep > 1 else ''}{' DP attention' if p.dp_attention else ''}"
        f"{f' x{p.dp} replicas' if p.dp > 1 else ''})",
        f"{p.concurrency} sequences at once: TTFT {p.ttft_s * 1000:.0f} ms, "
        f"{p.tpot_s * 1000:.1f} ms per token, {p.output_tokens_per_s:,.0f} output tokens/s "
        f"({p.bound}-bound)",
    ]
    if p.usd_per_million_tokens is not None:
        parts.append(
            f"${p.usd_per_hour:,.2f}/h ({p.price_offer}) = "
            f"${p.usd_per_million_tokens:,.3f} per million output tokens"
        )
    if (
        runner_up is not None
        and objective == "cost"
        and runner_up.usd_per_million_tokens
        and p.usd_per_million_tokens
    ):
        saving = 1 - p.usd_per_million_tokens / runner_up.usd_per_million_tokens
        parts.append(
            f"{saving:.0%} cheaper per token than the next family "
            f"({runner_up.gpu}, {runner_up.weights})"
        )
    return "; ".join(parts)


def best_plans(found: list[Plan], objective: str, top: int = TOP) -> list[Plan]:
    """The best plan of each GPU x format family, ranked by the objective, best first."""
    best: dict[tuple[str, str], Plan] = {}
    key = _key(objective)
    for p in found:
        fam = (p.gpu, p.weights)
        if fam not in best or key(p) < key(best[fam]):
            best[fam] = p
    ranked = sorted(best.values(), key=key)[:top]
    return [
        replace(p, why=_why(p, objective, ranked[i + 1] if i + 1 < len(ranked) else None))
        for i, p in enumerate(ranked)
    ]


def pareto_front(found: list[Plan], limit: int = 24) -> list[Plan]:
    """Plans no other plan beats on both output tokens/s per GPU and tokens/s per user."""
    ordered = sorted(found, key=lambda p: (p.tpot_s, -p.per_gpu_tokens_per_s))
    front: list[Plan] = []
    best_tput = -1.0
    for p in ordered:
        if p.per_gpu_tokens_per_s > best_tput:
            front.append(p)
            best_tput = p.per_gpu_tokens_per_s
    if len(front) > limit:
        step = len(front) / limit
        front = [front[int(i * step)] for i in range(limit)]
    return [
        replace(
            p, why=f"{1 / p.tpot_s:,.1f} tokens/s per user, {p.per_gpu_tokens_per_s:,.0f} per GPU"
        )
        for p in front
    ]


def rejections(families: dict[tuple[str, str], Any], targets: Targets) -> list[Rejection]:
    out = []
    for (gpu, fmt), acc in sorted(families.items()):
        name = f"{gpu} x {fmt}"
        if acc.unsupported and acc.unsupported.startswith("quality:"):
            out.append(Rejection(name, acc.unsupported, "quality"))
        elif acc.unsupported:
            out.append(Rejection(name, acc.unsupported, "unsupported"))
        elif not acc.fits:
            out.append(
                Rejection(
                    name,
                    "weights and one sequence's KV cache do not fit in any "
                    "layout up to the GPU limit",
                    "memory",
                )
            )
        elif not acc.slo_ok:
            out.append(
                Rejection(
                    name,
                    f"best TTFT {acc.best_ttft * 1000:.0f} ms and best "
                    f"{acc.best_tpot * 1000:.1f} ms per token miss the targets "
                    f"(TTFT {_ms(targets.ttft_s)}, TPOT {_ms(targets.tpot_s)})",
                    "slo",
                )
            )
        elif not acc.rate_ok:
            out.append(
                Rejection(
                    name,
                    f"at most {acc.best_tokens:,.0f} output tokens/s within "
                    f"the latency targets; {targets.rate} requests/s need "
                    f"{(targets.rate or 0) * targets.output_len:,.0f}",
                    "rate",
                )
            )
        elif targets.budget_usd_per_hour is not None and acc.cheapest > (
            targets.budget_usd_per_hour
        ):
            cheapest = (
                "no price in the catalogue"
                if acc.cheapest == float("inf")
                else f"the cheapest that meets the targets costs ${acc.cheapest:,.2f}/h"
            )
            out.append(
                Rejection(
                    name,
                    f"{cheapest}, over the ${targets.budget_usd_per_hour:,.2f}/h budget",
                    "budget",
                )
            )
    return out


def _ms(value: float | None) -> str:
    return "none" if value is None else f"{value * 1000:.0f} ms"
