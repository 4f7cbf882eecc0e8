"""``estimate_memory``: the public entry point of inference memory."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._bisect import largest_satisfying
from ..errors import BadInputError, NotSupportedError
from ..hardware import Gpu
from ..models.loader import Model
from ..units import GiB
from .device import visible_memory_bytes
from .estimate import StageMemory, effective_fraction, stage_memories
from .formats import (
    WeightFormat,
    checkpoint_native_format,
    format_names,
    load_format,
    weight_bytes,
)
from .kv import KvSpec, bytes_per_token, for_engine
from .layout import Layout, make_layout
from .ledger import Extras
from .result import MemoryEstimate, PerGpu

if TYPE_CHECKING:  # deepfit.deployment builds on memory's kv/formats/layout modules
    from ..deployment import Deployment, Workload
    from ..models.checkpoint import CheckpointBytes  # checkpoint readers: only when asked

_DTYPE_FORMATS = {"float32": "fp32", "float16": "fp16", "bfloat16": "bf16"}


def resolve_format(model: Model, name: str) -> WeightFormat:
    """``auto`` is the checkpoint as published (its quantization_config, else torch_dtype);
    so is the name of that derived format (a compressed-tensors mix, a GPTQ group size),
    which a result's ``weights_format`` carries and callers hand back."""
    key = name.strip().lower()
    if key == "auto":
        native = checkpoint_native_format(model.arch)
        if native is not None:
            return native
        return load_format(_DTYPE_FORMATS.get(model.arch.torch_dtype or "", "bf16"))
    if key not in format_names():
        try:
            native = checkpoint_native_format(model.arch)
        except NotSupportedError:
            native = None
        if native is not None and native.name == key:
            return native
    return load_format(name)


def _total(s: StageMemory, budget_engine: bool) -> int:
    """The rows of one GPU added up: what the engine allocates (budget engines hold their
    pool whatever the workload) or what the workload needs (engines that allocate exactly)."""
    kv = s.kv_pool if budget_engine else s.kv_needed
    return s.weights + s.extras_bytes + s.activations + s.overhead + kv


def _shortfall(s: StageMemory, total: int, gpu_bytes: int) -> int:
    """Bytes this GPU lacks for the workload: the KV it needs beyond the pool (plus what the
    weights and workspace already overrun), or what the total exceeds the GPU by."""
    return max(s.kv_needed + s.overrun - s.kv_pool, total - gpu_bytes, 0)


def _longest(model: Model, kv: KvSpec, s: StageMemory, block: int, cap: int) -> int:
    """Longest single sequence whose KV fits this stage's pool (binary search)."""

    def fits(n: int) -> bool:
        return s.sequence_bytes(model.arch, kv, n) <= s.kv_pool

    return largest_satisfying(fits, cap)


def _tokens_held(model: Model, kv: KvSpec, s: StageMemory, ctx: int) -> int:
    """Tokens of context this stage's pool holds as sequences of ``ctx`` tokens.

    DeepSeek-V4's layers each keep a fixed window of uncompressed entries beside the
    compressed ones that grow with the context; engines count such a pool by its growing
    entries (SGLang's ``DSV4PoolConfigurator``: full tokens = budget / bytes per full token,
    the window side pool a fraction of it), so past the window a sequence costs its window
    once. Other window models keep the engine's own count (``capacity_tokens``: every layer
    at the full rate, as vLLM logs it for Gemma 3 and Llama 4), which is also the floor."""
    arch = model.arch
    if not any(arch.layers[i].attention.compressed for i in s.layers):
        return s.capacity_tokens
    seq = s.sequence_bytes(arch, kv, ctx)
    if seq <= 0 or s.kv_pool <= 0:
        return s.capacity_tokens
    whole = int(s.kv_pool // seq)
    rest = s.kv_pool - whole * seq

    def fits(n: int) -> bool:
        return s.sequence_bytes(arch, kv, n) <= rest

    return max(s.capacity_tokens, whole * ctx + largest_satisfying(fits, ctx))


def estimate_memory(
    model: Model,
    gpu: Gpu,
    *,
    gpus: int | None = None,
    tp: int | None = None,
    pp: int = 1,
    ep: int = 1,
    weights: str = "auto",
    kv_dtype: str = "auto",
    context: int | None = None,
    batch: int = 1,
    engine: str = "vllm",
    memory_fraction: float | None = None,
    dp_attention: bool = False,
    checkpoint: CheckpointBytes | None = None,
    extras: Extras | None = None,
) -> MemoryEstimate:
    """Per-GPU inference memory of ``model`` on ``gpus`` x ``gpu`` with ``engine``.

    ``gpus`` defaults to ``tp`` x ``pp`` (one GPU without them); ``tp`` to every GPU of a
    pipeline stage; ``context`` to the model's maximum. A GPU count that cannot hold the
    layout is bad input, never silently raised. ``checkpoint`` (bytes read from the
    checkpoint's headers) replaces the format rule's weight total when the weights are the
    checkpoint's own (``weights="auto"``); each GPU's share still follows the sharding rules.
    ``extras`` (a draft model, MTP, LoRA slots) adds their lines to the ledger.
    """
    from ..deployment import Deployment, EngineRef, Numerics, Workload

    arch = model.arch
    if gpus is None:
        tp = tp if tp is not None else 1
        gpus = tp * pp
    tp = tp if tp is not None else max(1, gpus // pp)
    if gpus < tp * pp:
        raise BadInputError(
            f"--gpus {gpus} cannot hold tp={tp} x pp={pp} = {tp * pp} GPUs",
            f"use --gpus {tp * pp} (or leave --gpus out), or a smaller --tp/--pp",
        )
    layout: Layout = make_layout(arch, gpus, tp, pp, ep, dp_attention)
    fmt = resolve_format(model, weights)
    numerics = Numerics.of(fmt, kv_dtype)
    dep = Deployment(layout, numerics, EngineRef.named(engine, memory_fraction), extras or Extras())
    ctx = context if context is not None else (arch.max_position_embeddings or 4096)
    own = weights.strip().lower() in ("", "auto")
    return memory_of(model, gpu, dep, Workload(ctx, batch), checkpoint=checkpoint, own=own)


def memory_of(
    model: Model,
    gpu: Gpu,
    dep: Deployment,
    work: Workload,
    *,
    checkpoint: CheckpointBytes | None = None,
    own: bool = True,
) -> MemoryEstimate:
    """:func:`estimate_memory` for typed inputs (``deepfit.deployment``). ``checkpoint``
    sizes the weights exactly when they are the checkpoint's ``own`` format."""
    arch, layout, kvd = model.arch, dep.parallelism, dep.numerics.kv
    fmt, profile = dep.numerics.weights, dep.engine.engine
    ctx, batch = work.context_tokens, work.batch
    scale = _checkpoint_scale(model, fmt, own, checkpoint)
    stages = stage_memories(model, gpu, dep, work, scale)
    budget_engine = profile.uses_budget
    gpu_bytes = visible_memory_bytes(gpu)
    totals = [_total(s, budget_engine) for s in stages]
    binding = min(range(len(stages)), key=lambda i: (stages[i].capacity_tokens, -totals[i]))
    b = stages[binding]
    kv = dep.kv_spec
    cap = arch.max_position_embeddings or (1 << 24)
    longest = min(_longest(model, kv, s, profile.block_tokens, 1 << 30) for s in stages)
    per_seq = max(s.sequence_bytes(arch, kv, ctx) / max(s.kv_pool, 1) for s in stages)
    concurrency = int(1 / per_seq) * layout.dp * layout.kv_ranks if per_seq > 0 else 0
    one_seq = [s.sequence_bytes(arch, kv, ctx) for s in stages]
    reasons = _reasons(stages, totals, one_seq, gpu_bytes, budget_engine, ctx, batch)
    if arch.max_position_embeddings and ctx > arch.max_position_embeddings:
        reasons = (
            f"context {ctx:,} is beyond the model's {cap:,} positions "
            "(engines refuse a longer max model length)",
            *reasons,
        )
    fits = not reasons
    shortfall = max(_shortfall(s, t, gpu_bytes) for s, t in zip(stages, totals, strict=True))
    notes = _notes(model, gpu, fmt, ctx, cap, longest)
    if checkpoint is not None:
        notes += (
            f"weights from the checkpoint's headers ({checkpoint.files} file(s)): "
            f"{checkpoint.main_bytes:,} bytes"
            + (f" plus {checkpoint.mtp_bytes:,} of MTP layers" if checkpoint.mtp_bytes else "")
            + ("" if own else "; not used: another format was asked"),
        )
    return MemoryEstimate(
        model_id=model.id,
        params_total=model.params.total,
        params_active=model.params.active,
        engine=profile.name,
        gpu=gpu.name,
        gpus=layout.gpus,
        tp=layout.tp,
        pp=layout.pp,
        ep=layout.ep,
        dp=layout.dp,
        dp_attention=layout.attention_dp,
        weights_format=fmt.name,
        kv_dtype=kvd.value,
        context_tokens=ctx,
        batch=batch,
        memory_fraction=effective_fraction(dep, gpu_bytes),
        gpu_memory_bytes=gpu_bytes,
        kv_bytes_per_token=int(
            bytes_per_token(arch, for_engine(KvSpec(kvd, profile.mla_latent, 1), profile.name))
        ),
        per_gpu=PerGpu(
            b.weights,
            b.kv_pool if budget_engine else b.kv_needed,
            b.activations,
            b.overhead,
            totals[binding],
            b.extras_bytes,
        ),
        fits=fits,
        shortfall_bytes=shortfall,
        max_context_tokens=min(longest, cap),
        max_concurrency=max(concurrency, 0),
        kv_capacity_tokens=min(_tokens_held(model, kv, s, ctx) for s in stages),
        model_max_context=arch.max_position_embeddings,
        stages=tuple(stages),
        extras=dep.extras if dep.extras.any else None,
        reasons=reasons,
        notes=notes,
    )


def _reasons(
    stages: list[StageMemory],
    totals: list[int],
    one_seq: list[float],
    gpu_bytes: int,
    budget: bool,
    ctx: int,
    batch: int,
) -> tuple[str, ...]:
    out = []
    for s, total, seq in zip(stages, totals, one_seq, strict=True):
        where = f" on pipeline stage {s.stage}" if len(stages) > 1 else ""
        if s.kv_pool <= 0:
            limit = "the engine's memory budget" if budget else "the GPU's memory"
            out.append(f"weights ({s.weights / GiB:,.1f} GiB) and workspace exceed {limit}{where}")
        elif seq > s.kv_pool:
            start = "the engine would refuse to start: " if budget else ""
            out.append(
                f"{start}one sequence of {ctx:,} tokens needs more KV cache than the "
                f"{s.kv_pool / GiB:.2f} GiB ({s.capacity_tokens:,} tokens) left{where}"
            )
        elif s.kv_needed > s.kv_pool:
            out.append(
                f"{batch} x {ctx:,} tokens need more KV cache than the "
                f"{s.kv_pool / GiB:.2f} GiB the engine has{where}"
            )
        elif total > gpu_bytes:
            out.append(f"total exceeds the GPU's memory{where}")
    return tuple(dict.fromkeys(out))


def _checkpoint_scale(
    model: Model, fmt: WeightFormat, own: bool, checkpoint: CheckpointBytes | None
) -> float:
    """Exact main-model bytes over the format rule's, for the checkpoint's own weights."""
    if checkpoint is None or not own:
        return 1.0
    predicted = weight_bytes(model.arch, fmt).total
    return checkpoint.main_bytes / predicted if predicted > 0 else 1.0


def _notes(
    model: Model, gpu: Gpu, fmt: WeightFormat, ctx: int, cap: int, longest: int
) -> tuple[str, ...]:
    notes = []
    if longest > cap:
        notes.append(
            f"the KV cache would hold {longest:,} tokens, but the model stops at {cap:,} positions"
        )
    if not gpu.supports(fmt.compute_dtype):
        notes.append(
            f"{gpu.name} has no native {fmt.compute_dtype} math; engines run "
            f"{fmt.name} weights with upcasting kernels (memory as shown, speed lower)"
        )
    return tuple(notes)
