"""Charts as inline SVG strings: the memory bar against the GPU's capacity and the Pareto
front. Server-side, so the page and the offline report draw the same pictures with no
JavaScript chart library and nothing fetched from a network."""

from __future__ import annotations

from html import escape
from typing import Any

from ..units import GiB

COLOURS = {
    "weights": "#4c78a8",
    "kv_cache": "#54a24b",
    "activations": "#eeca3b",
    "overhead": "#b279a2",
    "free": "#e5e5e5",
}


def memory_bar(memory: dict[str, Any], width: int = 640) -> str:
    """One horizontal bar: weights, KV cache, activations, overhead, free, to GPU memory."""
    per = memory["per_gpu"]
    capacity = max(memory["gpu_memory_bytes"], per["total_bytes"], 1)
    parts = [
        ("weights", per["weights_bytes"]),
        ("kv_cache", per["kv_cache_bytes"]),
        ("activations", per["activations_bytes"]),
        ("overhead", per["overhead_bytes"]),
    ]
    used = sum(max(v, 0) for _, v in parts)
    parts.append(("free", max(memory["gpu_memory_bytes"] - used, 0)))
    x, rects, legend = 0.0, [], []
    for i, (name, value) in enumerate(parts):
        w = max(value, 0) / capacity * width
        rects.append(
            f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="28" '
            f'fill="{COLOURS[name]}"><title>{name}: {value / GiB:.2f} GiB</title></rect>'
        )
        legend.append(
            f'<rect x="{i * 128}" y="36" width="10" height="10" '
            f'fill="{COLOURS[name]}"/><text x="{i * 128 + 14}" y="45" '
            f'font-size="11">{name.replace("_", " ")} {value / GiB:.1f} GiB</text>'
        )
        x += w
    line = memory["gpu_memory_bytes"] / capacity * width
    marker = (
        f'<line x1="{line:.1f}" y1="-4" x2="{line:.1f}" y2="32" stroke="#d62728" '
        f'stroke-width="2"><title>GPU memory {memory["gpu_memory_bytes"] / GiB:.1f} GiB'
        f"</title></line>"
    )
    return (
        f'<svg class="chart memory-bar" viewBox="0 -6 {width} 58" width="{width}" '
        f'height="58" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-label="memory per GPU">{"".join(rects)}{marker}{"".join(legend)}</svg>'
    )


def pareto(plan: dict[str, Any], width: int = 640, height: int = 320) -> str:
    """Throughput per GPU against speed per user for the plan's Pareto front."""
    pts = [
        (
            p["output_tokens_per_s_per_user"] or 0.0,
            p["output_tokens_per_s_per_gpu"],
            f"{p['gpus']}x {p['gpu']} {p['weights']} tp{p['tp']} pp{p['pp']}: "
            f"{p['concurrency']} at once",
        )
        for p in plan.get("pareto", [])
    ]
    if not pts:
        return '<svg class="chart pareto" width="0" height="0"></svg>'
    pad = 48
    max_x = max(p[0] for p in pts) * 1.1 or 1.0
    max_y = max(p[1] for p in pts) * 1.1 or 1.0

    def sx(v: float) -> float:
        return pad + v / max_x * (width - 2 * pad)

    def sy(v: float) -> float:
        return height - pad - v / max_y * (height - 2 * pad)

    path = " ".join(
        f"{'M' if i == 0 else 'L'}{sx(x):.1f},{sy(y):.1f}"
        for i, (x, y, _) in enumerate(sorted(pts))
    )
    dots = "".join(
        f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="4" fill="#4c78a8">'
        f"<title>{escape(label)}: {x:.1f} tok/s/user, {y:,.0f} tok/s/GPU</title>"
        f"</circle>"
        for x, y, label in pts
    )
    axes = (
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" '
        f'stroke="#333"/><line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" '
        f'stroke="#333"/><text x="{width / 2}" y="{height - 12}" font-size="12" '
        f'text-anchor="middle">output tokens/s per user (max {max_x / 1.1:,.1f})</text>'
        f'<text x="14" y="{height / 2}" font-size="12" text-anchor="middle" '
        f'transform="rotate(-90 14 {height / 2})">output tokens/s per GPU '
        f"(max {max_y / 1.1:,.0f})</text>"
    )
    return (
        f'<svg class="chart pareto" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-label="Pareto front">{axes}<path d="{path}" fill="none" stroke="#4c78a8"/>'
        f"{dots}</svg>"
    )
