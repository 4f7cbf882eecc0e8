"""Training layouts: tensor, pipeline, expert and data parallelism plus ZeRO/FSDP sharding.

``gpus = tp * pp * dp``. A dense tensor's slice lives on ``dp`` GPUs (its data-parallel
replicas); a routed expert's slice, with expert parallelism, on ``tp * dp / ep`` GPUs (the
expert-data-parallel group of DeepSpeed-MoE and Megatron). ZeRO stage 1 shards optimizer
states over those replicas, stage 2 also gradients, stage 3 also weights (FSDP
``FULL_SHARD`` = ZeRO-3; ``HYBRID_SHARD`` = ZeRO-3 inside a node, replicas across nodes).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import BadInputError
from ..memory.layout import Layout, make_layout
from ..models.architecture import Architecture
from ..models.tensors import Tensor
from .methods import Offload

GPUS_PER_NODE = 8


@dataclass(frozen=True)
class TrainLayout:
    """Parallel degrees and sharding of one training job."""

    tp: int = 1
    pp: int = 1
    ep: int = 1
    dp: int = 1
    zero: int = 0  # ZeRO stage 0 (plain DDP) .. 3 (FSDP full shard)
    offload: Offload = Offload.NONE
    hybrid: bool = False  # ZeRO-3/FSDP shards only inside a node (HYBRID_SHARD)
    sequence_parallel: bool = True  # Megatron SP with tp > 1 (activations split by tp)

    @property
    def gpus(self) -> int:
        return self.tp * self.pp * self.dp

    @property
    def base(self) -> Layout:
        """The inference layout with the same degrees (for :func:`memory.layout.shard`)."""
        return Layout(tp=self.tp, pp=self.pp, ep=self.ep, dp=self.dp)

    def replicas(self, t: Tensor) -> int:
        """GPUs that hold the same slice of ``t`` (the group ZeRO shards it over)."""
        if t.experts > 1 and self.ep > 1:
            return self.tp * self.dp // self.ep
        return self.dp

    def zero_group(self, t: Tensor) -> int:
        """GPUs that share (by ZeRO/FSDP) the states of ``t``'s slice."""
        group = self.replicas(t)
        if self.hybrid:
            per_node = max(1, GPUS_PER_NODE // (self.tp * self.pp))
            group = min(group, per_node)
        return group

    def describe(self) -> str:
        parts = [f"tp={self.tp}", f"pp={self.pp}", f"dp={self.dp}"]
        if self.ep > 1:
            parts.append(f"ep={self.ep}")
        parts.append(f"zero={self.zero}" + (" hybrid" if self.hybrid else ""))
        if self.offload is not Offload.NONE:
            parts.append(f"offload={self.offload.value}")
        return " ".join(parts)


def make_train_layout(
    arch: Architecture,
    gpus: int,
    *,
    tp: int = 1,
    pp: int = 1,
    ep: int = 1,
    zero: int = 0,
    offload: Offload = Offload.NONE,
    hybrid: bool = False,
    sequence_parallel: bool = True,
) -> TrainLayout:
    """Check the degrees against the model and GPU count; raise BadInputError with a fix."""
    base = make_layout(arch, gpus, tp, pp, ep)
    if zero not in (0, 1, 2, 3):
        raise BadInputError(f"--zero {zero} is not a ZeRO stage", "use 0, 1, 2 or 3")
    if ep > 1 and (tp * base.dp) % ep:
        raise BadInputError(
            f"ep={ep} must divide tp x dp = {tp * base.dp}",
            "use an expert-parallel size that divides the data-parallel GPUs of a stage",
        )
    if offload is not Offload.NONE and zero == 0:
        raise BadInputError(
            "CPU offload needs ZeRO (DeepSpeed offloads only ZeRO-partitioned states)",
            "add --zero 2 (optimizer offload) or --zero 3 (optimizer and parameter offload)",
        )
    if hybrid and zero != 3:
        raise BadInputError("hybrid sharding is a ZeRO-3/FSDP mode", "add --zero 3")
    return TrainLayout(tp, pp, ep, base.dp, zero, offload, hybrid, sequence_parallel)
