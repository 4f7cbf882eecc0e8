"""What a weight format costs in quality, only from a cited published measurement.

``quality_for(model_id, fmt)`` answers in this order:

1. **measured**: a row of ``data/effects.csv`` for that model and format. Rows measured
   on the Instruct fine-tune of a catalogue base model count as that model's own
   (``measured_model`` says which weights were measured).
2. **estimate** (``estimate=True``, ``from_model`` set): a row for a declared proxy of the
   model (``data/models.json`` ``proxies``, each with its reason), else a row of the same
   family with the nearest size (ratio of parameter counts), same format.
3. ``None``: not measured. deepfit then says "not measured", never a guess.

Sign convention: ``relative_change = (quantized - baseline) / baseline``, as published.
``loss_percent`` is the degradation in percent of the baseline, positive = worse: for
perplexity (lower is better) it is ``+100 * relative_change``; for accuracy (higher is
better) it is ``-100 * relative_change``. ``delta`` is ``quantized - baseline`` in the
metric's own units (perplexity, or accuracy points).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from .table import ModelInfo, PublishedEffect, load_effects, load_models, load_proxies

__all__ = ["QualityEffect", "SeedCell", "quality_floor_ok", "quality_for", "seed_claims_table"]


@dataclass(frozen=True)
class QualityEffect:
    """A cited quality effect of serving ``model_id`` in format ``fmt``.

    ``estimate`` is True when the number was measured on ``from_model``, not on
    ``model_id``; ``basis`` says how that model was chosen ("measured", "proxy",
    "nearest size in family").
    """

    model_id: str
    fmt: str
    metric: str
    benchmark: str
    baseline: float
    quantized: float
    baseline_format: str
    source: str
    note: str
    estimate: bool
    from_model: str
    measured_model: str
    published_format: str
    basis: str

    @property
    def relative_change(self) -> float:
        """(quantized - baseline) / baseline, signed as published (a fraction)."""
        return (self.quantized - self.baseline) / self.baseline

    @property
    def delta(self) -> float:
        """quantized - baseline, in the metric's units."""
        return self.quantized - self.baseline

    @property
    def loss_percent(self) -> float:
        """Degradation in percent of the baseline; positive = worse, negative = better."""
        sign = 1.0 if self.metric == "perplexity" else -1.0
        return sign * 100.0 * self.relative_change + 0.0  # + 0.0: no "-0.00"

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["relative_change"] = self.relative_change
        out["delta"] = self.delta
        out["loss_percent"] = self.loss_percent
        return out


def _key(model_id: str) -> str:
    return model_id.strip().lower()


def _on(benchmark: str, query: str) -> bool:
    """Whether ``benchmark`` ("GSM8K 5-shot") is the one named by ``query`` ("gsm8k"): a
    case-insensitive prefix, so "GSM8K" does not match the OpenLLM average that lists it."""
    return benchmark.lower().startswith(query.strip().lower())


def _rows(model_id: str, fmt: str, benchmark: str | None) -> list[PublishedEffect]:
    rows = [
        r
        for r in load_effects()
        if _key(r.model_id) == _key(model_id) and r.format == fmt.strip().lower()
    ]
    if benchmark is not None:
        rows = [r for r in rows if _on(r.benchmark, benchmark)]
    return rows


def _effect(query: str, row: PublishedEffect, basis: str) -> QualityEffect:
    return QualityEffect(
        model_id=query,
        fmt=row.format,
        metric=row.metric,
        benchmark=row.benchmark,
        baseline=row.baseline,
        quantized=row.quantized,
        baseline_format=row.baseline_format,
        source=row.source,
        note=row.note,
        estimate=basis != "measured",
        from_model=row.model_id,
        measured_model=row.measured_model,
        published_format=row.published_format,
        basis=basis,
    )


def _info(model_id: str) -> ModelInfo | None:
    return {_key(k): v for k, v in load_models().items()}.get(_key(model_id))


def _nearest_in_family(model_id: str, fmt: str, benchmark: str | None) -> PublishedEffect | None:
    """The headline row, for this format, of the same-family model nearest in size."""
    me = _info(model_id)
    if me is None:
        return None
    best: tuple[float, PublishedEffect] | None = None
    for other_id in dict.fromkeys(r.model_id for r in load_effects()):
        other = _info(other_id)
        if other is None or other.family != me.family or _key(other_id) == _key(model_id):
            continue
        rows = _rows(other_id, fmt, benchmark)
        distance = abs(math.log(other.params_b / me.params_b))
        if rows and (best is None or distance < best[0]):
            best = (distance, rows[0])
    return best[1] if best else None


def quality_for(model_id: str, fmt: str, benchmark: str | None = None) -> QualityEffect | None:
    """The cited effect of format ``fmt`` (deepfit's name, e.g. "fp8", "gptq-int4",
    "gguf-q4_k_m") on ``model_id`` (a catalogue id, e.g. "meta-llama/Meta-Llama-3.1-8B"),
    else a flagged estimate from a proxy or the nearest size in the family, else None.

    ``benchmark`` (case-insensitive prefix, e.g. "MMLU", "GSM8K", "WikiText-2", "OpenLLM")
    picks a row on that benchmark; without it the model's headline row for the format.
    """
    rows = _rows(model_id, fmt, benchmark)
    if rows:
        return _effect(model_id, rows[0], "measured")
    proxy = {_key(k): v for k, v in load_proxies().items()}.get(_key(model_id))
    for other in proxy.use if proxy else ():
        rows = _rows(other, fmt, benchmark)
        if rows:
            return _effect(model_id, rows[0], "proxy")
    row = _nearest_in_family(model_id, fmt, benchmark)
    return _effect(model_id, row, "nearest size in family") if row else None


def quality_floor_ok(
    effect: QualityEffect | None, max_loss_percent: float, benchmark: str | None = None
) -> bool | None:
    """Whether ``effect`` stays within ``max_loss_percent`` of degradation (positive =
    worse, as :attr:`QualityEffect.loss_percent`). None when unknown: no effect, or
    ``benchmark`` given and the effect was measured on another benchmark. Estimates are
    judged like measurements; callers that must not accept them check ``effect.estimate``.
    """
    if effect is None:
        return None
    if benchmark is not None and not _on(effect.benchmark, benchmark):
        return None
    return effect.loss_percent <= max_loss_percent


SEED_MODEL = "deepseek-ai/deepseek-llm-7b-base"
SEED_CLAIMS = (
    # (the seed's format, its unsourced accuracy-loss claim, deepfit formats tried in order)
    ("FP32", "0%", ("fp32",)),
    ("BF16", "<0.5%", ("bf16",)),
    ("FP16", "1-2%", ("fp16",)),
    ("INT8", "3-5%", ("int8", "int8-wo", "gptq-int8", "gguf-q8_0")),
    ("INT4", "8-10%", ("gptq-int4", "awq-int4", "gguf-q4_k_m", "gguf-q4_0")),
)
"""The seed article's precision matrix (shared/seed, section 4), accuracy-loss column."""


@dataclass(frozen=True)
class SeedCell:
    """deepfit's answer for one of the seed's formats: status is "measured", "estimate"
    (a proxy's or same-family measurement), "reference" (the checkpoint's own dtype, in
    which the model's published scores were measured) or "not measured"."""

    seed_format: str
    seed_claim: str
    status: str
    fmt: str
    effect: QualityEffect | None

    @property
    def answer(self) -> str:
        e = self.effect
        if self.status == "reference":
            return f"reference: the released checkpoint is {self.fmt}"
        if e is None:
            return "not measured"
        how = f" (estimate from {e.from_model})" if e.estimate else ""
        return (
            f"{e.loss_percent:+.2f}% {e.metric} on {e.benchmark}, "
            f"{e.baseline:g} -> {e.quantized:g} as {e.published_format}{how}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed_format": self.seed_format,
            "seed_claim": self.seed_claim,
            "status": self.status,
            "format": self.fmt,
            "answer": self.answer,
            "effect": self.effect.to_dict() if self.effect else None,
        }


def seed_claims_table(model_id: str = SEED_MODEL) -> tuple[SeedCell, ...]:
    """The seed's five formats for ``model_id`` (default: deepseek-llm-7b, the seed's 7B):
    which cells deepfit can cite, and which are not measured."""
    info = _info(model_id)
    cells = []
    for seed_fmt, claim, candidates in SEED_CLAIMS:
        dtype = info.checkpoint_dtype if info is not None else None
        if dtype is not None and dtype in candidates:
            cells.append(SeedCell(seed_fmt, claim, "reference", dtype, None))
            continue
        found = next(
            ((f, e) for f in candidates if (e := quality_for(model_id, f)) is not None), None
        )
        if found is None:
            cells.append(SeedCell(seed_fmt, claim, "not measured", candidates[0], None))
        else:
            status = "estimate" if found[1].estimate else "measured"
            cells.append(SeedCell(seed_fmt, claim, status, found[0], found[1]))
    return tuple(cells)
