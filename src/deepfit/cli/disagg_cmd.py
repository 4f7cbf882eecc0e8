"""``deepfit disagg``: disaggregated prefill/decode serving, estimated or planned.

With ``--prefill`` and ``--decode`` (``2xTP8``, ``1xTP8EP8DPA``): the speed of that split at
``--rate`` requests/s or ``--concurrency`` clients. Without them: the P:D split that meets
``--ttft`` and ``--tpot`` at ``--rate`` on the fewest GPUs, against aggregated serving, with
the verdict. ``--launch sglang|dynamo-vllm`` adds the launch scripts. Thin: it parses, calls
:mod:`deepfit.api`, and hands one JSON-ready dict to the renderer below.
"""

from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING, Any

from ..errors import BadInputError

if TYPE_CHECKING:
    from rich.console import RenderableType

_SPEC = re.compile(r"^\s*(\d+)\s*x\s*\(?\s*tp(\d+)\s*(?:ep(\d+))?\s*(dpa)?\s*\)?\s*$", re.I)


def pool_spec(text: str) -> tuple[int, int, int, bool]:
    """(workers, tp, ep, dp attention) from ``2xTP8``, ``1xTP8EP8DPA``, ``3x(TP8 EP8)``."""
    m = _SPEC.match(text.replace(" ", ""))
    if m is None or int(m.group(1)) < 1 or int(m.group(2)) < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a pool: write WORKERSxTP[EP][DPA], e.g. 2xTP8 or 1xTP8EP8DPA"
        )
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 1), bool(m.group(4))


def add_disagg_parser(sub: Any) -> None:
    """Register ``deepfit disagg`` on the sub-command parsers ``sub``."""
    from .argtypes import positive_float, positive_int, tokens

    p = sub.add_parser(
        "disagg", help="disaggregated prefill/decode: the P:D split, or a split's speed"
    )
    p.add_argument("model", metavar="MODEL", help="catalogue name or alias, HF id, or config path")
    p.add_argument("--hub", action="store_true", help="fetch config.json from the Hub if needed")
    p.add_argument(
        "--gpu", required=True, metavar="GPU", help="GPU of the prefill pool (and decode)"
    )
    p.add_argument("--decode-gpu", default=None, metavar="GPU", help="GPU of the decode pool")
    p.add_argument("--input-len", type=tokens, required=True, metavar="N")
    p.add_argument("--output-len", type=tokens, required=True, metavar="N")
    p.add_argument("--prefill", type=pool_spec, default=None, metavar="POOL", help="e.g. 1xTP8")
    p.add_argument("--decode", type=pool_spec, default=None, metavar="POOL", help="e.g. 3xTP8EP8")
    p.add_argument("--rate", type=positive_float, default=None, help="requests/s (open loop)")
    p.add_argument("--concurrency", type=positive_int, default=None, help="closed-loop clients")
    p.add_argument("--ttft", type=positive_float, default=None, metavar="S", help="TTFT target")
    p.add_argument("--tpot", type=positive_float, default=None, metavar="S", help="TPOT target")
    p.add_argument("--max-gpus", type=positive_int, default=64, metavar="N")
    p.add_argument("--engine", default="sglang", metavar="ENGINE", help="sglang, vllm, trtllm")
    p.add_argument("--weights", default="auto", metavar="W", help="weight format")
    p.add_argument("--kv-dtype", default="auto", metavar="K", help="KV-cache dtype")
    p.add_argument(
        "--kv-link",
        choices=("auto", "nvlink", "infiniband", "pcie"),
        default="auto",
        help="link the KV cache crosses (auto: NVLink inside one domain, else the network)",
    )
    p.add_argument(
        "--launch",
        choices=("sglang", "dynamo-vllm"),
        default=None,
        help="add launch scripts: SGLang PD with its router, or Dynamo with vLLM workers",
    )
    p.add_argument("--transfer-backend", choices=("mooncake", "nixl"), default="mooncake")
    p.add_argument("--json", action="store_true", help="print one JSON object (SI units)")
    p.set_defaults(func=disagg)


def _pool(gpu: str, spec: tuple[int, int, int, bool]) -> Any:
    from ..api import Pool

    workers, tp, ep, dpa = spec
    return Pool(gpu, workers, tp, ep, 1, dpa)


def disagg(args: argparse.Namespace) -> int:
    from .. import api
    from .render import emit

    model = api.load_model(args.model, hub=args.hub)
    decode_gpu = args.decode_gpu or args.gpu
    if (args.prefill is None) != (args.decode is None):
        raise BadInputError(
            "give both --prefill and --decode, or neither", "e.g. --prefill 1xTP8 --decode 2xTP8"
        )
    data: dict[str, Any]
    if args.prefill is not None:
        if (args.rate is None) == (args.concurrency is None):
            raise BadInputError("give --rate or --concurrency (one of them)", "e.g. --rate 2")
        prefill, decode = _pool(args.gpu, args.prefill), _pool(decode_gpu, args.decode)
        est = api.estimate_disagg(
            model, prefill, decode, input_len=args.input_len, output_len=args.output_len,
            rate=args.rate, concurrency=args.concurrency, engine=args.engine,
            weights=args.weights, kv_dtype=args.kv_dtype, link=args.kv_link,
        )  # fmt: skip
        data = {"mode": "estimate", "disaggregated": est.to_dict()}
    else:
        if args.rate is None or args.ttft is None or args.tpot is None:
            raise BadInputError(
                "planning a split needs --rate, --ttft and --tpot",
                "e.g. --rate 4 --ttft 2 --tpot 0.05, or give --prefill and --decode",
            )
        targets = api.DisaggTargets(
            args.input_len, args.output_len, args.rate, args.ttft, args.tpot
        )
        plan = api.plan_disagg(
            model, targets, prefill_gpu=args.gpu, decode_gpu=decode_gpu, max_gpus=args.max_gpus,
            engine=args.engine, weights=args.weights, kv_dtype=args.kv_dtype, link=args.kv_link,
        )  # fmt: skip
        data = {"mode": "plan", **plan.to_dict()}
        prefill = decode = None
        if plan.disaggregated is not None:
            prefill, decode = plan.disaggregated.prefill, plan.disaggregated.decode
    if args.launch:
        if prefill is None or decode is None:
            raise BadInputError("no split meets the targets: nothing to launch", "drop --launch")
        data["launch"] = _launch(args, model, prefill, decode).to_dict()
    emit(data, args.json, disagg_view)
    return 0


def _launch(args: argparse.Namespace, model: Any, prefill: Any, decode: Any) -> Any:
    from ..export.disagg import dynamo_vllm, sglang_pd
    from ..perf.disagg_pools import Serving

    engine = "sglang" if args.launch == "sglang" else "vllm"
    serving = Serving(args.input_len, args.output_len, engine, args.weights, args.kv_dtype)
    if args.launch == "sglang":
        return sglang_pd(model, prefill, decode, serving, args.transfer_backend)
    return dynamo_vllm(model, prefill, decode, serving)


def _ms(value: Any) -> str:
    if value is None:
        return "unbounded"
    return f"{value:,.1f} s" if value >= 10 else f"{value * 1e3:,.1f} ms"


def _gpus(n: int) -> str:
    return f"{n} GPU" if n == 1 else f"{n} GPUs"


def _split_rows(est: dict[str, Any]) -> list[tuple[str, str]]:
    pre, dec, kv = est["prefill"], est["decode"], est["kv_transfer"]
    return [
        ("split", f"{est['ratio']} on {_gpus(est['gpus'])}"),
        ("prefill pool", f"{pre['workers']} x TP{pre['parallel']['tp']} {pre['gpu']}"),
        ("decode pool", f"{dec['workers']} x TP{dec['parallel']['tp']} {dec['gpu']}"),
        ("KV transfer", f"{kv['request_bytes'] / 1e6:,.1f} MB in {_ms(kv['seconds'])}"),
        ("KV link", kv["link"]["name"]),
        ("TTFT", _ms(est["ttft_s"])),
        ("TPOT", _ms(est["tpot_s"])),
        ("requests/s", f"{est['requests_per_s']:,.2f}"),
        ("output tokens/s", f"{est['output_tokens_per_s']:,.0f}"),
        ("bottleneck", est["bottleneck"]),
        ("source", est["source"]),
    ]  # fmt: skip


def disagg_view(data: dict[str, Any]) -> RenderableType:
    from rich.console import Group
    from rich.table import Table

    parts: list[Any] = []
    if data["mode"] == "plan":
        parts.append(f"[bold]{data['verdict']}[/bold]: {data['reason']}")
    table = Table(title="Disaggregated prefill/decode", title_justify="left")
    table.add_column("")
    table.add_column("disaggregated")
    est = data.get("disaggregated")
    agg = data.get("aggregated")
    rows = _split_rows(est) if est else [("split", "none meets the targets")]
    if agg:
        table.add_column("aggregated")
        pool = agg["pool"]
        other = {
            "split": f"{agg['replicas']} x TP{pool['parallel']['tp']} on {_gpus(agg['gpus'])}",
            "requests/s": f"{agg['requests_per_s_per_replica'] * agg['replicas']:,.2f} at most",
            "TTFT": _ms(agg["ttft_s"]),
            "TPOT": _ms(agg["tpot_s"]),
            "source": agg["source"],
        }
        for name, value in rows:
            table.add_row(name, value, other.get(name, ""))
    else:
        for name, value in rows:
            table.add_row(name, value)
    parts.append(table)
    for name, text in (data.get("launch") or {}).get("files", {}).items():
        parts.append(f"[bold]{name}[/bold]\n{text}")
    for note in (est or {}).get("notes", []):
        parts.append(f"note: {note}")
    return Group(*parts)
