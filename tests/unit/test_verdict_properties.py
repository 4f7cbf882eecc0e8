"""The verdict cannot contradict itself: over random deployments no figure is negative,
the per-GPU rows add up to the total, and ``fits`` is false whenever the context is beyond
the model or any pipeline stage overflows (hand-checked from the stages, not from ``fits``)."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deepfit import load_gpu
from deepfit.cli import render
from deepfit.errors import BadInputError
from deepfit.memory import estimate_memory
from deepfit.models import model_from_config

from ..strategies import configs
from .test_memory_properties import _big

ENGINES = st.sampled_from(["vllm", "sglang", "trtllm", "llamacpp", "transformers"])
GPUS = st.sampled_from(["L4", "H100", "RTX4090", "T4", "H200"])
WEIGHTS = st.sampled_from(["auto", "bf16", "fp8", "awq-int4", "gguf-q4_k_m", "fp32"])
SETTINGS = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)


def _negatives(value: Any, path: str = "") -> list[str]:
    """Every negative number in a JSON-ready tree, by path."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _negatives(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _negatives(v, f"{path}[{i}]")]
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
        return [path]
    return []


@st.composite
def deployments(draw: st.DrawFn) -> dict[str, Any]:
    cfg = _big(draw(configs()))
    cfg["max_position_embeddings"] = draw(st.sampled_from([2048, 8192, 131072]))
    scale = draw(st.sampled_from([1, 8, 64]))  # up to weights far beyond one GPU
    cfg["intermediate_size"] *= scale
    tp = draw(st.sampled_from([1, 2]))
    pp = draw(st.sampled_from([1, 2]))
    return dict(
        cfg=cfg,
        gpu=draw(GPUS),
        engine=draw(ENGINES),
        weights=draw(WEIGHTS),
        tp=tp,
        pp=pp,
        gpus=tp * pp,
        context=draw(st.integers(1, 1 << 18)),
        batch=draw(st.integers(1, 64)),
    )


def _estimate(d: dict[str, Any]) -> Any:
    try:
        return estimate_memory(
            model_from_config(d["cfg"]),
            load_gpu(d["gpu"]),
            gpus=d["gpus"],
            tp=d["tp"],
            pp=d["pp"],
            weights=d["weights"],
            context=d["context"],
            batch=d["batch"],
            engine=d["engine"],
        )
    except BadInputError:  # a format the engine does not run, TP that splits no heads...
        return None


@SETTINGS
@given(deployments())
def test_verdict_is_consistent(d: dict[str, Any]) -> None:
    est = _estimate(d)
    if est is None:
        return
    data = est.to_dict()
    assert _negatives(data) == []
    row = data["per_gpu"]
    parts = ("weights_bytes", "kv_cache_bytes", "activations_bytes", "overhead_bytes")
    assert sum(row[k] for k in parts) == row["total_bytes"]
    overflow = any(s.kv_needed > s.kv_pool or s.overrun > 0 for s in est.stages)
    beyond = d["context"] > d["cfg"]["max_position_embeddings"]
    assert data["context_supported"] == (not beyond)
    if beyond or overflow:
        assert not est.fits and est.reasons
    if est.fits:
        assert row["total_bytes"] <= est.gpu_memory_bytes
        assert est.shortfall_bytes == 0
        assert est.max_concurrency >= 1 and est.max_context_tokens >= d["context"]
    else:
        assert est.shortfall_bytes > 0 or beyond


@settings(max_examples=25, deadline=None, derandomize=True)
@given(deployments())
def test_printed_figures_are_never_negative(d: dict[str, Any]) -> None:
    est = _estimate(d)
    if est is None:
        return
    console = render.console()
    with console.capture() as cap:
        console.print(render.memory_view(est.to_dict()))
    text = cap.get()
    assert not re.search(r"(?<![\w.-])-\d", text), text
    assert ("FITS" in text.split("DOES NOT FIT")[0]) == est.fits
