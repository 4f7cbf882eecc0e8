"""When a deployment does not fit: what would (more GPUs, a smaller format, a shorter
context), each checked with the same estimator."""

from __future__ import annotations

from typing import Any

from ..engines import load_engine
from ..errors import BadInputError
from ..hardware import Gpu
from ..models.loader import Model
from .api import estimate_memory
from .result import MemoryEstimate

GPUS_PER_NODE = 8


def _layouts(model: Model, start: int, engine: str) -> list[tuple[int, int, int]]:
    heads = model.arch.layers[0].attention.num_heads
    out = []
    n = 1
    while n <= 128:
        if n > start:
            tp = min(n, GPUS_PER_NODE) if load_engine(engine).tensor_parallel else 1
            while heads % tp:
                tp //= 2
            out.append((n, tp, n // tp))
        n *= 2
    return out


def _again(model: Model, gpu: Gpu, base: MemoryEstimate, **change: Any) -> MemoryEstimate | None:
    kwargs: dict[str, Any] = dict(
        gpus=base.gpus,
        tp=base.tp,
        pp=base.pp,
        ep=base.ep,
        weights=base.weights_format,
        kv_dtype=base.kv_dtype,
        context=base.context_tokens,
        batch=base.batch,
        engine=base.engine,
        memory_fraction=base.memory_fraction,
        dp_attention=base.dp_attention,
        extras=base.extras,
    )
    kwargs.update(change)
    try:
        return estimate_memory(model, gpu, **kwargs)
    except BadInputError:
        return None


def what_would_fit(model: Model, gpu: Gpu, base: MemoryEstimate) -> list[dict[str, Any]]:
    """Up to three alternatives that fit (the fewest GPUs, the first smaller format, the
    longest context), each with the change and a sentence. Beyond the model's positions the
    first two are tried at its longest context."""
    out: list[dict[str, Any]] = []
    ctx = base.context_tokens
    if not base.context_supported and base.model_max_context:
        ctx = base.model_max_context
    at = "" if ctx == base.context_tokens else f" at {ctx:,} tokens"
    if at and (same := _again(model, gpu, base, context=ctx)) is not None and same.fits:
        return [_context_change(ctx)]
    for gpus, tp, pp in _layouts(model, base.gpus, base.engine):
        est = _again(model, gpu, base, gpus=gpus, tp=tp, pp=pp, ep=1, context=ctx)
        if est is not None and est.fits:
            out.append(
                {
                    "change": "gpus",
                    "gpus": gpus,
                    "tp": tp,
                    "pp": pp,
                    "why": f"{gpus} x {gpu.name} (tp={tp}, pp={pp}) holds it{at}",
                }
            )
            break
    for fmt in load_engine(base.engine).smaller_formats:
        est = _again(model, gpu, base, weights=fmt, kv_dtype="auto", context=ctx)
        if est is None or est.per_gpu.weights >= base.per_gpu.weights:
            continue
        if est.fits:
            out.append(
                {
                    "change": "weights",
                    "weights": fmt,
                    "why": f"{fmt} weights fit on the same {base.gpus} GPU(s){at}",
                }
            )
            break
    if 0 < base.max_context_tokens < base.context_tokens:
        out.append(_context_change(base.max_context_tokens))
    elif base.context_tokens <= base.max_context_tokens and base.max_concurrency:
        out.append(
            {
                "change": "batch",
                "batch": base.max_concurrency,
                "why": f"{base.max_concurrency} sequences of {base.context_tokens:,} "
                "tokens fit at once",
            }
        )
    return out


def _context_change(tokens: int) -> dict[str, Any]:
    return {
        "change": "context",
        "context_tokens": tokens,
        "why": f"one sequence of up to {tokens:,} tokens fits",
    }
