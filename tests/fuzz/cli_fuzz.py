"""A command-line fuzzer over every deepfit subcommand (seeded, bounded).

Command lines are drawn from the CLI's own argparse tree: each subcommand, each of its
options and positionals, with values from pools of the valid, the edge and the hostile
(huge and non-finite numbers, Rich markup, control characters, shell syntax, FIFOs,
/dev/zero, folders, undecodable and deeply nested files, output paths that are folders).
Each command line runs in-process through ``deepfit.cli.main.main``; a finding is a
traceback, an "internal error", an exit code other than 0/2 (3 for a bench whose requests
failed), or a run over the time or memory limit.

Commands that would block by design are kept bounded: ``serve`` does not start its server
(its arguments are checked, then the fuzzer's stub returns), ``monitor`` sleeps no real
time, and URLs point at a closed loopback port.

Run: python -m tests.fuzz.cli_fuzz [--cases 3000] [--seed 0] [--jobs 2]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

CLOSED_URL = "http://127.0.0.1:9"
TINY = {
    "model_type": "llama",
    "hidden_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 128,
    "vocab_size": 100,
    "max_position_embeddings": 4096,
}
NUMBERS = [
    "0", "1", "2", "8", "-1", "3", "64", "1000000", "1e308", "-1e308", "1e-320", "nan", "inf",
    "-inf", "9" * 40, "0x10", "1_000", "32k", "1M", "2.5", "0.9", "1.5", "", " ", "1e3",
    "65536", "65535", "70000", "-0",
]  # fmt: skip
NAMES = [
    "deepseek-v3", "qwen2.5-7b", "llama-3.1-8b", "mixtral", "deepseek-7b", "H100", "L4", "cpu",
    "fp8", "bf16", "int4", "gguf-q4_k_m", "awq-int4", "vllm", "sglang", "trtllm", "llamacpp",
    "transformers", "max", "auto", "full", "lora", "qlora", "fsdp", "cost", "latency", "a/b",
    "meta-llama/Llama-3.1-8B", "nope", "mmlu", "gsm8k",
]  # fmt: skip
HOSTILE = [
    "[bold red]boom[/]", "[link=file:///etc/passwd]x[/link]", "[/]", "[", "]", "\x1b[31mred",
    "a\nb", "\r", "\t", "$(touch /tmp/deepfit-fuzz-pwned)", "`id`", "'; rm -rf / #", "%s%n",
    "x" * 5000, "ü", "\u202e", "\x7f", "../../etc/passwd", "-", "--", "{}", "[]", "null",
    "http://", "://", "http://[::1", "http://127.0.0.1:99999", "ftp://x",
]  # fmt: skip


@dataclass(frozen=True)
class Finding:
    argv: list[str]
    code: object
    seconds: float
    why: str
    stderr: str


def make_files(root: Path) -> list[str]:
    """Hostile and valid files to pass where a command takes a path."""
    root.mkdir(parents=True, exist_ok=True)
    fifo = root / "fifo"
    if hasattr(os, "mkfifo") and not fifo.exists():
        os.mkfifo(fifo)
    (root / "dir").mkdir(exist_ok=True)
    (root / "bad.bin").write_bytes(b"\xff\xfe\x00\x80" * 64)
    (root / "deep.json").write_text("[" * 200_000 + "]" * 200_000)
    (root / "deep_obj.json").write_text('{"a":' * 50_000 + "1" + "}" * 50_000)
    (root / "config.json").write_text(json.dumps(TINY))
    (root / "hostile_config.json").write_text(
        json.dumps({**TINY, "_name_or_path": "[/][bold]$(id)[/bold][link=file:///etc/passwd]x"})
    )
    plan = {"plans": [{"gpu": "H100", "gpus": 1, "weights": "bf16", "kv_dtype": "bf16",
                       "tp": 1, "pp": 1, "ep": 1, "dp": 1, "concurrency": 1}],
            "model": {"id": "qwen2.5-7b"}}  # fmt: skip
    (root / "plan.json").write_text(json.dumps(plan))
    (root / "plan_bad.json").write_text(json.dumps({"plans": [{"gpu": [], "tp": "x"}]}))
    run = {"type": "run", "run_id": "r", "url": CLOSED_URL, "api": "completions",
           "served_model": None, "deployment": {"model": "qwen2.5-7b", "gpu": "H100",
           "engine": "vllm"}, "workload": {}, "started_at": "2026-01-01"}  # fmt: skip
    req = {"type": "request", "run_id": "r", "index": 0, "level": "c=1", "start_s": 0,
           "ok": True, "ttft_s": 0.1, "e2e_s": 1.0, "completion_tokens": 10}  # fmt: skip
    (root / "results.jsonl").write_text(json.dumps(run) + "\n" + json.dumps(req) + "\n")
    (root / "results_bad.jsonl").write_text(
        json.dumps(run)
        + "\n"
        + json.dumps({**req, "itl_s": 5, "index": []})
        + "\n"
        + json.dumps({"type": "run", "run_id": "x"})
        + "\n"
        + json.dumps({"type": "eval"})
        + "\n"
        + json.dumps({"type": "eval_score", "task": [], "value": "x"})
        + "\n"
    )
    (root / "prices.csv").write_text("gpu,usd_per_gpu_hour\nH100,2.5\n")
    (root / "prices_bad.csv").write_text("gpu,usd_per_gpu_hour\n[bold]H100,nan\n\x00,1e308\n")
    (root / "dataset.jsonl").write_text('{"prompt": "hi"}\n[1]\n"x"\n{"messages": 5}\n')
    sparse = root / "sparse.bin"
    if not sparse.exists():
        with sparse.open("wb") as fh:
            fh.truncate(1 << 30)  # 1 GiB on paper, no disk used
    names = ["fifo", "dir", "bad.bin", "deep.json", "deep_obj.json", "config.json",
             "hostile_config.json", "plan.json", "plan_bad.json", "results.jsonl",
             "results_bad.jsonl", "prices.csv", "prices_bad.csv", "dataset.jsonl",
             "sparse.bin", "missing.json"]  # fmt: skip
    return [str(root / n) for n in names] + ["/dev/zero", "/dev/null", "/proc/self/mem"]


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    from deepfit.cli.main import build_parser

    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise RuntimeError("no subcommands")


VALID = {
    "model": ["deepseek-7b", "qwen2.5-7b", "llama-3.1-8b", "mixtral", "qwen2.5-0.5b"],
    "gpu": ["H100", "L4", "H200", "A100-80GB", "RTX4090", "cpu"],
    "gpus": ["1", "2", "8"],
    "weights": ["auto", "bf16", "fp8", "int4", "awq-int4", "gguf-q4_k_m"],
    "kv_dtype": ["auto", "fp8", "bf16"],
    "tp": ["1", "2"],
    "pp": ["1", "2"],
    "ep": ["1", "2"],
    "context": ["4096", "32k", "1024"],
    "batch": ["1", "8"],
    "engine": ["vllm", "sglang", "llamacpp", "trtllm", "transformers"],
    "input_len": ["128", "1k", "2000"],
    "output_len": ["64", "256"],
    "concurrency": ["1", "16", "max"],
    "max_gpus": ["1", "8"],
    "seq_len": ["2048", "4096"],
    "micro_batch": ["1", "2"],
    "tokens": ["1e9", "15.6e12"],
    "requests": ["2"],
    "samples": ["2"],
    "interval": ["0.01"],
    "port": ["8000", "0", "70000"],
    "out": ["out.html", "outdir"],
    "output": ["out.jsonl"],
}


def _valid(rng: random.Random, action: argparse.Action) -> str:
    if action.dest in VALID:
        return rng.choice(VALID[action.dest])
    if action.choices:
        return str(rng.choice(list(action.choices)))
    return rng.choice(("1", "2", "0.5"))


def _value(rng: random.Random, action: argparse.Action, files: list[str]) -> str:
    roll = rng.random()
    if action.choices and roll < 0.6:
        return str(rng.choice(list(action.choices)))
    pool = rng.choice((NUMBERS, NAMES, HOSTILE, files, NUMBERS, NAMES, files))
    return rng.choice(pool)


def _positional(rng: random.Random, name: str, action: argparse.Action, files: list[str]) -> str:
    dest = action.dest.lower()
    if dest == "url":
        return rng.choice([CLOSED_URL, CLOSED_URL + "/v1", "127.0.0.1:9", *HOSTILE[20:]])
    if "result" in dest or dest in ("files", "paths"):
        return rng.choice(files)
    if dest == "model" and rng.random() < 0.8:
        return rng.choice([*VALID["model"], *files[5:7], "nope", "[bold]x[/]"])
    return _value(rng, action, files)


def generate(
    rng: random.Random, parsers: dict[str, argparse.ArgumentParser], files: list[str]
) -> list[str]:
    """One command line: a subcommand, its positionals, then 0-6 options (valid or not)."""
    name = rng.choice(sorted(parsers))
    sub = parsers[name]
    argv = [name]
    options = [a for a in sub._actions if a.option_strings and a.dest != "help"]
    for action in sub._actions:
        if action.option_strings or isinstance(action, argparse._SubParsersAction):
            continue
        count = 2 if action.nargs in ("+", "*") and rng.random() < 0.5 else 1
        if action.nargs in ("?", "*") and rng.random() < 0.2:
            count = 0
        argv += [_positional(rng, name, action, files) for _ in range(count)]
    # half the lines are plausible (valid values, at most one hostile): they reach the
    # estimators and writers instead of stopping at the first bad flag
    plausible = rng.random() < 0.5
    required = [a for a in options if a.required]
    optional = [a for a in options if not a.required]
    if not plausible and required and rng.random() < 0.2:
        required = required[:-1]  # a required option missing now and then
    chosen = required + rng.sample(optional, min(len(optional), rng.randint(0, 5)))
    hostile = rng.randrange(len(chosen)) if plausible and chosen and rng.random() < 0.5 else -1
    for k, action in enumerate(chosen):
        flag = rng.choice(action.option_strings)

        def value(action: argparse.Action = action, k: int = k) -> str:
            if plausible and k != hostile:  # hostile == -1: every value plausible
                return _valid(rng, action)
            return _value(rng, action, files)

        if action.nargs == 0:
            argv.append(flag)
        elif action.nargs in ("+", "*") or (isinstance(action.nargs, int) and action.nargs > 1):
            n = action.nargs if isinstance(action.nargs, int) else rng.randint(1, 2)
            argv += [flag, *(value() for _ in range(n))]
        else:
            argv += [flag, value()]
    if rng.random() < 0.3:
        argv.append("--json") if any("--json" in a.option_strings for a in options) else None
    return argv


@contextlib.contextmanager
def bounded_runtime(tmp: Path) -> Iterator[None]:
    """Stub out what blocks by design: the web server's loop and monitor's sleeps; keep the
    user's config and cache folders out of reach."""
    import deepfit.measure.monitor as monitor
    import deepfit.web.server as server

    saved = (server.run, monitor.samples, dict(os.environ))
    real_samples = monitor.samples
    server.run = lambda *a, **k: None  # type: ignore[assignment]

    def few_samples(nvml: Any, interval_s: float, n: Any, duration_s: Any, *rest: Any) -> Any:
        return real_samples(nvml, interval_s, 3, None, *rest, sleep=lambda s: None)

    monitor.samples = few_samples  # type: ignore[assignment]
    os.environ["DEEPFIT_CONFIG_DIR"] = str(tmp / "config")
    os.environ["XDG_CACHE_HOME"] = str(tmp / "cache")
    os.environ["HF_HUB_OFFLINE"] = "1"
    cwd = os.getcwd()
    os.chdir(tmp)  # outputs with default names land here
    try:
        yield
    finally:
        os.chdir(cwd)
        server.run, monitor.samples = saved[0], saved[1]  # type: ignore[assignment]
        os.environ.clear()
        os.environ.update(saved[2])


def run_case(argv: list[str], limit_s: float | None) -> tuple[Finding | None, float, object]:
    from deepfit.cli.main import main

    err, out = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            code: object = main(argv)
        except SystemExit as exc:
            code = exc.code if exc.code is not None else 0
        except BaseException as exc:
            code = f"raised {type(exc).__name__}: {exc}"[:300]
    seconds = time.perf_counter() - start
    text = err.getvalue()
    allowed = (0, 2, 3) if argv[0] == "bench" else (0, 2)
    why = ""
    if "Traceback" in text:
        why = "traceback"
    elif "internal error" in text:
        why = "internal error"
    elif code not in allowed:
        why = f"exit {code}"
    elif limit_s is not None and seconds > limit_s:
        why = f"took {seconds:.1f} s"
    elif code == 2 and not text.strip():
        why = "exit 2 without a message"
    return (Finding(argv, code, seconds, why, text[-500:]) if why else None), seconds, code


def fuzz(
    cases: int,
    seed: int,
    limit_s: float | None = 10.0,
    budget_s: float | None = None,
    log: Path | None = None,
) -> dict[str, Any]:
    """Run ``cases`` generated command lines in this process; a summary with the findings.
    ``budget_s`` stops early (the CI slice's hard cap); the summary says how many ran."""
    rng = random.Random(seed)
    findings: list[Finding] = []
    codes: dict[str, int] = {}
    slowest = 0.0
    ran = 0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="deepfit-fuzz-") as tmp_name:
        tmp = Path(tmp_name)
        files = make_files(tmp / "files")
        parsers = _subparsers()
        with bounded_runtime(tmp):
            for _ in range(cases):
                if budget_s is not None and time.perf_counter() - started > budget_s:
                    break
                argv = generate(rng, parsers, files)
                if log is not None:  # the case about to run: a hang names itself
                    with log.open("a", encoding="utf-8") as fh:
                        fh.write(json.dumps(argv) + "\n")
                finding, seconds, code = run_case(argv, limit_s)
                codes[f"{argv[0]} exit {code}"] = codes.get(f"{argv[0]} exit {code}", 0) + 1
                if log is not None and seconds > 2:
                    with log.open("a", encoding="utf-8") as fh:
                        fh.write(f"  slow: {seconds:.1f} s\n")
                slowest = max(slowest, seconds)
                ran += 1
                if finding is not None:
                    findings.append(finding)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {
        "cases": ran,
        "seed": seed,
        "findings": [asdict(f) for f in findings],
        "exit_codes": dict(sorted(codes.items())),
        "peak_rss_bytes": peak,
        "slowest_s": slowest,
        "wall_s": time.perf_counter() - started,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=2, help="worker processes")
    ap.add_argument("--limit-s", type=float, default=10.0)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
        print(json.dumps(fuzz(args.cases, args.seed, args.limit_s)))
        return 0
    per = -(-args.cases // args.jobs)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.fuzz.cli_fuzz",
                "--worker",
                "--cases",
                str(per),
                "--seed",
                str(args.seed * 1000 + j),
                "--limit-s",
                str(args.limit_s),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for j in range(args.jobs)
    ]
    reports = [json.loads(p.communicate()[0].splitlines()[-1]) for p in procs]
    findings = [f for r in reports for f in r["findings"]]
    summary = {
        "cases": sum(r["cases"] for r in reports),
        "findings": len(findings),
        "tracebacks": sum(f["why"] == "traceback" for f in findings),
        "internal_errors": sum(f["why"] == "internal error" for f in findings),
        "over_time": sum(f["why"].startswith("took") for f in findings),
        "peak_rss_bytes_per_worker": max(r["peak_rss_bytes"] for r in reports),
        "slowest_s": max(r["slowest_s"] for r in reports),
        "wall_s": max(r["wall_s"] for r in reports),
        "exit_codes": {
            k: sum(r["exit_codes"].get(k, 0) for r in reports)
            for k in sorted({k for r in reports for k in r["exit_codes"]})
        },
    }
    for f in findings[:50]:
        print(json.dumps(f)[:600], file=sys.stderr)
    print(json.dumps(summary, indent=1))
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
