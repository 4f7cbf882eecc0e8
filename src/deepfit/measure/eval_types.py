"""The pieces every evaluation backend shares (the request, a score, the runner interface,
failure records), apart so that the backends and the comparison of results files do not
import the evaluation driver that imports them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import BadInputError


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


def _reason(err: BaseException) -> str:
    text = str(err) or type(err).__name__
    return " ".join(text.split())[:200]


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
