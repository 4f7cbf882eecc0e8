"""Step time of a training layout: compute at the fitted MFU, the pipeline bubble, and the
communication that compute cannot hide.

Assumptions (all times in seconds, bytes in bytes):

* Compute: hardware FLOPs of the step / (GPUs x MFU x dense bf16 peak). The MFU is fitted
  on published runs (:mod:`.mfu`), which already include their own overheads.
* Pipeline (1F1B): idle fraction ``(pp - 1) / m`` with ``m`` micro-batches per step.
* Tensor parallelism (with sequence parallelism the same volume as all-reduce): four
  collectives of ``s*b*h`` bf16 activations per layer and micro-batch (two forward, two
  backward; six with full recomputation), ring cost ``2(t-1)/t``; not overlapped.
* Expert parallelism: dispatch and combine all-to-all, forward and backward, of the ``k``
  token copies (``(e-1)/e`` leaves the GPU); not overlapped.
* Data parallelism, overlapped with compute, only the excess shows: DDP/ZeRO-1 all-reduce
  gradients once per step; ZeRO-2 reduce-scatters every micro-batch and all-gathers
  parameters once; ZeRO-3 all-gathers parameters twice and reduce-scatters gradients every
  micro-batch (DeepSpeed's behaviour).
* CPU offload: gradients down and parameters up over PCIe once per step (with ZeRO-3, the
  parameter shard also twice per micro-batch). The CPU Adam step itself is not modelled,
  so offloaded step times are a lower bound.
* Ranks are ordered tp, dp, pp (Megatron's default); a group of more than 8 GPUs, or one
  that spans nodes, uses the inter-node (InfiniBand NDR) bandwidth.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import CatalogError
from ..hardware import Gpu, list_networks
from ..models.architecture import Architecture
from ..perf.comm import inter_node_bandwidth, intra_node_bandwidth
from .layout import GPUS_PER_NODE, TrainLayout
from .methods import Offload, Recompute
from .states import ModelStates

ACT_BYTES = 2


@dataclass(frozen=True)
class StepTime:
    """One optimizer step: tokens, seconds and where they go."""

    tokens: int
    micro_batches: int  # per pipeline, per step
    compute_s: float
    bubble_s: float
    tp_comm_s: float
    ep_comm_s: float
    dp_comm_s: float  # total; only the part above compute_s is exposed
    offload_s: float

    @property
    def exposed_dp_s(self) -> float:
        return max(0.0, self.dp_comm_s - self.compute_s)

    @property
    def seconds(self) -> float:
        return (
            self.compute_s
            + self.bubble_s
            + self.tp_comm_s
            + self.ep_comm_s
            + self.exposed_dp_s
            + self.offload_s
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "tokens": self.tokens,
            "micro_batches": self.micro_batches,
            "seconds": self.seconds,
            "compute_s": self.compute_s,
            "pipeline_bubble_s": self.bubble_s,
            "tp_comm_s": self.tp_comm_s,
            "ep_comm_s": self.ep_comm_s,
            "dp_comm_s": self.dp_comm_s,
            "dp_comm_exposed_s": self.exposed_dp_s,
            "offload_transfer_s": self.offload_s,
        }


@dataclass(frozen=True)
class StepInput:
    """What a step is: tokens per micro-batch, the step's size and the recomputation."""

    seq_len: int
    micro_batch: int
    global_batch_tokens: int
    recompute: Recompute
    hardware_flops_per_token: float
    mfu: float


def _bandwidth(gpu: Gpu, span: int) -> float:
    return intra_node_bandwidth(gpu) if span <= GPUS_PER_NODE else inter_node_bandwidth()


def pcie_bandwidth(gpu: Gpu) -> float:
    """Host link bandwidth one way (bytes/s): PCIe Gen5 x16 if the GPU says Gen5, else Gen4."""
    name = "PCIe Gen5 x16" if "Gen5" in gpu.interconnect else "PCIe Gen4 x16"
    rate = next((n.per_gpu_unidir_bytes_per_s for n in list_networks() if n.name == name), None)
    if not rate:
        raise CatalogError(f"the network catalogue has no bandwidth for {name}", "add it")
    return float(rate)


def compute_peak(gpu: Gpu) -> float:
    """Dense 16-bit peak FLOP/s: bf16, or fp16 on GPUs without bf16 (V100, T4)."""
    return gpu.peak_flops("bf16" if gpu.supports("bf16") else "fp16")


def micro_batches(step: StepInput, lay: TrainLayout) -> int:
    per_mb = step.seq_len * step.micro_batch * lay.dp
    return max(1, -(-step.global_batch_tokens // per_mb))


def _dp_comm(states: ModelStates, lay: TrainLayout, m: int, gpu: Gpu) -> float:
    d = lay.dp
    if d == 1:
        return 0.0
    ring = (d - 1) / d
    grads = states.slice_trainable_params * 2.0
    weights = float(states.slice_weight_bytes)
    if lay.zero <= 1:
        volume = 2 * ring * grads
    elif lay.zero == 2:
        volume = m * ring * grads + ring * weights
    else:
        volume = m * ring * (2 * weights + grads)
    return volume / _bandwidth(gpu, lay.tp * d)


def _layer_comm(
    arch: Architecture, lay: TrainLayout, step: StepInput, gpu: Gpu, m: int
) -> tuple[float, float]:
    tokens = step.seq_len * step.micro_batch
    h = arch.hidden_size
    layers = -(-arch.num_layers // lay.pp)  # the busiest stage
    tp_s = ep_s = 0.0
    if lay.tp > 1:
        calls = 6 if step.recompute is Recompute.FULL else 4
        per = 2 * (lay.tp - 1) / lay.tp * tokens * h * ACT_BYTES
        tp_s = m * layers * calls * per / _bandwidth(gpu, lay.tp)
    if lay.ep > 1:
        moes = [la.moe for la in arch.layers if la.moe is not None]
        k = max((mo.experts_per_token for mo in moes), default=0)
        moe_layers = -(-len(moes) // lay.pp)
        per = 4 * tokens / lay.tp * k * h * ACT_BYTES * (lay.ep - 1) / lay.ep
        ep_s = m * moe_layers * per / _bandwidth(gpu, lay.tp * lay.ep)
    return tp_s, ep_s


def _offload(states: ModelStates, lay: TrainLayout, m: int, gpu: Gpu) -> float:
    if lay.offload is Offload.NONE:
        return 0.0
    shard = states.slice_trainable_params / max(lay.dp, 1) if lay.zero >= 1 else 0.0
    volume = 4.0 * shard  # bf16 gradients down, bf16 parameters up
    if lay.zero >= 3:
        volume += m * 2 * states.slice_weight_bytes / max(lay.dp, 1)
    return volume / pcie_bandwidth(gpu)


def step_time(
    arch: Architecture, gpu: Gpu, lay: TrainLayout, states: ModelStates, step: StepInput
) -> StepTime:
    """Seconds of one optimizer step of ``step.global_batch_tokens`` (rounded up to whole
    micro-batches) on ``lay.gpus`` GPUs."""
    m = micro_batches(step, lay)
    tokens = m * step.seq_len * step.micro_batch * lay.dp
    peak = compute_peak(gpu)
    compute = step.hardware_flops_per_token * tokens / (lay.gpus * step.mfu * peak)
    bubble = compute * (lay.pp - 1) / m
    tp_s, ep_s = _layer_comm(arch, lay, step, gpu, m)
    return StepTime(
        tokens=tokens,
        micro_batches=m,
        compute_s=compute,
        bubble_s=bubble,
        tp_comm_s=tp_s,
        ep_comm_s=ep_s,
        dp_comm_s=_dp_comm(states, lay, m, gpu),
        offload_s=_offload(states, lay, m, gpu),
    )
