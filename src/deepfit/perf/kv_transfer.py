"""Moving one request's KV cache from a prefill worker to a decode worker (alpha-beta).

After prefill, the prompt's KV cache (every layer, every token of the prompt) moves to the
decode worker that will generate the answer. Each GPU of the sending worker sends its own
shard and each GPU of the receiving worker receives its own, all in parallel over their own
links, so the time is the larger per-GPU share over one GPU's one-way link bandwidth, plus a
fixed latency (alpha) per transfer:

    t = alpha + max(prefill GPU's share, decode GPU's share) / link bytes/s

The link is the GPU's own NVLink / xGMI when both pools sit in one NVLink domain (an 8-GPU
node, or a 72-GPU NVL72 rack), else the scale-out network of the node (InfiniBand NDR for
Hopper and AMD nodes, XDR / ConnectX-8 for Blackwell), or PCIe; bandwidths come from the
hardware catalogue (``hardware/data/networks.csv`` and ``gpus.csv``, each with its source),
alpha from the collective latency per link in ``perf/data/serving_terms.json``. The whole
transfer is counted in TTFT (engines start it when the prefill ends, not layer by layer).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import BadInputError
from ..hardware import Gpu, list_networks
from .comm import intra_node_bandwidth, scale_up_gpus
from .terms import collective_latency, intra_node_link

#: The scale-out row of the network catalogue a node of each GPU family is built with
#: (networks.csv "typical_systems": XDR for HGX B200/B300 and GB200/GB300 racks, NDR for
#: HGX H100/H200 and the MI300X-class nodes).
_BLACKWELL = ("b200", "b300", "gb200", "gb300")
_NDR = "InfiniBand NDR 400 Gb/s (1 HCA per GPU)"
_XDR = "InfiniBand XDR 800 Gb/s / ConnectX-8"
LINK_CHOICES = ("auto", "nvlink", "infiniband", "pcie")


@dataclass(frozen=True)
class KvLink:
    """The link a KV cache crosses between the pools: per-GPU one-way bytes/s and alpha."""

    name: str
    kind: str  # nvlink, xgmi, pcie or infiniband: which alpha applies
    bytes_per_s: float
    alpha_s: float
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "bytes_per_s": self.bytes_per_s,
            "alpha_s": self.alpha_s,
            "source": self.source,
        }


@dataclass(frozen=True)
class KvTransfer:
    """One request's KV transfer: bytes of the whole prompt's cache, the largest share one
    GPU moves, and the seconds it takes over ``link``."""

    request_bytes: float
    per_gpu_bytes: float
    seconds: float
    link: KvLink

    def to_dict(self) -> dict[str, Any]:
        return {
            "request_bytes": self.request_bytes,
            "per_gpu_bytes": self.per_gpu_bytes,
            "seconds": self.seconds,
            "link": self.link.to_dict(),
            "how": "alpha + max(per-GPU shard sent, received) / per-GPU one-way link bytes/s",
        }


def nvlink_domain(gpu: Gpu) -> int:
    """GPUs that share the GPU's scale-up link at full speed: 72 in an NVL72 rack (the
    catalogue's interconnect text says so), else one 8-GPU node; 1 without such a link."""
    if not gpu.interconnect_bidir_bytes_per_s:
        return 1
    return scale_up_gpus(gpu)


def _network(name: str) -> tuple[float, str]:
    for net in list_networks():
        if net.name == name and net.per_gpu_unidir_bytes_per_s:
            return net.per_gpu_unidir_bytes_per_s, f"networks.csv {net.name!r}: {net.source}"
    raise BadInputError(f"network {name!r} is not in the catalogue", "see `deepfit hardware`")


def kv_link(gpu: Gpu, total_gpus: int, choice: str = "auto", one_type: bool = True) -> KvLink:
    """The link between the pools of ``total_gpus`` ``gpu``s (the decode pool's GPU):
    ``auto`` takes the scale-up link when both pools fit in one NVLink domain (and use one
    GPU type: two types never share a node), else the node's scale-out network."""
    if choice not in LINK_CHOICES:
        raise BadInputError(f"KV link {choice!r} is not known", f"use one of {LINK_CHOICES}")
    scale_up = intra_node_link(gpu)
    if choice == "nvlink" and (scale_up == "pcie" or not one_type):
        why = "two GPU types do not share" if not one_type else f"{gpu.name} has no"
        raise BadInputError(f"{why} NVLink / xGMI", "use --kv-link infiniband or pcie")
    inside = one_type and total_gpus <= nvlink_domain(gpu)
    if choice == "nvlink" or (choice == "auto" and inside):
        return KvLink(
            gpu.interconnect or scale_up,
            scale_up,
            intra_node_bandwidth(gpu),
            collective_latency(scale_up),
            f"gpus.csv {gpu.name!r} interconnect (half of the bidirectional figure): "
            f"{gpu.source}; alpha: serving_terms.json collectives.{scale_up}",
        )
    if choice == "pcie" or (choice == "auto" and scale_up == "pcie"):
        name = "PCIe Gen5 x16" if "gen5" in gpu.interconnect.lower() else "PCIe Gen4 x16"
        bw, source = _network(name)
        return KvLink(name, "pcie", bw, collective_latency("pcie"), source)
    blackwell = any(tag in gpu.name.lower() for tag in _BLACKWELL)
    name = _XDR if blackwell else _NDR
    bw, source = _network(name)
    alpha = collective_latency("infiniband")
    return KvLink(name, "infiniband", bw, alpha, f"{source}; alpha: collectives.infiniband")


def kv_transfer(
    request_bytes: float, prefill_gpu_bytes: float, decode_gpu_bytes: float, link: KvLink
) -> KvTransfer:
    """The transfer of one prompt's cache: ``request_bytes`` in all, of which one prefill GPU
    holds ``prefill_gpu_bytes`` and one decode GPU receives ``decode_gpu_bytes``."""
    share = max(prefill_gpu_bytes, decode_gpu_bytes)
    return KvTransfer(request_bytes, share, link.alpha_s + share / link.bytes_per_s, link)
