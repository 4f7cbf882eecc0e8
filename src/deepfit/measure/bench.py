"""One bench, end to end: header, levels, records and summaries on disk as they happen."""

from __future__ import annotations

import asyncio
import datetime as _dt
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx

from . import metrics as _metrics
from .loadgen import (
    LevelOutcome,
    LoadSpec,
    check_reachable,
    make_client,
    run_level,
    served_model,
)
from .results import Deployment, JsonlWriter, RequestRecord, RunHeader
from .stats import LevelStats, Slo, level_stats
from .workload import Prompt


@dataclass
class BenchResult:
    """A finished (or stopped) bench: the header and each level's outcome and statistics."""

    header: RunHeader
    outcomes: list[LevelOutcome] = field(default_factory=list)
    stats: list[LevelStats] = field(default_factory=list)
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)  # level -> summary
    path: Path | None = None

    @property
    def stopped(self) -> str | None:
        return next((o.stopped for o in self.outcomes if o.stopped), None)

    @property
    def finished_ok(self) -> int:
        return sum(s.ok for s in self.stats)


def run_bench(
    spec: LoadSpec,
    prompts: Callable[[str], Sequence[Prompt]],
    output: Path,
    deployment: Deployment | None = None,
    workload: dict[str, Any] | None = None,
    slo: Slo | None = None,
    on_record: Callable[[RequestRecord], None] | None = None,
    on_level: Callable[[str, int], None] | None = None,
    scrape_interval_s: float | None = 1.0,
) -> BenchResult:
    """Run every level of ``spec``; ``prompts(level)`` gives each level's prompts. Each
    record is appended to ``output`` (JSONL) as it finishes."""
    return asyncio.run(
        _run(
            spec,
            prompts,
            output,
            deployment or Deployment(),
            workload or {},
            slo,
            on_record,
            on_level,
            scrape_interval_s,
        )
    )


async def _run(
    spec: LoadSpec,
    prompts: Callable[[str], Sequence[Prompt]],
    output: Path,
    deployment: Deployment,
    workload: dict[str, Any],
    slo: Slo | None,
    on_record: Callable[[RequestRecord], None] | None,
    on_level: Callable[[str, int], None] | None,
    scrape_interval_s: float | None,
) -> BenchResult:
    width = max([*spec.concurrency, spec.max_concurrency or 0, 8]) + 4
    async with make_client(width) as client:
        await check_reachable(client, spec.base_url)
        model = spec.served_model or await served_model(client, spec.base_url)
        spec = replace(spec, served_model=model, run_id=spec.run_id or uuid.uuid4().hex[:12])
        header = RunHeader(
            run_id=spec.run_id,
            url=spec.base_url,
            api=spec.api,
            served_model=model,
            deployment=deployment,
            workload={**workload, "levels": spec.levels},
            started_at=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        )
        result = BenchResult(header, path=output)
        with JsonlWriter(output) as out:
            out.write(header.to_dict())
            for level in spec.levels:
                batch = prompts(level)
                if on_level:
                    on_level(level, len(batch))
                outcome, samples = await _level(
                    client, spec, level, batch, out, on_record, scrape_interval_s
                )
                stats = level_stats(
                    level,
                    outcome.records,
                    outcome.wall_s,
                    slo,
                    outcome.unfinished,
                    outcome.stopped,
                )
                result.outcomes.append(outcome)
                result.stats.append(stats)
                if samples:
                    result.metrics[level] = _metrics.summarize(samples)
                out.write(
                    {
                        "run_id": spec.run_id,
                        **stats.to_dict(),
                        "metrics": result.metrics.get(level, {}),
                    }
                )
                if outcome.stopped and "in a row failed" in outcome.stopped:
                    break  # the server is gone: later levels would only fail too
    return result


async def _level(
    client: httpx.AsyncClient,
    spec: LoadSpec,
    level: str,
    batch: Sequence[Prompt],
    out: JsonlWriter,
    on_record: Callable[[RequestRecord], None] | None,
    scrape_interval_s: float | None,
) -> tuple[LevelOutcome, list[dict[str, Any]]]:
    samples: list[dict[str, Any]] = []

    def sink(rec: RequestRecord) -> None:
        out.write(rec.to_dict())
        if on_record:
            on_record(rec)

    def sample(s: dict[str, Any]) -> None:
        samples.append(s)
        out.write({"type": "metrics", "run_id": spec.run_id, "level": level, **s})

    stop = asyncio.Event()
    scraper = None
    if scrape_interval_s:
        scraper = asyncio.create_task(
            _metrics.scrape_loop(
                client, spec.base_url + "/metrics", scrape_interval_s, sample, stop
            )
        )
    try:
        outcome = await run_level(client, spec, level, batch, sink)
    finally:
        stop.set()
        if scraper:
            await asyncio.gather(scraper, return_exceptions=True)
    return outcome, samples
