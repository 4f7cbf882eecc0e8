"""What one GPU of a pipeline stage holds, summed by operator: the weights a step reads
and the parameters it multiplies. Memory and performance both start from it; it is
computed once per (model, format, layout, stage) and cached."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from .._cache import by_identity
from ..models.architecture import Architecture
from ..models.tensors import ATTENTION_ROLES, Role, Tensor, tensors
from .formats import WeightFormat, tensor_bytes
from .layout import Layout, on_stage, shard


@dataclass(frozen=True)
class OpWeights:
    """Per GPU: parameters multiplied per token, and their bytes."""

    params: float
    bytes: float


@dataclass(frozen=True)
class ExpertGroup:
    """Routed experts of one shape on this GPU (all MoE layers of the stage together)."""

    experts: int  # routed experts per layer in the model
    per_token: int  # experts each token runs
    params: float  # parameters of this GPU's share of all of them
    bytes: float


@dataclass(frozen=True)
class StagePlan:
    weights_bytes: float  # everything the GPU stores, vectors included
    ops: dict[str, OpWeights]  # attn_proj, mlp, router, lm_head
    experts: tuple[ExpertGroup, ...]
    embed_width: int  # hidden size read per token from the embedding table (0 if absent)


def _op_name(role: Role) -> str:
    if role in ATTENTION_ROLES:
        return "attn_proj"
    if role is Role.ROUTER:
        return "router"
    if role is Role.HEAD:
        return "lm_head"
    return "mlp"


@by_identity
def tensor_sizes(arch: Architecture, fmt: WeightFormat) -> tuple[float, ...]:
    """Bytes of each tensor of ``tensors(arch)`` in ``fmt`` (whole, unsharded)."""
    return tuple(tensor_bytes(t, fmt, arch.num_layers, arch=arch) for t in tensors(arch))


@by_identity
def _by_layer(
    arch: Architecture, fmt: WeightFormat
) -> tuple[list[tuple[Tensor, float]], list[list[tuple[Tensor, float]]]]:
    """Tensors with their sizes: those outside any layer, and each layer's."""
    outside: list[tuple[Tensor, float]] = []
    per_layer: list[list[tuple[Tensor, float]]] = [[] for _ in range(arch.num_layers)]
    for t, size in zip(tensors(arch), tensor_sizes(arch, fmt), strict=True):
        if t.layer is None:
            outside.append((t, size))
        else:
            per_layer[t.layer].append((t, size))
    return outside, per_layer


@by_identity
def stage_plan(
    arch: Architecture, fmt: WeightFormat, layout: Layout, stage: int, layers: range
) -> StagePlan:
    """The plan of one GPU of pipeline stage ``stage`` holding ``layers``."""
    total = 0.0
    ops: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    experts: dict[tuple[int, int], list[float]] = defaultdict(lambda: [0.0, 0.0])
    embed_width = 0
    last = stage == layout.pp - 1
    outside, per_layer = _by_layer(arch, fmt)
    chosen = [pair for i in layers for pair in per_layer[i]]
    chosen += [
        pair
        for pair in outside
        if on_stage(pair[0], stage, layers, layout, arch.tie_word_embeddings)
    ]
    for t, whole in chosen:
        pieces = shard(t, layout)
        size = whole / pieces
        total += size
        if not t.is_matrix:
            continue
        params = t.numel / pieces
        if t.role is Role.EMBED:
            embed_width = t.cols if stage == 0 else embed_width
            if arch.tie_word_embeddings and last:
                ops["lm_head"][0] += params
                ops["lm_head"][1] += size
        elif t.experts > 1:
            moe = arch.layers[t.layer or 0].moe
            key = (t.experts, moe.experts_per_token if moe else 1)
            experts[key][0] += params
            experts[key][1] += size
        else:
            cur = ops[_op_name(t.role)]
            cur[0] += params
            cur[1] += size
    return StagePlan(
        weights_bytes=total,
        ops={k: OpWeights(v[0], v[1]) for k, v in ops.items()},
        experts=tuple(ExpertGroup(e, k, v[0], v[1]) for (e, k), v in experts.items()),
        embed_width=embed_width,
    )
