"""Pieces every exporter shares: the dtype flag, quantization, speculative decoding, the
settings record and the script/notes assembly."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import NotSupportedError
from .deployment import Deployment
from .result import Export, Step
from .script import render_script
from .support import format_support, kv_flag

HEAD_ENV = ("HEAD_IP", "NODE_RANK")
"""Variables a multi-node script reads: the head node's address and this node's rank."""


def dtype_flag(dep: Deployment) -> str:
    """The engine's ``--dtype``: float16 where the GPU has no bf16 or the format is fp16."""
    if dep.weights.name == "fp32":
        return "float32"
    if dep.weights.name == "fp16" or not dep.gpu.supports("bf16"):
        return "float16"
    return "auto"


def quantization(dep: Deployment) -> str | None:
    """The engine's flag value to quantize a 16-bit checkpoint while loading, when the
    checkpoint loaded is not already in the planned format (None: nothing to pass)."""
    from ..memory import resolve_format

    native = resolve_format(dep.model, "auto").name
    if dep.model_path_is_placeholder or dep.weights.name == native:
        return None
    return format_support(dep.weights).online.get(dep.engine)


def kv_cache_dtype(dep: Deployment) -> str:
    """The engine's KV-cache dtype flag; ``auto`` where it is the model's own dtype."""
    from ..deployment import model_kv_dtype

    return kv_flag(dep.engine, dep.estimate.kv_dtype, model_kv_dtype(dep.weights), dep.gpu)


def budget_fraction(dep: Deployment) -> float:
    """The engine's memory-budget knob as it will be passed (budget engines only)."""
    if dep.memory_fraction is None:
        raise NotSupportedError(
            f"{dep.engine} has no memory-budget knob", "this exporter needs a budget engine"
        )
    return dep.memory_fraction


def has_mtp(dep: Deployment) -> bool:
    return bool(dep.model.arch.mtp_layers)


def settings(dep: Deployment, **extra: Any) -> dict[str, Any]:
    """The checked numbers an export was built from (SI: tokens, bytes)."""
    est = dep.estimate
    return {
        "model": dep.model.id,
        "model_path": dep.model_path,
        "model_path_is_placeholder": dep.model_path_is_placeholder,
        "gpu": dep.gpu.name,
        "gpus": dep.gpus,
        "nodes": dep.nodes,
        "gpus_per_node": dep.gpus_per_node,
        "tp": dep.tp,
        "pp": dep.pp,
        "ep": dep.ep,
        "dp": dep.dp,
        "dp_attention": est.dp_attention,
        "weights": dep.weights.name,
        "kv_dtype": est.kv_dtype,
        "context_tokens": dep.context,
        "concurrency": dep.concurrency,
        "memory_fraction": dep.memory_fraction,
        "max_concurrency_at_context": est.max_concurrency,
        "max_context_tokens": est.max_context_tokens,
        "kv_capacity_tokens": est.kv_capacity_tokens,
        "spec_tokens": dep.spec_tokens,
        **extra,
    }


def build(
    dep: Deployment,
    what: str,
    steps: Sequence[Step],
    *,
    notes: Sequence[str] = (),
    files: Mapping[str, str] | None = None,
    serve: Step | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Export:
    """An :class:`Export` whose ``serve.sh`` writes ``files`` and runs ``steps``."""
    all_notes = (*dep.notes, *notes)
    if dep.nodes > 1:
        all_notes = (
            *all_notes,
            f"{dep.nodes} nodes: run serve.sh on every node with NODE_RANK=0..{dep.nodes - 1} "
            "and HEAD_IP set to node 0's address",
        )
    guard = dep.model_path if dep.model_path_is_placeholder else None
    script = render_script(what, steps, all_notes, files, guard, multi_node=dep.nodes > 1)
    main = serve or next(s for s in steps if s.role in ("serve", "head"))
    return Export(
        engine=dep.engine,
        target=dep.target,
        argv=main.argv,
        env=dict(main.env),
        files={"serve.sh": script, **(files or {})},
        notes=tuple(all_notes),
        steps=tuple(steps),
        settings=settings(dep, **(extra or {})),
    )
