"""Plans, rejections and the search's answer, as JSON-ready records."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Plan:
    """One deployment that meets every target. Seconds, tokens/s, US$."""

    gpu: str
    gpus: int
    weights: str
    kv_dtype: str
    tp: int
    pp: int
    ep: int
    dp: int
    concurrency: int
    ttft_s: float
    tpot_s: float
    output_tokens_per_s: float
    usd_per_hour: float | None
    usd_per_million_tokens: float | None
    why: str
    engine: str = "vllm"
    bound: str = "memory"
    price_offer: str | None = None
    dp_attention: bool = False  # attention data-parallel over the tp ranks, experts by EP
    #: what the weight format costs in quality (None: the model's own precision)
    quality: str | None = None

    @property
    def per_gpu_tokens_per_s(self) -> float:
        return self.output_tokens_per_s / self.gpus

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["output_tokens_per_s_per_gpu"] = self.per_gpu_tokens_per_s
        out["output_tokens_per_s_per_user"] = 1.0 / self.tpot_s if self.tpot_s else None
        return out


@dataclass(frozen=True)
class Rejection:
    candidate: str  # a family: GPU x format (x layout)
    reason: str
    kind: str  # memory | slo | budget | unsupported | rate

    def to_dict(self) -> dict[str, str]:
        return {"candidate": self.candidate, "reason": self.reason, "kind": self.kind}


@dataclass(frozen=True)
class PlanResult:
    model: str
    objective: str
    workload: dict[str, Any]
    plans: tuple[Plan, ...]
    pareto: tuple[Plan, ...]
    rejected: tuple[Rejection, ...]
    candidates: int
    seconds: float
    notes: tuple[str, ...] = field(default=())
    #: Owning the best plan's GPUs against renting them (when own hardware was priced).
    own_hardware: dict[str, float | None] | None = None
    provenance: str = "roofline"  # of every speed in the plans: roofline, fitted, calibrated

    def to_dict(self) -> dict[str, Any]:
        out = {
            "model": self.model,
            "objective": self.objective,
            "workload": self.workload,
            "plans": [p.to_dict() for p in self.plans],
            "pareto": [p.to_dict() for p in self.pareto],
            "rejected": [r.to_dict() for r in self.rejected],
            "candidates": self.candidates,
            "search_seconds": self.seconds,
            "notes": list(self.notes),
            "provenance": self.provenance,
        }
        if self.own_hardware is not None:
            out["own_hardware"] = self.own_hardware
        return out


#: Columns of a plan table, as the CLI and the HTML report show them.
PLAN_COLUMNS = (
    "#",
    "GPUs",
    "weights/KV",
    "tp/pp/ep/dp",
    "at once",
    "TTFT ms",
    "TPOT ms",
    "output tok/s",
    "$/h",
    "$/M tokens",
)


def plan_cells(rank: int, p: dict[str, Any]) -> list[str]:
    """One plan (``Plan.to_dict()``) as the text cells of :data:`PLAN_COLUMNS`."""
    return [
        str(rank),
        f"{p['gpus']} x {p['gpu']}",
        f"{p['weights']}/{p['kv_dtype']}",
        f"{p['tp']}/{p['pp']}/{p['ep']}/{p['dp']}",
        f"{p['concurrency']:,}",
        f"{p['ttft_s'] * 1000:,.0f}",
        f"{p['tpot_s'] * 1000:,.1f}",
        f"{p['output_tokens_per_s']:,.0f}",
        "-" if p["usd_per_hour"] is None else f"{p['usd_per_hour']:,.2f}",
        "-" if p["usd_per_million_tokens"] is None else f"{p['usd_per_million_tokens']:,.3f}",
    ]


def targets_text(w: dict[str, Any]) -> str:
    """The plan's targets (``PlanResult.to_dict()["workload"]``) in words; unset ones left out."""
    parts = [
        f"{label} {w[key]}{unit}"
        for label, key, unit in (
            ("TTFT <=", "ttft_s", " s"),
            ("TPOT <=", "tpot_s", " s"),
            ("rate", "rate", " req/s"),
            ("budget", "budget_usd_per_hour", " $/h"),
        )
        if w.get(key) is not None
    ]
    return ", ".join(parts) or "no latency target"
