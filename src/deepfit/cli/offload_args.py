"""``deepfit memory`` flags for KV offload tiers (host RAM, local disk) and their answer."""

from __future__ import annotations

import argparse
from typing import Any

from ..units import GB, GiB
from .argtypes import positive_float, tokens


def add_offload_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("KV offload tiers (vLLM offloading, LMCache, SGLang HiCache)")
    g.add_argument(
        "--kv-offload-cpu",
        type=positive_float,
        default=None,
        metavar="GiB",
        help="host RAM for offloaded KV, for the whole replica",
    )
    g.add_argument(
        "--kv-offload-disk",
        type=positive_float,
        default=None,
        metavar="GiB",
        help="local disk for offloaded KV (needs --disk-gbps)",
    )
    g.add_argument(
        "--disk-gbps",
        type=positive_float,
        default=None,
        metavar="GB/s",
        help="the node's disk read rate for the disk tier, as measured (e.g. fio)",
    )
    g.add_argument(
        "--prompt-len",
        type=tokens,
        default=None,
        metavar="TOKENS",
        help="prompt length the tiers are judged at (default: --context)",
    )
    g.add_argument(
        "--host-link",
        default=None,
        metavar="LINK",
        help="GPU-host link when deepfit does not know it: 'PCIe Gen4 x16', 'PCIe Gen5 x16'",
    )


def offload_answer(
    args: argparse.Namespace, model: Any, gpu: Any, est: Any
) -> dict[str, Any] | None:
    """The ``kv_offload`` JSON object, or None when no tier is asked for."""
    if args.kv_offload_cpu is None and args.kv_offload_disk is None:
        return None
    from .. import api

    return api.kv_offload(
        model,
        gpu,
        est,
        prompt_tokens=args.prompt_len or est.context_tokens,
        cpu_bytes=int((args.kv_offload_cpu or 0) * GiB),
        disk_bytes=int((args.kv_offload_disk or 0) * GiB),
        disk_bytes_per_s=(args.disk_gbps or 0.0) * GB,
        link_name=args.host_link,
    )
