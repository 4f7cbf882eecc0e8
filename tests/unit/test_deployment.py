"""deepfit.deployment: the one place the KV spec and the memory fraction are derived."""

from __future__ import annotations

import pytest

from deepfit.deployment import Deployment, EngineRef, Numerics, Parallelism, Workload
from deepfit.errors import BadInputError
from deepfit.hardware import load_gpu
from deepfit.memory import load_format
from deepfit.memory.api import memory_of
from deepfit.models import load_model


def _dep(
    engine: str, tp: int, attention_dp: bool = False, fraction: float | None = None
) -> Deployment:
    return Deployment(
        Parallelism(tp=tp, attention_dp=attention_dp),
        Numerics.of(load_format("bf16"), "auto"),
        EngineRef.named(engine, fraction),
    )


@pytest.mark.parametrize(
    ("tp", "expected"),
    # sglang/srt/server_args.py (v0.4.x): mem_fraction_static by tp_size
    [(1, 0.88), (2, 0.87), (4, 0.85), (8, 0.81), (16, 0.79)],
)
def test_sglang_fraction_by_tp(tp: int, expected: float) -> None:
    assert _dep("sglang", tp).memory_fraction == expected


def test_user_fraction_wins_and_exact_engines_have_none() -> None:
    assert _dep("vllm", 1).memory_fraction == 0.9  # vLLM gpu_memory_utilization default
    assert _dep("vllm", 1, fraction=0.5).memory_fraction == 0.5
    assert _dep("llamacpp", 1).memory_fraction is None
    with pytest.raises(BadInputError):
        EngineRef.named("vllm", 1.5)


def test_kv_spec_splits_heads_unless_attention_is_data_parallel() -> None:
    assert _dep("sglang", 8).kv_spec.tp == 8
    assert _dep("sglang", 8, attention_dp=True).kv_spec.tp == 1
    assert _dep("vllm", 1).kv_spec.mla_latent is True
    assert _dep("transformers", 1).kv_spec.mla_latent is False  # decompresses MLA's latent


def test_auto_kv_dtype_follows_the_weights() -> None:
    assert Numerics.of(load_format("fp16"), "auto").kv.value == "fp16"
    assert Numerics.of(load_format("fp8"), "auto").kv.value == "bf16"
    assert Numerics.of(load_format("bf16"), "fp8").kv.value == "fp8"


def test_typed_memory_matches_the_keyword_entry_point() -> None:
    import deepfit

    model, gpu = load_model("qwen2.5-0.5b"), load_gpu("H100")
    typed = memory_of(model, gpu, _dep("vllm", 1), Workload(4096, 2))
    loose = deepfit.estimate_memory(model, gpu, weights="bf16", context=4096, batch=2)
    assert typed == loose
