"""KV offload tiers for one deployment: the memory estimate's KV layout, the host link from
the catalogues, and the prefill time from :func:`estimate_perf` at each prefix hit rate,
handed to :mod:`deepfit.memory.kv_tiers`."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from ..errors import BadInputError
from ..hardware import Gpu, list_networks
from ..memory.kv_tiers import KvLayout, TierSpec, tier_answer
from ..memory.result import MemoryEstimate
from ..models.loader import Model

GPUS_PER_NODE = 8


@cache
def _host_links() -> dict[str, tuple[str, str]]:
    """GPU name -> (host link name in networks.csv, source)."""
    text = resources.files("deepfit.memory").joinpath("data/host_links.json").read_text()
    out: dict[str, tuple[str, str]] = {}
    for link, entry in json.loads(text)["links"].items():
        for gpu in entry["gpus"]:
            out[gpu] = (link, entry["source"])
    return out


def host_link(gpu: Gpu, name: str | None = None) -> tuple[str, float, str]:
    """(link, one-way bytes/s per GPU, source) of ``gpu``'s host link, or the one named."""
    link, why = (name, "--host-link") if name else _host_links().get(gpu.name, ("", ""))
    if not link:
        raise BadInputError(
            f"deepfit does not know {gpu.name}'s host link",
            "name it with --host-link 'PCIe Gen4 x16' (or Gen5, Gen6)",
        )
    found = {n.name.lower(): n for n in list_networks()}.get(link.strip().lower())
    if found is None or not found.per_gpu_unidir_bytes_per_s:
        known = [n.name for n in list_networks() if n.technology == "PCIe"]
        raise BadInputError(f"unknown host link '{link}'", f"use one of: {', '.join(known)}")
    return found.name, found.per_gpu_unidir_bytes_per_s, f"{found.source} ({why})"


def kv_offload(
    model: Model,
    gpu: Gpu,
    est: MemoryEstimate,
    *,
    prompt_tokens: int,
    cpu_bytes: int = 0,
    disk_bytes: int = 0,
    disk_bytes_per_s: float = 0.0,
    link_name: str | None = None,
) -> dict[str, Any]:
    """The tiers asked for (host RAM and/or disk, sizes for the whole replica), answered for
    ``prompt_tokens``-token prompts on the deployment ``est`` describes."""
    from .api import estimate_perf

    if disk_bytes and disk_bytes_per_s <= 0:
        raise BadInputError("a disk tier needs its read rate", "add --disk-gbps 6 (GB/s)")
    link, link_rate, link_source = host_link(gpu, link_name)
    ranks = 1 if est.dp_attention else est.tp
    kv = KvLayout(
        per_gpu_bytes_per_token=max(s.kv_bytes_per_token for s in est.stages),
        replica_bytes_per_token=sum(s.kv_bytes_per_token for s in est.stages) * ranks,
        gpus=est.gpus // est.dp,
        gpus_per_node=min(est.gpus // est.dp, GPUS_PER_NODE),
        host_link_bytes_per_s=link_rate,
    )

    def prefill(hit: float) -> float:
        return estimate_perf(
            model,
            gpu,
            input_len=prompt_tokens,
            output_len=1,
            concurrency=1,
            gpus=est.gpus,
            tp=est.tp,
            pp=est.pp,
            ep=est.ep,
            weights=est.weights_format,
            kv_dtype=est.kv_dtype,
            engine=est.engine,
            dp_attention=est.dp_attention,
            prefix_hit_rate=hit,
        ).ttft_s

    tiers = []
    if cpu_bytes:
        tiers.append(TierSpec("cpu", cpu_bytes, link_rate, f"{link}: {link_source}"))
    if disk_bytes:
        tiers.append(TierSpec("disk", disk_bytes, disk_bytes_per_s, "read rate as stated"))
    return {
        "prompt_tokens": prompt_tokens,
        "host_link": link,
        "host_link_bytes_per_s": link_rate,
        "kv_bytes_per_token_per_gpu": kv.per_gpu_bytes_per_token,
        "kv_bytes_per_token_replica": kv.replica_bytes_per_token,
        "gpu_tokens": est.kv_capacity_tokens,
        "ttft_without_s": prefill(0.0),
        "tiers": [tier_answer(t, kv, prompt_tokens, prefill).to_dict() for t in tiers],
    }
