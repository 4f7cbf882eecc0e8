"""One answer per question for the page: memory, verdict, speed, the precision matrix at the
same context and the launch command at the concurrency that fits, computed together from one
set of inputs so that no panel contradicts another (``GET/POST /api/answer``).

Rules that keep the answer consistent:

- the verdict counts the model's own context limit, not only memory;
- memory is never shown negative: a part that does not fit is shown as 0 with the shortfall;
- no speed for a deployment that cannot load its weights;
- the memory panel and the launch command use the same SGLang DP-attention setting;
- the matrix rows use the memory panel's context and the planner's format rule.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .. import api
from ..errors import DeepfitError
from ..export.deployment import DEFAULT_MAX_SEQS, default_dp_attention
from ..hardware import Gpu
from ..memory import MemoryEstimate
from ..memory.advice import what_would_fit
from ..memory.formats import load_format
from ..models.loader import Model
from ..perf.matrix import FORMATS
from ..planner.space import runs_format
from . import svg

#: Formats the page offers (the precision matrix's, then llama.cpp's GGUF types).
PAGE_FORMATS = (*FORMATS, "gguf-q8_0", "gguf-q6_k", "gguf-q5_k_m", "gguf-q4_k_m", "gguf-q4_0")
KV_DTYPES = ("auto", "bf16", "fp16", "fp8", "q8_0", "q4_0")


@dataclass(frozen=True)
class Question:
    """What the page asks: one deployment and one workload. ``concurrency`` is a number or
    ``"max"`` (as many sequences as the KV cache holds at ``context``)."""

    gpu: str
    gpus: int = 1
    engine: str = "vllm"
    weights: str = "auto"
    kv_dtype: str = "auto"
    context: int | None = None
    concurrency: int | str = 1
    input_len: int = 1024
    output_len: int = 256
    tp: int | None = None
    pp: int = 1


def answer(model: Model, q: Question, lang: str = "en") -> dict[str, Any]:
    """The whole answer for ``model`` and ``q`` as a JSON-ready dict (chart words in
    ``lang``)."""
    gpu = api.load_gpu(q.gpu)
    dp_attention = default_dp_attention(model, q.engine, q.gpus, q.tp)
    est = api.estimate_memory(
        model,
        gpu,
        gpus=q.gpus,
        tp=q.tp,
        pp=q.pp,
        weights=q.weights,
        kv_dtype=q.kv_dtype,
        context=q.context,
        engine=q.engine,
        dp_attention=dp_attention,
    )
    q = replace(q, context=est.context_tokens)
    loads = all(s.kv_pool > 0 for s in est.stages)
    memory = _memory(est)
    out: dict[str, Any] = {
        "deployment": _deployment(model, est),
        "verdict": _verdict(est, loads),
        "memory": memory,
        "chart_svg": svg.memory_bar(memory, lang=lang),
        "would_fit": [] if est.fits else what_would_fit(model, gpu, est),
        "notes": list(est.notes),
    }
    out["perf"], out["perf_note"] = _perf(model, gpu, q, est, loads, dp_attention)
    out["matrix"] = _matrix(model, gpu, q, est, dp_attention)
    out["launch"] = _launch(model, gpu, q, est)
    if est.engine == "llamacpp" and est.gpus == 1 and not est.fits:
        out["offload"] = [p.to_dict() for p in api.offload_splits(model, gpu, est)]
    return out


def compare(model: Model, q: Question, gpus: list[str]) -> dict[str, Any]:
    """The same model and workload on several GPUs: one row of headline figures per GPU."""
    rows: list[dict[str, Any]] = []
    for name in gpus:
        try:
            a = answer(model, replace(q, gpu=name))
        except DeepfitError as err:
            rows.append({"gpu": name, "error": err.message, "hint": err.hint})
            continue
        perf: dict[str, Any] = a["perf"] or {}
        rows.append(
            {
                "gpu": a["deployment"]["gpu"],
                "status": a["verdict"]["status"],
                "gpu_memory_bytes": a["memory"]["gpu_memory_bytes"],
                "total_bytes": a["memory"]["per_gpu"]["total_bytes"],
                "shortfall_bytes": a["memory"]["shortfall_bytes"],
                "max_concurrency": a["memory"]["max_concurrency"],
                "max_context_tokens": a["memory"]["max_context_tokens"],
                "concurrency": perf.get("concurrency"),
                "ttft_s": perf.get("ttft_s"),
                "tpot_s": perf.get("tpot_s"),
                "output_tokens_per_s": perf.get("output_tokens_per_s"),
            }
        )
    return {"model": model.id, "rows": rows}


def _deployment(model: Model, est: MemoryEstimate) -> dict[str, Any]:
    return {
        "model": model.id,
        "gpu": est.gpu,
        "gpus": est.gpus,
        "engine": est.engine,
        "weights": est.weights_format,
        "kv_dtype": est.kv_dtype,
        "context_tokens": est.context_tokens,
        "tp": est.tp,
        "pp": est.pp,
        "ep": est.ep,
        "dp": est.dp,
        "dp_attention": est.dp_attention,
    }


def _memory(est: MemoryEstimate) -> dict[str, Any]:
    """The estimate's dict with every part clamped at zero and the shortfall stated: how many
    bytes per GPU are missing for the weights plus the KV cache the workload needs."""
    data = est.to_dict()
    per = data["per_gpu"]
    raw_kv = per["kv_cache_bytes"]
    needed = max(max(s.kv_needed - max(s.kv_pool, 0), 0) + max(-s.kv_pool, 0) for s in est.stages)
    over_total = max(per["total_bytes"] - est.gpu_memory_bytes, 0)
    data["per_gpu"] = {k: max(v, 0) for k, v in per.items()}
    data["kv_cache_raw_bytes"] = raw_kv
    data["shortfall_bytes"] = max(needed, over_total)
    return data


def _verdict(est: MemoryEstimate, loads: bool) -> dict[str, Any]:
    """``fits`` (memory and context), ``context`` (memory holds it but the model stops
    earlier), ``memory`` (loads, but the workload's KV cache does not fit) or ``no_load``."""
    memory_ok = loads and all(s.kv_needed <= s.kv_pool for s in est.stages)
    memory_ok = memory_ok and est.per_gpu.total <= est.gpu_memory_bytes
    if not loads:
        status = "no_load"
    elif not memory_ok:
        status = "memory"
    elif not est.context_supported:
        status = "context"
    else:
        status = "fits" if est.fits else "memory"
    return {
        "status": status,
        "fits": status == "fits",
        "loads": loads,
        "context_tokens": est.context_tokens,
        "model_max_context_tokens": est.model_max_context,
        "reasons": list(est.reasons),
    }


def _perf_concurrency(q: Question, est: MemoryEstimate) -> int:
    fit = max(est.max_concurrency, 1)
    return fit if q.concurrency == "max" else min(int(q.concurrency), fit)


def _perf(
    model: Model, gpu: Gpu, q: Question, est: MemoryEstimate, loads: bool, dp_attention: bool
) -> tuple[dict[str, Any] | None, str | None]:
    if not loads:
        return None, "the weights do not fit, so there is no speed to show"
    conc = _perf_concurrency(q, est)
    try:
        perf = api.estimate_perf(
            model,
            gpu,
            gpus=q.gpus,
            tp=q.tp,
            pp=q.pp,
            weights=q.weights,
            kv_dtype=q.kv_dtype,
            input_len=q.input_len,
            output_len=q.output_len,
            concurrency=conc,
            engine=q.engine,
            dp_attention=dp_attention,
        )
    except DeepfitError as err:
        return None, err.message
    note = None
    if q.concurrency != "max" and int(q.concurrency) > conc:
        note = f"only {conc:,} sequences fit at once; speed shown for {conc:,}"
    return perf.to_dict(), note


def _matrix(
    model: Model, gpu: Gpu, q: Question, est: MemoryEstimate, dp_attention: bool
) -> list[dict[str, Any]]:
    """Every format at the memory panel's context, concurrency and layout; a format the
    planner would not run on this GPU says why instead of showing figures."""
    rows = []
    for name in FORMATS:
        why = runs_format(gpu, load_format(name))
        if why is not None:
            rows.append({"weights": name, "supported": False, "error": why})
            continue
        try:
            mem = api.estimate_memory(
                model,
                gpu,
                gpus=est.gpus,
                tp=est.tp,
                pp=est.pp,
                weights=name,
                kv_dtype=q.kv_dtype,
                context=q.context,
                engine=q.engine,
                dp_attention=dp_attention,
            )
        except DeepfitError as err:
            rows.append({"weights": name, "supported": False, "error": err.message})
            continue
        row: dict[str, Any] = {
            "weights": name,
            "supported": True,
            "weights_bytes": mem.per_gpu.weights,
            "fits": mem.fits and mem.context_supported,
            "max_concurrency": mem.max_concurrency,
            "tpot_s": None,
            "output_tokens_per_s": None,
        }
        if all(s.kv_pool > 0 for s in mem.stages):
            try:
                perf = api.estimate_perf(
                    model,
                    gpu,
                    gpus=est.gpus,
                    tp=est.tp,
                    pp=est.pp,
                    weights=name,
                    kv_dtype=q.kv_dtype,
                    input_len=q.input_len,
                    output_len=q.output_len,
                    concurrency=_perf_concurrency(q, mem),
                    engine=q.engine,
                    dp_attention=dp_attention,
                )
                row["tpot_s"] = perf.tpot_s
                row["output_tokens_per_s"] = perf.output_tokens_per_s
            except DeepfitError:
                pass
        rows.append(row)
    return rows


def _launch(model: Model, gpu: Gpu, q: Question, est: MemoryEstimate) -> dict[str, Any]:
    """The launch command at the concurrency that fits: as many sequences as the KV cache
    holds (the exporter's default, up to its cap), or the number asked for when it is more
    and still fits."""
    wanted = None
    if q.concurrency != "max" and DEFAULT_MAX_SEQS < int(q.concurrency) <= est.max_concurrency:
        wanted = int(q.concurrency)
    try:
        exp = api.export_config(
            model,
            gpu,
            engine=q.engine,
            gpus=q.gpus,
            tp=q.tp,
            pp=q.pp,
            weights=q.weights,
            kv_dtype=q.kv_dtype,
            context=q.context,
            concurrency=wanted,
        )
    except DeepfitError as err:
        return {"error": err.message, "hint": err.hint}
    settings = exp.settings
    return {
        "command": exp.text(),
        "concurrency": settings["concurrency"],
        "context_tokens": settings["context_tokens"],
        "model_path": settings["model_path"],
        "model_path_is_placeholder": settings["model_path_is_placeholder"],
        "notes": list(exp.notes),
    }
