"""Latency as users measure it: an event-driven simulation of continuous batching over the
closed-form step model, for three load shapes (closed loop of N clients, open-loop arrivals
at a rate, a burst of N requests at once).

The engine is modelled as vLLM / SGLang schedule it: every step, each running sequence that
has finished its prompt decodes one token; the rest of the step's token budget
(``max_batched_tokens``) prefills prompts in chunks, first the sequence already in prefill,
then new requests in arrival order while fewer than ``max running`` sequences run (the
engine's cap and what the KV pool holds). A sequence emits its first token at the end of the
step that completes its prompt. The step's time comes from the step model
(``serving._pipeline_step``), tabulated once on a grid of (decode tokens, prefill tokens) and
interpolated, so a simulation of thousands of requests stays well under a second.

Per request: TTFT (arrival to first token), TPOT ((last - first token) / (output - 1)),
end-to-end latency; ITL: the gaps between a sequence's tokens, pooled. Each is reported at the
mean and at p50 / p90 / p99. Attention data parallelism and replicas split the load evenly.
"""

from __future__ import annotations

import bisect
import heapq
import math
import random
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

LoadKind = Literal["concurrency", "rate", "burst"]
StepCost = Callable[[int, int], float]  # (decode tokens, prefill tokens) -> seconds


@dataclass(frozen=True)
class Load:
    """A load shape: ``concurrency`` clients in a closed loop, Poisson (or evenly spaced)
    arrivals at ``rate`` requests/s, or a ``burst`` of ``count`` requests at once."""

    kind: LoadKind
    value: float
    requests: int = 0  # measured requests (0: chosen from the load)
    arrivals: Literal["poisson", "constant"] = "poisson"
    length_spread: float = 0.0  # lengths uniform in mean x [1 - s, 1 + s]
    seed: int = 0


@dataclass(frozen=True)
class Percentiles:
    mean: float
    p50: float
    p90: float
    p99: float

    @classmethod
    def of(cls, values: list[float], weights: list[float] | None = None) -> Percentiles:
        if not values:
            return cls(math.nan, math.nan, math.nan, math.nan)
        if weights is None:
            return cls(
                sum(values) / len(values),
                percentile(values, 50),
                percentile(values, 90),
                percentile(values, 99),
            )
        return _weighted(values, weights)


def _weighted(values: list[float], weights: list[float]) -> Percentiles:
    pairs = sorted(zip(values, weights, strict=True))
    total = sum(w for _, w in pairs)
    mean = sum(v * w for v, w in pairs) / total

    def at(q: float) -> float:
        acc = 0.0
        for v, w in pairs:
            acc += w
            if acc >= q * total:
                return v
        return pairs[-1][0]

    return Percentiles(mean, at(0.5), at(0.9), at(0.99))


@dataclass(frozen=True)
class SimResult:
    """What the simulated clients measured (seconds; tokens/s for the whole deployment)."""

    ttft: Percentiles
    tpot: Percentiles
    itl: Percentiles
    e2e: Percentiles
    output_tokens_per_s: float
    requests: int
    mean_running: float
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in ("ttft", "tpot", "itl", "e2e"):
            p: Percentiles = getattr(self, name)
            out[f"{name}_mean_s"] = p.mean
            for q in ("p50", "p90", "p99"):
                out[f"{name}_{q}_s"] = getattr(p, q)
        out["simulated_requests"] = self.requests
        out["simulated_output_tokens_per_s"] = self.output_tokens_per_s
        out["simulated_mean_running"] = self.mean_running
        return out


class StepTable:
    """Step time on a (decode tokens, prefill tokens) grid, bilinearly interpolated."""

    def __init__(self, cost: StepCost, max_decode: int, max_prefill: int) -> None:
        self.d = sorted({0, 1, 2, 3} | {2**k for k in range(2, 16) if 2**k < max_decode})
        self.d.append(max(max_decode, 4))
        self.p = sorted({0, max_prefill} | {2**k for k in range(6, 20) if 2**k < max_prefill})
        self.t = [[cost(d, p) for p in self.p] for d in self.d]
        self._cache: dict[tuple[int, int], float] = {}

    @staticmethod
    def _index(grid: list[int], x: float) -> tuple[int, float]:
        i = min(max(bisect.bisect_right(grid, x) - 1, 0), len(grid) - 2)
        return i, (x - grid[i]) / (grid[i + 1] - grid[i])

    def __call__(self, decode: int, prefill: int) -> float:
        key = (decode, prefill)
        if (hit := self._cache.get(key)) is not None:
            return hit
        i, u = self._index(self.d, decode)
        j, v = self._index(self.p, prefill)
        t = self.t
        value = (
            t[i][j] * (1 - u) * (1 - v)
            + t[i + 1][j] * u * (1 - v)
            + t[i][j + 1] * (1 - u) * v
            + t[i + 1][j + 1] * u * v
        )
        self._cache[key] = value
        return value


@dataclass
class _Req:
    arrival: float
    prompt: int  # prompt tokens still to compute
    output: int
    first: float = math.nan
    first_step: int = -1


def _lengths(rng: random.Random, mean: int, spread: float) -> int:
    if spread <= 0:
        return mean
    return max(1, round(mean * rng.uniform(1 - spread, 1 + spread)))


def simulate(
    step: StepCost,
    load: Load,
    *,
    input_tokens: int,
    output_tokens: int,
    max_running: int,
    max_batched_tokens: int,
    cached_prompt_share: float = 0.0,
    replicas: int = 1,
    request_overhead_s: float = 0.0,
) -> SimResult:
    """Simulate one replica under its share of ``load``; throughput is for all replicas."""
    rng = random.Random(load.seed)
    per = max(load.value / replicas, 1e-9)
    clients = max(1, math.ceil(per)) if load.kind == "concurrency" else 0
    measured = load.requests or _default_requests(load.kind, per, output_tokens)
    warmup = 2 * clients if load.kind == "concurrency" else 0
    total = measured + warmup

    def new(arrival: float) -> _Req:
        prompt = _lengths(rng, input_tokens, load.length_spread)
        computed = max(1, round(prompt * (1.0 - cached_prompt_share)))
        return _Req(arrival, computed, _lengths(rng, output_tokens, load.length_spread))

    arrivals: deque[_Req] = deque()
    if load.kind == "burst":
        arrivals.extend(new(0.0) for _ in range(total))
    elif load.kind == "rate":
        t = 0.0
        for _ in range(total):
            arrivals.append(new(t))
            t += rng.expovariate(per) if load.arrivals == "poisson" else 1.0 / per
    else:
        arrivals.extend(new(0.0) for _ in range(clients))
    sent = len(arrivals)
    waiting: deque[_Req] = deque()
    prefilling: deque[_Req] = deque()
    finish: list[tuple[int, int, _Req]] = []  # (step of last token, tie, request)
    decoding = 0
    now = 0.0
    times: list[float] = [0.0]  # times[k]: end of step k (k >= 1)
    decode_counts: list[int] = [0]
    done: list[_Req] = []
    lasts: list[float] = []
    running_area = 0.0
    k = 0
    tie = 0
    while len(done) < total:
        while arrivals and arrivals[0].arrival <= now:
            waiting.append(arrivals.popleft())
        active = decoding  # sequences that decode a token in this step
        running = decoding + len(prefilling)
        budget = max_batched_tokens - decoding
        prefill = 0
        joined = 0
        while budget > 0 and (prefilling or (waiting and running < max_running)):
            if not prefilling:
                prefilling.append(waiting.popleft())
                running += 1
            r = prefilling[0]
            take = min(r.prompt, budget)
            r.prompt -= take
            budget -= take
            prefill += take
            if r.prompt > 0:
                break
            prefilling.popleft()
            r.first_step = k + 1  # its first token comes with this step
            joined += 1
            heapq.heappush(finish, (k + r.output, tie, r))
            tie += 1
        if active == 0 and prefill == 0:
            if not arrivals:
                break  # nothing left to serve (all clients done)
            now = max(now, arrivals[0].arrival)
            continue
        dt = step(active, prefill)
        k += 1
        now += dt
        decoding += joined  # they decode from the next step on
        running_area += dt * (decoding + len(prefilling))
        times.append(now)
        decode_counts.append(active)
        while finish and finish[0][0] <= k:
            _, _, r = heapq.heappop(finish)
            decoding -= 1
            r.first = times[r.first_step]
            done.append(r)
            lasts.append(times[k] if r.output > 1 else r.first)
            if load.kind == "concurrency" and sent < total:
                arrivals.appendleft(new(now))
                sent += 1
    return _summarise(
        done, lasts, times, decode_counts, warmup, running_area, replicas, request_overhead_s
    )


def _default_requests(kind: LoadKind, per: float, output_tokens: int) -> int:
    if kind == "burst":
        return max(1, round(per))
    budget = 400_000 // max(output_tokens, 1)  # keeps the steps simulated to a few 10^4
    if kind == "concurrency":
        return max(min(10 * math.ceil(per), budget), 4 * math.ceil(per), 10)
    return max(min(2000, budget), 50)


def _summarise(
    done: list[_Req],
    lasts: list[float],
    times: list[float],
    decode_counts: list[int],
    warmup: int,
    running_area: float,
    replicas: int,
    overhead: float,
) -> SimResult:
    """Per-request figures; ``overhead`` (outside the steps) adds to TTFT and end to end."""
    kept = list(zip(done, lasts, strict=True))[warmup:]
    ttft = [r.first - r.arrival + overhead for r, _ in kept]
    tpot = [(last - r.first) / (r.output - 1) for r, last in kept if r.output > 1]
    e2e = [last - r.arrival + overhead for r, last in kept]
    gaps = [times[i] - times[i - 1] for i in range(2, len(times))]
    weights = [float(decode_counts[i]) for i in range(2, len(times))]
    pairs = [(g, w) for g, w in zip(gaps, weights, strict=True) if w > 0]
    start = min((r.arrival for r, _ in kept), default=0.0)
    end = max(lasts[warmup:], default=0.0)
    tokens = sum(r.output for r, _ in kept)
    span = max(end - start, 1e-12)
    return SimResult(
        Percentiles.of(ttft),
        Percentiles.of(tpot),
        Percentiles.of([g for g, _ in pairs], [w for _, w in pairs]),
        Percentiles.of(e2e),
        tokens / span * replicas,
        len(kept),
        running_area / max(times[-1], 1e-12),
    )


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default); NaN for no values."""
    if not values:
        return float("nan")
    data = sorted(values)
    pos = (len(data) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)
