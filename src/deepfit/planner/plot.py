"""The Pareto front as a picture: an interactive HTML file (plotly) or a PNG (matplotlib).
Both libraries are optional (``pip install 'deepfit[plot]'``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import BadInputError


def _points(result: dict[str, Any]) -> tuple[list[float], list[float], list[str]]:
    xs = [p["output_tokens_per_s_per_user"] for p in result["pareto"]]
    ys = [p["output_tokens_per_s_per_gpu"] for p in result["pareto"]]
    labels = [
        f"{p['gpus']}x {p['gpu']} {p['weights']} tp{p['tp']} pp{p['pp']}, "
        f"{p['concurrency']} at once"
        for p in result["pareto"]
    ]
    return xs, ys, labels


def write_plot(result: dict[str, Any], path: str) -> Path:
    """Write the Pareto front of a plan result to ``path`` (.html or .png)."""
    out = Path(path)
    xs, ys, labels = _points(result)
    title = f"{result['model']}: throughput per GPU vs speed per user"
    if out.suffix.lower() == ".html":
        try:
            import plotly.graph_objects as go
        except ImportError:
            raise BadInputError(
                "plotting to HTML needs plotly", "pip install 'deepfit[plot]'"
            ) from None
        fig = go.Figure(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines+markers",
                text=labels,
                hovertemplate="%{text}<br>%{x:.1f} tok/s/user"
                "<br>%{y:,.0f} tok/s/GPU<extra></extra>",
            )
        )
        fig.update_layout(
            title=title,
            xaxis_title="output tokens/s per user",
            yaxis_title="output tokens/s per GPU",
        )
        fig.write_html(out, include_plotlyjs=True)
        return out
    if out.suffix.lower() == ".png":
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            raise BadInputError(
                "plotting to PNG needs matplotlib", "pip install 'deepfit[plot]'"
            ) from None
        fig, ax = plt.subplots(figsize=(8, 5))
        ax.plot(xs, ys, marker="o")
        for x, y, label in zip(xs, ys, labels, strict=True):
            ax.annotate(label, (x, y), fontsize=6, alpha=0.7)
        ax.set_xlabel("output tokens/s per user")
        ax.set_ylabel("output tokens/s per GPU")
        ax.set_title(title, fontsize=10)
        fig.tight_layout()
        fig.savefig(out, dpi=120)
        plt.close(fig)
        return out
    raise BadInputError(f"cannot plot to '{out.name}'", "use a .html or .png file name")
