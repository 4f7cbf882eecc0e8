"""Inference memory per GPU as an engine allocates it: ``estimate_memory``.

Per pipeline stage: weights (the format's real bytes, sharded by the layout), activations
and workspace for the engine's batched-token budget, memory outside torch (CUDA context,
NCCL), CUDA graphs, and the KV cache the engine's own rule leaves room for. The stage that
holds the fewest tokens binds the deployment.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import BadInputError
from ..hardware import Gpu
from ..models.loader import Model
from . import engines as eng
from .device import visible_memory_bytes
from .formats import WeightFormat
from .kv import KvDtype, KvSpec, bytes_for_sequence, bytes_per_token, for_engine
from .layout import Layout, stage_layers
from .overheads import Overheads, overheads
from .plan import stage_plan


@dataclass(frozen=True)
class Workload:
    """What must fit: ``batch`` sequences of ``context`` tokens (prompt + output)."""

    context_tokens: int
    batch: int = 1


@dataclass(frozen=True)
class StageMemory:
    """One GPU of one pipeline stage, in bytes."""

    stage: int
    layers: range
    weights: int
    activations: int
    non_torch: int
    cudagraph: int
    kv_pool: int  # KV the engine allocates (budget engines) or has room for (exact ones)
    kv_needed: int  # what the workload needs on this GPU
    kv_bytes_per_token: float  # this GPU's share, all its layers at full rate
    budget: int  # bytes the engine allows itself on this GPU

    @property
    def overhead(self) -> int:
        return self.non_torch + self.cudagraph

    @property
    def capacity_tokens(self) -> int:
        if not self.kv_bytes_per_token:
            return 0
        return max(0, int(self.kv_pool // self.kv_bytes_per_token))


def stage_weights(
    model: Model, fmt: WeightFormat, layout: Layout, stage: int, layers: range
) -> int:
    """Bytes of weights one GPU of ``stage`` holds."""
    return int(stage_plan(model.arch, fmt, layout, stage, layers).weights_bytes)


def _stage(
    model: Model,
    gpu_bytes: int,
    fmt: WeightFormat,
    kv: KvSpec,
    layout: Layout,
    profile: eng.EngineProfile,
    work: Workload,
    fraction: float | None,
    stage: int,
    layers: range,
    weight_scale: float = 1.0,
) -> StageMemory:
    arch = model.arch
    last = stage == layout.pp - 1
    weights = int(stage_weights(model, fmt, layout, stage, layers) * weight_scale)
    ov: Overheads = overheads(
        profile, arch, fmt, layout, layers, last, work.context_tokens, work.batch
    )
    per_token = bytes_per_token(arch, kv, layers)
    seqs = -(-work.batch // (layout.dp * layout.kv_ranks))
    needed = int(
        seqs * bytes_for_sequence(arch, kv, work.context_tokens, layers, profile.block_tokens)
    )
    graph_in = ov.cudagraph if profile.cudagraph_in_budget else 0
    if profile.budget == "fraction_of_total":
        budget = int(gpu_bytes * (fraction or 0.9))
        pool = budget - weights - ov.activations - ov.non_torch - graph_in
    elif profile.budget == "static_fraction":
        budget = int(gpu_bytes * (fraction or 0.88))
        pool = budget - weights
    elif profile.budget == "fraction_of_free":
        budget = gpu_bytes
        free = gpu_bytes - weights - ov.activations - ov.non_torch - ov.cudagraph
        pool = int(max(free, 0) * (fraction or 0.9))
    else:  # the engine allocates what the workload needs; the room left bounds it
        budget = gpu_bytes
        pool = gpu_bytes - weights - ov.activations - ov.non_torch - ov.cudagraph
    return StageMemory(
        stage,
        layers,
        weights,
        ov.activations,
        ov.non_torch,
        ov.cudagraph,
        pool,
        needed,
        per_token,
        budget,
    )


def stage_memories(
    model: Model,
    gpu: Gpu,
    fmt: WeightFormat,
    kv_dtype: KvDtype,
    layout: Layout,
    engine: str,
    work: Workload,
    fraction: float | None,
    weight_scale: float = 1.0,
) -> list[StageMemory]:
    """Every pipeline stage's memory on one GPU. ``weight_scale`` corrects every stage's
    weights by the ratio of a checkpoint's exact bytes to the format rule's."""
    profile = eng.load_engine(engine)
    if fraction is not None and not 0.05 <= fraction <= 1.0:
        raise BadInputError(
            f"memory fraction {fraction} is outside (0.05, 1]", "use a value like 0.9"
        )
    if work.context_tokens < 1 or work.batch < 1:
        raise BadInputError("context and batch must be at least 1", "e.g. --context 4096")
    frac = fraction if fraction is not None else profile.memory_fraction(layout.tp)
    kv = for_engine(
        KvSpec(kv_dtype, profile.mla_latent, 1 if layout.attention_dp else layout.tp),
        profile.name,
    )
    gpu_bytes = visible_memory_bytes(gpu)
    return [
        _stage(model, gpu_bytes, fmt, kv, layout, profile, work, frac, s, layers, weight_scale)
        for s, layers in enumerate(stage_layers(model.arch.num_layers, layout.pp))
    ]
