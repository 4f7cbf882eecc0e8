"""What the web API and the report compute: plain functions over the public API, returning
JSON-ready dicts (the same numbers as the CLI's ``--json``)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from .. import api
from ..memory.advice import what_would_fit
from ..models.loader import Model, model_from_config
from ..planner import SearchSpace, Targets, search
from ..planner.space import DEFAULT_FORMATS
from . import svg

MAX_GPUS = 64
MAX_TOKENS = 1 << 21


def resolve_model(name: str | None, config: dict[str, Any] | None, hub: bool = False) -> Model:
    if config is not None:
        return model_from_config(config, "pasted config")
    return api.load_model(name or "", hub=hub)


def memory(
    model: Model,
    gpu: str,
    gpus: int,
    weights: str,
    kv_dtype: str,
    context: int | None,
    batch: int,
    engine: str,
    tp: int | None = None,
    pp: int = 1,
    lang: str = "en",
) -> dict[str, Any]:
    g = api.load_gpu(gpu)
    result = api.estimate_memory(
        model,
        g,
        gpus=gpus,
        tp=tp,
        pp=pp,
        weights=weights,
        kv_dtype=kv_dtype,
        context=context,
        batch=batch,
        engine=engine,
    )
    data = result.to_dict()
    if not result.fits:
        data["would_fit"] = what_would_fit(model, g, result)
    data["chart_svg"] = svg.memory_bar(data, lang=lang)
    return data


def perf(
    model: Model,
    gpu: str,
    gpus: int,
    weights: str,
    kv_dtype: str,
    input_len: int,
    output_len: int,
    concurrency: int | str,
    engine: str,
    tp: int | None = None,
    pp: int = 1,
) -> dict[str, Any]:
    device = api.load_gpu(gpu)
    result = api.estimate_perf(
        model,
        device,
        gpus=gpus,
        tp=tp,
        pp=pp,
        weights=weights,
        kv_dtype=kv_dtype,
        input_len=input_len,
        output_len=output_len,
        concurrency=concurrency,
        engine=engine,
        efficiency=api.user_calibration(engine, device),
    )
    return result.to_dict()


def matrix(
    model: Model,
    gpu: str,
    gpus: int,
    input_len: int,
    output_len: int,
    concurrency: int | str,
    engine: str,
) -> list[dict[str, Any]]:
    device = api.load_gpu(gpu)
    return api.precision_matrix(
        model,
        device,
        gpus=gpus,
        input_len=input_len,
        output_len=output_len,
        concurrency=concurrency,
        engine=engine,
        efficiency=api.user_calibration(engine, device),
    )


_PLAN_LOCK = threading.Lock()
_PLANS: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()


def plan(
    model: Model,
    input_len: int,
    output_len: int,
    ttft_s: float | None,
    tpot_s: float | None,
    rate: float | None,
    budget: float | None,
    objective: str,
    gpus: list[str] | None,
    max_gpus: int,
    engine: str,
    formats: list[str] | None = None,
    lang: str = "en",
) -> dict[str, Any]:
    """A plan. The search is a pure function of its inputs: answers about bundled models are
    kept (256 of them), and concurrent identical questions are computed once. The chart's
    words are in ``lang``."""
    data = _cached_plan(
        model, input_len, output_len, ttft_s, tpot_s, rate, budget, objective, gpus, max_gpus,
        engine, formats,
    )  # fmt: skip
    return {**data, "chart_svg": svg.pareto(data, lang=lang)}


def _cached_plan(
    model: Model,
    input_len: int,
    output_len: int,
    ttft_s: float | None,
    tpot_s: float | None,
    rate: float | None,
    budget: float | None,
    objective: str,
    gpus: list[str] | None,
    max_gpus: int,
    engine: str,
    formats: list[str] | None,
) -> dict[str, Any]:
    targets = Targets(input_len, output_len, ttft_s, tpot_s, rate, budget, objective)
    space = SearchSpace(
        gpus=gpus or None,
        max_gpus=min(max_gpus, MAX_GPUS),
        engine=engine,
        formats=tuple(formats) if formats else DEFAULT_FORMATS,
    )
    if model.origin != "bundled":
        return _plan(model, targets, space)
    key = (model.id, targets, tuple(space.gpus or ()), space.max_gpus, engine, space.formats)
    hit = _PLANS.get(key)
    if hit is not None:
        return hit
    with _PLAN_LOCK:  # one search at a time: the others wait and then read the answer
        if key not in _PLANS:
            _PLANS[key] = _plan(model, targets, space)
            if len(_PLANS) > 256:
                _PLANS.popitem(last=False)
        return _PLANS[key]


def _plan(model: Model, targets: Targets, space: SearchSpace) -> dict[str, Any]:
    return search(model, targets, space).to_dict()


def export(
    model: Model,
    gpu: str,
    engine: str,
    gpus: int,
    weights: str,
    kv_dtype: str,
    context: int | None,
    concurrency: int | None,
    tp: int | None = None,
    pp: int = 1,
    ep: int = 1,
) -> dict[str, Any]:
    """The launch configuration, checked to fit (the same as ``deepfit export --json``),
    with the main file as ``command``."""
    result = api.export_config(
        model,
        api.load_gpu(gpu),
        engine=engine,
        gpus=gpus,
        tp=tp,
        pp=pp,
        ep=ep,
        weights=weights,
        kv_dtype=kv_dtype,
        context=context,
        concurrency=concurrency,
    )
    data = result.to_dict()
    data["command"] = result.text()
    return data
