"""Quality of a deployment, measured: run evaluation tasks against an OpenAI-compatible
server and keep the scores as JSON Lines beside ``deepfit bench`` results.

Two backends answer the same question:

- ``lm-eval`` (the optional ``eval`` extra): lm-evaluation-harness with its
  ``local-completions`` / ``local-chat-completions`` model types, every task it knows plus
  the YAML tasks under ``include_path``. Each task runs on its own, so one that fails
  (an unknown dataset, offline) costs only itself.
- ``builtin``: exact-match generation from ``<include_path>/<task>.jsonl`` rows
  ``{"prompt": ..., "answer": ...}`` (optional ``"until"``: stop strings), greedy, the
  reply and the answer compared after stripping whitespace. No dependency beyond httpx.

The results file gets one ``eval`` header (URL, served model, :class:`Deployment`,
backend), then ``eval_sample`` lines (builtin: as each answer arrives), ``eval_score``
lines per task/metric/filter as each task finishes, and ``eval_error`` lines; each is
flushed and fsynced, so a server that dies mid-run loses nothing already scored.

Scores are in the metric's own units (exact match: fraction 0..1). :func:`compare_evals`
uses the sign convention of :mod:`deepfit.quality`: ``relative_change = (b - a) / a``,
``loss_percent`` positive = B is worse.
"""

from __future__ import annotations

import datetime as _dt
import importlib.util
import json
import math
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from ..errors import BadInputError
from .results import FORMAT, Deployment, JsonlWriter

BACKENDS = ("auto", "lm-eval", "builtin")
_HINT_SERVER = "start the server first and check host and port (`curl URL/v1/models`)"


@dataclass(frozen=True)
class EvalSpec:
    """What to evaluate and how. ``timeout_s`` is per request; ``limit`` caps each task."""

    base_url: str
    tasks: tuple[str, ...]
    api: str = "completions"  # or "chat"
    served_model: str | None = None
    limit: int | None = None
    include_path: Path | None = None
    backend: str = "auto"
    num_concurrent: int = 1
    max_retries: int = 3
    timeout_s: float = 300.0
    tokenizer: str | None = None  # a local HF tokenizer (loglikelihood tasks); None: none
    num_fewshot: int | None = None
    max_gen_toks: int = 256


@dataclass(frozen=True)
class Score:
    """One metric of one task (value in the metric's own units; ``stderr`` may be None)."""

    task: str
    metric: str
    value: float
    filter: str = "none"
    stderr: float | None = None
    samples: int | None = None
    higher_is_better: bool = True

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.task, self.metric, self.filter)


@dataclass
class EvalResult:
    """A finished (or stopped) evaluation: its header, scores and per-task errors."""

    header: dict[str, Any]
    scores: list[Score] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # task -> one line
    path: Path | None = None
    stopped: str | None = None  # why the run ended early (the server went away)


# ---------------------------------------------------------------- the server


def probe_server(base: str, served_model: str | None, timeout_s: float = 10.0) -> str | None:
    """The served model id (``/v1/models``), or a :class:`BadInputError` in one line when
    the URL is malformed, cannot be reached, or does not answer like an OpenAI server."""
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadInputError(f"'{base}' is not an http(s) URL", "e.g. http://127.0.0.1:8000")
    try:
        r = httpx.get(f"{base}/v1/models", timeout=timeout_s)
    except httpx.ConnectError as err:
        raise BadInputError(f"cannot connect to {base}: {_reason(err)}", _HINT_SERVER) from None
    except httpx.TimeoutException:
        raise BadInputError(f"{base} did not answer within {timeout_s:g} s", _HINT_SERVER) from None
    except httpx.HTTPError as err:
        raise BadInputError(f"cannot reach {base}: {_reason(err)}", _HINT_SERVER) from None
    try:
        data = r.json().get("data") if r.status_code == 200 else None
    except (ValueError, AttributeError):
        data = None
    if not isinstance(data, list):
        if served_model:
            return served_model  # the user named the model: let the completions answer
        kind = r.headers.get("content-type", "?").split(";")[0]
        raise BadInputError(
            f"{base} is not an OpenAI-compatible server (GET /v1/models answered "
            f"HTTP {r.status_code}, {kind})",
            "point at the server root that serves /v1/completions, or give --served-model",
        )
    if served_model:
        return served_model
    first = data[0] if data else None
    return str(first["id"]) if isinstance(first, dict) and "id" in first else None


def _reason(err: BaseException) -> str:
    text = str(err) or type(err).__name__
    return " ".join(text.split())[:200]


def resolve_backend(name: str) -> str:
    """``auto`` is lm-eval when it is installed, else the built-in evaluator."""
    if name not in BACKENDS:
        raise BadInputError(f"unknown backend '{name}'", f"use one of {', '.join(BACKENDS)}")
    has_lm_eval = importlib.util.find_spec("lm_eval") is not None
    if name == "lm-eval" and not has_lm_eval:
        raise BadInputError("lm-evaluation-harness is not installed", "pip install 'deepfit[eval]'")
    if name == "auto":
        return "lm-eval" if has_lm_eval else "builtin"
    return name


# ---------------------------------------------------------------- the run


def run_eval(
    spec: EvalSpec,
    output: Path,
    deployment: Deployment | None = None,
    on_task: Callable[[str], None] | None = None,
) -> EvalResult:
    """Evaluate ``spec.tasks`` one by one, appending to ``output`` as results arrive.

    Unknown tasks and an unreachable server raise :class:`BadInputError` before anything
    is written. A task that fails is recorded (``eval_error``) and the next one runs; a
    server that stops answering ends the run (``stopped``)."""
    backend = resolve_backend(spec.backend)
    model = probe_server(spec.base_url, spec.served_model)
    runner: _Runner = _LmEval(spec, model) if backend == "lm-eval" else _Builtin(spec, model)
    runner.check_tasks()
    run_id = uuid.uuid4().hex[:12]
    header = {
        "type": "eval",
        "run_id": run_id,
        "url": spec.base_url,
        "api": spec.api,
        "served_model": model,
        "deployment": asdict(deployment or Deployment()),
        "tasks": list(spec.tasks),
        "limit": spec.limit,
        "backend": backend,
        "backend_version": runner.version,
        "settings": {
            "num_concurrent": spec.num_concurrent,
            "max_retries": spec.max_retries,
            "timeout_s": spec.timeout_s,
            "num_fewshot": spec.num_fewshot,
            "include_path": str(spec.include_path) if spec.include_path else None,
            "tokenizer": spec.tokenizer,
        },
        "started_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "format": FORMAT,
    }
    result = EvalResult(header, path=output)
    with JsonlWriter(output) as out:
        out.write(header)
        for task in spec.tasks:
            if on_task:
                on_task(task)
            try:
                scores = runner.run(task, lambda obj: out.write({"run_id": run_id, **obj}))
            except _TaskFailed as fail:
                result.errors[task] = fail.line
                out.write({"type": "eval_error", "run_id": run_id, "task": task, **fail.record})
                if fail.server:
                    result.stopped = f"the server stopped answering during task {task}"
                    break
                continue
            for s in scores:
                out.write({"type": "eval_score", "run_id": run_id, **asdict(s)})
            result.scores.extend(scores)
    return result


class _TaskFailed(Exception):
    """A task could not be scored; ``server`` when the server itself is the cause."""

    def __init__(self, line: str, server: bool = False) -> None:
        super().__init__(line)
        self.line, self.server = line, server
        self.record = {"error": line, "server": server}


class _Runner:
    version: str | None = None

    def check_tasks(self) -> None:
        raise NotImplementedError

    def run(self, task: str, write: Callable[[dict[str, Any]], None]) -> list[Score]:
        raise NotImplementedError


def _unknown(tasks: Sequence[str], known: Sequence[str], where: str) -> BadInputError:
    import difflib

    close = sorted({m for t in tasks for m in difflib.get_close_matches(t, known, 3, 0.6)})
    hint = f"did you mean {', '.join(close)}?" if close else where
    return BadInputError(f"unknown task(s): {', '.join(tasks)}", hint)


# ---------------------------------------------------------------- built-in backend


class _Builtin(_Runner):
    """Exact match on ``<include_path>/<task>.jsonl`` rows ``{prompt, answer[, until]}``."""

    version = "1"

    def __init__(self, spec: EvalSpec, model: str | None) -> None:
        self.spec, self.model = spec, model

    def _file(self, task: str) -> Path | None:
        if self.spec.include_path is None:
            return None
        path = self.spec.include_path / f"{task}.jsonl"
        return path if path.is_file() else None

    def check_tasks(self) -> None:
        missing = [t for t in self.spec.tasks if self._file(t) is None]
        if missing:
            where = self.spec.include_path
            known = [p.stem for p in where.glob("*.jsonl")] if where else []
            raise _unknown(
                missing,
                known,
                "the built-in evaluator reads --include-path DIR/<task>.jsonl "
                "(install lm-eval for its tasks: pip install 'deepfit[eval]')",
            )

    def _rows(self, task: str) -> list[dict[str, Any]]:
        path = self._file(task)
        assert path is not None  # check_tasks ran
        rows: list[dict[str, Any]] = []
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                raise _TaskFailed(f"task {task}: {path} line {n} is not JSON") from None
            if not isinstance(row, dict) or "prompt" not in row or "answer" not in row:
                raise _TaskFailed(f"task {task}: {path} line {n} lacks 'prompt' or 'answer'")
            rows.append(row)
        return rows[: self.spec.limit] if self.spec.limit else rows

    def run(self, task: str, write: Callable[[dict[str, Any]], None]) -> list[Score]:
        rows = self._rows(task)
        if not rows:
            raise _TaskFailed(f"task {task}: no rows")
        hits: list[float] = []
        with httpx.Client(timeout=self.spec.timeout_s) as client:
            pool = ThreadPoolExecutor(max(1, self.spec.num_concurrent))
            try:
                futures = [pool.submit(self._answer, client, row) for row in rows]
                for i, (row, fut) in enumerate(zip(rows, futures, strict=True)):
                    reply = fut.result()
                    hit = float(reply.strip() == str(row["answer"]).strip())
                    hits.append(hit)
                    write(
                        {
                            "type": "eval_sample",
                            "task": task,
                            "index": i,
                            "target": str(row["answer"]),
                            "response": reply,
                            "scores": {"exact_match": hit},
                        }
                    )
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
        n = len(hits)
        mean = sum(hits) / n
        # as lm-eval's mean_stderr: sample standard deviation (n - 1) / sqrt(n)
        var = sum((h - mean) ** 2 for h in hits) / (n - 1) if n > 1 else 0.0
        return [Score(task, "exact_match", mean, "strip", math.sqrt(var / n), n, True)]

    def _answer(self, client: httpx.Client, row: dict[str, Any]) -> str:
        s = self.spec
        until = row.get("until", ["\n"])
        body: dict[str, Any] = {"max_tokens": s.max_gen_toks, "temperature": 0.0, "stop": until}
        if self.model:
            body["model"] = self.model
        chat = s.api == "chat"
        if chat:
            body["messages"] = [{"role": "user", "content": str(row["prompt"])}]
        else:
            body["prompt"] = str(row["prompt"])
        url = f"{s.base_url}/v1/{'chat/completions' if chat else 'completions'}"
        last = ""
        for _ in range(max(1, s.max_retries)):
            try:
                r = client.post(url, json=body)
            except httpx.HTTPError as err:
                last = f"{type(err).__name__}: {_reason(err)}"
                continue
            if r.status_code >= 500:
                last = f"HTTP {r.status_code}"
                continue
            return _cut(_reply_text(r, chat, url), until)
        raise _TaskFailed(f"POST {url} failed {s.max_retries} times ({last})", server=True)


def _reply_text(r: httpx.Response, chat: bool, url: str) -> str:
    try:
        choice = r.json()["choices"][0]
        text = choice["message"]["content"] if chat else choice["text"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise _TaskFailed(
            f"POST {url} answered HTTP {r.status_code} without OpenAI choices "
            f"({_reason(Exception(r.text[:120]))})",
            server=True,
        ) from None
    return str(text or "")


def _cut(text: str, until: Sequence[str]) -> str:
    for stop in until:
        if stop and stop in text:
            text = text[: text.index(stop)]
    return text


# ---------------------------------------------------------------- lm-eval backend


class _LmEval(_Runner):
    """lm-evaluation-harness through ``local-completions`` / ``local-chat-completions``."""

    def __init__(self, spec: EvalSpec, model: str | None) -> None:
        self.spec, self.model = spec, model
        self.lm_eval = _lm_eval("")  # untyped: imported by name
        self.version = str(getattr(self.lm_eval, "__version__", "?"))
        self.manager: Any = None

    def check_tasks(self) -> None:
        TaskManager = _lm_eval(".tasks").TaskManager

        inc = str(self.spec.include_path) if self.spec.include_path else None
        names = list(self.spec.tasks)
        if inc:
            # scanning lm-eval's own ~15,000 task files takes seconds: skip it when the
            # include path already holds every task asked for
            local = TaskManager(include_path=inc, include_defaults=False)
            if set(local.match_tasks(names)) >= set(names):
                self.manager = local
                return
        self.manager = TaskManager(include_path=inc)
        missing = [t for t in names if t not in set(self.manager.match_tasks(names))]
        if missing:
            raise _unknown(
                missing,
                self.manager.all_tasks,
                "list lm-eval's tasks with `lm-eval ls tasks`; local YAML tasks need "
                "--include-path DIR",
            )

    def _model_args(self) -> dict[str, Any]:
        s = self.spec
        chat = s.api == "chat"
        args: dict[str, Any] = {
            "base_url": f"{s.base_url}/v1/{'chat/completions' if chat else 'completions'}",
            "num_concurrent": s.num_concurrent,
            "max_retries": s.max_retries,
            "timeout": math.ceil(s.timeout_s),
            "max_gen_toks": s.max_gen_toks,
        }
        if self.model:
            args["model"] = self.model
        if s.tokenizer:
            args.update(tokenizer=s.tokenizer, tokenizer_backend="huggingface")
        else:
            args.update(tokenizer_backend=None, tokenized_requests=False)
        return args

    def run(self, task: str, write: Callable[[dict[str, Any]], None]) -> list[Score]:
        try:
            out = self.lm_eval.simple_evaluate(
                model="local-chat-completions" if self.spec.api == "chat" else "local-completions",
                model_args=self._model_args(),
                tasks=[task],
                num_fewshot=self.spec.num_fewshot,
                limit=self.spec.limit,
                task_manager=self.manager,
                apply_chat_template=self.spec.api == "chat",
                log_samples=True,
            )
        except Exception as err:  # lm-eval raises anything; turn it into one line
            raise _classify(task, err) from None
        if not out:
            raise _TaskFailed(f"task {task}: lm-eval returned no results")
        for name, samples in (out.get("samples") or {}).items():
            for smp in samples:
                write(_sample_record(name, smp))
        return _scores(out)


def _lm_eval(sub: str) -> Any:
    import importlib

    return importlib.import_module("lm_eval" + sub)


def _sample_record(task: str, smp: dict[str, Any]) -> dict[str, Any]:
    metrics = {m: smp.get(m) for m in smp.get("metrics", []) if _is_num(smp.get(m))}
    resp = smp.get("filtered_resps")
    return {
        "type": "eval_sample",
        "task": task,
        "index": smp.get("doc_id"),
        "target": str(smp.get("target")),
        "response": json.dumps(resp, default=str) if not isinstance(resp, str) else resp,
        "filter": smp.get("filter"),
        "scores": metrics,
    }


def _is_num(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _scores(out: dict[str, Any]) -> list[Score]:
    """Every ``metric,filter`` of every task and group in an lm-eval result."""
    better = out.get("higher_is_better") or {}
    nsamp = out.get("n-samples") or {}
    scores = []
    for task, res in (out.get("results") or {}).items():
        for key, value in res.items():
            if "," not in key or "_stderr," in key or not _is_num(value):
                continue
            metric, filt = key.split(",", 1)
            err = res.get(f"{metric}_stderr,{filt}")
            n = (nsamp.get(task) or {}).get("effective")
            scores.append(
                Score(
                    task,
                    metric,
                    float(value),
                    filt,
                    float(err) if _is_num(err) else None,
                    int(n) if n is not None else None,
                    bool((better.get(task) or {}).get(metric, True)),
                )
            )
    return scores


def _chain(err: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    e: BaseException | None = err
    while e is not None and e not in seen:
        seen.append(e)
        e = e.__cause__ or e.__context__
    return seen


def _classify(task: str, err: BaseException) -> _TaskFailed:
    """One line for an lm-eval failure; ``server`` when the endpoint is the cause."""
    chain = _chain(err)
    names = {type(e).__name__ for e in chain}
    first = f"{type(err).__name__}: {_reason(err)}"
    if names & {"ClientConnectorError", "ServerDisconnectedError", "ConnectionRefusedError"}:
        return _TaskFailed(f"task {task}: the server stopped answering ({first})", server=True)
    if names & {"ClientResponseError", "HTTPError", "ContentTypeError"}:
        why = (
            "; is it OpenAI-compatible and does it serve this --api?"
            if any(code in first for code in ("404", "405", "ContentType"))
            else ""
        )
        return _TaskFailed(f"task {task}: the server answered with an error ({first}){why}", True)
    if names & {
        "DatasetNotFoundError",
        "FileNotFoundError",
        "OfflineModeIsEnabled",
        "LocalEntryNotFoundError",
        "EmptyDatasetError",
        "DataFilesNotFoundError",
    }:
        return _TaskFailed(
            f"task {task}: its dataset could not be loaded ({first}); download it while "
            "online, or define a local task (dataset_path: json) under --include-path"
        )
    if "Tokenizer is required" in " ".join(str(e) for e in chain):
        return _TaskFailed(
            f"task {task} scores log-likelihoods: it needs --tokenizer PATH (a local HF "
            "tokenizer) and a server that returns logprobs on /v1/completions"
        )
    return _TaskFailed(f"task {task}: {first}")


# ---------------------------------------------------------------- reading and comparing


@dataclass
class EvalFile:
    """The eval runs of one results file, merged: later scores of a task/metric win."""

    path: Path
    headers: list[dict[str, Any]]
    scores: dict[tuple[str, str, str], Score]
    errors: dict[str, str]

    @property
    def deployment(self) -> dict[str, Any]:
        return dict(self.headers[-1].get("deployment") or {})


def read_evals(path: Path) -> EvalFile:
    """The ``deepfit eval`` records of a results file (bench lines in it are skipped)."""
    if not path.is_file():
        raise BadInputError(f"no results file {path}", "run `deepfit eval URL -o FILE` first")
    headers: list[dict[str, Any]] = []
    scores: dict[tuple[str, str, str], Score] = {}
    errors: dict[str, str] = {}
    fields = set(Score.__dataclass_fields__)
    with path.open(encoding="utf-8") as f:
        for line in f:
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue  # blank, or torn by a crash
            kind = obj.get("type") if isinstance(obj, dict) else None
            if kind == "eval":
                headers.append(obj)
            elif kind == "eval_score" and headers:
                s = Score(**{k: v for k, v in obj.items() if k in fields})
                scores[s.key] = s
                errors.pop(s.task, None)
            elif kind == "eval_error" and headers:
                errors[str(obj.get("task"))] = str(obj.get("error"))
    if not headers:
        raise BadInputError(f"{path} holds no eval run", "is it a `deepfit eval` JSONL file?")
    if not scores:
        raise BadInputError(f"{path} holds no eval scores", "every task of its runs failed")
    return EvalFile(path, headers, scores, errors)


def compare_evals(a: EvalFile, b: EvalFile) -> list[dict[str, Any]]:
    """Per task/metric/filter: A, B, ``delta = b - a``, ``relative_change = delta / a``,
    ``loss_percent`` (positive = B worse) and a 95% interval of ``delta`` from the two
    standard errors (independent samples, normal approximation)."""
    rows = []
    for key in sorted(set(a.scores) | set(b.scores)):
        sa, sb = a.scores.get(key), b.scores.get(key)
        va, vb = (sa.value if sa else None), (sb.value if sb else None)
        delta = rel = loss = ci = None
        if sa is not None and sb is not None:
            delta = sb.value - sa.value
            rel = delta / sa.value if sa.value else None
            loss = None if rel is None else (-100.0 if sa.higher_is_better else 100.0) * rel
            if sa.stderr is not None and sb.stderr is not None:
                ci = 1.96 * math.hypot(sa.stderr, sb.stderr)
        rows.append(
            {
                "task": key[0],
                "metric": key[1],
                "filter": key[2],
                "a": va,
                "b": vb,
                "delta": delta,
                "relative_change": rel,
                "loss_percent": loss,
                "delta_ci95": ci,
                "samples_a": sa.samples if sa else None,
                "samples_b": sb.samples if sb else None,
            }
        )
    return rows
