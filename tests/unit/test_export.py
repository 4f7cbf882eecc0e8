"""deepfit.export: the support table, the KV-budget checks with their nearest settings,
plan reading and the YAML emitter."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import deepfit
from deepfit.errors import BadInputError, NotSupportedError
from deepfit.export import ExportRequest, export_config, pick_plan, request_from_plan, resolve
from deepfit.export.yamlout import dump_yaml


def _export(model: str, gpu: str, **kw: Any) -> Any:
    return export_config(deepfit.load_model(model), deepfit.load_gpu(gpu), **kw)


def test_fp8_on_ampere_runs_weight_only_in_vllm_with_a_note() -> None:
    exp = _export("llama-3.1-8b", "A100-80GB", weights="fp8", context=4096, concurrency=8)
    assert any("Marlin" in n for n in exp.notes)
    assert exp.argv[exp.argv.index("--quantization") + 1] == "fp8"


@pytest.mark.parametrize(
    ("engine", "weights", "gpu", "hint"),
    [
        ("sglang", "fp8", "A100-80GB", "bf16"),
        ("vllm", "nvfp4", "H100", "Blackwell"),
        ("vllm", "gguf-q4_k_m", "H100", "llamacpp"),
        ("llamacpp", "awq-int4", "RTX4090", "gguf"),
        ("trtllm", "gptq-int4", "H100", "engine"),
        ("vllm", "fp8", "V100", "bf16"),
    ],
)
def test_unsupported_combinations_say_what_to_use(
    engine: str, weights: str, gpu: str, hint: str
) -> None:
    with pytest.raises(NotSupportedError) as err:
        _export("llama-3.1-8b", gpu, engine=engine, weights=weights, context=4096, concurrency=1)
    assert hint in err.value.hint


def test_too_many_sequences_names_the_nearest_settings() -> None:
    with pytest.raises(BadInputError) as err:
        _export("llama-3.1-8b", "RTX4090", context=32768, concurrency=64)
    assert "--concurrency" in err.value.hint and "--context" in err.value.hint
    best = int(err.value.hint.split("--concurrency ")[1].split()[0])
    ok = _export("llama-3.1-8b", "RTX4090", context=32768, concurrency=best)
    assert ok.settings["concurrency"] == best


def test_context_beyond_the_model_is_refused() -> None:
    with pytest.raises(BadInputError, match="beyond"):
        _export("qwen2.5-7b", "H100", context=10**6, concurrency=1)


def test_tp_must_divide_heads() -> None:
    with pytest.raises(BadInputError, match="heads"):
        _export("llama-3.1-8b", "H100", gpus=3, tp=3)


def test_defaults_choose_what_fits() -> None:
    exp = _export("llama-3.1-8b", "L4")
    s = exp.settings
    assert 1 <= s["concurrency"] <= 256 and s["context_tokens"] <= 131072
    est = deepfit.estimate_memory(
        deepfit.load_model("llama-3.1-8b"),
        deepfit.load_gpu("L4"),
        context=s["context_tokens"],
        batch=s["concurrency"],
    )
    assert est.fits and est.max_concurrency >= s["concurrency"]


def test_plan_is_read_as_planned() -> None:
    data = {
        "model": "deepseek-v3",
        "plans": [
            {"gpu": "H200", "gpus": 8, "weights": "auto", "kv_dtype": "auto", "tp": 8,
             "pp": 1, "ep": 8, "dp": 1, "concurrency": 12, "input_len": 1000},
        ],
        "input_len": 2000,
        "output_len": 500,
    }  # fmt: skip
    req = request_from_plan(data, pick_plan(data, 0), ExportRequest(engine="vllm"))
    assert (req.gpus, req.tp, req.ep, req.concurrency, req.context) == (8, 8, 8, 12, 2500)
    with pytest.raises(BadInputError, match="index"):
        pick_plan(data, 3)


def test_yaml_emitter_round_trips() -> None:
    data = {
        "a": [1, "yes", {"b": None, "c": "x: y"}, []],
        "d": {"e": "line\nline2\n", "f": 0.5, "g": "H100:8", "h": True, "i": "1e3"},
    }
    assert yaml.safe_load(dump_yaml(data)) == data


_MODELS = ("llama-3.1-8b", "qwen2.5-7b", "mistral-7b", "qwen3-30b-a3b", "deepseek-v2-lite")


@settings(max_examples=40, deadline=None)
@given(
    model=st.sampled_from(_MODELS),
    gpu=st.sampled_from(("H100", "A100-80GB", "L40S", "RTX4090")),
    engine=st.sampled_from(("vllm", "sglang", "trtllm", "llamacpp")),
    gpus=st.sampled_from((1, 2, 4, 8)),
    context=st.integers(256, 1 << 17),
    concurrency=st.integers(1, 512),
)
def test_no_export_asks_for_more_than_fits(
    model: str, gpu: str, engine: str, gpus: int, context: int, concurrency: int
) -> None:
    m, g = deepfit.load_model(model), deepfit.load_gpu(gpu)
    gpus = 1 if engine == "llamacpp" else gpus
    req = ExportRequest(engine=engine, gpus=gpus, context=context, concurrency=concurrency)
    try:
        dep = resolve(m, g, req)
    except BadInputError:
        return  # refused with a hint: nothing was exported
    est = deepfit.estimate_memory(
        m, g, gpus=dep.gpus, tp=dep.tp, pp=dep.pp, ep=dep.ep, weights=dep.weights.name,
        kv_dtype=dep.estimate.kv_dtype, context=dep.context, batch=dep.concurrency,
        engine=engine, memory_fraction=dep.memory_fraction, dp_attention=dep.estimate.dp_attention,
    )  # fmt: skip
    assert est.fits
    assert dep.concurrency <= est.max_concurrency
    assert dep.context <= est.max_context_tokens
