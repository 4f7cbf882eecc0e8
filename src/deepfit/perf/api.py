"""``estimate_perf``: TTFT, TPOT and tokens/s of a deployment at steady state."""

from __future__ import annotations

from collections.abc import Mapping

from ..deployment import kv_spec
from ..engines import load_engine
from ..errors import BadInputError
from ..hardware import Gpu
from ..memory import estimate_memory
from ..memory.api import resolve_format
from ..memory.kv import load_kv_dtype
from ..memory.layout import Layout
from ..memory.ledger import Extras
from ..models.loader import Model
from .calibration import Calibration
from .efficiency import load_efficiency
from .result import PerfEstimate
from .serving import Workload, decode_step, prefill_time


def speculative_factor(draft_tokens: int, acceptance: float) -> float:
    """Expected tokens emitted per verification step with ``draft_tokens`` proposals each
    accepted with probability ``acceptance`` (independently): (1 - a^(k+1)) / (1 - a)."""
    if draft_tokens <= 0:
        return 1.0
    if not 0.0 <= acceptance < 1.0:
        return float(draft_tokens + 1) if acceptance >= 1.0 else 1.0
    return (1.0 - acceptance ** (draft_tokens + 1)) / (1.0 - acceptance)


def _concurrency(requested: int | str, cap: int, max_fit: int) -> int:
    if requested == "max":
        return max(1, min(max_fit, cap)) if max_fit else 1
    if not isinstance(requested, int) or requested < 1:
        raise BadInputError(f"concurrency {requested!r} is not valid", "use a number >= 1 or max")
    return requested


def estimate_perf(
    model: Model,
    gpu: Gpu,
    *,
    input_len: int,
    output_len: int,
    concurrency: int | str = 1,
    gpus: int | None = None,
    tp: int | None = None,
    pp: int = 1,
    ep: int = 1,
    weights: str = "auto",
    kv_dtype: str = "auto",
    engine: str = "vllm",
    dp_attention: bool = False,
    prefix_hit_rate: float = 0.0,
    spec_tokens: int = 0,
    spec_acceptance: float = 0.0,
    draft_cost: float = 0.05,
    efficiency: Calibration | Mapping[str, float] | None = None,
) -> PerfEstimate:
    """Steady-state serving speed of ``model`` on ``gpus`` x ``gpu``.

    ``concurrency="max"`` is the offline maximum-throughput case: as many sequences as the
    KV pool holds (capped by the engine's max running sequences). Speculative decoding:
    ``spec_tokens`` drafts per step accepted with ``spec_acceptance``; each draft token costs
    ``draft_cost`` of a batch-1 target step (an MTP head or a small draft model).
    ``efficiency``: a :class:`Calibration` (or bare factors) that replaces the engine's
    bundled factors; the core reads no calibration file of its own.
    """
    if input_len < 1 or output_len < 1:
        raise BadInputError(
            "input and output lengths must be at least 1", "e.g. --input-len 1024 --output-len 256"
        )
    if not 0.0 <= prefix_hit_rate < 1.0:
        raise BadInputError("prefix cache hit rate must be in [0, 1)", "e.g. 0.5")
    mem = estimate_memory(
        model,
        gpu,
        gpus=gpus,
        tp=tp,
        pp=pp,
        ep=ep,
        weights=weights,
        kv_dtype=kv_dtype,
        context=input_len + output_len,
        engine=engine,
        dp_attention=dp_attention,
        # speculative tokens on a checkpoint with MTP layers draft with them: they take memory
        extras=Extras(mtp=True, spec_tokens=spec_tokens)
        if spec_tokens > 0 and model.arch.mtp_layers
        else None,
    )
    spec = load_engine(engine)
    eff = load_efficiency(engine, efficiency)
    n = _concurrency(concurrency, spec.serving.max_seqs(mem.gpu_memory_bytes), mem.max_concurrency)
    layout = Layout(tp=mem.tp, pp=mem.pp, ep=mem.ep, dp=mem.dp, attention_dp=mem.dp_attention)
    fmt = resolve_format(model, mem.weights_format)
    kv = kv_spec(load_kv_dtype(mem.kv_dtype), spec, layout)
    work = Workload(input_len, output_len, n, prefix_hit_rate)
    step, tpot, running = decode_step(model.arch, gpu, fmt, kv, layout, eff, work)
    running = min(n, running * layout.dp)
    if spec_tokens > 0:
        verify_work = Workload(input_len, output_len, n * (spec_tokens + 1), prefix_hit_rate)
        _, verify, _ = decode_step(model.arch, gpu, fmt, kv, layout, eff, verify_work)
        _, single, _ = decode_step(
            model.arch,
            gpu,
            fmt,
            kv,
            layout,
            eff,
            Workload(input_len, output_len, 1, prefix_hit_rate),
        )
        per_step = verify + spec_tokens * draft_cost * single
        tpot = per_step / speculative_factor(spec_tokens, spec_acceptance)
    pre_step, prefill = prefill_time(model.arch, gpu, fmt, kv, layout, eff, work)
    ttft = prefill + (tpot if n > 1 else 0.0)
    out_tps = running / tpot
    notes = list(mem.notes)
    if running < n:
        notes.append(
            f"only {running} of the {n} sequences run at once: the engine's "
            f"{eff.max_batched_tokens:,}-token step budget admits no more (the rest wait)"
        )
    if not mem.fits:
        why = mem.reasons[0] if mem.reasons else "see `deepfit memory`"
        notes.append(
            f"the deployment does not fit ({why}); speeds are what it would reach if it did"
        )
    if concurrency == "max" and n < mem.max_concurrency:
        notes.append(f"concurrency capped at the engine's {n} running sequences")
    return PerfEstimate(
        model_id=model.id,
        gpu=gpu.name,
        gpus=mem.gpus,
        engine=mem.engine,
        weights_format=mem.weights_format,
        tp=mem.tp,
        pp=mem.pp,
        ep=mem.ep,
        dp=mem.dp,
        input_tokens=input_len,
        output_tokens=output_len,
        concurrency=running,
        ttft_s=ttft,
        tpot_s=tpot,
        output_tokens_per_s=out_tps,
        total_tokens_per_s=out_tps * (input_len + output_len) / output_len,
        bound=step.bound,
        source=eff.provenance.source,
        provenance=eff.provenance,
        decode_step=step,
        prefill_step=pre_step,
        fits=mem.fits,
        notes=tuple(notes),
    )
