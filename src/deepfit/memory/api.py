"""``estimate_memory``: the public entry point of inference memory."""

from __future__ import annotations

from .._bisect import largest_satisfying
from ..hardware import Gpu
from ..models.checkpoint import CheckpointBytes
from ..models.loader import Model
from .engines import load_engine
from .estimate import StageMemory, Workload, stage_memories
from .formats import WeightFormat, checkpoint_native_format, load_format, weight_bytes
from .kv import (
    KvDtype,
    KvSpec,
    bytes_for_sequence,
    bytes_per_token,
    for_engine,
    load_kv_dtype,
)
from .layout import Layout, make_layout
from .result import MemoryEstimate, PerGpu

_DTYPE_FORMATS = {"float32": "fp32", "float16": "fp16", "bfloat16": "bf16"}


def resolve_format(model: Model, name: str) -> WeightFormat:
    """``auto`` is the checkpoint as published (its quantization_config, else torch_dtype)."""
    if name.strip().lower() != "auto":
        return load_format(name)
    native = checkpoint_native_format(model.arch)
    if native is not None:
        return native
    return load_format(_DTYPE_FORMATS.get(model.arch.torch_dtype or "", "bf16"))


def _kv_dtype(fmt: WeightFormat, name: str) -> KvDtype:
    model_dtype = (
        "fp32" if fmt.compute_dtype == "fp32" else ("fp16" if fmt.name == "fp16" else "bf16")
    )
    return load_kv_dtype(name, model_dtype)


def _total(s: StageMemory, gpu_bytes: int, budget_engine: bool) -> int:
    used = s.weights + s.activations + s.overhead
    if not budget_engine:
        return used + s.kv_needed
    if s.kv_needed <= s.kv_pool:
        return used + s.kv_pool
    return used + s.kv_needed + max(0, gpu_bytes - s.budget)


def _longest(model: Model, kv: KvSpec, s: StageMemory, block: int, cap: int) -> int:
    """Longest single sequence whose KV fits this stage's pool (binary search)."""

    def fits(n: int) -> bool:
        return bytes_for_sequence(model.arch, kv, n, s.layers, block) <= s.kv_pool

    return largest_satisfying(fits, cap)


def estimate_memory(
    model: Model,
    gpu: Gpu,
    *,
    gpus: int = 1,
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
) -> MemoryEstimate:
    """Per-GPU inference memory of ``model`` on ``gpus`` x ``gpu`` with ``engine``.

    ``tp`` defaults to every GPU of a pipeline stage; ``context`` to the model's maximum.
    ``checkpoint`` (bytes read from the checkpoint's headers) replaces the format rule's
    weight total when the weights are the checkpoint's own (``weights="auto"``); each GPU's
    share still follows the sharding rules.
    """
    arch = model.arch
    tp = tp if tp is not None else max(1, gpus // pp)
    gpus = max(gpus, tp * pp)
    layout: Layout = make_layout(arch, gpus, tp, pp, ep, dp_attention)
    fmt = resolve_format(model, weights)
    kvd = _kv_dtype(fmt, kv_dtype)
    profile = load_engine(engine)
    ctx = context if context is not None else (arch.max_position_embeddings or 4096)
    scale = _checkpoint_scale(model, fmt, weights, checkpoint)
    stages = stage_memories(
        model, gpu, fmt, kvd, layout, profile.name, Workload(ctx, batch), memory_fraction, scale
    )
    budget_engine = profile.budget != "exact"
    from .device import visible_memory_bytes

    gpu_bytes = visible_memory_bytes(gpu)
    totals = [_total(s, gpu_bytes, budget_engine) for s in stages]
    binding = min(range(len(stages)), key=lambda i: (stages[i].capacity_tokens, -totals[i]))
    b = stages[binding]
    kv = for_engine(
        KvSpec(kvd, profile.mla_latent, 1 if layout.attention_dp else layout.tp), profile.name
    )
    cap = arch.max_position_embeddings or (1 << 24)
    longest = min(_longest(model, kv, s, profile.block_tokens, 1 << 30) for s in stages)
    per_seq = max(
        bytes_for_sequence(arch, kv, ctx, s.layers, profile.block_tokens) / max(s.kv_pool, 1)
        for s in stages
    )
    concurrency = int(1 / per_seq) * layout.dp * layout.kv_ranks if per_seq > 0 else 0
    reasons = _reasons(stages, totals, gpu_bytes, budget_engine, ctx, batch)
    fits = not reasons
    notes = _notes(model, gpu, fmt, ctx, cap, longest)
    if checkpoint is not None:
        notes += (
            f"weights from the checkpoint's headers ({checkpoint.files} file(s)): "
            f"{checkpoint.main_bytes:,} bytes"
            + (f" plus {checkpoint.mtp_bytes:,} of MTP layers" if checkpoint.mtp_bytes else "")
            + ("" if weights in ("", "auto") else "; not used: another format was asked"),
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
        memory_fraction=memory_fraction
        if memory_fraction is not None
        else profile.memory_fraction(layout.tp),
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
        ),
        fits=fits,
        max_context_tokens=min(longest, cap),
        max_concurrency=max(concurrency, 0),
        kv_capacity_tokens=min(s.capacity_tokens for s in stages),
        model_max_context=arch.max_position_embeddings,
        stages=tuple(stages),
        reasons=reasons,
        notes=notes,
    )


def _reasons(
    stages: list[StageMemory], totals: list[int], gpu_bytes: int, budget: bool, ctx: int, batch: int
) -> tuple[str, ...]:
    out = []
    for s, total in zip(stages, totals, strict=True):
        where = f" on pipeline stage {s.stage}" if len(stages) > 1 else ""
        if s.kv_pool <= 0:
            limit = "the engine's memory budget" if budget else "the GPU's memory"
            out.append(
                f"weights ({s.weights / 2**30:,.1f} GiB) and workspace exceed {limit}{where}"
            )
        elif s.kv_needed > s.kv_pool:
            out.append(
                f"{batch} x {ctx:,} tokens need more KV cache than the "
                f"{s.kv_pool / 2**30:.2f} GiB the engine has{where}"
            )
        elif total > gpu_bytes:
            out.append(f"total exceeds the GPU's memory{where}")
    return tuple(dict.fromkeys(out))


def _checkpoint_scale(
    model: Model, fmt: WeightFormat, weights: str, checkpoint: CheckpointBytes | None
) -> float:
    """Exact main-model bytes over the format rule's, for the checkpoint's own weights."""
    if checkpoint is None or weights.strip().lower() not in ("", "auto"):
        return 1.0
    predicted = weight_bytes(model.arch, fmt).total
    return checkpoint.main_bytes / predicted if predicted > 0 else 1.0


def _notes(
    model: Model, gpu: Gpu, fmt: WeightFormat, ctx: int, cap: int, longest: int
) -> tuple[str, ...]:
    notes = []
    if ctx > cap:
        notes.append(f"context {ctx:,} is beyond the model's {cap:,} positions")
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
