"""Renderers of `deepfit bench` and `deepfit calibrate`: rich tables of measured against
predicted figures."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import RenderableType


def _ms(x: float | None) -> str:
    return "-" if x is None else f"{x * 1e3:,.1f}"


def bench_view(data: dict[str, Any]) -> RenderableType:
    from rich.console import Group
    from rich.table import Table

    run = data["run"]
    parts: list[Any] = []
    t = Table(
        title=f"deepfit bench {run['url']} ({run['api']}, model {run['served_model']})",
        title_justify="left",
    )
    for col in (
        "level",
        "ok",
        "err",
        "out tok/s",
        "req/s",
        "TTFT p50/p90/p99 ms",
        "TPOT p50/p90/p99 ms",
        "ITL p50/p99 ms",
        "E2E p50/p99 s",
        "goodput",
        "tokens",
    ):
        t.add_column(col, justify="left" if col == "level" else "right")
    for lv in data["levels"]:
        lat = lv["latency"]
        t.add_row(
            lv["level"],
            str(lv["ok"]),
            str(lv["errors"] + lv["unfinished"]),
            f"{lv['output_tokens_per_s']:,.1f}",
            f"{lv['requests_per_s']:.2f}",
            "/".join(_ms(lat["ttft_s"][q]) for q in ("p50", "p90", "p99")),
            "/".join(_ms(lat["tpot_s"][q]) for q in ("p50", "p90", "p99")),
            "/".join(_ms(lat["itl_s"][q]) for q in ("p50", "p99")),
            "/".join(
                "-" if lat["e2e_s"][q] is None else f"{lat['e2e_s'][q]:.2f}" for q in ("p50", "p99")
            ),
            "-" if lv["goodput_requests_per_s"] is None else f"{lv['goodput_requests_per_s']:.2f}",
            lv["token_source"],
        )
    parts.append(t)
    for lv in data["levels"]:
        if lv.get("metrics"):
            parts.append(
                f"{lv['level']} /metrics: "
                + ", ".join(f"{k} {v:.3g}" for k, v in lv["metrics"].items())
            )
        if lv["error_kinds"]:
            parts.append(
                f"{lv['level']} errors: "
                + ", ".join(f"{k} x{v}" for k, v in lv["error_kinds"].items())
            )
        if "comparison" in lv:
            parts.append(_comparison_table(lv["comparison"]))
        elif "comparison_error" in lv:
            parts.append(f"{lv['level']}: no prediction: {lv['comparison_error']}")
    parts.append(f"results: {data['results_file']}")
    parts += [f"note: {note}" for note in data.get("notes", [])]
    return Group(*parts)


def _fmt(v: float | None, scale: float, unit: str) -> str:
    return "-" if v is None else f"{v * scale:,.2f}{unit}"


def _comparison_table(c: dict[str, Any]) -> RenderableType:
    from rich.table import Table

    t = Table(
        title=f"{c['level']}: measured vs predicted ({c['source']}; in {c['input_len']}, "
        f"out {c['output_len']}, concurrency {c['concurrency']})",
        title_justify="left",
    )
    for col in ("quantity", "measured", "predicted", "error"):
        t.add_column(col, justify="left" if col == "quantity" else "right")
    for r in c["rows"]:
        scale, unit = (1e3, " ms") if r["quantity"] in ("ttft_s", "tpot_s") else (1.0, "")
        err = "-" if r["error"] is None else f"{r['error']:+.1%}"
        t.add_row(
            r["quantity"], _fmt(r["measured"], scale, unit), _fmt(r["predicted"], scale, unit), err
        )
    return t


# ---------------------------------------------------------------- calibrate


def calibrate_view(data: dict[str, Any]) -> RenderableType:
    from rich.console import Group
    from rich.table import Table

    parts: list[Any] = []
    for f in data["fits"]:
        t = Table(
            title=f"{f['engine']} on {f['gpu']}: {len(f['from'])} measured levels, "
            f"mean |ln(pred/meas)| {f['error_before']:.3f} -> {f['error_after']:.3f}",
            title_justify="left",
        )
        for col in ("factor", "bundled", "fitted"):
            t.add_column(col, justify="left" if col == "factor" else "right")
        for k in f["fitted"]:
            t.add_row(k, f"{f['reference'][k]:.4g}", f"{f['factors'][k]:.4g}")
        parts.append(t)
        p = Table(title="TPOT per level (ms)", title_justify="left")
        for col in ("source", "measured", "before", "after"):
            p.add_column(col, justify="left" if col == "source" else "right")
        for row in f["from"]:
            p.add_row(
                row["source"].split("/")[-1],
                _ms(row["measured"].get("tpot_s")),
                _ms(row["predicted_before"]["tpot_s"]),
                _ms(row["predicted_after"]["tpot_s"]),
            )
        parts.append(p)
        parts.append(f"saved to {f['saved_to']}" if f["saved_to"] else "dry run: nothing saved")
    return Group(*parts)


# ---------------------------------------------------------------- monitor
