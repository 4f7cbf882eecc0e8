"""``deepfit train``: training memory, GPU count, time and cost, with launch configs.

Thin: it parses, calls :mod:`deepfit.train`, and hands one JSON-ready dict to
:func:`deepfit.cli.render.emit` with the renderer below. Does not import ``main`` (which
imports this module); the few argument helpers it needs are its own.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ..errors import BadInputError

if TYPE_CHECKING:
    from rich.console import RenderableType


def _count(text: str) -> int:
    """A whole number in plain or scientific notation (``15.6e12``) or with a suffix."""
    from .argtypes import token_total

    return token_total(text)


def add_train_parser(sub: Any) -> None:
    """Register ``deepfit train`` on the sub-command parsers ``sub``."""
    p = sub.add_parser("train", help="training: memory per GPU, GPU count, time and cost")
    p.add_argument("model", metavar="MODEL", help="catalogue name or alias, HF id, or config path")
    p.add_argument("--hub", action="store_true", help="fetch config.json from the Hub if needed")
    p.add_argument("--gpu", required=True, metavar="GPU", help="GPU name (see `deepfit gpus`)")
    p.add_argument("--gpus", type=_count, default=None, metavar="N", help="GPU count")
    p.add_argument("--method", choices=("full", "lora", "qlora"), default="full")
    p.add_argument(
        "--optimizer",
        default="adamw",
        metavar="OPT",
        help="adamw (mixed, 16 B/param), adamw-bf16, adamw-8bit, sgd",
    )
    p.add_argument("--lora-rank", type=_count, default=16, metavar="R")
    p.add_argument(
        "--lora-targets", default="all-linear", metavar="SET", help="all-linear, attention or qv"
    )
    p.add_argument(
        "--freeze-embeddings", action="store_true", help="full: freeze embedding and head"
    )
    p.add_argument(
        "--framework",
        choices=("fsdp", "deepspeed", "megatron", "hf", "torchtune"),
        default=None,
        help="framework family (default: megatron with --tp/--pp, deepspeed with "
        "--offload cpu, else fsdp)",
    )
    p.add_argument(
        "--chunked-loss",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="chunked cross-entropy (default: the framework's)",
    )
    p.add_argument("--compile", action="store_true", help="torch.compile (fused norms and SwiGLU)")
    p.add_argument("--zero", type=int, choices=(0, 1, 2, 3), default=0, help="ZeRO stage")
    p.add_argument("--hybrid-shard", action="store_true", help="ZeRO-3/FSDP inside nodes only")
    p.add_argument("--offload", choices=("none", "cpu"), default="none")
    p.add_argument("--tp", type=_count, default=1, help="tensor-parallel size")
    p.add_argument("--pp", type=_count, default=1, help="pipeline-parallel size")
    p.add_argument("--ep", type=_count, default=1, help="expert-parallel size")
    p.add_argument("--seq-len", type=_count, default=4096, metavar="N")
    p.add_argument("--micro-batch", type=_count, default=1, metavar="N")
    p.add_argument("--global-batch-tokens", type=_count, default=4 * 1024 * 1024, metavar="N")
    p.add_argument("--recompute", choices=("none", "selective", "full"), default="selective")
    p.add_argument("--no-flash", action="store_true", help="attention without flash attention")
    p.add_argument(
        "--precision", choices=("bf16", "fp8"), default="bf16", help="matrix-multiply precision"
    )
    p.add_argument(
        "--pipeline-schedule",
        choices=("1f1b", "interleaved", "zero-bubble"),
        default="1f1b",
        help="pipeline schedule (interleaved uses --virtual-stages)",
    )
    p.add_argument(
        "--virtual-stages", type=_count, default=2, metavar="V", help="interleaved: chunks per GPU"
    )
    p.add_argument(
        "--tokens",
        type=_count,
        default=None,
        metavar="N",
        help="tokens to train on (15.6e12, 2T, 500B work): adds time and cost",
    )
    p.add_argument(
        "--search",
        action="store_true",
        help="fewest GPUs that fit and the fastest layout there (ignores the layout flags)",
    )
    p.add_argument(
        "--launch",
        action="store_true",
        help="add a DeepSpeed config, a torchrun command and an accelerate FSDP config",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object (SI units)")
    p.set_defaults(func=train)


def _inputs(args: argparse.Namespace) -> tuple[Any, Any, Any, Any]:
    from ..hardware import load_gpu
    from ..train import LoraConfig, Method, Recipe, Recompute, Workload, find_optimizer
    from ..train.reference import training_model

    model = training_model(args.model, hub=args.hub)
    gpu = load_gpu(args.gpu)
    recipe = Recipe(
        method=Method(args.method),
        optimizer=find_optimizer(args.optimizer),
        lora=LoraConfig(args.lora_rank, args.lora_targets),
        freeze_embeddings=args.freeze_embeddings,
    )
    workload = Workload(
        seq_len=args.seq_len,
        micro_batch=args.micro_batch,
        global_batch_tokens=args.global_batch_tokens,
        recompute=Recompute(args.recompute),
        flash=not args.no_flash,
        tokens=None if args.tokens is None else float(args.tokens),
        precision=args.precision,
        pipeline_schedule=args.pipeline_schedule,
        virtual_stages=args.virtual_stages,
    )
    return model, gpu, recipe, workload


def _runtime(args: argparse.Namespace) -> Any:
    from ..train.framework import Runtime, default_framework, find_framework

    if args.framework is None:
        fw = default_framework(args.tp, args.pp, args.offload != "none")
    else:
        fw = find_framework(args.framework)
    return Runtime(fw, chunked_loss=args.chunked_loss, compiled=args.compile)


def train(args: argparse.Namespace) -> int:
    from ..train import Offload, estimate_training, launch, search
    from . import render

    model, gpu, recipe, workload = _inputs(args)
    runtime = _runtime(args)
    if args.search:
        res = search.min_gpus(model, gpu, recipe, workload, max_gpus=args.gpus or search.MAX_GPUS)
        est = res.best
        if est is None:
            raise BadInputError(
                f"{model.id} does not fit on up to {args.gpus or search.MAX_GPUS} x {gpu.name}",
                "try --method lora or qlora, or a GPU with more memory",
            )
    else:
        if args.gpus is None:
            raise BadInputError("--gpus is required without --search", "add --gpus N or --search")
        est = estimate_training(
            model,
            gpu,
            args.gpus,
            recipe=recipe,
            workload=workload,
            tp=args.tp,
            pp=args.pp,
            ep=args.ep,
            zero=args.zero,
            offload=Offload(args.offload),
            hybrid=args.hybrid_shard,
            runtime=runtime,
        )
    data = est.to_dict()
    if args.search:
        most = args.gpus or search.MAX_GPUS
        data["search"] = {
            "min_gpus": est.layout.gpus,
            "max_gpus": most,
            "why": f"--search looked for the fewest GPUs up to {most} that fit: "
            f"{est.layout.gpus} x {gpu.name}",
        }
    if not est.fits:
        data["would_fit"] = search.what_would_fit(model, gpu, est)
    if args.launch:
        data["launch"] = {
            "deepspeed_config": launch.deepspeed_config(est),
            "torchrun": launch.torchrun_command(est),
            "accelerate_fsdp_config": launch.accelerate_fsdp_config(est),
        }
    render.emit(data, args.json, train_view)
    return 0


def _gb(n: float | None) -> str:
    from ..units import GiB

    return "-" if n is None else f"{n / GiB:,.1f} GiB"


def train_view(data: dict[str, Any]) -> RenderableType:
    """Rich rendering: memory per GPU, host RAM, time and cost, and what would fit."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    lay = data["layout"]
    title = (
        f"{data['model']['id']}: {data['method']} training on {data['gpus']} x {data['gpu']} "
        f"(tp={lay['tp']} pp={lay['pp']} dp={lay['dp']} ep={lay['ep']} zero={lay['zero']} "
        f"offload={lay['offload']})"
    )
    mem = Table(title=title, title_justify="left")
    mem.add_column("per GPU")
    mem.add_column("bytes", justify="right")
    for key, value in data["per_gpu"].items():
        if key == "reserved_bytes":
            continue
        mem.add_row(key.removesuffix("_bytes"), _gb(value))
    peak = data["memory_peak"]
    mem.add_row(f"reserved ({data['framework']})", _gb(peak["reserved_bytes"]))
    mem.add_row("with CUDA context", _gb(peak["nvml_bytes"]))
    mem.add_row("GPU memory", _gb(data["gpu_memory_bytes"]))
    verdict = "yes" if data["fits"] else "[red]no"
    if data["thin_margin"]:
        verdict = "[yellow]yes, thin margin"
    mem.add_row("fits", f"{verdict} ({_gb(data['margin_bytes'])} margin)")
    mem.add_row(
        "host RAM (job / node)", f"{_gb(data['host_bytes'])} / {_gb(data['host_bytes_per_node'])}"
    )
    parts: list[Any] = [mem]
    mfu = data["mfu"]
    lines = [
        f"{data['tokens_per_s']:,.0f} tokens/s at MFU {mfu['achieved']:.1%} "
        f"({mfu['source']} {mfu['generation']} compute utilization "
        f"{mfu['hardware_utilization']:.1%})",
    ]
    if data["time_s"] is not None:
        run = data["whole_run"]
        lines.append(
            f"time {data['time_s'] / 86400:,.1f} days, {data['gpu_hours']:,.0f} GPU-hours "
            f"steady; a whole run with restarts and evaluation ~{run['gpu_hours']:,.0f} "
            f"GPU-hours (goodput {run['goodput']:.0%})"
        )
    if data["usd"] is not None and data["price"] is not None:
        p = data["price"]
        lines.append(
            f"cost ${data['usd']:,.0f} at ${p['usd_per_gpu_hour']}/GPU-h "
            f"({p['provider']} {p['instance']})"
        )
    if "would_fit" in data:
        wf = data["would_fit"]
        lines.append(f"does not fit: {wf['why']}")
        if wf["more_gpus"]:
            lines.append(f"fits on {wf['more_gpus']['gpus']} GPUs: {wf['more_gpus']['layout']}")
        if wf["cpu_offload"]:
            off = wf["cpu_offload"]
            lines.append(
                f"with CPU offload ({off['layout']}): fits={off['fits']}, "
                f"host RAM {_gb(off['host_bytes'])}"
            )
    lines += data["notes"]
    if "search" in data:
        lines.insert(0, data["search"]["why"])
    parts += [Text(line) for line in lines]
    if "launch" in data:
        parts += _launch_parts(data["launch"])
    return Group(*parts)


def _launch_parts(launch: dict[str, Any]) -> list[Any]:
    """The launch files as text: the torchrun line, then each config as JSON."""
    import json

    from rich.text import Text

    parts: list[Any] = [Text("launch:", style="bold"), Text(launch["torchrun"])]
    for key, name in (
        ("deepspeed_config", "ds_config.json (DeepSpeed)"),
        ("accelerate_fsdp_config", "accelerate FSDP config"),
    ):
        if launch.get(key) is not None:
            parts.append(Text(f"{name}:", style="bold"))
            parts.append(Text(json.dumps(launch[key], indent=2)))
    return parts
