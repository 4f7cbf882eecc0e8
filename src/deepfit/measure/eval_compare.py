"""Reading eval results files and comparing two deployments' scores side by side
(``deepfit eval --compare``), with the sign convention of :mod:`deepfit.quality`:
``relative_change = (b - a) / a``, ``loss_percent`` positive = B is worse."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import BadInputError
from .eval_types import Score
from .results import jsonl_objects, malformed


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


def _check_score(s: Score) -> None:
    """The types a score must have to be compared (a hand-edited file may break them)."""
    if not all(isinstance(x, str) for x in s.key):
        raise TypeError("task, metric and filter must be strings")
    for name in ("value", "stderr"):
        v = getattr(s, name)
        if (v is not None or name == "value") and (
            isinstance(v, bool) or not isinstance(v, (int, float))
        ):
            raise TypeError(f"{name} must be a number")
    if s.samples is not None and (isinstance(s.samples, bool) or not isinstance(s.samples, int)):
        raise TypeError("samples must be a whole number")


def read_evals(path: Path) -> EvalFile:
    """The ``deepfit eval`` records of a results file (bench lines in it are skipped)."""
    if not path.exists():
        raise BadInputError(f"no results file {path}", "run `deepfit eval URL -o FILE` first")
    headers: list[dict[str, Any]] = []
    scores: dict[tuple[str, str, str], Score] = {}
    errors: dict[str, str] = {}
    fields = set(Score.__dataclass_fields__)
    for n, obj in jsonl_objects(path, "eval results file"):
        kind = obj.get("type")
        if kind == "eval":
            headers.append(obj)
        elif kind == "eval_score" and headers:
            try:
                s = Score(**{k: v for k, v in obj.items() if k in fields})
                _check_score(s)
                scores[s.key] = s
            except (TypeError, ValueError) as exc:
                raise malformed(path, n, exc) from None
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
