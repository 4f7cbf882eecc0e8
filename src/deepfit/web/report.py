"""``deepfit report``: one self-contained HTML file (inline CSS and SVG, no scripts, nothing
fetched) with a plan, the winner's memory and speed, the Pareto front and its launch
command, to attach to a ticket or a purchase request."""

from __future__ import annotations

from datetime import datetime, timezone
from html import escape
from typing import Any

from .. import __version__
from ..planner.result import PLAN_COLUMNS, plan_cells, targets_text
from ..units import GiB

STYLE = """body{font-family:system-ui,sans-serif;max-width:960px;margin:2rem auto;color:#222}
table{border-collapse:collapse;font-size:.9rem}td,th{padding:.2rem .6rem;border-bottom:1px solid
#ddd;text-align:right}td:first-child,th:first-child{text-align:left}.muted{color:#777}
pre{background:#f4f4f4;padding:.6rem;white-space:pre-wrap;word-break:break-all}"""


def _table(rows: list[list[str]]) -> str:
    head, *body = rows
    return (
        "<table><tr>"
        + "".join(f"<th>{escape(c)}</th>" for c in head)
        + "</tr>"
        + "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>" for r in body)
        + "</table>"
    )


def render_report(
    plan: dict[str, Any],
    memory: dict[str, Any] | None,
    perf: dict[str, Any] | None,
    command: str | None,
) -> str:
    """The report as an HTML string."""
    w = plan["workload"]
    plans = [list(PLAN_COLUMNS)]
    plans += [plan_cells(i, p) for i, p in enumerate(plan["plans"], 1)]
    parts = [
        f"<h1>deepfit report: {escape(plan['model'])}</h1>",
        f"<p class='muted'>Workload: {w['input_len']:,} input / {w['output_len']:,} output "
        f"tokens; {escape(targets_text(w))}; objective "
        f"{escape(plan['objective'])}; {plan['candidates']:,} candidates searched.</p>",
        "<h2>Best plans</h2>",
        _table(plans),
    ]
    if plan["plans"]:
        parts.append(f"<p><b>Why #1:</b> {escape(plan['plans'][0]['why'])}</p>")
    else:
        parts.append("<p><b>Nothing meets every target.</b></p>")
    if memory is not None:
        per = memory["per_gpu"]
        parts += [
            "<h2>Memory per GPU (plan #1)</h2>",
            memory.get("chart_svg", ""),
            _table(
                [
                    ["", "GiB"],
                    ["weights", f"{per['weights_bytes'] / GiB:.2f}"],
                    ["KV cache", f"{per['kv_cache_bytes'] / GiB:.2f}"],
                    ["activations", f"{per['activations_bytes'] / GiB:.2f}"],
                    ["overhead", f"{per['overhead_bytes'] / GiB:.2f}"],
                    ["total", f"{per['total_bytes'] / GiB:.2f}"],
                    ["GPU memory", f"{memory['gpu_memory_bytes'] / GiB:.2f}"],
                ]
            ),
        ]
    if perf is not None:
        parts += [
            "<h2>Speed (plan #1)</h2>",
            _table(
                [
                    ["", "value"],
                    ["time to first token", f"{perf['ttft_s'] * 1000:,.1f} ms"],
                    ["time per output token", f"{perf['tpot_s'] * 1000:,.2f} ms"],
                    ["output tokens/s", f"{perf['output_tokens_per_s']:,.0f}"],
                    ["bound by", perf["bound"]],
                    ["provenance", perf["source"]],
                ]
            ),
        ]
    parts += [
        "<h2>Throughput per GPU vs speed per user (Pareto front)</h2>",
        plan.get("chart_svg", ""),
    ]
    if command:
        parts += ["<h2>Launch</h2>", f"<pre>{escape(command)}</pre>"]
    rejected = plan.get("rejected", [])
    if rejected:
        parts += [
            "<h2>Rejected families</h2>",
            _table([["candidate", "reason"]] + [[r["candidate"], r["reason"]] for r in rejected]),
        ]
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts.append(
        f"<p class='muted'>deepfit {__version__}, {stamp}. Prices are the catalogue's "
        "dated offers; speeds are calibrated estimates (see deepfit validate).</p>"
    )
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>deepfit report: "
        f"{escape(plan['model'])}</title><style>{STYLE}</style></head><body>"
        + "".join(parts)
        + "</body></html>"
    )
