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
from .eval_types import EvalSpec as EvalSpec
from .eval_types import Score as Score
from .eval_types import _reason, _Runner, _TaskFailed, _unknown
from .results import FORMAT, Deployment, JsonlWriter

BACKENDS = ("auto", "lm-eval", "builtin")
_HINT_SERVER = "start the server first and check host and port (`curl URL/v1/models`)"


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
    if backend == "lm-eval":
        from .eval_lmeval import _LmEval

        runner: _Runner = _LmEval(spec, model)
    else:
        runner = _Builtin(spec, model)
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
