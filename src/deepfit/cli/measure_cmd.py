"""``deepfit bench``, ``deepfit calibrate`` and ``deepfit monitor``: measure a deployment,
compare it with the prediction, fit the efficiency factors, watch GPU memory.

Thin: parse, call :mod:`deepfit.measure`, hand one JSON-ready dict to a renderer here.
Does not import ``main`` (which imports this module); its argument helpers are its own.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import BadInputError
from .argtypes import tokens as _tokens
from .measure_render import bench_view, calibrate_view

if TYPE_CHECKING:
    from ..measure.bench import BenchResult
    from ..measure.results import Deployment


def _positive(kind: type[float] | type[int]) -> Any:
    def parse(text: str) -> float | int:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text} must be > 0")
        return value

    return parse


def _levels(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not N or N,N,...") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("concurrency levels must be >= 1")
    return values


def _add_deployment(p: argparse.ArgumentParser, what: str) -> None:
    g = p.add_argument_group("deployment", f"what is being measured ({what})")
    g.add_argument("--model", default=None, help="catalogue name, HF id or config.json path")
    g.add_argument("--gpu", default=None, help="GPU name (see `deepfit gpus`; `cpu` for this CPU)")
    g.add_argument("--gpus", type=_positive(int), default=1, metavar="N")
    g.add_argument("--tp", type=_positive(int), default=None, metavar="N")
    g.add_argument("--engine", default=None, help="vllm, sglang, trtllm, llamacpp, transformers")
    g.add_argument("--weights", default="auto", help="weight format (default: the checkpoint's)")
    g.add_argument("--kv-dtype", default="auto")


def add_measure_parsers(sub: Any) -> None:
    """Register ``bench``, ``calibrate`` and ``monitor`` on the sub-command parsers ``sub``."""
    _add_bench(sub)
    _add_calibrate(sub)
    _add_monitor(sub)


def _add_bench(sub: Any) -> None:
    p = sub.add_parser("bench", help="load an OpenAI-compatible server; measured vs predicted")
    p.add_argument("url", metavar="URL", help="server base URL, e.g. http://127.0.0.1:8000")
    p.add_argument("--api", choices=("completions", "chat"), default="completions")
    p.add_argument("--served-model", default=None, help="model name sent (default: /v1/models)")
    p.add_argument(
        "--concurrency",
        type=_levels,
        default=(1,),
        metavar="N[,N...]",
        help="requests in flight; a comma list runs a sweep (default 1)",
    )
    p.add_argument(
        "--rate",
        type=_positive(float),
        default=None,
        metavar="REQ_PER_S",
        help="Poisson arrivals at this rate instead of a fixed concurrency",
    )
    p.add_argument(
        "--max-concurrency",
        type=_positive(int),
        default=None,
        metavar="N",
        help="cap on requests in flight under --rate",
    )
    p.add_argument(
        "--requests",
        type=_positive(int),
        default=32,
        metavar="N",
        help="requests per level (default 32)",
    )
    p.add_argument(
        "--duration",
        type=_positive(float),
        default=600.0,
        metavar="S",
        help="wall-clock limit per level (default 600)",
    )
    p.add_argument(
        "--timeout",
        type=_positive(float),
        default=300.0,
        metavar="S",
        help="limit per request (default 300)",
    )
    p.add_argument(
        "--input-len",
        default="128",
        metavar="LEN",
        help="prompt tokens: N, uniform:LO:HI or normal:MEAN:STD (default 128)",
    )
    p.add_argument("--output-len", default="128", metavar="LEN", help="output tokens, as above")
    p.add_argument(
        "--dataset",
        type=Path,
        default=None,
        metavar="FILE",
        help="JSONL prompts ({'prompt'|'messages', 'output_len'?}) instead",
    )
    p.add_argument(
        "--no-ignore-eos",
        action="store_true",
        help="do not send ignore_eos (servers that reject unknown fields)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--slo-ttft", type=_positive(float), default=None, metavar="S")
    p.add_argument("--slo-tpot", type=_positive(float), default=None, metavar="S")
    p.add_argument("--slo-e2e", type=_positive(float), default=None, metavar="S")
    p.add_argument(
        "--output",
        "-o",
        type=Path,
        default=None,
        metavar="FILE.jsonl",
        help="results file, appended to (default deepfit-bench-<time>.jsonl)",
    )
    p.add_argument(
        "--metrics-interval",
        type=float,
        default=1.0,
        metavar="S",
        help="scrape the server's /metrics every S seconds (0: never)",
    )
    p.add_argument(
        "--no-profile",
        action="store_true",
        help="predict with the bundled factors, not your calibration profile",
    )
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--json", action="store_true", help="print one JSON object (SI units)")
    _add_deployment(p, "for the prediction side by side")
    p.set_defaults(func=bench)


def _add_calibrate(sub: Any) -> None:
    p = sub.add_parser("calibrate", help="fit engine/GPU efficiency factors from bench results")
    p.add_argument("results", nargs="+", type=Path, metavar="RESULTS.jsonl")
    p.add_argument("--dry-run", action="store_true", help="fit and print, save nothing")
    p.add_argument(
        "--profile",
        type=Path,
        default=None,
        metavar="FILE",
        help="profile file (default: the user config dir's calibration.json)",
    )
    p.add_argument("--json", action="store_true")
    _add_deployment(p, "fills in what a results file does not say")
    p.set_defaults(func=calibrate)


def _add_monitor(sub: Any) -> None:
    p = sub.add_parser("monitor", help="sample GPU memory/utilisation/power (NVML), CPU/RAM")
    p.add_argument("--interval", type=_positive(float), default=1.0, metavar="S")
    p.add_argument("--duration", type=_positive(float), default=None, metavar="S")
    p.add_argument(
        "--samples",
        type=_positive(int),
        default=None,
        metavar="N",
        help="ticks to take (default 60 when --duration is not given)",
    )
    p.add_argument(
        "--output",
        "-o",
        type=Path,
        default=None,
        metavar="FILE.csv",
        help="CSV file (default: stdout)",
    )
    p.add_argument("--no-gpu", action="store_true", help="CPU/RAM only, skip NVML")
    p.add_argument("--context", type=_tokens, default=None, metavar="TOKENS")
    p.add_argument("--batch", type=_positive(int), default=1, metavar="N")
    _add_deployment(p, "for the predicted-memory column")
    p.set_defaults(func=monitor)


#: The engine ``bench`` predicts for when only --model and --gpu are given.
DEFAULT_BENCH_ENGINE = "vllm"


def _deployment(args: argparse.Namespace) -> Deployment:
    from ..measure.results import Deployment

    model = args.model
    if model and Path(model).exists():
        model = str(Path(model).resolve())  # the results file must work from anywhere
    return Deployment(model, args.gpu, args.gpus, args.tp, args.engine, args.weights, args.kv_dtype)


# ---------------------------------------------------------------- bench


def bench(args: argparse.Namespace) -> int:
    from ..measure.bench import run_bench
    from ..measure.loadgen import LoadSpec, base_url
    from ..measure.stats import Slo
    from ..measure.workload import Lengths, dataset_prompts, synthetic_prompts

    inp, outl = Lengths.parse(args.input_len), Lengths.parse(args.output_len)
    dep = _deployment(args)
    notes = []
    if dep.model and dep.gpu and not dep.engine:
        from dataclasses import replace

        dep = replace(dep, engine=DEFAULT_BENCH_ENGINE)
        notes.append(
            f"--engine not given: predictions assume {DEFAULT_BENCH_ENGINE} "
            "(pass --engine sglang, trtllm, llamacpp ... for another server)"
        )
    if any((dep.model, dep.gpu, dep.engine)) and not dep.complete:
        raise BadInputError(
            "a prediction needs --model and --gpu together (and --engine, default vllm)",
            "give both, or neither to measure only",
        )
    spec = LoadSpec(
        base_url=base_url(args.url),
        api=args.api,
        served_model=args.served_model,
        concurrency=args.concurrency,
        rate=args.rate,
        max_concurrency=args.max_concurrency,
        requests_per_level=args.requests,
        duration_s=args.duration,
        timeout_s=args.timeout,
        ignore_eos=not args.no_ignore_eos,
        seed=args.seed,
    )
    if args.dataset is not None:
        rows = dataset_prompts(args.dataset, args.requests, outl, args.seed)
        prompts = lambda level: rows  # noqa: E731
    else:
        prompts = lambda level: synthetic_prompts(  # noqa: E731
            args.requests, inp, outl, args.seed + hash(level) % 1000
        )
    out = args.output or Path(f"deepfit-bench-{_dt.datetime.now():%Y%m%d-%H%M%S}.jsonl")
    workload = {
        "input_len": str(inp),
        "output_len": str(outl),
        "dataset": str(args.dataset) if args.dataset else None,
        "input_len_mean": inp.a if inp.kind != "uniform" else (inp.a + inp.b) / 2,
        "requests_per_level": args.requests,
    }
    slo = (
        Slo(args.slo_ttft, args.slo_tpot, args.slo_e2e)
        if any((args.slo_ttft, args.slo_tpot, args.slo_e2e))
        else None
    )
    show = not (args.no_progress or args.json) and sys.stderr.isatty()
    with _progress(show) as (on_level, on_record):
        result = run_bench(
            spec,
            prompts,
            out,
            dep,
            workload,
            slo,
            on_record,
            on_level,
            args.metrics_interval or None,
        )
    data = _bench_data(result, dep, not args.no_profile)
    data["notes"] = notes
    from .render import emit

    emit(data, args.json, bench_view)
    return _bench_exit(result)


def _bench_exit(result: BenchResult) -> int:
    if result.stopped or result.finished_ok == 0:
        why = result.stopped or "no request succeeded"
        print(
            f"deepfit bench: stopped early: {why}; the {result.finished_ok} finished "
            f"requests are in {result.path}",
            file=sys.stderr,
        )
        return 2
    return 0


class _progress:
    """A rich progress bar on stderr (or nothing), fed by the bench's callbacks."""

    def __init__(self, show: bool) -> None:
        self.show = show
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> tuple[Any, Any]:
        if not self.show:
            return None, None
        from rich.console import Console
        from rich.progress import Progress

        self.bar = Progress(console=Console(stderr=True), transient=True)
        self.bar.start()

        def on_level(level: str, n: int) -> None:
            self.task = self.bar.add_task(f"bench {level}", total=n)

        def on_record(rec: Any) -> None:
            self.bar.advance(self.task)

        return on_level, on_record

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def _bench_data(result: BenchResult, dep: Deployment, use_profile: bool) -> dict[str, Any]:
    from ..errors import DeepfitError
    from ..measure.compare import compare

    levels = []
    for st in result.stats:
        item: dict[str, Any] = {**st.to_dict(), "metrics": result.metrics.get(st.level, {})}
        item.pop("type")
        if dep.complete and st.ok:
            try:
                item["comparison"] = compare(dep, st, None, use_profile).to_dict()
            except DeepfitError as err:
                item["comparison_error"] = str(err)
        levels.append(item)
    return {
        "run": result.header.to_dict(),
        "results_file": str(result.path),
        "stopped": result.stopped,
        "levels": levels,
    }


def _no_success(runs: list[Any]) -> str:
    """Why runs with a deployment gave nothing to calibrate on: their requests all failed."""
    requests = [r for run in runs for r in run.requests]
    kinds: dict[str, int] = {}
    for r in requests:
        if not r.ok:
            kind = (r.error or "unknown error").split(":")[0]
            kinds[kind] = kinds.get(kind, 0) + 1
    errors = ", ".join(f"{k} x{n}" for k, n in kinds.items()) or "none recorded"
    return (
        f"no request in these files succeeded ({len(requests)} requests; errors: {errors}), "
        "so there is nothing to calibrate on"
    )


def calibrate(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from ..measure.calibrate import fit_points, group_points, points_from_runs
    from ..measure.profile import profile_path, save_entry
    from ..measure.results import read_runs

    runs = [run for path in args.results for run in read_runs(path)]
    fill = _deployment(args)
    for run in runs:
        d = run.header.deployment
        run.header = replace(
            run.header,
            deployment=replace(
                d,
                model=d.model or fill.model,
                gpu=d.gpu or fill.gpu,
                engine=d.engine or fill.engine,
            ),
        )
    groups = group_points(points_from_runs(runs))
    if not groups and any(r.header.deployment.complete for r in runs):
        raise BadInputError(_no_success(runs), "fix the server and rerun bench, then calibrate")
    if not groups:
        raise BadInputError(
            "no run in these files says which model, GPU and engine it measured",
            "rerun bench with --model/--gpu/--engine, or give them to calibrate",
        )
    stamp = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    fits = []
    for (engine, gpu), points in groups.items():
        fit = fit_points(engine, gpu, points)
        entry = fit.to_entry(stamp)
        saved = None if args.dry_run else str(save_entry(engine, gpu, entry, args.profile))
        fits.append({"engine": engine, "gpu": gpu, "saved_to": saved, **entry})
    from .render import emit

    emit({"profile": str(args.profile or profile_path()), "fits": fits}, args.json, calibrate_view)
    return 0


DEFAULT_MONITOR_SAMPLES = 60


def monitor(args: argparse.Namespace) -> int:
    from ..measure import monitor as mon

    predicted = _predicted_memory(args)
    nvml: mon.Nvml | None = None
    if not args.no_gpu:
        opened = mon.open_nvml()
        if isinstance(opened, str):
            print(f"deepfit monitor: {opened}", file=sys.stderr)
        else:
            nvml = opened
    samples = args.samples if (args.samples or args.duration) else DEFAULT_MONITOR_SAMPLES
    if not (args.samples or args.duration):
        print(
            f"deepfit monitor: sampling {samples} times, {args.interval:g} s apart "
            "(--samples N or --duration S for more)",
            file=sys.stderr,
        )
    rows = mon.samples(nvml, args.interval, samples, args.duration, predicted)
    try:
        if args.output is None:
            n = mon.write_csv(rows, sys.stdout)
        else:
            with args.output.open("w", newline="", encoding="utf-8") as f:
                n = mon.write_csv(rows, f)
            print(f"deepfit monitor: {n} rows in {args.output}", file=sys.stderr)
    finally:
        if nvml is not None:
            nvml.close()
    return 0


def _predicted_memory(args: argparse.Namespace) -> int | None:
    dep = _deployment(args)
    if not (dep.model and dep.gpu):
        return None
    from ..api import estimate_memory, load_gpu, load_model

    est = estimate_memory(
        load_model(dep.model),
        load_gpu(dep.gpu),
        gpus=dep.gpus,
        tp=dep.tp,
        weights=dep.weights,
        kv_dtype=dep.kv_dtype,
        context=args.context,
        batch=args.batch,
        engine=dep.engine or "vllm",
    )
    return int(est.per_gpu.total)
