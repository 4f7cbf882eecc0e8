"""``estimate_memory``: the public entry point of inference memory."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._bisect import largest_satisfying
from ..hardware import Gpu
from ..models.loader import Model
from .device import visible_memory_bytes
from .estimate import StageMemory, stage_memories
from .formats import WeightFormat, checkpoint_native_format, load_format
from .kv import KvSpec, bytes_for_sequence, bytes_per_token
from .layout import Layout, make_layout
from .result import MemoryEstimate, PerGpu

if TYPE_CHECKING:  # deepfit.deployment builds on memory's kv/formats/layout modules
    from ..deployment import Deployment, Workload

_DTYPE_FORMATS = {"float32": "fp32", "float16": "fp16", "bfloat16": "bf16"}


def resolve_format(model: Model, name: str) -> WeightFormat:
    """``auto`` is the checkpoint as published (its quantization_config, else torch_dtype)."""
    if name.strip().lower() != "auto":
        return load_format(name)
    native = checkpoint_native_format(model.arch)
    if native is not None:
        return native
    return load_format(_DTYPE_FORMATS.get(model.arch.torch_dtype or "", "bf16"))


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
) -> MemoryEstimate:
    """Per-GPU inference memory of ``model`` on ``gpus`` x ``gpu`` with ``engine``.

    ``tp`` defaults to every GPU of a pipeline stage; ``context`` to the model's maximum.
    """
    from ..deployment import Deployment, EngineRef, Numerics, Workload

    arch = model.arch
    tp = tp if tp is not None else max(1, gpus // pp)
    gpus = max(gpus, tp * pp)
    layout: Layout = make_layout(arch, gpus, tp, pp, ep, dp_attention)
    fmt = resolve_format(model, weights)
    numerics = Numerics.of(fmt, kv_dtype)
    dep = Deployment(layout, numerics, EngineRef.named(engine, memory_fraction))
    ctx = context if context is not None else (arch.max_position_embeddings or 4096)
    return memory_of(model, gpu, dep, Workload(ctx, batch))


def memory_of(model: Model, gpu: Gpu, dep: Deployment, work: Workload) -> MemoryEstimate:
    """:func:`estimate_memory` for typed inputs (``deepfit.deployment``)."""
    arch, layout, kvd = model.arch, dep.parallelism, dep.numerics.kv
    fmt, profile = dep.numerics.weights, dep.engine.engine
    ctx, batch = work.context_tokens, work.batch
    stages = stage_memories(model, gpu, dep, work)
    budget_engine = profile.uses_budget
    gpu_bytes = visible_memory_bytes(gpu)
    totals = [_total(s, gpu_bytes, budget_engine) for s in stages]
    binding = min(range(len(stages)), key=lambda i: (stages[i].capacity_tokens, -totals[i]))
    b = stages[binding]
    kv = dep.kv_spec
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
        memory_fraction=dep.memory_fraction,
        gpu_memory_bytes=gpu_bytes,
        kv_bytes_per_token=int(bytes_per_token(arch, KvSpec(kvd, profile.mla_latent, 1))),
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
