"""Entry point of the ``deepfit`` command: argument parsing, dispatch, the one error handler.

Bad input of any kind (unknown names, malformed configs, impossible arguments, argparse's
own complaints) ends as one line on stderr with a hint and exit code 2. A traceback is shown
only for bugs, and only with ``DEEPFIT_DEBUG=1``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from ..errors import BadInputError, DeepfitError
from . import commands
from .argtypes import concurrency as _concurrency
from .argtypes import fraction as _fraction
from .argtypes import positive_float as _positive_float
from .argtypes import positive_int as _positive_int
from .argtypes import unit_interval as _unit_interval
from .eval_cmd import add_eval_parser
from .export_cmd import add_export_parser
from .measure_cmd import add_measure_parsers
from .train_cmd import add_train_parser
from .web_cmd import add_web_parsers


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        raise BadInputError(message, f"see `{self.prog} --help`")


def _add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON object (SI units)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="deepfit",
        description="What hardware an LLM needs, and what it will do on it.",
    )
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"deepfit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("models", help="list the bundled model catalogue")
    _add_json(p)
    p.set_defaults(func=commands.models)

    p = sub.add_parser("gpus", help="list the GPU catalogue")
    _add_json(p)
    p.set_defaults(func=commands.gpus)

    p = sub.add_parser("info", help="a model's architecture and exact parameter counts")
    p.add_argument(
        "model",
        metavar="MODEL",
        help="catalogue name or alias, Hugging Face id, or path to a config.json",
    )
    p.add_argument(
        "--hub",
        action="store_true",
        help="fetch config.json from the Hugging Face Hub if the id is not bundled",
    )
    _add_json(p)
    p.set_defaults(func=commands.info)

    p = sub.add_parser("memory", help="will it fit? inference memory per GPU, per engine")
    _add_model(p)
    _add_deployment(p)
    p.add_argument(
        "--context",
        type=_positive_int,
        default=None,
        metavar="TOKENS",
        help="tokens per sequence, prompt + output (default: the model's maximum)",
    )
    p.add_argument(
        "--batch",
        type=_positive_int,
        default=1,
        metavar="N",
        help="sequences held at once (default 1)",
    )
    _add_json(p)
    p.set_defaults(func=commands.memory)

    p = sub.add_parser("perf", help="how fast? TTFT, time per output token, tokens/s")
    _add_model(p)
    _add_deployment(p)
    p.add_argument(
        "--input-len",
        type=_positive_int,
        required=True,
        metavar="N",
        help="prompt tokens per request",
    )
    p.add_argument(
        "--output-len",
        type=_positive_int,
        required=True,
        metavar="N",
        help="generated tokens per request",
    )
    p.add_argument(
        "--concurrency",
        type=_concurrency,
        default=1,
        metavar="N|max",
        help="sequences served at once; max = as many as the KV pool holds",
    )
    load = p.add_mutually_exclusive_group()
    load.add_argument(
        "--rate",
        type=_positive_float,
        default=None,
        metavar="R",
        help="open loop: Poisson arrivals at R requests/s (simulated; adds p50/p90/p99)",
    )
    load.add_argument(
        "--burst",
        type=_positive_int,
        default=None,
        metavar="N",
        help="N requests sent at once (simulated; adds p50/p90/p99)",
    )
    load.add_argument(
        "--percentiles",
        action="store_true",
        help="simulate the --concurrency closed loop too and add p50/p90/p99 latencies",
    )
    p.add_argument(
        "--prefix-hit-rate",
        type=_unit_interval,
        default=0.0,
        metavar="F",
        help="share of prompt tokens served from the prefix cache (0..1)",
    )
    p.add_argument(
        "--spec-tokens",
        type=int,
        default=0,
        metavar="K",
        help="speculative decoding: draft tokens per step",
    )
    p.add_argument(
        "--spec-acceptance",
        type=_unit_interval,
        default=0.7,
        metavar="A",
        help="speculative decoding: acceptance rate per draft token (default 0.7)",
    )
    p.add_argument("--ops", action="store_true", help="include the per-operator breakdown")
    p.add_argument(
        "--matrix",
        action="store_true",
        help="the precision matrix: every weight format the GPU runs, side by side",
    )
    _add_json(p)
    p.set_defaults(func=commands.perf)

    p = sub.add_parser("validate", help="predicted vs published speeds, with the errors")
    p.add_argument(
        "--csv",
        default=None,
        metavar="PATH",
        help="a throughput CSV in the bundled ground truth's long format "
        "(default: the bundled published runs)",
    )
    p.add_argument("--rows", action="store_true", help="list every row, not just the summary")
    p.add_argument(
        "--by",
        choices=("engine", "gpu", "metric"),
        default="engine",
        help="group the error table by engine, GPU or metric (each split by metric)",
    )
    _add_json(p)
    p.set_defaults(func=commands.validate)
    p = sub.add_parser("plan", help="the best deployments for a workload, with cost")
    _add_model(p)
    p.add_argument(
        "--gpu",
        action="append",
        default=None,
        metavar="GPU",
        help="GPU types to consider (repeatable; default: the whole catalogue)",
    )
    p.add_argument("--max-gpus", type=_positive_int, default=64, metavar="N")
    p.add_argument(
        "--scenario",
        default=None,
        metavar="NAME",
        help="a workload preset (customer-service, code-generation, "
        "batch-research, chat, rag, code-completion, offline-batch, reasoning)",
    )
    p.add_argument("--input-len", type=_positive_int, default=None, metavar="N")
    p.add_argument("--output-len", type=_positive_int, default=None, metavar="N")
    p.add_argument("--ttft-s", type=_positive_float, default=None, metavar="S")
    p.add_argument("--tpot-s", type=_positive_float, default=None, metavar="S")
    p.add_argument("--rate", type=_positive_float, default=None, metavar="REQ_PER_S")
    p.add_argument("--budget", type=_positive_float, default=None, metavar="USD_PER_HOUR")
    p.add_argument("--objective", default=None, choices=["cost", "throughput", "latency"])
    p.add_argument("--engine", default="vllm", metavar="ENGINE")
    p.add_argument(
        "--weights",
        action="append",
        default=None,
        metavar="W",
        help="weight formats to consider (repeatable; default bf16 fp8 awq-int4 nvfp4)",
    )
    p.add_argument(
        "--max-quality-loss",
        type=_positive_float,
        default=None,
        metavar="PCT",
        help="reject formats whose cited quality loss exceeds PCT percent",
    )
    p.add_argument(
        "--quality-benchmark",
        default=None,
        metavar="NAME",
        help="the benchmark the quality floor applies to (e.g. MMLU, WikiText-2)",
    )
    p.add_argument(
        "--prices",
        default=None,
        metavar="CSV",
        help="your own prices: CSV with columns gpu,usd_per_gpu_hour",
    )
    p.add_argument(
        "--own-gpu-price",
        type=_positive_float,
        default=None,
        metavar="USD",
        help="price your own hardware: purchase US$ per GPU (with --own-years, "
        "--usd-per-kwh, --utilization)",
    )
    p.add_argument("--own-years", type=_positive_float, default=4.0)
    p.add_argument("--usd-per-kwh", type=_positive_float, default=0.12)
    p.add_argument("--utilization", type=_positive_float, default=0.7)
    p.add_argument(
        "--plot",
        default=None,
        metavar="FILE",
        help="write the Pareto front to FILE (.html interactive, or .png)",
    )
    _add_json(p)
    p.set_defaults(func=commands.plan)
    add_train_parser(sub)
    add_export_parser(sub)
    add_measure_parsers(sub)
    add_eval_parser(sub)
    add_web_parsers(sub, _add_model, _add_json)
    return parser


def _add_model(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "model",
        metavar="MODEL",
        help="catalogue name or alias, Hugging Face id, or path to a config.json",
    )
    p.add_argument(
        "--hub",
        action="store_true",
        help="fetch config.json from the Hugging Face Hub if the id is not bundled",
    )


def _add_deployment(p: argparse.ArgumentParser) -> None:
    p.add_argument("--gpu", required=True, metavar="GPU", help="GPU name (see `deepfit gpus`)")
    p.add_argument("--gpus", type=_positive_int, default=1, metavar="N", help="GPU count")
    p.add_argument(
        "--weights",
        default="auto",
        metavar="W",
        help="weight format: auto (the checkpoint's), fp32, bf16, fp16, fp8, int8, "
        "int4, gptq-int4, awq-int4, gguf-q4_k_m, nvfp4, ...",
    )
    p.add_argument(
        "--kv-dtype",
        default="auto",
        metavar="K",
        help="KV-cache dtype: auto, bf16, fp16, fp8, int8, q8_0",
    )
    p.add_argument("--tp", type=_positive_int, default=None, help="tensor-parallel size")
    p.add_argument("--pp", type=_positive_int, default=1, help="pipeline-parallel size")
    p.add_argument("--ep", type=_positive_int, default=1, help="expert-parallel size")
    p.add_argument(
        "--engine",
        default="vllm",
        metavar="ENGINE",
        help="vllm, sglang, trtllm, llamacpp, transformers (default vllm)",
    )
    p.add_argument(
        "--dp-attention",
        action="store_true",
        help="data-parallel attention across the tensor-parallel ranks (SGLang "
        "--enable-dp-attention): whole attention weights and own KV cache per GPU",
    )
    p.add_argument(
        "--gpu-memory-utilization",
        type=_fraction,
        default=None,
        metavar="F",
        help="the engine's memory budget knob (default: the engine's own)",
    )


def _fail(err: DeepfitError) -> int:
    line = f"deepfit: error: {err.message}"
    if err.hint:
        line += f" (hint: {err.hint})"
    print(" ".join(line.split()), file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    debug = os.environ.get("DEEPFIT_DEBUG", "") not in ("", "0")
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if getattr(args, "func", None) is None:
            parser.print_help()
            return 0
        code: int = args.func(args)
        return code
    except DeepfitError as err:
        if debug:
            raise
        return _fail(err)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug: say so in one line unless debugging
        if debug:
            raise
        print(
            f"deepfit: internal error: {type(exc).__name__}: {exc} "
            "(hint: rerun with DEEPFIT_DEBUG=1 and report the traceback)",
            file=sys.stderr,
        )
        return 1


def run() -> NoReturn:
    sys.exit(main())


if __name__ == "__main__":
    run()
