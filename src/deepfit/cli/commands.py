"""The commands: each calls the public API and hands one result to a renderer."""

from __future__ import annotations

import argparse
from typing import Any

from .. import api
from ..errors import BadInputError
from . import render
from .ledger_args import extras_from
from .offload_args import offload_answer


def models(args: argparse.Namespace) -> int:
    rows = api.catalog_summary()
    render.emit({"models": rows}, args.json, render.models_table)
    return 0


def gpus(args: argparse.Namespace) -> int:
    rows = [gpu.to_dict() for gpu in api.list_gpus()]
    render.emit({"gpus": rows}, args.json, render.gpus_table)
    return 0


def info(args: argparse.Namespace) -> int:
    model = api.load_model(args.model, hub=args.hub)
    render.emit(model.to_dict(), args.json, render.info_view)
    return 0


def memory(args: argparse.Namespace) -> int:
    model = api.load_model(args.model, hub=args.hub)
    gpu = api.load_gpu(args.gpu)
    result = api.estimate_memory(
        model,
        gpu,
        gpus=args.gpus,
        tp=args.tp,
        pp=args.pp,
        ep=args.ep,
        weights=args.weights,
        kv_dtype=args.kv_dtype,
        context=args.context,
        batch=args.batch,
        engine=args.engine,
        memory_fraction=args.gpu_memory_utilization,
        dp_attention=args.dp_attention,
        checkpoint=(ckpt := api.checkpoint_bytes(model, args.checkpoint, hub=args.hub)),
        extras=extras_from(args, hub=args.hub),
    )
    data = result.to_dict()
    if ckpt is not None:
        data["checkpoint"] = ckpt.to_dict()
    if not result.fits:
        data["would_fit"] = api.what_would_fit(model, gpu, result)
    tiers = offload_answer(args, model, gpu, result)
    if tiers is not None:
        data["kv_offload"] = tiers
    if api.load_engine(result.engine).layer_offload and result.gpus == 1:
        data["llamacpp_offload"] = [p.to_dict() for p in api.offload_splits(model, gpu, result)]
    render.emit(data, args.json, render.memory_view)
    return 0


def perf(args: argparse.Namespace) -> int:
    model = api.load_model(args.model, hub=args.hub)
    gpu = api.load_gpu(args.gpu)
    common: dict[str, Any] = dict(
        input_len=args.input_len,
        output_len=args.output_len,
        concurrency=args.concurrency,
        gpus=args.gpus,
        tp=args.tp,
        pp=args.pp,
        ep=args.ep,
        kv_dtype=args.kv_dtype,
        engine=args.engine,
        dp_attention=args.dp_attention,
        prefix_hit_rate=args.prefix_hit_rate,
        spec_tokens=args.spec_tokens,
        spec_acceptance=args.spec_acceptance,
        efficiency=api.user_calibration(args.engine, gpu),
    )
    if args.matrix:
        rows = api.precision_matrix(model, gpu, **common)
        render.emit({"matrix": rows}, args.json, render.matrix_table)
        return 0
    result = api.estimate_perf(model, gpu, weights=args.weights, load=_load(args), **common)
    render.emit(result.to_dict(ops=args.ops), args.json, render.perf_view)
    return 0


def _load(args: argparse.Namespace) -> Any:
    """The load shape to simulate, if any (``--rate``, ``--burst``, ``--percentiles``)."""
    from ..errors import BadInputError
    from ..perf.simulate import Load

    if getattr(args, "rate", None) is not None:
        return Load("rate", args.rate)
    if getattr(args, "burst", None) is not None:
        return Load("burst", args.burst)
    if getattr(args, "percentiles", False):
        if args.concurrency == "max":
            raise BadInputError(
                "--percentiles needs a number of clients", "e.g. --concurrency 64 --percentiles"
            )
        return Load("concurrency", args.concurrency)
    return None


def validate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..perf.published import bundled_runs
    from ..perf.validate import validate as run_validation

    if args.disagg:
        return _validate_disagg(args)
    runs = bundled_runs(Path(args.csv) if args.csv else None)
    report = run_validation(runs)
    if args.csv and not any(r.skip_reason is None for r in runs):
        raise BadInputError(
            f"no row of {args.csv} is one deepfit can recompute",
            "use the columns and names of deepfit's own throughput.csv; see --rows for why",
        )
    data = report.to_dict(by=args.by)
    if not args.rows and not args.json:
        data["rows"] = []
    render.emit(data, args.json, render.validate_view)
    return 0


def _validate_disagg(args: argparse.Namespace) -> int:
    """``validate --disagg``: InferenceX's disaggregated rows (docs/disaggregated.md)."""
    from ..perf.groundtruth_disagg import bundled_disagg_runs
    from ..perf.validate_disagg import disagg_summary, validate_disagg

    if args.csv:
        raise BadInputError("--disagg checks the bundled InferenceX rows", "drop --csv")
    report = validate_disagg(bundled_disagg_runs())
    data = report.to_dict(by=args.by)
    data["disaggregated"] = disagg_summary(report)
    if not args.rows and not args.json:
        data["rows"] = []
    render.emit(data, args.json, render.validate_view)
    return 0


def _plan_formats(args: argparse.Namespace, model: Any) -> tuple[str, ...]:
    from ..errors import BadInputError
    from ..planner import SearchSpace
    from ..planner.quality import lossless_formats

    if args.lossless and args.weights:
        raise BadInputError("--lossless and --weights both choose formats", "keep one of them")
    if args.lossless:
        return lossless_formats(model)
    return tuple(args.weights) if args.weights else SearchSpace().formats


def plan(args: argparse.Namespace) -> int:
    from ..planner import OwnHardware, SearchSpace, Targets, load_scenario, read_prices, search
    from ..planner.plot import write_plot

    model = api.load_model(args.model, hub=args.hub)
    preset = load_scenario(args.scenario) if args.scenario else None

    def pick(name: str, default: Any) -> Any:
        value = getattr(args, name)
        if value is not None:
            return value
        return getattr(preset, name) if preset is not None else default

    targets = Targets(
        input_len=pick("input_len", 1024),
        output_len=pick("output_len", 256),
        ttft_s=pick("ttft_s", None),
        tpot_s=pick("tpot_s", None),
        rate=pick("rate", None),
        budget_usd_per_hour=args.budget,
        objective=pick("objective", "cost"),
        max_quality_loss=args.max_quality_loss,
        quality_benchmark=args.quality_benchmark,
    )
    own = (
        OwnHardware(
            args.own_gpu_price,
            years=args.own_years,
            usd_per_kwh=args.usd_per_kwh,
            utilization=min(args.utilization, 1.0),
        )
        if args.own_gpu_price
        else None
    )
    space = SearchSpace(
        gpus=args.gpu,
        max_gpus=args.max_gpus,
        engine=args.engine,
        formats=_plan_formats(args, model),
        prices=read_prices(args.prices) if args.prices else {},
        own=own,
        extras=extras_from(args, hub=args.hub),
    )
    result = search(model, targets, space)
    data = result.to_dict()
    if preset is not None:
        data["scenario"] = {"name": preset.name, "description": preset.description}
    if args.plot:
        data["plot"] = str(write_plot(data, args.plot))
    render.emit(data, args.json, render.plan_view)
    return 0
