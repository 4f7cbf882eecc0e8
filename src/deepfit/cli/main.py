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
from typing import Any, NoReturn

from ..errors import BadInputError, DeepfitError
from . import commands
from .argtypes import concurrency as _concurrency
from .argtypes import fraction as _fraction
from .argtypes import positive_float as _positive_float
from .argtypes import positive_int as _positive_int
from .argtypes import tokens as _tokens
from .argtypes import unit_interval as _unit_interval
from .ledger_args import add_ledger_args
from .offload_args import add_offload_args


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        raise BadInputError(message, f"see `{self.prog} --help`")


def _add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON object (SI units)")


class _Skipped:
    """Stands in for the parser of a command that is not being run: every call is a no-op,
    so a command pays only for its own arguments (argparse is slow to build 200 of them)."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: self


class _Only:
    """The sub-command registry, building only the parser of ``only`` (None: all)."""

    def __init__(self, sub: Any, only: str | None) -> None:
        self.sub, self.only = sub, only

    def add_parser(self, name: str, **kwargs: Any) -> Any:
        if self.only is None or name == self.only:
            return self.sub.add_parser(name, **kwargs)
        return _Skipped()


#: commands registered by other modules, imported only when one of them runs
_EXTERNAL = (
    (("train",), "train_cmd", "add_train_parser"),
    (("disagg",), "disagg_cmd", "add_disagg_parser"),
    (("export",), "export_cmd", "add_export_parser"),
    (("bench", "calibrate", "monitor"), "measure_cmd", "add_measure_parsers"),
    (("eval",), "eval_cmd", "add_eval_parser"),
    (("serve", "report"), "web_cmd", "add_web_parsers"),
)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line; with ``only``, just that command's arguments (a faster start)."""
    parser = _Parser(
        prog="deepfit",
        description="What hardware an LLM needs, and what it will do on it.",
    )
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"deepfit {__version__}")
    sub: Any = _Only(
        parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser), only
    )

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
        type=_tokens,
        default=None,
        metavar="TOKENS",
        help="tokens per sequence, prompt + output (default: the model's maximum); "
        "32k = 32,000, 32K = 32,768, 1M = 1,048,576",
    )
    p.add_argument(
        "--batch",
        type=_positive_int,
        default=1,
        metavar="N",
        help="sequences held at once (default 1)",
    )
    p.add_argument(
        "--checkpoint",
        default=None,
        metavar="FILE_OR_URL",
        help="size the weights exactly from a .safetensors or .gguf file's header (path or "
        "URL; only the header is read); with --hub, the model repository's shard headers",
    )
    add_ledger_args(p)
    add_offload_args(p)
    _add_json(p)
    p.set_defaults(func=commands.memory)

    p = sub.add_parser("perf", help="how fast? TTFT, time per output token, tokens/s")
    _add_model(p)
    _add_deployment(p)
    p.add_argument(
        "--input-len",
        type=_tokens,
        required=True,
        metavar="N",
        help="prompt tokens per request",
    )
    p.add_argument(
        "--output-len",
        type=_tokens,
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
        "--disagg",
        action="store_true",
        help="the disaggregated prefill/decode rows of InferenceX instead (docs/disaggregated.md)",
    )
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
    p.add_argument("--input-len", type=_tokens, default=None, metavar="N")
    p.add_argument("--output-len", type=_tokens, default=None, metavar="N")
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
        "--lossless",
        action="store_true",
        help="only unquantized weights: bf16, and fp8 where the checkpoint itself is fp8",
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
    add_ledger_args(p)
    _add_json(p)
    p.set_defaults(func=commands.plan)
    from importlib import import_module

    for names, module, register in _EXTERNAL:
        if only is None or only in names:
            add = getattr(import_module(f".{module}", __package__), register)
            add(sub, _add_model, _add_json) if module == "web_cmd" else add(sub)
    return parser


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse with only the named command's parser; the full one for help, errors or no
    command (so messages list every command)."""
    args = list(sys.argv[1:] if argv is None else argv)
    first = args[0] if args and not args[0].startswith("-") else None
    if first is not None:
        try:
            return build_parser(first).parse_args(args)
        except BadInputError:
            pass  # not a command, or bad arguments: the full parser says which
    return build_parser().parse_args(args)


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
    p.add_argument(
        "--gpus",
        type=_positive_int,
        default=None,
        metavar="N",
        help="GPU count (default: tp x pp, one GPU without them)",
    )
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


def _gpu_name_notes(args: argparse.Namespace) -> None:
    """One stderr line for each GPU name that cards of different sizes could mean; ``cpu``
    is measured on first use."""
    names = getattr(args, "gpu", None)
    if not names:
        return
    from ..hardware._names import name_key
    from ..hardware.catalog import ambiguity_note

    for name in [names] if isinstance(names, str) else names:
        note = ambiguity_note(name)
        if note:
            print(f"deepfit: note: {note}", file=sys.stderr)
        if name_key(name) == "cpu":
            from .cpu_first_use import ensure_measured

            ensure_measured()


def main(argv: Sequence[str] | None = None) -> int:
    debug = os.environ.get("DEEPFIT_DEBUG", "") not in ("", "0")
    try:
        args = _parse(argv)
        if getattr(args, "func", None) is None:
            build_parser().print_help()
            return 0
        _gpu_name_notes(args)
        code: int = args.func(args)
        return code
    except DeepfitError as err:
        if debug:  # the traceback, and still the exit code of bad input
            import traceback

            traceback.print_exc()
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
