"""`deepfit serve` (the local web page and JSON API) and `deepfit report` (one HTML file)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..errors import BadInputError, DeepfitError
from .argtypes import tokens


def add_web_parsers(sub: Any, add_model: Any, add_json: Any) -> None:
    p = sub.add_parser("serve", help="the local web page and JSON API")
    p.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)"
    )
    p.add_argument("--port", type=int, default=8765)
    p.add_argument(
        "--workers", type=int, default=1, help="server processes (more answer more clients at once)"
    )
    p.set_defaults(func=serve)

    p = sub.add_parser("report", help="a plan as one self-contained HTML file")
    add_model(p)
    p.add_argument("--out", required=True, metavar="FILE", help="the .html file to write")
    p.add_argument("--scenario", default=None, metavar="NAME")
    p.add_argument("--input-len", type=tokens, default=None, metavar="N")
    p.add_argument("--output-len", type=tokens, default=None, metavar="N")
    p.add_argument("--ttft-s", type=float, default=None)
    p.add_argument("--tpot-s", type=float, default=None)
    p.add_argument("--rate", type=float, default=None)
    p.add_argument("--budget", type=float, default=None)
    p.add_argument("--objective", default=None, choices=["cost", "throughput", "latency"])
    p.add_argument("--gpu", action="append", default=None, metavar="GPU")
    p.add_argument("--max-gpus", type=int, default=64)
    p.add_argument("--engine", default="vllm")
    p.add_argument("--lang", default="en", help="the report's language: en or zh-CN")
    p.set_defaults(func=report)


def serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from ..web.app import create_app
    except ImportError:
        raise BadInputError(
            "the web page needs FastAPI and uvicorn", "pip install 'deepfit[web]'"
        ) from None
    if not 0 < args.port < 65536:
        raise BadInputError(f"port {args.port} is not valid", "use 1..65535")
    print(f"deepfit: serving http://{args.host}:{args.port}/ (Ctrl-C stops)", file=sys.stderr)
    if not 1 <= args.workers <= 64:
        raise BadInputError(f"--workers {args.workers} is not valid", "use 1..64")
    if args.workers == 1:
        uvicorn.run(create_app(), host=args.host, port=args.port, log_level="warning")
    else:
        uvicorn.run(
            "deepfit.web.app:create_app",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level="warning",
        )
    return 0


def report(args: argparse.Namespace) -> int:
    from .. import api
    from ..planner import load_scenario
    from ..web import service
    from ..web.i18n import check_lang
    from ..web.report import render_report

    lang = check_lang(args.lang)
    model = api.load_model(args.model, hub=args.hub)
    preset = load_scenario(args.scenario) if args.scenario else None

    def pick(name: str, default: Any) -> Any:
        value = getattr(args, name)
        if value is not None:
            return value
        return getattr(preset, name) if preset is not None else default

    input_len, output_len = pick("input_len", 1024), pick("output_len", 256)
    plan = service.plan(
        model,
        input_len,
        output_len,
        pick("ttft_s", None),
        pick("tpot_s", None),
        pick("rate", None),
        args.budget,
        pick("objective", "cost"),
        args.gpu,
        args.max_gpus,
        args.engine,
        lang=lang,
    )
    memory = perf = command = None
    if plan["plans"]:
        best = plan["plans"][0]
        memory = service.memory(
            model,
            best["gpu"],
            best["gpus"],
            best["weights"],
            best["kv_dtype"],
            input_len + output_len,
            best["concurrency"],
            args.engine,
            tp=best["tp"],
            pp=best["pp"],
            lang=lang,
        )
        perf = service.perf(
            model,
            best["gpu"],
            best["gpus"],
            best["weights"],
            best["kv_dtype"],
            input_len,
            output_len,
            best["concurrency"],
            args.engine,
            tp=best["tp"],
            pp=best["pp"],
        )
        command = _command(model.id, best, input_len + output_len, args.engine)
    out = Path(args.out)
    try:
        out.write_text(render_report(plan, memory, perf, command, lang), encoding="utf-8")
    except OSError as exc:
        raise BadInputError(
            f"cannot write {out}: {exc.strerror or exc}", "choose a writable path"
        ) from None
    print(f"deepfit: report written to {out}")
    return 0


def _command(model_id: str, plan: dict[str, Any], context: int, engine: str) -> str | None:
    """The launch command of the plan, checked to fit by the exporter."""
    from .. import api

    try:
        result = api.export_config(
            api.load_model(model_id),
            api.load_gpu(plan["gpu"]),
            engine=engine,
            gpus=plan["gpus"],
            tp=plan["tp"],
            pp=plan["pp"],
            ep=plan["ep"],
            weights=plan["weights"],
            kv_dtype=plan["kv_dtype"],
            context=context,
            concurrency=max(1, plan["concurrency"]),
        )
        return result.text()
    except DeepfitError as err:  # the report stays useful without a command
        return f"# no launch command: {err}"
