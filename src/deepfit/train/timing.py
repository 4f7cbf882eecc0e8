"""Step time of a training layout: compute at the fitted MFU, the pipeline bubble, and the
communication that compute cannot hide.

Assumptions (all times in seconds, bytes in bytes):

* Compute: hardware FLOPs of the step (recomputation included) / (GPUs x utilization x
  dense 16-bit peak); the utilization is fitted per GPU generation (:mod:`.mfu`), the
  attention core's (flash attention's score and value matmuls, half of them run under the
  causal mask) apart from the rest. FP8
  training is ``fp8_matmul_gain`` faster. Memory-bound work the utilization does not
  scale with (the optimizer step, the loss over the vocabulary, PEFT's adapters, autocast's
  casts) is counted in bytes and timed at the HBM bandwidth (:mod:`.traffic`).
* Pipeline: idle fraction ``(pp - 1) / m`` with ``m`` micro-batches per step (1F1B);
  ``(pp - 1) / (m v)`` with ``v`` virtual stages per GPU (Megatron's interleaved
  schedule); none with a zero-bubble schedule (ZB-V / DualPipe fill the bubble with
  weight-gradient work).
* Tensor parallelism (with sequence parallelism the same volume as all-reduce): four
  collectives of ``s*b*h`` bf16 activations per layer and micro-batch (two forward, two
  backward; six with full recomputation), ring cost ``2(t-1)/t``; the framework's share
  (:mod:`.framework`, Megatron's TP-comm overlap) is hidden.
* Expert parallelism: dispatch and combine all-to-all, forward and backward, of the ``k``
  token copies (``(e-1)/e`` leaves the GPU), each GPU through its own NIC across nodes; a
  zero-bubble schedule (DualPipe) overlaps it with another micro-batch's compute, so only
  the part longer than compute shows.
* Data parallelism, overlapped with compute: the framework hides its share (bucketed
  overlap), and never more than the compute time. DDP/ZeRO-1 all-reduce gradients once
  per step; ZeRO-2 reduce-scatters every micro-batch and all-gathers parameters once;
  ZeRO-3/FSDP all-gather parameters for the forward and again for the backward pass and
  reduce-scatter gradients, every micro-batch; FSDP's recomputed forward reuses the
  backward's gather, DeepSpeed's gathers a third time (its forward hooks fire again).
* CPU offload: gradients down and parameters up over PCIe once per step (with ZeRO-3, the
  parameter shard also twice per micro-batch). The CPU Adam step itself is not modelled,
  so offloaded step times are a lower bound.
* Ranks are ordered tp, dp, pp (Megatron's default); a group of more than 8 GPUs, or one
  that spans nodes, uses the inter-node bandwidth of the GPU's cluster generation
  (:func:`cluster_network`: A100 clusters HDR 200 Gb/s per GPU, H100/H200 NDR 400 Gb/s,
  Blackwell XDR 800 Gb/s, from the network catalogue).
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
#: The share of the attention score and value matmuls a causal flash-attention kernel runs
#: (MFU counts them whole, as PaLM does; the kernel skips the blocks above the diagonal).
CAUSAL_SHARE = 0.5


@dataclass(frozen=True)
class StepTime:
    """One optimizer step: tokens, seconds and where they go."""

    tokens: int
    micro_batches: int  # per pipeline, per step
    compute_s: float
    bubble_s: float
    tp_comm_s: float
    ep_comm_s: float
    dp_comm_s: float  # total; the framework hides part of it behind compute
    offload_s: float
    dp_overlap: float = 0.0
    memory_bound_s: float = 0.0  # optimizer step, loss, adapters, casts (:mod:`.traffic`)

    @property
    def exposed_dp_s(self) -> float:
        hidden = min(self.dp_overlap * self.dp_comm_s, self.compute_s)
        return self.dp_comm_s - hidden

    @property
    def seconds(self) -> float:
        return (
            self.compute_s
            + self.memory_bound_s
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
            "memory_bound_s": self.memory_bound_s,
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
    mfu: float  # hardware FLOPs utilization of the compute (:mod:`.mfu`)
    virtual_stages: int = 1  # > 1: Megatron's interleaved pipeline schedule
    zero_bubble: bool = False
    dp_overlap: float = 0.9
    tp_overlap: float = 0.0
    speedup: float = 1.0  # FP8 training over 16-bit
    zero3_gathers: int = 2  # parameter all-gathers per micro-batch under ZeRO-3 / FSDP
    dp_shares_nics: bool = True  # data-parallel rings spread over all of a node's NICs
    traffic_bytes: float = 0.0  # per GPU and step, outside the matmuls (:mod:`.traffic`)
    attention_flops_per_token: float = 0.0  # the attention core's share of the hardware FLOPs
    attention_mfu: float = 0.0  # its utilization (:mod:`.mfu`); 0: the layers' ``mfu``


#: Scale-out network of a GPU generation's clusters (one HCA per GPU), by catalogue name.
CLUSTER_NETWORK = {
    "volta": "InfiniBand HDR 200 Gb/s (1 HCA per GPU)",
    "ampere": "InfiniBand HDR 200 Gb/s (1 HCA per GPU)",
    "ada": "InfiniBand HDR 200 Gb/s (1 HCA per GPU)",
    "hopper": "InfiniBand NDR 400 Gb/s (1 HCA per GPU)",
    "cdna": "InfiniBand NDR 400 Gb/s (1 HCA per GPU)",
    "blackwell": "InfiniBand XDR 800 Gb/s / ConnectX-8",
    "gaudi": "RoCE v2 scale-out (Gaudi2)",
}


def cluster_network(gpu: Gpu) -> float:
    """Per-GPU one-way scale-out bandwidth (bytes/s) of ``gpu``'s cluster generation."""
    from .mfu import generation_of

    name = CLUSTER_NETWORK.get(generation_of(gpu))
    rate = next((n.per_gpu_unidir_bytes_per_s for n in list_networks() if n.name == name), None)
    return float(rate) if rate else inter_node_bandwidth()


def _bandwidth(gpu: Gpu, span: int, share_nics: bool = True) -> float:
    """Ring bandwidth of a collective over ``span`` GPUs. Across nodes NCCL runs one ring
    per NIC, so each node's GPUs share the traffic over all its NICs: the bottleneck is
    ``GPUS_PER_NODE x`` the per-GPU NIC rate (nccl-tests' bus bandwidth on 8x400G nodes
    is ~370-390 GB/s), capped by NVLink."""
    intra = intra_node_bandwidth(gpu)
    if span <= GPUS_PER_NODE:
        return intra
    if not share_nics:
        return cluster_network(gpu)
    return min(intra, GPUS_PER_NODE * cluster_network(gpu))


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


def _dp_comm(states: ModelStates, lay: TrainLayout, m: int, gpu: Gpu, step: StepInput) -> float:
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
        volume = m * ring * (step.zero3_gathers * weights + grads)
    return volume / _bandwidth(gpu, lay.tp * d, step.dp_shares_nics)


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
        # all-to-all: each GPU's tokens leave through its own NIC (no ring to spread over)
        ep_s = m * moe_layers * per / _bandwidth(gpu, lay.tp * lay.ep, share_nics=False)
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
    attn = step.attention_flops_per_token
    per_token = (step.hardware_flops_per_token - attn) / step.mfu
    # flash attention skips the blocks the causal mask hides: it runs half the counted FLOPs
    per_token += CAUSAL_SHARE * attn / (step.attention_mfu or step.mfu)
    compute = per_token * tokens / (lay.gpus * peak)
    compute /= step.speedup
    bubble = 0.0 if step.zero_bubble else compute * (lay.pp - 1) / (m * step.virtual_stages)
    tp_s, ep_s = _layer_comm(arch, lay, step, gpu, m)
    tp_s *= 1 - step.tp_overlap
    if step.zero_bubble:  # DualPipe-style: one micro-batch's all-to-all under another's compute
        ep_s = max(0.0, ep_s - compute)
    return StepTime(
        tokens=tokens,
        micro_batches=m,
        compute_s=compute,
        bubble_s=bubble,
        tp_comm_s=tp_s,
        ep_comm_s=ep_s,
        dp_comm_s=_dp_comm(states, lay, m, gpu, step),
        offload_s=_offload(states, lay, m, gpu),
        dp_overlap=step.dp_overlap,
        memory_bound_s=_memory_bound(gpu, step.traffic_bytes),
    )


def _memory_bound(gpu: Gpu, traffic_bytes: float) -> float:
    """Seconds of streaming work at :data:`.traffic.HBM_EFFICIENCY` of the HBM bandwidth
    (none when the catalogue has no bandwidth for the GPU)."""
    from .traffic import HBM_EFFICIENCY

    bandwidth = gpu.mem_bandwidth_bytes_per_s
    if not isinstance(bandwidth, float | int) or not bandwidth:
        return 0.0
    return traffic_bytes / (HBM_EFFICIENCY * float(bandwidth))
