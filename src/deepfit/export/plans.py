"""Read one plan of ``deepfit plan --json`` into an :class:`ExportRequest`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import BadInputError
from .deployment import ExportRequest

_INT_KEYS = ("gpus", "tp", "pp", "ep", "dp", "concurrency")


def _int(plan: Mapping[str, Any], key: str, default: int | None) -> int | None:
    value = plan.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BadInputError(
            f"plan field {key!r} is {value!r}, not a whole number >= 1",
            "pass the output of `deepfit plan --json` unchanged",
        )
    return value


def pick_plan(data: Any, index: int = 0) -> Mapping[str, Any]:
    """Plan ``index`` (0 = the best) of a ``deepfit plan --json`` object."""
    plans = data.get("plans") if isinstance(data, Mapping) else None
    if not isinstance(plans, list) or not plans:
        raise BadInputError(
            "the plan file has no plans", "pass the output of `deepfit plan --json`"
        )
    if not 0 <= index < len(plans) or not isinstance(plans[index], Mapping):
        raise BadInputError(
            f"plan index {index} is not in the file", f"use --index 0..{len(plans) - 1}"
        )
    plan: Mapping[str, Any] = plans[index]
    return plan


def plan_model(data: Any, plan: Mapping[str, Any]) -> str | None:
    """The model a plan file names, if it names one."""
    for source in (plan, data if isinstance(data, Mapping) else {}):
        model = source.get("model")
        if isinstance(model, Mapping):
            model = model.get("id")
        if isinstance(model, str) and model:
            return model
    return None


def plan_gpu(plan: Mapping[str, Any]) -> str:
    gpu = plan.get("gpu")
    if not isinstance(gpu, str) or not gpu:
        raise BadInputError("the plan has no 'gpu'", "pass the output of `deepfit plan --json`")
    return gpu


def plan_context(data: Any, plan: Mapping[str, Any]) -> int | None:
    """Context per sequence: the plan's own, else the planned input + output lengths."""
    for source in (plan, data if isinstance(data, Mapping) else {}):
        for key in ("context_tokens", "context"):
            if isinstance(source.get(key), int):
                return int(source[key])
        ins, outs = source.get("input_len"), source.get("output_len")
        if isinstance(ins, int) and isinstance(outs, int):
            return ins + outs
    return None


def request_from_plan(data: Any, plan: Mapping[str, Any], base: ExportRequest) -> ExportRequest:
    """``base`` (engine, target, overrides) with the plan's layout, formats and workload."""
    tp, pp, dp = (_int(plan, k, 1) or 1 for k in ("tp", "pp", "dp"))
    gpus = _int(plan, "gpus", tp * pp * dp) or tp * pp * dp
    if gpus != tp * pp * dp:
        raise BadInputError(
            f"plan has gpus={gpus} but tp x pp x dp = {tp * pp * dp}",
            "pass the output of `deepfit plan --json` unchanged",
        )
    spec = plan.get("spec_tokens", base.spec_tokens)
    return ExportRequest(
        engine=str(plan.get("engine") or base.engine) if base.engine == "auto" else base.engine,
        target=base.target,
        gpus=gpus,
        tp=tp,
        pp=pp,
        ep=_int(plan, "ep", 1) or 1,
        weights=str(plan.get("weights") or base.weights),
        kv_dtype=str(plan.get("kv_dtype") or base.kv_dtype),
        context=base.context or plan_context(data, plan),
        concurrency=base.concurrency or _int(plan, "concurrency", None),
        memory_fraction=base.memory_fraction,
        dp_attention=plan["dp_attention"]
        if isinstance(plan.get("dp_attention"), bool)
        else base.dp_attention,
        spec_tokens=spec if isinstance(spec, int) and spec >= 0 else 0,
        gpus_per_node=base.gpus_per_node,
        model_path=base.model_path,
        port=base.port,
    )
