"""Bench results as JSON Lines: one ``run`` header, then one ``request`` line per finished
request (written and flushed as it finishes, so a crash or a dying server loses nothing),
``metrics`` lines from the engine's ``/metrics`` and one ``summary`` line per level.

Times are seconds; ``start_s`` is relative to the run's start. Token counts come from the
server's ``usage`` fields when it sends them (``token_source == "usage"``), else from the
number of streamed chunks (``"chunks"``, an approximation: a chunk may hold several tokens).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from ..errors import BadInputError

FORMAT = 1


@dataclass(frozen=True)
class Deployment:
    """What was measured, as deepfit names it (all optional: a bench needs only a URL)."""

    model: str | None = None
    gpu: str | None = None
    gpus: int = 1
    tp: int | None = None
    engine: str | None = None
    weights: str = "auto"
    kv_dtype: str = "auto"

    @property
    def complete(self) -> bool:
        """Whether deepfit can predict this deployment (model, GPU and engine known)."""
        return bool(self.model and self.gpu and self.engine)


@dataclass(frozen=True)
class RequestRecord:
    """One request's outcome. ``itl_s`` are the gaps between streamed content chunks."""

    run_id: str
    index: int
    level: str  # "c=4" (fixed concurrency) or "rate=2" (Poisson arrivals per second)
    start_s: float
    ok: bool
    error: str | None = None
    ttft_s: float | None = None
    e2e_s: float | None = None
    itl_s: tuple[float, ...] = ()
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    token_source: str = "usage"
    chunks: int = 0
    requested_input_len: int | None = None
    requested_output_len: int | None = None
    status: str = "ok"  # or error, timeout, bad_stream, cancelled (failed requests)

    @property
    def tpot_s(self) -> float | None:
        """Time per output token after the first: (e2e - ttft) / (tokens - 1)."""
        n = self.completion_tokens
        if not self.ok or n is None or n < 2 or self.ttft_s is None or self.e2e_s is None:
            return None
        return (self.e2e_s - self.ttft_s) / (n - 1)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["itl_s"] = [round(x, 6) for x in self.itl_s]
        return {"type": "request", **out}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RequestRecord:
        names = cls.__dataclass_fields__
        kwargs = {k: v for k, v in d.items() if k in names}
        kwargs["itl_s"] = tuple(kwargs.get("itl_s") or ())
        kwargs.setdefault("status", "ok" if kwargs.get("ok") else "error")  # older files
        return cls(**kwargs)


@dataclass(frozen=True)
class RunHeader:
    """The first line of a run: target, API, deployment and workload."""

    run_id: str
    url: str
    api: str
    served_model: str | None
    deployment: Deployment
    workload: dict[str, Any]
    started_at: str
    format: int = FORMAT

    def to_dict(self) -> dict[str, Any]:
        return {"type": "run", **asdict(self)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunHeader:
        dep = Deployment(**{k: v for k, v in d.get("deployment", {}).items()})
        return cls(
            run_id=d["run_id"],
            url=d.get("url", ""),
            api=d.get("api", "completions"),
            served_model=d.get("served_model"),
            deployment=dep,
            workload=dict(d.get("workload", {})),
            started_at=d.get("started_at", ""),
            format=int(d.get("format", FORMAT)),
        )


class JsonlWriter:
    """Appends one JSON object per line and pushes it to disk at once (flush + fsync)."""

    def __init__(self, path: Path) -> None:
        from .._files import check_output

        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            check_output(path, "results file")
            self._file: IO[str] = path.open("a", encoding="utf-8")
        except OSError as exc:
            raise BadInputError(
                f"cannot write results file {path}: {exc.strerror or exc}", "choose another path"
            ) from None

    def write(self, obj: dict[str, Any]) -> None:
        self._file.write(json.dumps(obj, separators=(",", ":")) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class BenchRun:
    """One run read back from a results file: its header and its requests."""

    header: RunHeader
    requests: list[RequestRecord] = field(default_factory=list)
    metrics: list[dict[str, Any]] = field(default_factory=list)
    source: str = ""


def read_runs(path: Path) -> list[BenchRun]:
    """Every run in a results file, in order. A torn last line (a crash mid-write) is skipped."""
    if not path.exists():
        raise BadInputError(f"no results file {path}", "run `deepfit bench URL --output FILE`")
    runs: dict[str, BenchRun] = {}
    for n, obj in jsonl_objects(path, "results file"):
        kind, run_id = obj.get("type"), str(obj.get("run_id"))
        try:
            if kind == "run":
                runs[run_id] = BenchRun(RunHeader.from_dict(obj), source=str(path))
            elif run_id in runs and kind == "request":
                runs[run_id].requests.append(RequestRecord.from_dict(obj))
            elif run_id in runs and kind == "metrics":
                runs[run_id].metrics.append(obj)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise malformed(path, n, exc) from None
    if not runs:
        raise BadInputError(f"{path} holds no bench run", "is it a `deepfit bench` JSONL file?")
    return list(runs.values())


MAX_RESULTS_BYTES = 256 << 20


def jsonl_objects(path: Path, what: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) of each JSON object line of a results file, read through the
    bounded reader; blank lines, lines that are not objects and torn lines are skipped."""
    from .._files import read_text

    text = read_text(path, what, max_bytes=MAX_RESULTS_BYTES, hint="pass a deepfit JSONL file")
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except (json.JSONDecodeError, RecursionError):
            continue  # a line torn by a crash
        if isinstance(obj, dict):
            yield n, obj


def malformed(path: Path, line: int, exc: BaseException) -> BadInputError:
    """The error for a record with missing or mistyped fields."""
    detail = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)[:120]
    return BadInputError(
        f"{path} line {line} is a malformed record ({detail})",
        "pass a file written by deepfit, unedited",
    )
