"""Per-level statistics of a bench: latency percentiles, throughput and goodput under SLOs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .results import RequestRecord

PERCENTILES = (50, 90, 99)


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (numpy's default), None for no values."""
    if not values:
        return None
    xs = sorted(values)
    k = (len(xs) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


@dataclass(frozen=True)
class Slo:
    """Service-level objectives for goodput, in seconds (None: not checked)."""

    ttft_s: float | None = None
    tpot_s: float | None = None
    e2e_s: float | None = None

    def met(self, r: RequestRecord) -> bool:
        checks = ((self.ttft_s, r.ttft_s), (self.tpot_s, r.tpot_s), (self.e2e_s, r.e2e_s))
        return r.ok and all(lim is None or (v is not None and v <= lim) for lim, v in checks)


@dataclass(frozen=True)
class LevelStats:
    """One level's numbers. Rates are per second of the level's wall time."""

    level: str
    requests: int
    ok: int
    errors: int
    unfinished: int
    wall_s: float
    prompt_tokens_mean: float | None
    completion_tokens_mean: float | None
    output_tokens_per_s: float
    requests_per_s: float
    goodput_requests_per_s: float | None
    mean_concurrency: float
    token_source: str  # "usage", "chunks" or "mixed"
    latency: dict[str, dict[str, float | None]]  # metric -> {"mean", "p50", "p90", "p99"}
    error_kinds: dict[str, int] = field(default_factory=dict)
    stopped: str | None = None

    def p(self, metric: str, q: str = "p50") -> float | None:
        return self.latency.get(metric, {}).get(q)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "summary", **self.__dict__}


def level_stats(
    level: str,
    records: Sequence[RequestRecord],
    wall_s: float | None = None,
    slo: Slo | None = None,
    unfinished: int = 0,
    stopped: str | None = None,
) -> LevelStats:
    """Statistics of one level's records. ``wall_s`` defaults to first start to last end."""
    ok = [r for r in records if r.ok]
    if wall_s is None:
        ends = [r.start_s + (r.e2e_s or 0.0) for r in records]
        wall_s = max(ends) - min(r.start_s for r in records) if records else 0.0
    wall = max(wall_s, 1e-9)
    out_tokens = sum(r.completion_tokens or 0 for r in ok)
    sources = {r.token_source for r in ok}
    series = {
        "ttft_s": [r.ttft_s for r in ok if r.ttft_s is not None],
        "tpot_s": [t for r in ok if (t := r.tpot_s) is not None],
        "itl_s": [x for r in ok for x in r.itl_s],
        "e2e_s": [r.e2e_s for r in ok if r.e2e_s is not None],
    }
    latency = {
        name: {"mean": sum(v) / len(v) if v else None}
        | {f"p{q}": percentile(v, q) for q in PERCENTILES}
        for name, v in series.items()
    }
    kinds = Counter((r.error or "").split(":")[0] for r in records if not r.ok)
    return LevelStats(
        level=level,
        requests=len(records),
        ok=len(ok),
        errors=len(records) - len(ok),
        unfinished=unfinished,
        wall_s=wall_s,
        prompt_tokens_mean=_mean([r.prompt_tokens for r in ok if r.prompt_tokens is not None]),
        completion_tokens_mean=_mean([float(r.completion_tokens or 0) for r in ok]),
        output_tokens_per_s=out_tokens / wall,
        requests_per_s=len(ok) / wall,
        goodput_requests_per_s=sum(slo.met(r) for r in ok) / wall if slo else None,
        mean_concurrency=sum(r.e2e_s or 0.0 for r in records) / wall,  # Little's law
        token_source="mixed" if len(sources) > 1 else (sources.pop() if sources else "usage"),
        latency=latency,
        error_kinds=dict(kinds),
        stopped=stopped,
    )


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None
