"""KV offload tiers below the GPU: host RAM (vLLM's offloading connector, LMCache's CPU
backend, SGLang HiCache L2) and a local disk (LMCache's disk backend, HiCache's file L3).

For each tier: the tokens it holds, the time to bring a cached prefix back, and the
time-to-first-token with and without it at a range of prefix hit rates, from a prefill-time
function the caller passes in (the core stays free of the performance model's imports).

Transfer model (vLLM blog "Inside vLLM's New Offloading Connector", 2025-12-29: each worker
copies its own KV blocks with cudaMemcpyAsync; stores are asynchronous, "minimal effect on
TTFT for cache misses"): from host RAM every GPU reads its own share over its own host link
in parallel; from disk the replica's bytes come through the node's drives (the rate the user
states), and no faster than the host links. A store never blocks a request here, so a tier
pays at any hit rate where reading a token back is faster than recomputing it, and never
where it is slower; ``break_even_hit_rate`` is the lowest hit rate at which the mean TTFT
with the tier is lower than without.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import BadInputError

#: hit rates the answer is tabulated at (the last stands for "the whole prompt but the
#: token the engine always recomputes")
HIT_RATES = (0.25, 0.5, 0.75, 0.9, 0.99)
_SCAN = tuple(i / 100 for i in range(1, 100))


@dataclass(frozen=True)
class TierSpec:
    """One tier as the user describes it: bytes for the whole replica and its read rate."""

    name: str  # "cpu" or "disk"
    capacity_bytes: int
    read_bytes_per_s: float  # cpu: per GPU (its host link); disk: the node's drives
    source: str


@dataclass(frozen=True)
class KvLayout:
    """KV of one replica: bytes per token on the busiest GPU and over all its GPUs."""

    per_gpu_bytes_per_token: float
    replica_bytes_per_token: float
    gpus: int
    gpus_per_node: int
    host_link_bytes_per_s: float


@dataclass(frozen=True)
class TierAnswer:
    name: str
    capacity_bytes: int
    tokens: int
    sequences: int  # prompts of the asked length the tier holds
    read_bytes_per_s: float
    load_s_per_token: float
    recompute_s_per_token: float
    ttft_by_hit: tuple[tuple[float, float], ...]
    break_even_hit_rate: float | None
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "tier": self.name,
            "capacity_bytes": self.capacity_bytes,
            "tokens": self.tokens,
            "sequences": self.sequences,
            "read_bytes_per_s": self.read_bytes_per_s,
            "load_s_per_token": self.load_s_per_token,
            "recompute_s_per_token": self.recompute_s_per_token,
            "ttft_s": [{"hit_rate": h, "ttft_s": t} for h, t in self.ttft_by_hit],
            "break_even_hit_rate": self.break_even_hit_rate,
            "pays": self.break_even_hit_rate is not None,
            "source": self.source,
        }


def load_seconds(tier: TierSpec, kv: KvLayout, tokens: float) -> float:
    """Seconds to bring ``tokens`` of one sequence back from ``tier`` to the GPUs."""
    link = tokens * kv.per_gpu_bytes_per_token / kv.host_link_bytes_per_s
    if tier.name == "cpu":
        return tokens * kv.per_gpu_bytes_per_token / tier.read_bytes_per_s
    nodes = -(-kv.gpus // kv.gpus_per_node)
    return max(link, tokens * kv.replica_bytes_per_token / (tier.read_bytes_per_s * nodes))


def tier_answer(
    tier: TierSpec, kv: KvLayout, prompt: int, prefill: Callable[[float], float]
) -> TierAnswer:
    """``prefill(h)``: the TTFT (s) of a ``prompt``-token request whose first ``h`` share is
    already on the GPU (``prefill(0)`` recomputes everything)."""
    if tier.capacity_bytes <= 0 or tier.read_bytes_per_s <= 0:
        raise BadInputError(f"the {tier.name} tier needs a size and a read rate above 0")
    tokens = int(tier.capacity_bytes // kv.replica_bytes_per_token)
    cold = prefill(0.0)

    def ttft(h: float) -> float:
        return prefill(h) + load_seconds(tier, kv, h * prompt)

    table = tuple((h, ttft(h)) for h in HIT_RATES)
    even = next((h for h in _SCAN if ttft(h) < cold), None)
    return TierAnswer(
        tier.name,
        tier.capacity_bytes,
        tokens,
        tokens // prompt,
        tier.read_bytes_per_s,
        load_seconds(tier, kv, 1.0),
        (cold - prefill(HIT_RATES[-1])) / (HIT_RATES[-1] * prompt),
        table,
        even,
        tier.source,
    )
