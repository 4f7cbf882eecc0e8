"""The lm-evaluation-harness backend of ``deepfit eval`` (the optional ``eval`` extra):
its ``local-completions`` / ``local-chat-completions`` model types against the server, one
task at a time, failures classified into one clear reason each."""

from __future__ import annotations

import importlib
import json
import math
from collections.abc import Callable
from typing import Any

from .eval_types import EvalSpec, Score, _reason, _Runner, _TaskFailed, _unknown


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
