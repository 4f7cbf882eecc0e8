"""``deepfit export``: a launch command or config files from a plan or from flags.

Thin: it reads the plan file (if any), builds an :class:`~deepfit.export.ExportRequest`,
calls :func:`deepfit.export.export_config` and renders the :class:`~deepfit.export.Export`
as a script (default), files in a folder (``--out DIR``) or JSON (``--json``). Does not import
``main`` (which imports this module); its argument helpers are its own.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..errors import BadInputError
from .argtypes import fraction as _fraction
from .argtypes import positive_int, tokens
from .ledger_args import add_ledger_args, extras_from


def _count(text: str) -> int:
    return positive_int(text, 1 << 30)


def add_export_parser(sub: Any) -> None:
    """Register ``deepfit export`` on the sub-command parsers ``sub``."""
    p = sub.add_parser("export", help="a launch command or config for an engine, checked to fit")
    p.add_argument("model", nargs="?", metavar="MODEL", help="model (optional with --plan)")
    p.add_argument("--hub", action="store_true", help="fetch config.json from the Hub if needed")
    p.add_argument("--plan", metavar="FILE", help="output of `deepfit plan --json` ('-' = stdin)")
    p.add_argument("--index", type=int, default=0, metavar="N", help="which plan (0 = best)")
    p.add_argument("--gpu", metavar="GPU", help="GPU name (required without --plan)")
    p.add_argument("--gpus", type=_count, default=None, metavar="N", help="GPU count")
    p.add_argument("--weights", default=None, metavar="W", help="weight format (default auto)")
    p.add_argument("--kv-dtype", default=None, metavar="K", help="KV-cache dtype (default auto)")
    p.add_argument("--tp", type=_count, default=None, help="tensor-parallel size")
    p.add_argument("--pp", type=_count, default=None, help="pipeline-parallel size")
    p.add_argument("--ep", type=_count, default=None, help="expert-parallel size")
    p.add_argument(
        "--context",
        type=tokens,
        default=None,
        metavar="TOKENS",
        help="tokens per sequence (default: the model's maximum that fits)",
    )
    p.add_argument(
        "--concurrency",
        type=_count,
        default=None,
        metavar="N",
        help="sequences at once (default: what fits, up to 256)",
    )
    p.add_argument(
        "--engine",
        default="vllm",
        metavar="ENGINE",
        help="vllm, sglang, trtllm, llamacpp (ollama), skypilot, kubernetes",
    )
    p.add_argument(
        "--target",
        default="shell",
        choices=("shell", "skypilot", "kubernetes"),
        help="a shell script, a SkyPilot task or a Kubernetes manifest",
    )
    p.add_argument(
        "--gpu-memory-utilization",
        type=_fraction,
        default=None,
        metavar="F",
        help="the engine's memory-budget knob (default: the engine's own)",
    )
    p.add_argument(
        "--dp-attention",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="data-parallel attention (default: on for SGLang with MLA models)",
    )
    p.add_argument(
        "--spec-tokens",
        type=int,
        default=None,
        metavar="K",
        help="speculative decoding: draft tokens per step (default: the plan's or 0)",
    )
    p.add_argument(
        "--gpus-per-node",
        type=_count,
        default=None,
        metavar="N",
        help="GPUs per node (default min(gpus, 8))",
    )
    p.add_argument(
        "--model-path",
        default=None,
        metavar="PATH",
        help="checkpoint path or Hub id to load (default: deepfit's choice)",
    )
    add_ledger_args(p, spec_tokens=False)
    p.add_argument("--port", type=_count, default=8000, help="serving port (default 8000)")
    p.add_argument("--out", default=None, metavar="DIR", help="write the files into DIR")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=export)


def _read_plan(path: str) -> Any:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text()
        return json.loads(text)
    except OSError as exc:
        raise BadInputError(
            f"cannot read plan file {path}: {exc.strerror}", "check the path"
        ) from None
    except json.JSONDecodeError as exc:
        raise BadInputError(
            f"plan file {path} is not JSON ({exc.msg})", "pass the output of `deepfit plan --json`"
        ) from None


def _request(args: argparse.Namespace) -> tuple[str, str, Any]:
    from ..export import ExportRequest, pick_plan, plan_gpu, plan_model, request_from_plan

    base = ExportRequest(
        engine=args.engine,
        target=args.target,
        gpus=args.gpus or (args.tp or 1) * (args.pp or 1),
        tp=args.tp,
        pp=args.pp or 1,
        ep=args.ep or 1,
        weights=args.weights or "auto",
        kv_dtype=args.kv_dtype or "auto",
        context=args.context,
        concurrency=args.concurrency,
        memory_fraction=args.gpu_memory_utilization,
        dp_attention=args.dp_attention,
        spec_tokens=args.spec_tokens or 0,
        gpus_per_node=args.gpus_per_node,
        model_path=args.model_path,
        port=args.port,
        extras=extras_from(args, hub=args.hub),
    )
    if args.plan is None:
        if not args.model or not args.gpu:
            raise BadInputError(
                "export needs MODEL and --gpu, or --plan FILE",
                "e.g. deepfit export deepseek-v3 --gpu H200 --gpus 8",
            )
        return args.model, args.gpu, base
    data = _read_plan(args.plan)
    plan = pick_plan(data, args.index)
    model = args.model or plan_model(data, plan)
    if not model:
        raise BadInputError("the plan file does not name the model", "pass MODEL as well")
    if args.spec_tokens is not None:
        plan = {**plan, "spec_tokens": args.spec_tokens}
    return model, args.gpu or plan_gpu(plan), request_from_plan(data, plan, base)


def export(args: argparse.Namespace) -> int:
    from ..export import export_config
    from ..hardware import load_gpu
    from ..models import load_model

    model_name, gpu_name, req = _request(args)
    result = export_config(load_model(model_name, hub=args.hub), load_gpu(gpu_name), req)
    if args.out:
        written = write_files(result.files, Path(args.out))
        if not args.json:
            print("\n".join(str(p) for p in written))
            return 0
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        sys.stdout.write(result.text())
    return 0


def write_files(files: dict[str, str] | Any, out: Path) -> list[Path]:
    """Write every file into ``out`` (scripts executable); return the paths written."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        paths = []
        for name, content in files.items():
            path = out / name
            path.write_text(content)
            if name.endswith(".sh"):
                path.chmod(0o755)
            paths.append(path)
    except OSError as exc:
        raise BadInputError(
            f"cannot write into {out}: {exc.strerror}", "pick another --out"
        ) from None
    return paths
