"""``deepfit eval``: the quality side of the precision matrix, measured on your deployment.

``deepfit eval URL --tasks a,b`` scores tasks against an OpenAI-compatible server
(lm-evaluation-harness when installed, else the built-in exact-match evaluator) into a
JSONL file with the deployment's description; ``deepfit eval --compare A.jsonl B.jsonl``
puts two deployments side by side. Thin: parse, call :mod:`deepfit.measure.evaluate`,
hand one JSON-ready dict to a renderer here. Does not import ``main``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import BadInputError
from .measure_cmd import _add_deployment, _deployment, _positive

if TYPE_CHECKING:
    from rich.console import RenderableType


def _tasks(text: str) -> tuple[str, ...]:
    names = tuple(t.strip() for t in text.split(",") if t.strip())
    if not names:
        raise argparse.ArgumentTypeError("give at least one task name")
    return names


def add_eval_parser(sub: Any) -> None:
    """Register ``eval`` on the sub-command parsers ``sub``."""
    p = sub.add_parser(
        "eval", help="score tasks on an OpenAI-compatible server; compare two deployments"
    )
    p.add_argument("url", metavar="URL", nargs="?", help="server base URL (not with --compare)")
    p.add_argument(
        "--tasks",
        type=_tasks,
        default=None,
        metavar="T[,T...]",
        help="lm-eval task or group names, or local tasks under --include-path",
    )
    p.add_argument("--limit", type=_positive(int), default=None, metavar="N", help="per task")
    p.add_argument(
        "--include-path",
        type=Path,
        default=None,
        metavar="DIR",
        help="your own tasks: lm-eval YAML files (dataset_path: json), or <task>.jsonl "
        "rows {prompt, answer} for the built-in evaluator",
    )
    p.add_argument("--backend", choices=("auto", "lm-eval", "builtin"), default="auto")
    p.add_argument("--api", choices=("completions", "chat"), default="completions")
    p.add_argument("--served-model", default=None, help="model name sent (default: /v1/models)")
    p.add_argument("--num-concurrent", type=_positive(int), default=1, metavar="N")
    p.add_argument("--max-retries", type=_positive(int), default=3, metavar="N")
    p.add_argument("--timeout", type=_positive(float), default=300.0, metavar="S")
    p.add_argument("--num-fewshot", type=int, default=None, metavar="K")
    p.add_argument("--max-gen-toks", type=_positive(int), default=256, metavar="N")
    p.add_argument(
        "--tokenizer",
        default=None,
        metavar="PATH",
        help="a local HF tokenizer, for log-likelihood tasks (default: none)",
    )
    p.add_argument(
        "--offline",
        action="store_true",
        help="never download datasets (HF_DATASETS_OFFLINE=1, HF_HUB_OFFLINE=1)",
    )
    p.add_argument(
        "--output",
        "-o",
        type=Path,
        default=None,
        metavar="FILE.jsonl",
        help="results file, appended to (default deepfit-eval-<time>.jsonl)",
    )
    p.add_argument(
        "--compare",
        nargs=2,
        type=Path,
        default=None,
        metavar=("A.jsonl", "B.jsonl"),
        help="compare two eval results files (A = baseline) instead of running",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    _add_deployment(p, "stored with the scores")
    p.set_defaults(func=eval_command)


def eval_command(args: argparse.Namespace) -> int:
    from .render import emit

    if args.compare:
        if args.url or args.tasks:
            raise BadInputError("--compare reads two files; it takes no URL or --tasks")
        data = compare_data(*args.compare)
        emit(data, args.json, compare_view)
        return 0
    if not args.url or not args.tasks:
        raise BadInputError(
            "eval needs a URL and --tasks (or --compare A.jsonl B.jsonl)",
            "e.g. deepfit eval http://127.0.0.1:8000 --tasks gsm8k --limit 100",
        )
    if args.include_path is not None and not args.include_path.is_dir():
        raise BadInputError(f"--include-path {args.include_path} is not a directory")
    if args.offline:  # read by huggingface_hub/datasets at import: set before lm_eval loads
        os.environ["HF_DATASETS_OFFLINE"] = "1"
        os.environ["HF_HUB_OFFLINE"] = "1"
    from ..measure.evaluate import EvalSpec, run_eval
    from ..measure.loadgen import base_url

    spec = EvalSpec(
        base_url=base_url(args.url),
        tasks=args.tasks,
        api=args.api,
        served_model=args.served_model,
        limit=args.limit,
        include_path=args.include_path.resolve() if args.include_path else None,
        backend=args.backend,
        num_concurrent=args.num_concurrent,
        max_retries=args.max_retries,
        timeout_s=args.timeout,
        tokenizer=args.tokenizer,
        num_fewshot=args.num_fewshot,
        max_gen_toks=args.max_gen_toks,
    )
    out = args.output or Path(f"deepfit-eval-{_dt.datetime.now():%Y%m%d-%H%M%S}.jsonl")
    quiet = args.json or not sys.stderr.isatty()
    result = run_eval(
        spec,
        out,
        _deployment(args),
        None if quiet else lambda t: print(f"deepfit eval: {t} ...", file=sys.stderr),
    )
    data = {
        "run": result.header,
        "results_file": str(out),
        "scores": [s.__dict__ for s in result.scores],
        "errors": result.errors,
        "stopped": result.stopped,
    }
    emit(data, args.json, eval_view)
    if result.errors:
        line = next(iter(result.errors.values()))
        more = f" (and {len(result.errors) - 1} more task(s))" if len(result.errors) > 1 else ""
        raise BadInputError(
            f"{line}{more}",
            f"{len(result.scores)} score(s) of the finished tasks are in {out}",
        )
    return 0


def compare_data(a: Path, b: Path) -> dict[str, Any]:
    from ..measure.eval_compare import compare_evals, read_evals

    fa, fb = read_evals(a), read_evals(b)
    return {
        "source": "measured",
        "a": {"file": str(a), "deployment": fa.deployment, "errors": fa.errors},
        "b": {"file": str(b), "deployment": fb.deployment, "errors": fb.errors},
        "rows": compare_evals(fa, fb),
    }


def _num(v: float | None, fmt: str = "{:.4f}") -> str:
    return "-" if v is None else fmt.format(v)


def _who(dep: dict[str, Any]) -> str:
    parts = [dep.get("model"), dep.get("weights"), dep.get("engine"), dep.get("gpu")]
    return " / ".join(str(p) for p in parts if p and p != "auto") or "?"


def eval_view(data: dict[str, Any]) -> RenderableType:
    from rich.console import Group
    from rich.table import Table

    run = data["run"]
    t = Table(
        title=f"deepfit eval {run['url']} (model {run['served_model']}, {run['backend']} "
        f"{run['backend_version']}, {_who(run['deployment'])})",
        title_justify="left",
    )
    for col in ("task", "metric", "filter", "value", "stderr", "samples"):
        t.add_column(col, justify="left" if col in ("task", "metric", "filter") else "right")
    for s in data["scores"]:
        t.add_row(
            s["task"],
            s["metric"],
            s["filter"],
            _num(s["value"]),
            _num(s["stderr"]),
            "-" if s["samples"] is None else str(s["samples"]),
        )
    parts: list[Any] = [t]
    parts += [f"{task}: failed: {line}" for task, line in data["errors"].items()]
    parts.append(f"results: {data['results_file']}")
    return Group(*parts)


def compare_view(data: dict[str, Any]) -> RenderableType:
    from rich.console import Group
    from rich.table import Table

    t = Table(
        title=f"A: {_who(data['a']['deployment'])}  vs  B: {_who(data['b']['deployment'])} "
        "(measured; loss % positive = B worse)",
        title_justify="left",
    )
    for col in ("task", "metric", "A", "B", "B - A", "+/- 95%", "relative", "loss %", "n A/B"):
        t.add_column(col, justify="left" if col in ("task", "metric") else "right")
    for r in data["rows"]:
        metric = r["metric"] if r["filter"] == "none" else f"{r['metric']} ({r['filter']})"
        t.add_row(
            r["task"],
            metric,
            _num(r["a"]),
            _num(r["b"]),
            _num(r["delta"], "{:+.4f}"),
            _num(r["delta_ci95"]),
            _num(r["relative_change"], "{:+.2%}"),
            _num(r["loss_percent"], "{:+.2f}"),
            f"{r['samples_a'] or '-'}/{r['samples_b'] or '-'}",
        )
    parts: list[Any] = [t]
    for side in ("a", "b"):
        for task, line in data[side]["errors"].items():
            parts.append(f"{side.upper()} {task}: failed: {line}")
    parts.append(f"A = {data['a']['file']}, B = {data['b']['file']}")
    return Group(*parts)
