"""``deepfit report``: one self-contained HTML file (inline CSS and SVG, no scripts, nothing
fetched) with a plan, the winner's memory and speed, the Pareto front and its launch
command, to attach to a ticket or a purchase request. In English or Chinese (``lang``);
readable on a phone (wide tables scroll inside their box); rejected candidates are grouped
by reason, with the first few of each group named."""

from __future__ import annotations

from datetime import datetime, timezone
from html import escape
from typing import Any

from .. import __version__
from ..planner.result import PLAN_COLUMNS, plan_cells
from ..units import GiB
from .i18n import PLAN_COLUMNS_ZH, check_lang, words

STYLE = """*{box-sizing:border-box}body{font-family:system-ui,"PingFang SC","Microsoft YaHei",
"Noto Sans CJK SC",sans-serif;max-width:960px;margin:0 auto;padding:1rem;color:#1f1f1f;
background:#fff;line-height:1.45}h1{font-size:1.4rem;overflow-wrap:anywhere}
.scroll{overflow-x:auto;max-width:100%}table{border-collapse:collapse;font-size:.9rem}
td,th{padding:.2rem .6rem;border-bottom:1px solid #d0d0d0;text-align:right}
td:first-child,th:first-child{text-align:left}.muted{color:#595959}
pre{background:#f3f4f6;padding:.6rem;white-space:pre-wrap;word-break:break-all;font-size:.82rem}
svg.chart{width:100%;height:auto;max-width:760px;display:block}
@media (prefers-color-scheme:dark){body{background:#15171a;color:#e8e8e8}.muted{color:#b0b0b0}
pre{background:#22252a}td,th{border-color:#3a3d42}}"""

#: How many rejected candidates of one reason the report names before "and N more".
REJECTED_SHOWN = 5


def _table(rows: list[list[str]]) -> str:
    head, *body = rows
    return (
        "<div class='scroll' tabindex='0'><table><thead><tr>"
        + "".join(f"<th scope='col'>{escape(c)}</th>" for c in head)
        + "</tr></thead><tbody>"
        + "".join(
            "<tr>"
            + "".join(
                f"<th scope='row'>{escape(c)}</th>" if i == 0 else f"<td>{escape(c)}</td>"
                for i, c in enumerate(r)
            )
            + "</tr>"
            for r in body
        )
        + "</tbody></table></div>"
    )


def _gib(value: int) -> str:
    return f"{max(value, 0) / GiB:,.2f}"


def _workload(plan: dict[str, Any], w: dict[str, str]) -> str:
    """The workload line, naming only the targets that were set."""
    wl = plan["workload"]
    parts = [w["tokens_in_out"].format(i=f"{wl['input_len']:,}", o=f"{wl['output_len']:,}")]
    if wl.get("ttft_s") is not None:
        parts.append(w["ttft_target"].format(v=f"{wl['ttft_s'] * 1000:,.0f} ms"))
    if wl.get("tpot_s") is not None:
        parts.append(w["tpot_target"].format(v=f"{wl['tpot_s'] * 1000:,.1f} ms"))
    if wl.get("ttft_s") is None and wl.get("tpot_s") is None:
        parts.append(w["no_target"])
    if wl.get("rate") is not None:
        parts.append(w["rate"].format(v=f"{wl['rate']:,g}"))
    if wl.get("budget_usd_per_hour") is not None:
        parts.append(w["budget"].format(v=f"{wl['budget_usd_per_hour']:,.2f}"))
    objective = plan["objective"]
    parts.append(w["objective"].format(v=w.get(f"obj_{objective}", objective)))
    parts.append(w["candidates"].format(n=f"{plan['candidates']:,}"))
    return "; ".join(parts)


def _rejected(rejected: list[dict[str, str]], w: dict[str, str]) -> list[str]:
    groups: dict[str, list[dict[str, str]]] = {}
    for r in rejected:
        groups.setdefault(r.get("kind", "other"), []).append(r)
    out = [f"<h2>{escape(w['rejected_h'])}</h2>"]
    for kind, items in groups.items():
        title = w.get(f"kind_{kind}", w["kind_other"])
        count = w["n_candidates"].format(n=f"{len(items):,}")
        shown = "".join(
            f"<li>{escape(r['candidate'])}: {escape(r['reason'])}</li>"
            for r in items[:REJECTED_SHOWN]
        )
        more = f"<li>… +{len(items) - REJECTED_SHOWN:,}</li>" if len(items) > REJECTED_SHOWN else ""
        out.append(
            f"<details><summary>{escape(title)} · {escape(count)}</summary>"
            f"<ul>{shown}{more}</ul></details>"
        )
    return out


def render_report(
    plan: dict[str, Any],
    memory: dict[str, Any] | None,
    perf: dict[str, Any] | None,
    command: str | None,
    lang: str = "en",
) -> str:
    """The report as an HTML string, in ``lang`` (``en`` or ``zh-CN``)."""
    lang = check_lang(lang)
    w = words(lang)
    columns = PLAN_COLUMNS_ZH if lang == "zh-CN" else PLAN_COLUMNS
    plans = [list(columns)]
    plans += [plan_cells(i, p) for i, p in enumerate(plan["plans"], 1)]
    parts = [
        f"<h1>{escape(w['report'])}: {escape(plan['model'])}</h1>",
        f"<p class='muted'>{escape(w['workload'])}: {escape(_workload(plan, w))}.</p>",
        f"<h2>{escape(w['best_plans'])}</h2>",
        _table(plans),
    ]
    if plan["plans"]:
        parts.append(f"<p><b>{escape(w['why1'])}</b> {escape(plan['plans'][0]['why'])}</p>")
    else:
        parts.append(f"<p><b>{escape(w['nothing'])}</b></p>")
    if memory is not None:
        per = memory["per_gpu"]
        parts += [
            f"<h2>{escape(w['memory_h'])}</h2>",
            memory.get("chart_svg", ""),
            _table(
                [
                    ["", "GiB"],
                    [w["weights"], _gib(per["weights_bytes"])],
                    [w["kv_cache"], _gib(per["kv_cache_bytes"])],
                    [w["activations"], _gib(per["activations_bytes"])],
                    [w["overhead"], _gib(per["overhead_bytes"])],
                    [w["total"], _gib(per["total_bytes"])],
                    [w["gpu_memory"], _gib(memory["gpu_memory_bytes"])],
                ]
            ),
        ]
    if perf is not None:
        parts += [
            f"<h2>{escape(w['speed_h'])}</h2>",
            _table(
                [
                    ["", w["value"]],
                    [w["ttft"], f"{perf['ttft_s'] * 1000:,.1f} ms"],
                    [w["tpot"], f"{perf['tpot_s'] * 1000:,.2f} ms"],
                    [w["tok_s"], f"{perf['output_tokens_per_s']:,.0f}"],
                    [w["bound"], str(perf["bound"])],
                    [w["provenance"], str(perf["source"])],
                ]
            ),
        ]
    parts += [f"<h2>{escape(w['front_h'])}</h2>", plan.get("chart_svg", "")]
    if command:
        parts += [f"<h2>{escape(w['launch_h'])}</h2>", f"<pre>{escape(command)}</pre>"]
    if plan.get("rejected"):
        parts += _rejected(plan["rejected"], w)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts.append(f"<p class='muted'>{escape(w['footer'].format(v=__version__, t=stamp))}</p>")
    return (
        f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(w['report'])}: {escape(plan['model'])}</title>"
        f"<style>{STYLE}</style></head><body>" + "".join(parts) + "</body></html>"
    )
