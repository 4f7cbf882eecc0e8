"""Charts as inline SVG strings: the memory bar against the GPU's capacity and the Pareto
front. Server-side, so the page and the offline report draw the same pictures with no
JavaScript chart library and nothing fetched from a network.

The charts scale to their container (a viewBox, no fixed size), draw text and axes in
``currentColor`` so they follow the page's light or dark colours, and never draw a negative
size: a part that does not fit counts as zero."""

from __future__ import annotations

import math
from html import escape
from typing import Any

from ..units import GiB
from .i18n import words

COLOURS = {
    "weights": "#4c78a8",
    "kv_cache": "#3b8a3a",
    "activations": "#c9a227",
    "overhead": "#9c5f8e",
    "free": "#b8b8b8",
}


def memory_bar(memory: dict[str, Any], width: int = 480, lang: str = "en") -> str:
    """One horizontal bar: weights, KV cache, activations, overhead, free, to GPU memory."""
    w = words(lang)
    per = memory["per_gpu"]
    parts = [
        ("weights", max(per["weights_bytes"], 0)),
        ("kv_cache", max(per["kv_cache_bytes"], 0)),
        ("activations", max(per["activations_bytes"], 0)),
        ("overhead", max(per["overhead_bytes"], 0)),
    ]
    used = sum(v for _, v in parts)
    gpu_bytes = memory["gpu_memory_bytes"]
    capacity = max(gpu_bytes, used, 1)
    parts.append(("free", max(gpu_bytes - used, 0)))
    x, rects, legend = 0.0, [], []
    for i, (name, value) in enumerate(parts):
        span = value / capacity * width
        label = f"{w[name]} {value / GiB:,.1f} GiB"
        rects.append(
            f'<rect x="{x:.1f}" y="0" width="{span:.1f}" height="28" '
            f'fill="{COLOURS[name]}"><title>{escape(label)}</title></rect>'
        )
        lx, ly = (i % 2) * (width / 2), 46 + (i // 2) * 18
        legend.append(
            f'<rect x="{lx:.0f}" y="{ly - 10}" width="10" height="10" fill="{COLOURS[name]}"/>'
            f'<text x="{lx + 14:.0f}" y="{ly}" font-size="13" fill="currentColor">'
            f"{escape(label)}</text>"
        )
        x += span
    line = gpu_bytes / capacity * width
    marker = (
        f'<line x1="{line:.1f}" y1="-4" x2="{line:.1f}" y2="32" stroke="#d62728" '
        f'stroke-width="3"><title>{escape(w["gpu_memory"])} {gpu_bytes / GiB:,.1f} GiB'
        f"</title></line>"
    )
    return (
        f'<svg class="chart memory-bar" viewBox="0 -6 {width} 102" '
        f'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-label="{escape(w["memory_per_gpu"])}">{"".join(rects)}{marker}'
        f"{''.join(legend)}</svg>"
    )


def ticks(top: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least ``top`` (1, 2 or 5 times a power of ten apart)."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    n = math.ceil(top / step - 1e-9)
    return [i * step for i in range(n + 1)]


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if v >= 10 or v == 0 else f"{v:,.1f}" if v >= 1 else f"{v:.2g}"


def pareto(plan: dict[str, Any], width: int = 520, height: int = 320, lang: str = "en") -> str:
    """Throughput per GPU against speed per user for the plan's Pareto front, with ticks on
    both axes and plan #1 marked."""
    w = words(lang)
    pts = [
        (
            p["output_tokens_per_s_per_user"] or 0.0,
            p["output_tokens_per_s_per_gpu"],
            f"{p['gpus']}x {p['gpu']} {p['weights']} tp{p['tp']} pp{p['pp']}: "
            f"{p['concurrency']} {w['at_once']}",
        )
        for p in plan.get("pareto", [])
    ]
    if not pts:
        return '<svg class="chart pareto" viewBox="0 0 1 1" width="0" height="0"></svg>'
    best = None
    if plan.get("plans"):
        p1 = plan["plans"][0]
        best = (p1["output_tokens_per_s_per_user"] or 0.0, p1["output_tokens_per_s_per_gpu"])
    left, right, top, bottom = 64, 16, 16, 52
    xs = ticks(max([p[0] for p in pts] + ([best[0]] if best else [])))
    ys = ticks(max([p[1] for p in pts] + ([best[1]] if best else [])))

    def sx(v: float) -> float:
        return left + v / xs[-1] * (width - left - right)

    def sy(v: float) -> float:
        return height - bottom - v / ys[-1] * (height - top - bottom)

    grid = []
    for v in xs:
        grid.append(
            f'<line x1="{sx(v):.1f}" y1="{sy(0)}" x2="{sx(v):.1f}" y2="{sy(0) + 5}" '
            f'stroke="currentColor"/><text x="{sx(v):.1f}" y="{sy(0) + 18}" font-size="12" '
            f'text-anchor="middle" fill="currentColor">{_fmt(v)}</text>'
        )
    for v in ys:
        grid.append(
            f'<line x1="{left - 5}" y1="{sy(v):.1f}" x2="{width - right}" y2="{sy(v):.1f}" '
            f'stroke="currentColor" stroke-opacity="0.15"/><text x="{left - 8}" '
            f'y="{sy(v) + 4:.1f}" font-size="12" text-anchor="end" fill="currentColor">'
            f"{_fmt(v)}</text>"
        )
    path = " ".join(
        f"{'M' if i == 0 else 'L'}{sx(x):.1f},{sy(y):.1f}"
        for i, (x, y, _) in enumerate(sorted(pts))
    )
    dots = "".join(
        f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="5" fill="#4c78a8">'
        f"<title>{escape(label)}: {x:,.1f} tok/s/user, {y:,.0f} tok/s/GPU</title></circle>"
        for x, y, label in pts
    )
    mark = ""
    if best is not None:
        bx, by = sx(best[0]), sy(best[1])
        mark = (
            f'<g class="plan1"><circle cx="{bx:.1f}" cy="{by:.1f}" r="9" fill="none" '
            f'stroke="#d62728" stroke-width="3"/><text x="{bx + 12:.1f}" y="{by - 10:.1f}" '
            f'font-size="13" font-weight="bold" fill="#d62728">{escape(w["plan1"])}</text>'
            f"<title>{escape(w['plan1'])}</title></g>"
        )
    axes = (
        f'<line x1="{left}" y1="{sy(0)}" x2="{width - right}" y2="{sy(0)}" '
        f'stroke="currentColor"/><line x1="{left}" y1="{top}" x2="{left}" y2="{sy(0)}" '
        f'stroke="currentColor"/><text x="{(left + width - right) / 2}" y="{height - 8}" '
        f'font-size="13" text-anchor="middle" fill="currentColor">{escape(w["per_user"])}</text>'
        f'<text x="14" y="{(top + sy(0)) / 2}" font-size="13" text-anchor="middle" '
        f'fill="currentColor" transform="rotate(-90 14 {(top + sy(0)) / 2})">'
        f"{escape(w['per_gpu'])}</text>"
    )
    return (
        f'<svg class="chart pareto" viewBox="0 0 {width} {height}" '
        f'xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(w["pareto"])}">'
        f'{"".join(grid)}{axes}<path d="{path}" fill="none" stroke="#4c78a8" stroke-width="2"/>'
        f"{dots}{mark}</svg>"
    )
