"""Weight formats: bytes per tensor and per model, derived by hand from each layout."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given, settings

from deepfit.errors import BadInputError, NotSupportedError
from deepfit.hardware.gpu import COMPUTE_FORMATS
from deepfit.memory.formats import (
    checkpoint_native_format,
    format_names,
    load_format,
    tensor_bytes,
    weight_bytes,
)
from deepfit.memory.gguf import GgufModel, tensor_type
from deepfit.models import load_model, model_from_config
from deepfit.models.tensors import Role, Split, Tensor

from ..strategies import configs

TINY: dict[str, Any] = {
    "model_type": "llama",
    "hidden_size": 8,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "num_key_value_heads": 2,
    "intermediate_size": 16,
    "vocab_size": 32,
    "tie_word_embeddings": False,
}
# by hand: embed 32*8 + head 32*8 + 2 layers * (4 * 8*8 attention + 3 * 8*16 MLP + 2*8 norms)
# + final norm 8
TINY_PARAMS = 256 + 256 + 2 * (256 + 384 + 16) + 8


def _tiny() -> Any:
    return model_from_config(TINY).arch


def test_bf16_is_two_bytes_per_parameter() -> None:
    assert weight_bytes(_tiny(), load_format("bf16")).total == 2 * TINY_PARAMS
    assert weight_bytes(_tiny(), load_format("fp32")).total == 4 * TINY_PARAMS


def test_fp16_needs_exactly_what_bf16_needs() -> None:
    # both are 16-bit formats; (a seed article claimed FP16 needs 2.5x and BF16 1.25x params)
    arch = _tiny()
    assert (
        weight_bytes(arch, load_format("fp16")).total
        == weight_bytes(arch, load_format("bf16")).total
    )


def test_breakdown_sums_to_total() -> None:
    w = weight_bytes(_tiny(), load_format("bf16"))
    d = w.to_dict()
    assert d["total"] == w.total
    assert (d["embed"], d["head"], d["attention"], d["mlp"]) == (512, 512, 2 * 512, 2 * 768)


def test_gptq_group_overhead_by_hand() -> None:
    t = Tensor(Role.FFN_DOWN, 0, 4096, 11008, Split.COLS)
    groups = 11008 // 128  # 86 groups of 128 inputs per output row
    expected = (
        4096 * 11008 / 2  # 4-bit payload
        + groups * 4096 * 2  # fp16 scale per group and output
        + groups * 4096 / 2  # 4-bit zero point per group and output
        + 11008 * 4  # int32 g_idx per input channel
    )
    assert tensor_bytes(t, load_format("gptq-int4"), 32) == expected
    assert load_format("int4") == load_format("gptq-int4")
    # AWQ: the same without g_idx
    assert tensor_bytes(t, load_format("awq-int4"), 32) == expected - 11008 * 4


def test_gguf_q8_0_is_34_bytes_per_32_weights() -> None:
    t = Tensor(Role.ATTN_Q, 3, 4096, 4096, Split.ROWS)
    assert tensor_bytes(t, load_format("gguf-q8_0"), 32) == 4096 * 4096 // 32 * 34


def test_nvfp4_is_4_5_bits_plus_two_fp32_tensor_scales() -> None:
    t = Tensor(Role.FFN_UP, 0, 1024, 2048, Split.ROWS)
    assert tensor_bytes(t, load_format("nvfp4"), 4) == 1024 * 2048 * 4.5 / 8 + 8


def test_q4_k_m_gives_q6_k_where_use_more_bits_says() -> None:
    # n = 32: n/8 = 4, 7n/8 = 28; layers 0-3, 28-31 and those with (i - 4) % 3 == 2
    q6_layers = {0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31}
    model = GgufModel(num_layers=32)
    for i in range(32):
        for role in (Role.ATTN_V, Role.FFN_DOWN):
            t = Tensor(role, i, 4096, 4096, Split.ROWS)
            assert tensor_type(t, "Q4_K_M", model) == ("Q6_K" if i in q6_layers else "Q4_K")
        q = Tensor(Role.ATTN_Q, i, 4096, 4096, Split.ROWS)
        assert tensor_type(q, "Q4_K_M", model) == "Q4_K"
    v = Tensor(Role.ATTN_V, 6, 4096, 4096, Split.ROWS)
    assert tensor_bytes(v, load_format("gguf-q4_k_m"), 32) == 4096 * 4096 // 256 * 210


def test_gguf_head_norms_and_fallback() -> None:
    model = GgufModel(num_layers=32)
    assert tensor_type(Tensor(Role.HEAD, None, 32000, 4096, Split.ROWS), "Q4_0", model) == "Q6_K"
    assert tensor_type(Tensor(Role.NORM, 0, 4096, 1, Split.NONE), "Q4_K_M", model) == "F32"
    # a 4000-wide row is no multiple of 256: Q4_K falls back to Q5_0 (blocks of 32)
    assert tensor_type(Tensor(Role.ATTN_Q, 5, 4000, 4000, Split.ROWS), "Q4_K_M", model) == "Q5_0"
    tied = GgufModel(num_layers=32, has_output=False)
    assert tensor_type(Tensor(Role.EMBED, None, 32000, 4096, Split.ROWS), "Q4_K_M", tied) == "Q6_K"


def test_mixtral_rules_for_eight_experts() -> None:
    model = GgufModel(num_layers=32, n_expert=8)
    assert tensor_type(Tensor(Role.ATTN_V, 10, 1024, 4096, Split.ROWS), "Q4_K_M", model) == "Q8_0"
    assert tensor_type(Tensor(Role.ATTN_O, 10, 4096, 4096, Split.COLS), "Q4_K_M", model) == "Q5_K"


def test_mxfp4_quantizes_only_routed_experts() -> None:
    dense = load_model("llama-2-7b").arch
    mx, bf = load_format("mxfp4"), load_format("bf16")
    assert weight_bytes(dense, mx).total == weight_bytes(dense, bf).total
    moe = weight_bytes(load_model("mixtral-8x7b").arch, mx)
    ref = weight_bytes(load_model("mixtral-8x7b").arch, bf)
    assert moe.attention == ref.attention
    assert moe.experts == pytest.approx(ref.experts * 4.25 / 16)


def test_unknown_format_names_the_valid_ones() -> None:
    with pytest.raises(BadInputError) as err:
        load_format("bf61")
    assert "bf16" in err.value.hint
    assert "gguf-q4_k_m" in err.value.hint
    assert load_format("GGUF-Q4_K_M").name == "gguf-q4_k_m"
    assert load_format("W8A8") == load_format("int8")


def test_every_format_loads_and_names_a_compute_format() -> None:
    for name in format_names():
        fmt = load_format(name)
        assert fmt.compute_dtype in COMPUTE_FORMATS
        assert fmt.source


def test_checkpoint_native_format() -> None:
    v3 = load_model("deepseek-v3").arch
    native = checkpoint_native_format(v3)
    assert native is not None and native.name == "fp8-block"
    llama = load_model("llama-2-7b").arch
    assert checkpoint_native_format(llama) is None
    gptq = dataclasses.replace(
        llama, quantization={"quant_method": "gptq", "bits": 4, "group_size": 128}
    )
    assert checkpoint_native_format(gptq) == load_format("gptq-int4")
    g32 = dataclasses.replace(
        llama, quantization={"quant_method": "gptq", "bits": 4, "group_size": 32}
    )
    fmt = checkpoint_native_format(g32)
    assert fmt is not None and fmt.group_cols == 32
    odd = dataclasses.replace(llama, quantization={"quant_method": "hqq"})
    with pytest.raises(NotSupportedError):
        checkpoint_native_format(odd)


def test_real_models_shrink_in_format_order() -> None:
    order = ("gguf-q4_0", "gguf-q8_0", "bf16", "fp32")
    for name in ("llama-2-7b", "qwen2.5-0.5b", "mixtral-8x7b", "deepseek-v2-lite"):
        arch = load_model(name).arch
        sizes = [weight_bytes(arch, load_format(f)).total for f in order]
        assert sizes == sorted(sizes), name


@settings(max_examples=60, deadline=None)
@given(configs())
def test_wider_formats_never_need_fewer_bytes(cfg: dict[str, Any]) -> None:
    # GGUF keeps norms in F32, so on toy sizes a GGUF file can outweigh bf16; compare within
    # each family (GGUF q4_0 <= q8_0 <= f16 <= fp32, and bf16 <= fp32).
    arch = model_from_config(cfg).arch
    size = {
        f: weight_bytes(arch, load_format(f)).total
        for f in ("gguf-q4_0", "gguf-q8_0", "gguf-f16", "bf16", "fp32")
    }
    assert size["gguf-q4_0"] <= size["gguf-q8_0"] <= size["gguf-f16"] <= size["fp32"]
    assert size["bf16"] <= size["fp32"]


def test_compressed_tensors_schemes() -> None:
    llama = load_model("llama-3.1-8b").arch

    def scheme(weights: dict[str, Any], acts: dict[str, Any] | None) -> Any:
        group = {"weights": weights, "input_activations": acts, "targets": ["Linear"]}
        q = {"quant_method": "compressed-tensors", "config_groups": {"group_0": group}}
        return checkpoint_native_format(dataclasses.replace(llama, quantization=q))

    fp8 = {"num_bits": 8, "type": "float", "strategy": "channel"}
    assert scheme(fp8, {"num_bits": 8, "type": "float", "dynamic": True}).name == "fp8"
    int8 = {"num_bits": 8, "type": "int", "strategy": "channel"}
    assert scheme(int8, {"num_bits": 8, "type": "int"}).name == "int8"
    assert scheme(int8, None).name == "int8-wo"
