"""Rendering of command results: one JSON object, or rich tables for people.

Results arrive as JSON-ready dicts in SI units; this is the only place they are turned
into GiB, TB/s, TFLOPS and "6.91B".
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..units import GB, TERA, GiB, human_count

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

Renderer = Callable[[dict[str, Any]], "RenderableType"]


def emit(data: dict[str, Any], as_json: bool, renderer: Renderer) -> None:
    """Print ``data`` as one JSON object (``--json``) or through ``renderer``."""
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2, allow_nan=False) + "\n")
        return
    console().print(renderer(_escaped(data)))


def _escaped(value: Any) -> Any:
    """``value`` with Rich markup in its strings escaped: a model id or a server's reply
    like ``[/]`` or ``[link=...]`` is shown as written, never read as markup."""
    from rich.markup import escape

    if isinstance(value, str):
        return escape(value)
    if isinstance(value, dict):
        return {k: _escaped(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_escaped(v) for v in value)
    return value


def console() -> Console:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


def _num(value: float | None, scale: float = 1.0, fmt: str = "{:,.0f}") -> str:
    return "-" if value is None else fmt.format(value / scale)


def models_table(data: dict[str, Any]) -> RenderableType:
    from rich.table import Table

    table = Table(title="Bundled models (exact parameter counts)", title_justify="left")
    for col, justify in (
        ("name", "left"),
        ("Hugging Face id", "left"),
        ("family", "left"),
        ("attn", "left"),
        ("total", "right"),
        ("active", "right"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for m in data["models"]:
        name = m["aliases"][0] if m["aliases"] else ""
        if not m["bundled"]:
            table.add_row(
                f"[dim]{name}", f"[dim]{m['id']}", "[dim]not bundled", "", "", "[dim]--hub"
            )
            continue
        active = human_count(m["params_active"]) if m["is_moe"] else ""
        family = m["family"] + (" (paper dims)" if m.get("origin") == "paper" else "")
        table.add_row(name, m["id"], family, m["attention"], human_count(m["params_total"]), active)
    return table


def gpus_table(data: dict[str, Any]) -> RenderableType:
    from rich.table import Table

    table = Table(
        title="GPU catalogue (dense peak; '-' = not supported or not sourced)", title_justify="left"
    )
    for col in ("name", "catalogue row", "GB", "TB/s", "BF16 TF", "FP8 TF", "FP4 TF", "answers"):
        table.add_column(col, justify="right" if col.endswith(("GB", "/s", "TF")) else "left")
    gaps: list[str] = []
    for g in data["gpus"]:
        peak = g["peak_ops_per_s"]
        short = [a for a in g["aliases"] if " " not in a]
        unusable = g.get("unusable_for", {})
        answers = "all" if not unusable else "memory" if "memory" not in unusable else "none"
        if unusable:
            name = short[0] if short else g["name"]
            gaps.append(f"{name} ({next(iter(unusable.values()))})")
        table.add_row(
            short[0] if short else g["name"],
            g["name"],
            _num(g["memory_bytes"], GB, "{:,.0f}"),
            _num(g["mem_bandwidth_bytes_per_s"], 1e12, "{:.2f}"),
            _num(peak.get("bf16") or peak.get("fp16"), TERA, "{:,.0f}"),
            _num(peak.get("fp8"), TERA, "{:,.0f}"),
            _num(peak.get("fp4"), TERA, "{:,.0f}"),
            answers,
        )
    if not gaps:
        return table
    from rich.console import Group
    from rich.text import Text

    note = (
        "Rows that answer only some commands, and what their sources lack: "
        + "; ".join(gaps)
        + ". deepfit does not guess a missing figure; `deepfit gpus --json` lists each."
    )
    return Group(table, Text(note, style="dim"))


_PARAM_ROWS = (
    ("embedding", "embedding"),
    ("attention", "attention"),
    ("mlp", "dense MLP"),
    ("experts_routed", "routed experts"),
    ("experts_shared", "shared experts"),
    ("router", "routers"),
    ("norms", "norms"),
    ("head", "lm head"),
)


def info_view(data: dict[str, Any]) -> RenderableType:
    from rich.console import Group
    from rich.table import Table

    arch, params = data["architecture"], data["params"]
    att = arch["attention"]
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    facts.add_row("model", f"{data['id']}  ({arch['family']}, {data['origin']})")
    facts.add_row("layers x hidden", f"{arch['num_layers']} x {arch['hidden_size']}")
    heads = f"{att['kind'].upper()}: {att['num_heads']} heads, {att['num_kv_heads']} KV heads, "
    heads += f"head dim {att['head_dim']}"
    if "mla" in att:
        m = att["mla"]
        heads = (
            f"MLA: {att['num_heads']} heads, kv_lora_rank {m['kv_lora_rank']}, "
            f"q_lora_rank {m['q_lora_rank'] or 'none (full-rank queries)'}, nope/rope/v dims "
            f"{m['qk_nope_head_dim']}/{m['qk_rope_head_dim']}/{m['v_head_dim']}"
        )
    facts.add_row("attention", heads)
    if att["sliding_window_layers"]:
        facts.add_row(
            "sliding window",
            f"{att['sliding_window']} tokens on "
            f"{len(att['sliding_window_layers'])} of {arch['num_layers']} layers",
        )
    if "moe" in arch:
        moe = arch["moe"]
        facts.add_row(
            "experts",
            f"{moe['num_experts']} routed (top-{moe['experts_per_token']},"
            f" {moe['expert_intermediate_size']} wide) + {moe['num_shared_experts']}"
            f" shared, in {moe['moe_layers']} of {arch['num_layers']} layers",
        )
    facts.add_row("vocab / tied", f"{arch['vocab_size']:,} / {arch['tie_word_embeddings']}")
    if arch.get("max_position_embeddings"):
        facts.add_row("max positions", f"{arch['max_position_embeddings']:,}")
    table = Table(title="Parameters (exact)", title_justify="left")
    table.add_column("component")
    table.add_column("count", justify="right")
    table.add_column("", justify="right")
    for key, label in _PARAM_ROWS:
        if params[key]:
            table.add_row(label, f"{params[key]:,}", human_count(params[key]))
    table.add_row("[bold]total", f"[bold]{params['total']:,}", human_count(params["total"]))
    if params["experts_routed"]:
        table.add_row(
            "[bold]active per token", f"[bold]{params['active']:,}", human_count(params["active"])
        )
    if params["mtp"]:
        table.add_row("MTP layers (not in total)", f"{params['mtp']:,}", human_count(params["mtp"]))
    return Group(facts, table)


_BAR_WIDTH = 40
_MEM_ROWS = (
    ("weights_bytes", "weights", "cyan"),
    ("kv_cache_bytes", "KV cache", "green"),
    ("activations_bytes", "activations", "yellow"),
    ("overhead_bytes", "overhead (non-torch, graphs)", "magenta"),
)


def _bar(data: dict[str, Any]) -> str:
    """One line: each component's share of the GPU's memory, in its colour."""
    total = max(data["gpu_memory_bytes"], data["per_gpu"]["total_bytes"], 1)
    out, used = [], 0
    for key, _, colour in _MEM_ROWS:
        cells = round(max(data["per_gpu"][key], 0) / total * _BAR_WIDTH)
        cells = min(cells, _BAR_WIDTH - used)
        used += cells
        out.append(f"[{colour}]{'█' * cells}[/]")
    out.append("[dim]" + "░" * (_BAR_WIDTH - used) + "[/]")
    return "".join(out)


def _parallel_text(par: dict[str, Any]) -> str:
    """``tp=8 pp=1 ep=1 dp=1``; with data-parallel attention, what the attention really is."""
    text = f"tp={par['tp']} pp={par['pp']} ep={par['ep']} dp={par['dp']}"
    if par.get("dp_attention"):
        text += f", attention data-parallel over the {par['tp']} tensor-parallel ranks"
    return text


def memory_view(data: dict[str, Any]) -> RenderableType:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    par = data["parallel"]
    head = (
        f"[bold]{data['model']['id']}[/] on {data['gpus']} x {data['gpu']} "
        f"({data['engine']}, {_parallel_text(par)}); "
        f"weights {data['weights']}, KV {data['kv_dtype']}, "
        f"{data['batch']} x {data['context_tokens']:,} tokens"
    )
    table = Table(title="Per GPU", title_justify="left")
    table.add_column("")
    table.add_column("GiB", justify="right")
    for key, label, colour in _MEM_ROWS:
        table.add_row(f"[{colour}]{label}", f"{data['per_gpu'][key] / GiB:,.2f}")
    for line in data.get("ledger", []):
        _ledger_rows(table, line)
    table.add_row("[bold]total", f"[bold]{data['per_gpu']['total_bytes'] / GiB:,.2f}")
    table.add_row("GPU memory (CUDA-visible)", f"{data['gpu_memory_bytes'] / GiB:,.2f}")
    short = data.get("shortfall_bytes", 0)
    if short:
        table.add_row("[red]short by", f"[red]{short / GiB:,.2f}")
    verdict = (
        "[bold green]FITS[/]"
        if data["fits"]
        else "[bold red]DOES NOT FIT[/]: " + "; ".join(data["reasons"])
    )
    would = data.get("would_fit", [])
    if would:
        verdict += "\n[bold]would fit:[/] " + "; or ".join(alt["why"] for alt in would)
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    facts.add_row("KV per token", f"{data['kv_bytes_per_token']:,} bytes (all layers)")
    facts.add_row("KV pool", f"{data['kv_capacity_tokens']:,} tokens per replica")
    facts.add_row("longest sequence", f"{data['max_context_tokens']:,} tokens")
    facts.add_row(
        "concurrency", f"{data['max_concurrency']:,} sequences of {data['context_tokens']:,} tokens"
    )
    parts: list[RenderableType] = [
        Text.from_markup(head),
        _bar_text(data),
        table,
        facts,
        Text.from_markup(verdict),
    ]
    for plan in data.get("llamacpp_offload", []):
        where = " with routed experts in host RAM" if plan["experts_on_host"] else ""
        parts.append(
            Text.from_markup(
                f"  {'' if data['fits'] else 'or with CPU offload, '}"
                f"llama.cpp{where}: -ngl {plan['n_gpu_layers']} of {plan['num_layers'] + 1} "
                f"({plan['gpu_bytes'] / GiB:,.1f} GiB on the GPU, "
                f"{plan['host_bytes'] / GiB:,.1f} GiB in host RAM)"
            )
        )
    if "kv_offload" in data:
        parts.extend(Text.from_markup(line) for line in _offload_lines(data["kv_offload"]))
    for note in data["notes"]:
        parts.append(Text(f"note: {note}", style="dim"))
    return Group(*parts)


def _offload_lines(off: dict[str, Any]) -> list[str]:
    """KV offload tiers: tokens held, read rate, TTFT at hit rates, where it pays."""
    out = [
        f"[bold]KV offload[/] ({off['prompt_tokens']:,}-token prompts; GPU pool "
        f"{off['gpu_tokens']:,} tokens; TTFT without a tier {off['ttft_without_s'] * 1e3:,.0f} ms)"
    ]
    for t in off["tiers"]:
        by_hit = ", ".join(
            f"{r['hit_rate']:.0%} hit {r['ttft_s'] * 1e3:,.0f} ms" for r in t["ttft_s"]
        )
        even = t["break_even_hit_rate"]
        verdict = (
            f"pays from a {even:.0%} hit rate"
            if even is not None
            else "[red]never pays[/]: reading a token back is slower than recomputing it"
        )
        out.append(
            f"  {t['tier']}: {t['capacity_bytes'] / GiB:,.0f} GiB = {t['tokens']:,} tokens "
            f"({t['sequences']:,} prompts), read {t['read_bytes_per_s'] / 1e9:,.0f} GB/s; "
            f"TTFT {by_hit}; {verdict}"
        )
    return out


def _ledger_rows(table: Any, line: dict[str, Any]) -> None:
    """What is served beside the model: its weights (a row of the total) and, inside the KV
    cache row, the part of the pool its attention layers take."""
    table.add_row(f"[blue]{line['label']}", f"{line['weights_bytes'] / GiB:,.2f}")
    if line["kv_pool_bytes"]:
        table.add_row(
            f"[dim]  its KV ({line['kv_bytes_per_token']:,} B/token, inside KV cache)",
            f"[dim]{line['kv_pool_bytes'] / GiB:,.2f}",
        )


def _bar_text(data: dict[str, Any]) -> RenderableType:
    from rich.text import Text

    return Text.from_markup(_bar(data))


def perf_view(data: dict[str, Any]) -> RenderableType:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    par = data["parallel"]
    head = (
        f"[bold]{data['model']}[/] on {data['gpus']} x {data['gpu']} ({data['engine']}, "
        f"{_parallel_text(par)}), weights "
        f"{data['weights']}; {data['input_len']:,} in / {data['output_len']:,} out, "
        f"{data['concurrency']:,} at once"
    )
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column(justify="right")
    facts.add_row("time to first token", f"{data['ttft_s'] * 1000:,.1f} ms")
    facts.add_row("time per output token", f"{data['tpot_s'] * 1000:,.2f} ms")
    facts.add_row("per user", f"{data['output_tokens_per_s_per_user']:,.1f} tokens/s")
    facts.add_row("output throughput", f"{data['output_tokens_per_s']:,.0f} tokens/s")
    facts.add_row("total throughput", f"{data['total_tokens_per_s']:,.0f} tokens/s")
    facts.add_row("bound by", data["bound"])
    facts.add_row("provenance", data.get("provenance", data["source"]))
    parts: list[RenderableType] = [Text.from_markup(head), facts]
    if "ttft_p50_s" in data:
        pct = Table(
            title=f"Simulated latency ({data['simulated_requests']:,} requests)",
            title_justify="left",
        )
        for col in ("", "mean", "p50", "p90", "p99"):
            pct.add_column(col, justify="left" if not col else "right")
        for key, label in (
            ("ttft", "TTFT"),
            ("tpot", "TPOT"),
            ("itl", "ITL"),
            ("e2e", "end to end"),
        ):
            pct.add_row(
                label,
                *(f"{data[f'{key}_{q}_s'] * 1000:,.1f} ms" for q in ("mean", "p50", "p90", "p99")),
            )
        parts.append(pct)
    if "ops" in data:
        step = data["ops"]["decode_step"]
        table = Table(
            title=f"Decode step: {step['seconds'] * 1000:.3f} ms "
            f"(communication {step['communication_s'] * 1000:.3f} ms, fixed "
            f"{step['overhead_s'] * 1000:.3f} ms)",
            title_justify="left",
        )
        for col in ("op", "GFLOP", "MB read", "compute ms", "memory ms", "bound"):
            table.add_column(col, justify="left" if col in ("op", "bound") else "right")
        for op in step["ops"]:
            moved = op["weight_bytes"] + op["kv_bytes"] + op["act_bytes"]
            table.add_row(
                op["name"],
                f"{op['flops'] / 1e9:,.2f}",
                f"{moved / 1e6:,.1f}",
                f"{op['compute_s'] * 1000:.3f}",
                f"{op['memory_s'] * 1000:.3f}",
                op["bound"],
            )
        parts.append(table)
    for note in data["notes"]:
        parts.append(Text(f"note: {note}", style="dim"))
    return Group(*parts)


def matrix_table(data: dict[str, Any]) -> RenderableType:
    from rich.table import Table

    table = Table(title="Precision matrix (quality: only cited measurements)", title_justify="left")
    for col in (
        "weights",
        "GiB/GPU",
        "fits",
        "TTFT ms",
        "TPOT ms",
        "tokens/s",
        "vs bf16",
        "quality",
    ):
        table.add_column(col, justify="left" if col in ("weights", "fits", "quality") else "right")
    sources: list[str] = []
    for r in data["matrix"]:
        if "error" in r:
            table.add_row(r["weights"], "", "", "", "", "", "", f"[dim]{r['error']}")
            continue
        quality = r.get("quality_effect", r["quality"])
        if r.get("quality_source"):
            if r["quality_source"] not in sources:
                sources.append(r["quality_source"])
            quality += f" [{sources.index(r['quality_source']) + 1}]"
        table.add_row(
            r["weights"] + ("" if r["native"] else " [dim](upcast)[/]"),
            f"{r['weights_bytes'] / GiB:,.1f}",
            "yes" if r["fits"] else "[red]no",
            f"{r['ttft_s'] * 1000:,.1f}",
            f"{r['tpot_s'] * 1000:,.2f}",
            f"{r['output_tokens_per_s']:,.0f}",
            f"{r.get('speedup_vs_bf16', 0):.2f}x",
            quality,
        )
    if not sources:
        return table
    from rich.console import Group
    from rich.text import Text

    notes = [Text(f"[{i}] {src}", overflow="fold") for i, src in enumerate(sources, 1)]
    return Group(table, *notes)


def validate_view(data: dict[str, Any]) -> RenderableType:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    parts: list[RenderableType] = [
        Text.from_markup(
            f"[bold]{data['covered']}[/] published rows recomputed, {data['skipped']} not covered "
            "(`--json` lists each with its reason). Errors are absolute percentage errors; "
            "held-in groups (source table x model x GPU x engine) calibrated the engines, "
            "held-out groups did not; bias is the median of predicted / published - 1."
        )
    ]
    for split in ("held_out", "held_in"):
        title = f"{split.replace('_', '-')} groups, trust A/A-, by {data['by']}"
        table = Table(title=title, title_justify="left")
        head = "metric" if data["by"] == "metric" else f"{data['by']} / metric"
        for col in (head, "groups", "rows", "median", "p90", "bias"):
            table.add_column(col, justify="left" if col in (head, "groups") else "right")
        for name, st in data[split].items():
            table.add_row(
                name,
                str(st["groups"]),
                str(st["rows"]),
                f"{st['median_ape']:.1%}",
                f"{st['p90_ape']:.1%}",
                f"{st['median_bias']:+.1%}",
            )
        parts.append(table)
    f = data["factors"]
    factors = Table(title="fitted terms (serving_terms.json)", title_justify="left")
    for col in ("terms", "fitted on rows", "of groups", "on a bound"):
        factors.add_column(col)
    factors.add_row(
        str(f["count"]),
        str(f["fitted_on_rows"]),
        str(f["fitted_on_groups"]),
        ", ".join(f["on_bound"]) or "none",
    )
    parts.append(factors)
    if data.get("disaggregated"):
        parts.append(_disagg_errors(data["disaggregated"]))
    if data["rows"]:
        rows = Table(title="Rows", title_justify="left")
        for col in ("row", "engine", "metric", "published", "deepfit", "provenance", "error"):
            rows.add_column(col)
        for r in data["rows"]:
            rows.add_row(
                str(r.get("row_id")),
                str(r.get("engine")),
                str(r.get("quantity")),
                f"{r.get('published', 0):.4g}",
                f"{r.get('predicted', 0):.4g}",
                str(r.get("provenance", r.get("source"))),
                f"{r.get('ape', 0):.1%}",
            )
        parts.append(rows)
    return Group(*parts)


def _disagg_errors(data: dict[str, Any]) -> RenderableType:
    """The disaggregated prefill/decode rows' errors, held-out and held-in, by metric."""
    from rich.table import Table

    title = f"disaggregated prefill/decode: {data['table']}, nothing fitted on them"
    table = Table(title=title, title_justify="left")
    for col in ("split / metric", "groups", "rows", "median", "p90", "bias"):
        table.add_column(col, justify="left" if col in ("split / metric", "groups") else "right")
    for split in ("held_out", "held_in"):
        for name, st in data["summary"][split]["overall"].items():
            table.add_row(
                f"{split.replace('_', '-')} / {name}",
                str(st["groups"]),
                str(st["rows"]),
                f"{st['median_ape']:.1%}",
                f"{st['p90_ape']:.1%}",
                f"{st['median_bias']:+.1%}",
            )
    return table


def plan_view(data: dict[str, Any]) -> RenderableType:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    w = data["workload"]
    from ..planner.result import targets_text

    targets = targets_text(w)
    parts: list[RenderableType] = [
        Text.from_markup(
            f"[bold]{data['model']}[/]: {w['input_len']:,} in / {w['output_len']:,} out, "
            f"{targets}; "
            f"objective {data['objective']}; {data['candidates']:,} candidates in "
            f"{data['search_seconds']:.2f} s"
        )
    ]
    if data.get("scenario"):
        parts.append(
            Text(
                f"scenario {data['scenario']['name']}: {data['scenario']['description']}",
                style="dim",
            )
        )
    from ..planner.result import PLAN_COLUMNS, plan_cells

    table = Table(title="Best plans", title_justify="left")
    for col in PLAN_COLUMNS:
        table.add_column(col, justify="left" if col in ("GPUs", "weights/KV") else "right")
    for i, p in enumerate(data["plans"], 1):
        table.add_row(*plan_cells(i, p))
    parts.append(table)
    if data["plans"]:
        parts.append(Text.from_markup(f"[green]why #1:[/] {data['plans'][0]['why']}"))
    if data.get("own_hardware"):
        o = data["own_hardware"]
        months = o["break_even_months"]
        parts.append(
            Text(
                f"own hardware: ${o['usd_per_gpu_hour']:.2f}/GPU-hour vs cloud "
                f"${o['cloud_usd_per_gpu_hour'] or 0:.2f}; break-even after "
                + (f"{months:.1f} months" if months else "never at this use")
            )
        )
    kinds: dict[str, int] = {}
    for r in data["rejected"]:
        kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
    if kinds:
        parts.append(
            Text(
                "rejected families: "
                + ", ".join(f"{n} by {k}" for k, n in sorted(kinds.items()))
                + " (--json lists each with its reason)",
                style="dim",
            )
        )
    for note in data["notes"]:
        parts.append(Text(f"note: {note}", style="dim"))
    if data.get("plot"):
        parts.append(Text(f"Pareto front written to {data['plot']}"))
    return Group(*parts)
