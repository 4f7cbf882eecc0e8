"""Parallel layouts: which layers and which share of each tensor a GPU holds.

Tensor parallelism (tp) splits attention heads, MLP widths and the vocabulary; norms,
routers and MLA's latent down-projection are replicated. Expert parallelism (ep) places
whole routed experts on ranks; without it, experts are split like MLPs. Pipeline
parallelism (pp) gives each stage a run of layers, the embedding to the first stage and the
final norm and head to the last (and, with tied embeddings, a copy of the table too).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import BadInputError
from ..models.architecture import Architecture
from ..models.tensors import ATTENTION_ROLES, Role, Split, Tensor


@dataclass(frozen=True)
class Layout:
    """A deployment's parallel degrees. ``gpus = tp * pp * dp``."""

    tp: int = 1
    pp: int = 1
    ep: int = 1
    dp: int = 1
    #: Data-parallel attention (SGLang --enable-dp-attention, TensorRT-LLM ADP): each of the
    #: ``tp`` ranks runs attention for its own sequences with whole attention weights and its
    #: own KV cache, while MLPs and experts stay split across the ranks.
    attention_dp: bool = False

    @property
    def kv_ranks(self) -> int:
        """Ranks that hold separate sequences' KV within one replica."""
        return self.tp if self.attention_dp else 1

    @property
    def gpus(self) -> int:
        return self.tp * self.pp * self.dp


def make_layout(
    arch: Architecture, gpus: int, tp: int, pp: int, ep: int, attention_dp: bool = False
) -> Layout:
    """Check the degrees against the model and the GPU count; raise with the nearest fix."""
    for name, value in (("gpus", gpus), ("tp", tp), ("pp", pp), ("ep", ep)):
        if value < 1 or value > 65536:
            raise BadInputError(f"--{name} {value} is not a valid count", "use a whole number >= 1")
    if gpus % (tp * pp):
        raise BadInputError(
            f"{gpus} GPUs cannot be split into tp={tp} x pp={pp} groups",
            f"use a GPU count that is a multiple of {tp * pp}",
        )
    heads = arch.layers[0].attention.num_heads
    if heads % tp:
        below = max(d for d in range(1, tp + 1) if heads % d == 0)
        above = next((d for d in range(tp + 1, heads + 1) if heads % d == 0), heads)
        raise BadInputError(
            f"tp={tp} does not divide the model's {heads} attention heads",
            f"use a tensor-parallel size that divides {heads}: the nearest are {below} and {above}",
        )
    if pp > arch.num_layers:
        raise BadInputError(
            f"pp={pp} is more than the model's {arch.num_layers} layers",
            f"use pp <= {arch.num_layers}",
        )
    if ep > 1:
        experts = max((la.moe.num_experts for la in arch.layers if la.moe), default=0)
        if not experts:
            raise BadInputError("--ep needs a mixture-of-experts model", "drop --ep")
        if experts % ep or ep > gpus:
            raise BadInputError(
                f"ep={ep} must divide the {experts} experts and be at most the {gpus} GPUs",
                "use an expert-parallel size that divides the expert count",
            )
    return Layout(tp=tp, pp=pp, ep=ep, dp=gpus // (tp * pp), attention_dp=attention_dp)


def stage_layers(num_layers: int, pp: int) -> list[range]:
    """Layers per pipeline stage as vLLM splits them: even shares, the remainder going
    to the stages before the last (``vllm.distributed.utils.get_pp_indices``)."""
    sizes = [num_layers // pp] * pp
    for i in range(2, num_layers % pp + 2):
        sizes[-i] += 1
    out, start = [], 0
    for size in sizes:
        out.append(range(start, start + size))
        start += size
    return out


def shard(t: Tensor, layout: Layout) -> int:
    """Into how many pieces ``t`` is cut across the ranks that hold it."""
    if t.experts > 1:
        return layout.ep if layout.ep > 1 else layout.tp
    if t.split is Split.NONE or (layout.attention_dp and t.role in ATTENTION_ROLES):
        return 1
    return layout.tp


def on_stage(t: Tensor, stage: int, layers: range, layout: Layout, tied: bool) -> bool:
    """Whether pipeline stage ``stage`` holds tensor ``t``."""
    last = stage == layout.pp - 1
    if t.layer is not None:
        return t.layer in layers
    if t.role is Role.EMBED:
        return stage == 0 or (tied and last)
    return last  # final norm and head
