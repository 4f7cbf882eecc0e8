"""Measured next to predicted: ``estimate_perf`` for the bench's deployment, lengths and
concurrency, and the relative error of each prediction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..api import estimate_perf, load_gpu, load_model
from ..perf import PerfEstimate
from .profile import profile_overrides
from .results import Deployment
from .stats import LevelStats


@dataclass(frozen=True)
class Row:
    """One quantity: measured, predicted and ``error = predicted / measured - 1``."""

    quantity: str
    measured: float | None
    predicted: float

    @property
    def error(self) -> float | None:
        return self.predicted / self.measured - 1 if self.measured else None

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "error": self.error}


@dataclass(frozen=True)
class Comparison:
    level: str
    input_len: int
    output_len: int
    concurrency: int
    source: str  # the prediction's: "roofline" or "calibrated"
    rows: tuple[Row, ...]
    notes: tuple[str, ...] = ()

    def row(self, quantity: str) -> Row:
        return next(r for r in self.rows if r.quantity == quantity)

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "input_len": self.input_len,
            "output_len": self.output_len,
            "concurrency": self.concurrency,
            "source": self.source,
            "rows": [r.to_dict() for r in self.rows],
            "notes": list(self.notes),
        }


def workload_of(stats: LevelStats, requested_input: int | None = None) -> tuple[int, int, int]:
    """(input_len, output_len, concurrency) for a prediction of this level: the mean token
    counts the server reported, and the level's concurrency (Little's law for a rate)."""
    inp = stats.prompt_tokens_mean or requested_input or 1
    out = stats.completion_tokens_mean or 1
    if stats.level.startswith("c="):
        conc = int(stats.level[2:])
    else:
        conc = max(1, round(stats.mean_concurrency))
    return max(1, round(inp)), max(1, round(out)), conc


def predict(
    dep: Deployment,
    input_len: int,
    output_len: int,
    concurrency: int,
    efficiency: dict[str, float] | None = None,
    use_profile: bool = True,
) -> PerfEstimate:
    """``estimate_perf`` for a bench deployment; the user's calibration profile applies
    unless ``efficiency`` is given or ``use_profile`` is False."""
    assert dep.model and dep.gpu and dep.engine, "deployment lacks model, gpu or engine"
    gpu = load_gpu(dep.gpu)
    if efficiency is None and use_profile:
        efficiency = profile_overrides(dep.engine, gpu.name)
    return estimate_perf(
        load_model(dep.model),
        gpu,
        input_len=input_len,
        output_len=output_len,
        concurrency=concurrency,
        gpus=dep.gpus,
        tp=dep.tp,
        weights=dep.weights,
        kv_dtype=dep.kv_dtype,
        engine=dep.engine,
        efficiency=efficiency,
    )


def compare(
    dep: Deployment,
    stats: LevelStats,
    requested_input: int | None = None,
    use_profile: bool = True,
) -> Comparison:
    """Measured medians (TTFT, TPOT) and throughput against deepfit's prediction."""
    inp, out, conc = workload_of(stats, requested_input)
    est = predict(dep, inp, out, conc, use_profile=use_profile)
    rows = (
        Row("ttft_s", stats.p("ttft_s"), est.ttft_s),
        Row("tpot_s", stats.p("tpot_s"), est.tpot_s),
        Row("output_tokens_per_s", stats.output_tokens_per_s or None, est.output_tokens_per_s),
        Row("decode_tokens_per_s_per_user", _inv(stats.p("tpot_s")), 1 / est.tpot_s),
    )
    notes = list(est.notes)
    if stats.token_source != "usage":
        notes.append("token counts from streamed chunks (the server sent no usage): approximate")
    return Comparison(stats.level, inp, out, conc, est.source, rows, tuple(notes))


def _inv(x: float | None) -> float | None:
    return 1 / x if x else None
