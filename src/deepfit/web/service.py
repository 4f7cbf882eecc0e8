"""What the web API and the report compute: plain functions over the public API, returning
JSON-ready dicts (the same numbers as the CLI's ``--json``)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import api
from ..errors import ConfigError, DeepfitError, UnknownModelError
from ..memory.advice import what_would_fit
from ..models.catalog import HUB_ID, find_entry
from ..models.loader import Model, bundled_model, model_from_config
from ..planner import SearchSpace, Targets, search
from ..planner.space import DEFAULT_FORMATS
from . import svg

MAX_GPUS = 64
MAX_TOKENS = 1 << 21


@dataclass(frozen=True)
class Access:
    """What the server may read beyond the request and the bundled catalogue: config files
    under ``files`` (``deepfit serve --allow-files DIR``) and the Hub (``--allow-hub``)."""

    files: Path | None = None
    hub: bool = False


def resolve_model(
    name: str | None, config: dict[str, Any] | None, access: Access | None = None
) -> Model:
    """The model a request names: a pasted config, a bundled model, or (only where ``access``
    allows) a config file under the allowed folder or a Hub id. Errors never carry a file's
    path or content."""
    if config is not None:
        return model_from_config(config, "pasted config")
    access = access or Access()
    text = (name or "").strip()
    entry = find_entry(text) if text else None
    if entry is not None and entry.bundled:
        return bundled_model(entry)
    if access.files is not None and text:
        path = _allowed_file(access.files, text)
        if path is not None:
            try:
                return api.load_model(path)
            except DeepfitError as err:
                raise ConfigError(
                    f"the config '{text[:80]}' under the allowed folder is not usable",
                    err.hint,
                ) from None
    if access.hub and text and (entry is not None or HUB_ID.match(text)):
        return api.load_model(text, hub=True)
    raise UnknownModelError(
        f"unknown model '{text[:80]}'",
        "this server answers for the bundled models (GET /api/models) and pasted configs "
        "(POST a config.json)",
    )


def _allowed_file(root: Path, name: str) -> Path | None:
    """``name`` as a path inside ``root`` (relative names are taken from ``root``), or None
    when it leaves ``root`` (``..``, links) or names nothing there."""
    try:
        base = root.resolve(strict=True)
        path = (base / name).resolve(strict=True)
    except (OSError, RuntimeError, ValueError):
        return None
    return path if path.is_relative_to(base) else None


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
        gpus=_distinct_gpus(gpus),
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


def _distinct_gpus(names: list[str] | None) -> list[str] | None:
    """Each GPU once, by its catalogue name (``H100``, ``h100`` and ``H100 SXM`` are one)."""
    if not names:
        return None
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(api.load_gpu(name).name, name)
    return list(seen.values())


def _plan(model: Model, targets: Targets, space: SearchSpace) -> dict[str, Any]:
    data = search(model, targets, space).to_dict()
    data["disaggregated"] = _disagg(model, targets, space, data)
    return data


def _disagg(
    model: Model, targets: Targets, space: SearchSpace, data: dict[str, Any]
) -> dict[str, Any] | None:
    """With a rate and both latency targets: the P:D split against aggregated serving on the
    chosen GPU (or the best plan's), as ``deepfit disagg`` answers it; None without them."""
    from ..planner.disagg import DisaggTargets, plan_disagg

    if targets.rate is None or targets.ttft_s is None or targets.tpot_s is None:
        return None
    chosen: list[str] = space.gpus or [p["gpu"] for p in data.get("plans", [])[:1]]
    if not chosen:
        return None
    gpu = chosen[0]
    want = DisaggTargets(
        targets.input_len, targets.output_len, targets.rate, targets.ttft_s, targets.tpot_s
    )
    try:
        plan = plan_disagg(
            model, want, prefill_gpu=gpu, max_gpus=space.max_gpus, engine=space.engine
        )
    except DeepfitError as err:
        return {"gpu": gpu, "verdict": None, "reason": err.message}
    return {"gpu": gpu, **plan.to_dict()}


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
