"""The precision matrix: for a model and GPU, every weight format the GPU runs, with
memory, TTFT, TPOT and throughput relative to BF16. Quality effects are not stated here:
they are shown only with a cited published measurement (otherwise "not measured")."""

from __future__ import annotations

from typing import Any

from ..errors import BadInputError
from ..hardware import Gpu
from ..memory import estimate_memory
from ..models.loader import Model
from .api import estimate_perf

FORMATS = ("fp32", "bf16", "fp16", "fp8", "int8", "awq-int4", "gptq-int4", "nvfp4", "mxfp4")


def precision_matrix(model: Model, gpu: Gpu, **kwargs: Any) -> list[dict[str, Any]]:
    """One row per format: memory per GPU, fit, speed and the ratio to bf16's throughput."""
    rows: list[dict[str, Any]] = []
    for fmt in FORMATS:
        if _experts_only(fmt) and not model.arch.is_moe:
            rows.append(
                {
                    "weights": fmt,
                    "error": f"{fmt} quantizes only routed experts; this model has none",
                }
            )
            continue
        try:
            perf = estimate_perf(model, gpu, weights=fmt, **kwargs)
            mem = estimate_memory(
                model,
                gpu,
                gpus=perf.gpus,
                tp=perf.tp,
                pp=perf.pp,
                ep=perf.ep,
                weights=fmt,
                context=kwargs["input_len"] + kwargs["output_len"],
                engine=perf.engine,
            )
        except BadInputError as err:
            rows.append({"weights": fmt, "error": err.message})
            continue
        rows.append(
            {
                "weights": fmt,
                "native": _native(gpu, mem.weights_format),
                "weights_bytes": mem.per_gpu.weights,
                "fits": mem.fits,
                "max_concurrency": mem.max_concurrency,
                "ttft_s": perf.ttft_s,
                "tpot_s": perf.tpot_s,
                "output_tokens_per_s": perf.output_tokens_per_s,
                "quality": _quality(model.id, fmt),
                **_quality_parts(model.id, fmt),
                "source": perf.source,
            }
        )
    base = next((r for r in rows if r.get("weights") == "bf16" and "error" not in r), None)
    for r in rows:
        if base and "error" not in r and base["output_tokens_per_s"]:
            r["speedup_vs_bf16"] = r["output_tokens_per_s"] / base["output_tokens_per_s"]
    return rows


def _quality(model_id: str, fmt: str) -> str:
    """The cited quality effect of ``fmt`` on this model (or a flagged nearest neighbour),
    else "not measured"."""
    from ..quality import quality_for

    effect = quality_for(model_id, fmt)
    if effect is None:
        return "not measured"
    where = f" (estimate from {effect.from_model})" if effect.estimate else ""
    return (
        f"{effect.loss_percent:+.2f}% {effect.metric} on {effect.benchmark}{where}; {effect.source}"
    )


def _quality_parts(model_id: str, fmt: str) -> dict[str, str | None]:
    """The cited effect and its source apart, so a narrow table need not cut the URL."""
    from ..quality import quality_for

    effect = quality_for(model_id, fmt)
    if effect is None:
        return {"quality_effect": "not measured", "quality_source": None}
    where = f" (estimate from {effect.from_model})" if effect.estimate else ""
    return {
        "quality_effect": f"{effect.loss_percent:+.2f}% {effect.metric} on "
        f"{effect.benchmark}{where}",
        "quality_source": effect.source,
    }


def _native(gpu: Gpu, fmt_name: str) -> bool:
    """Whether the GPU computes in the format itself; False where kernels upcast (FP4
    weights on a GPU without FP4 tensor cores run as 16-bit, like FP8 on an A100)."""
    from ..memory.formats import load_format

    fmt = load_format(fmt_name)
    if fmt.name in ("mxfp4", "nvfp4") and not gpu.supports("fp4"):
        return False
    return gpu.supports(fmt.compute_dtype)


def _experts_only(fmt_name: str) -> bool:
    from ..memory.formats import load_format

    return bool(getattr(load_format(fmt_name), "experts_only", False))
