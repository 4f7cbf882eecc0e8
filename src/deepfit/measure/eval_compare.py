"""Reading eval results files and comparing two deployments' scores side by side
(``deepfit eval --compare``), with the sign convention of :mod:`deepfit.quality`:
``relative_change = (b - a) / a``, ``loss_percent`` positive = B is worse."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import BadInputError
from .eval_types import Score


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
