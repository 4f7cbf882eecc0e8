"""Inference memory per GPU as an engine allocates it: ``estimate_memory``.

Per pipeline stage: weights (the format's real bytes, sharded by the layout), activations
and workspace for the engine's batched-token budget, memory outside torch (CUDA context,
NCCL), CUDA graphs, and the KV cache the engine's own rule leaves room for. The stage that
holds the fewest tokens binds the deployment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..engines import Engine
from ..errors import BadInputError
from ..hardware import Gpu
from ..models.architecture import Architecture
from ..models.loader import Model
from .budget import budget_and_pool
from .device import visible_memory_bytes
from .formats import WeightFormat
from .kv import KvSpec, bytes_for_sequence, bytes_per_token
from .layout import Layout, stage_layers
from .ledger import (
    Extras,
    LedgerLine,
    ledger_lines,
    speculative_reserve,
    with_extra_activations,
)
from .overheads import Overheads, overheads
from .plan import stage_plan
from .resident import resident_extra_bytes

if TYPE_CHECKING:  # deepfit.deployment builds on memory's kv/formats/layout modules
    from ..deployment import Deployment, Workload

#: The engines that run on Apple GPUs (Metal / MPS).
APPLE_ENGINES = ("llamacpp", "transformers")


@dataclass(frozen=True)
class StageMemory:
    """One GPU of one pipeline stage, in bytes."""

    stage: int
    layers: range
    weights: int
    activations: int
    non_torch: int
    cudagraph: int
    kv_pool: int  # KV the engine allocates (budget engines) or has room for (exact ones), >= 0
    kv_needed: int  # what the workload needs on this GPU
    kv_bytes_per_token: float  # this GPU's share, all its layers at full rate
    budget: int  # bytes the engine allows itself on this GPU
    #: bytes by which the weights and workspace alone overrun the budget (the pool is then 0)
    overrun: int = 0
    #: tokens per KV block: the pool holds whole blocks, as engines report it
    block_tokens: int = 1
    #: what is served beside the main model (draft, MTP, LoRA slots): its weights come out
    #: of the budget, its KV per token is included in ``kv_bytes_per_token`` ...
    extras: tuple[LedgerLine, ...] = ()
    #: ... except a drafter the engine loads as a worker of its own (SGLang): its weights
    #: and a KV pool of as many tokens as the main one's sit beside the static budget
    drafter_outside: bool = False

    def pooled(self, line: LedgerLine) -> bool:
        return not (self.drafter_outside and line.drafter)

    @property
    def extras_kv_beside(self) -> int:
        """KV bytes of drafters kept beside the main pool (as many tokens as it holds)."""
        rate = sum(x.kv_bytes_per_token for x in self.extras if not self.pooled(x))
        return int(self.capacity_tokens * rate)

    @property
    def extras_bytes(self) -> int:
        return sum(x.weights_bytes for x in self.extras) + self.extras_kv_beside

    def line_kv_bytes(self, line: LedgerLine) -> int:
        """Bytes ``line``'s attention layers hold on this GPU, in the pool or beside it."""
        if not self.pooled(line) or not self.kv_bytes_per_token:
            return int(self.capacity_tokens * line.kv_bytes_per_token)
        return int(self.kv_pool * line.kv_bytes_per_token / self.kv_bytes_per_token)

    def sequence_bytes(self, arch: Architecture, kv: KvSpec, tokens: int) -> float:
        """KV bytes one sequence of ``tokens`` takes in this GPU's pool, extras included."""
        main = bytes_for_sequence(arch, kv, tokens, self.layers, self.block_tokens)
        pooled = (x for x in self.extras if self.pooled(x))
        return main + sum(x.kv_for(tokens, self.block_tokens) for x in pooled)

    @property
    def overhead(self) -> int:
        return self.non_torch + self.cudagraph

    @property
    def capacity_tokens(self) -> int:
        """Tokens the pool holds, in whole blocks (vLLM's "GPU KV cache size")."""
        if not self.kv_bytes_per_token:
            return 0
        block = max(self.block_tokens, 1)
        return max(0, int(self.kv_pool // self.kv_bytes_per_token) // block * block)


def stage_weights(
    model: Model, fmt: WeightFormat, layout: Layout, stage: int, layers: range
) -> int:
    """Bytes of weights one GPU of ``stage`` holds."""
    return int(stage_plan(model.arch, fmt, layout, stage, layers).weights_bytes)


def _stage(
    model: Model,
    gpu: Gpu,
    gpu_bytes: int,
    fmt: WeightFormat,
    kv: KvSpec,
    layout: Layout,
    profile: Engine,
    work: Workload,
    fraction: float | None,
    stage: int,
    layers: range,
    weight_scale: float = 1.0,
    extras: Extras | None = None,
) -> StageMemory:
    arch = model.arch
    last = stage == layout.pp - 1
    weights = int(stage_weights(model, fmt, layout, stage, layers) * weight_scale)
    # what the engine's kernels re-lay out after loading (vLLM's Hopper MXFP4 experts)
    weights += resident_extra_bytes(arch, fmt, layout, layers, profile.family, gpu)
    ov: Overheads = overheads(
        profile, arch, fmt, layout, layers, last, work.context_tokens, work.batch
    )
    block, ctx = profile.block_tokens, work.context_tokens
    lines = ledger_lines(
        arch,
        fmt,
        kv,
        layout,
        extras or Extras(),
        last=last,
        layers=layers,
        batched_tokens=profile.max_batched_tokens,
    )
    ov = with_extra_activations(ov, lines)
    outside = profile.budget == "static_fraction"
    pooled = [x for x in lines if not (outside and x.drafter)]
    per_token = bytes_per_token(arch, kv, layers) + sum(x.kv_bytes_per_token for x in pooled)
    seqs = -(-work.batch // (layout.dp * layout.kv_ranks))
    one = bytes_for_sequence(arch, kv, ctx, layers, block)
    one += sum(x.kv_for(ctx, block) for x in pooled)
    needed = int(seqs * one)
    budget, pool = budget_and_pool(
        profile.budget,
        gpu_bytes,
        fraction,
        weights + sum(x.weights_bytes for x in pooled),
        ov.activations,
        ov.non_torch,
        ov.cudagraph,
        profile.cudagraph_in_budget,
    )
    return StageMemory(
        stage,
        layers,
        weights,
        ov.activations,
        ov.non_torch,
        ov.cudagraph,
        max(int(pool), 0),
        needed,
        per_token,
        int(budget),
        max(-int(pool), 0),
        profile.block_tokens,
        lines,
        outside,
    )


def effective_fraction(dep: Deployment, gpu_bytes: int) -> float | None:
    """The budget knob the engine ends up with: the user's, else its default less what it
    sets aside for a drafter (SGLang), rounded to 3 decimals as SGLang rounds its own."""
    frac = dep.memory_fraction
    reserve = speculative_reserve(dep.engine.engine.name, dep.extras)
    if frac is None or dep.engine.memory_fraction is not None or not reserve:
        return frac
    return round(frac - reserve / gpu_bytes, 3)


def stage_memories(
    model: Model, gpu: Gpu, dep: Deployment, work: Workload, weight_scale: float = 1.0
) -> list[StageMemory]:
    """Every pipeline stage's memory on one GPU. ``weight_scale`` corrects every stage's
    weights by the ratio of a checkpoint's exact bytes to the format rule's."""
    if gpu.vendor == "Apple" and dep.engine.engine.name not in APPLE_ENGINES:
        raise BadInputError(
            f"{dep.engine.engine.name} does not run on {gpu.name} (no CUDA or ROCm on Apple GPUs)",
            f"use --engine {' or --engine '.join(APPLE_ENGINES)}",
        )
    if work.context_tokens < 1 or work.batch < 1:
        raise BadInputError("context and batch must be at least 1", "e.g. --context 4096")
    layout, profile = dep.parallelism, dep.engine.engine
    frac, kv = dep.memory_fraction, dep.kv_spec
    fmt = dep.numerics.weights
    gpu_bytes = visible_memory_bytes(gpu)
    dep.extras.check(model.arch)
    frac = effective_fraction(dep, gpu_bytes)
    return [
        _stage(
            model,
            gpu,
            gpu_bytes,
            fmt,
            kv,
            layout,
            profile,
            work,
            frac,
            s,
            layers,
            weight_scale,
            dep.extras,
        )
        for s, layers in enumerate(stage_layers(model.arch.num_layers, layout.pp))
    ]
