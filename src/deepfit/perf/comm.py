"""Communication per step: tensor-parallel all-reduce, expert-parallel all-to-all,
pipeline sends, over NVLink / PCIe / InfiniBand bandwidths from the catalogue."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .._cache import by_identity
from ..hardware import Gpu, list_networks
from ..memory.layout import Layout
from ..models.architecture import Architecture

GPUS_PER_NODE = 8


@lru_cache(maxsize=1)
def _network_bandwidths() -> dict[str, float]:
    """Per-GPU one-way bandwidths (bytes/s) of the catalogue's links by name."""
    return {
        n.name: n.per_gpu_unidir_bytes_per_s
        for n in list_networks()
        if n.per_gpu_unidir_bytes_per_s
    }


def intra_node_bandwidth(gpu: Gpu) -> float:
    """One-way GPU-to-GPU bandwidth inside a node: NVLink/xGMI when the GPU has it, else
    PCIe (Gen4 x16 from the network catalogue when the GPU row does not say)."""
    if gpu.interconnect_bidir_bytes_per_s:
        return gpu.interconnect_bidir_bytes_per_s / 2
    nets = _network_bandwidths()
    gen5 = "Gen5" in gpu.interconnect
    return nets["PCIe Gen5 x16" if gen5 else "PCIe Gen4 x16"]


def scale_up_gpus(gpu: Gpu) -> int:
    """GPUs that reach each other over the GPU's own scale-up link: the 72 of an NVL72 rack
    (the catalogue's interconnect says "72-GPU domain"), else one node of 8."""
    return 72 if "72-gpu" in gpu.interconnect.lower() else GPUS_PER_NODE


def inter_node_bandwidth() -> float:
    """One-way per-GPU bandwidth between nodes: InfiniBand NDR, one 400 Gb/s HCA per GPU."""
    return _network_bandwidths()["InfiniBand NDR 400 Gb/s (1 HCA per GPU)"]


@dataclass(frozen=True)
class CommCost:
    seconds: float
    bytes: float
    collectives: int  # count of latency-bound collective calls
    remote: int = 0  # how many of them cross nodes (InfiniBand)


@by_identity
def comm_per_token(
    arch: Architecture, gpu_name: str, layout: Layout, layers: range
) -> tuple[float, int, int]:
    """(seconds per token of a step, collective calls, calls across nodes) of ``step_comm``
    on GPU ``gpu_name``: its bandwidth time is linear in the tokens, its call count constant."""
    from ..hardware import load_gpu

    cost = step_comm(arch, load_gpu(gpu_name), layout, layers, 1)
    return cost.seconds, cost.collectives, cost.remote


def step_comm(
    arch: Architecture, gpu: Gpu, layout: Layout, layers: range, tokens: int, act_bytes: int = 2
) -> CommCost:
    """Bytes and bandwidth time of one step's communication on one GPU (latency apart)."""
    h = arch.hidden_size
    seconds = nbytes = 0.0
    calls = remote = 0
    domain = scale_up_gpus(gpu)
    tp_bw = intra_node_bandwidth(gpu) if layout.tp <= domain else inter_node_bandwidth()
    if layout.tp > 1:
        # all-reduces per layer: after attention (none with DP attention, whose ranks hold
        # whole heads) and after a tensor-parallel MLP (none for experts placed by EP, whose
        # all-to-all is charged below); ring all-reduce moves 2(n-1)/n of the data
        size = tokens * h * act_bytes
        per = 2 * (layout.tp - 1) / layout.tp * size
        count = 0
        for i in layers:
            count += 0 if layout.attention_dp else 1
            count += 0 if (arch.layers[i].moe is not None and layout.ep > 1) else 1
        seconds += count * per / tp_bw
        nbytes += count * per
        calls += count
        remote += count if layout.tp > domain else 0
    if layout.ep > 1:
        moes = [m for m in (arch.layers[i].moe for i in layers) if m is not None]
        moe_layers = moes
        k = max((m.experts_per_token for m in moes), default=0)
        # dispatch and combine: each token goes once to every other rank holding one of its
        # k experts: ep * (1 - (1 - 1/ep)^k) ranks, (ep - 1)/ep of them remote
        ranks = layout.ep * (1 - (1 - 1 / layout.ep) ** k)
        per = 2 * tokens * ranks * h * act_bytes * (layout.ep - 1) / layout.ep
        ep_bw = intra_node_bandwidth(gpu) if layout.ep <= domain else inter_node_bandwidth()
        seconds += len(moe_layers) * per / ep_bw
        nbytes += len(moe_layers) * per
        calls += 2 * len(moe_layers)
        remote += 2 * len(moe_layers) if layout.ep > domain else 0
    if layout.pp > 1:
        across_nodes = layout.tp * layout.pp > domain
        bw = inter_node_bandwidth() if across_nodes else intra_node_bandwidth(gpu)
        boundary = tokens * h * act_bytes / max(layout.tp, 1)
        seconds += boundary / bw
        nbytes += boundary
        calls += 1
        remote += 1 if across_nodes else 0
    return CommCost(seconds, nbytes, calls, remote)
