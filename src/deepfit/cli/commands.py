"""The commands: each calls the public API and hands one result to a renderer."""

from __future__ import annotations

import argparse

from .. import api
from . import render


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
    )
    data = result.to_dict()
    if not result.fits:
        data["would_fit"] = api.what_would_fit(model, gpu, result)
    if result.engine == "llamacpp" and result.gpus == 1:
        options = [False, True] if model.arch.is_moe else [False]
        data["llamacpp_offload"] = [
            api.llamacpp_offload(
                model,
                gpu,
                weights=result.weights_format,
                context=result.context_tokens,
                batch=result.batch,
                kv_dtype=result.kv_dtype,
                experts_on_host=moe,
            ).to_dict()
            for moe in options
        ]
    render.emit(data, args.json, render.memory_view)
    return 0
