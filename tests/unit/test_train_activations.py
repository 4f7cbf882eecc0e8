"""Activation bytes against Korthikanti et al. 2022 for a GPT reference layer."""

from __future__ import annotations

import pytest

from deepfit.models.architecture import Attention, AttentionKind, Layer, Mlp
from deepfit.train import ActShape, Recompute, layer_activation_bytes, logits_bytes

H, A, S, B = 12288, 96, 2048, 1  # GPT-3 175B's layer (the paper's Table 3 model)
GPT = Layer(Attention(AttentionKind.MHA, A, A, H // A, H // A), Mlp(4 * H, gated=False))


def _gpt(tp: int = 1, sp: bool = True) -> ActShape:
    return ActShape(S, B, tp=tp, sequence_parallel=sp, flash=False, dropout=True)


def test_no_recompute_is_34_plus_5as_over_h() -> None:
    got = layer_activation_bytes(GPT, H, _gpt(), Recompute.NONE)
    assert got == S * B * H * (34 + 5 * A * S / H)


def test_selective_is_34sbh_and_full_is_2sbh() -> None:
    assert layer_activation_bytes(GPT, H, _gpt(), Recompute.SELECTIVE) == 34 * S * B * H
    assert layer_activation_bytes(GPT, H, _gpt(), Recompute.FULL) == 2 * S * B * H


@pytest.mark.parametrize("t", [2, 4, 8])
def test_tensor_and_sequence_parallel(t: int) -> None:
    sp = layer_activation_bytes(GPT, H, _gpt(t), Recompute.NONE)
    assert sp == pytest.approx(S * B * H / t * (34 + 5 * A * S / H))
    no_sp = layer_activation_bytes(GPT, H, _gpt(t, sp=False), Recompute.NONE)
    assert no_sp == pytest.approx(S * B * H * (10 + 24 / t + 5 * A * S / (H * t)))


def test_flash_removes_the_quadratic_term() -> None:
    flash = ActShape(S, B, flash=True, dropout=True)
    got = layer_activation_bytes(GPT, H, flash, Recompute.NONE)
    assert got == pytest.approx(34 * S * B * H + 4 * A * S * B)  # + fp32 log-sum-exp


def test_gqa_swiglu_without_dropout() -> None:
    h, f, a, kv, d = 4096, 14336, 32, 8, 128
    layer = Layer(Attention(AttentionKind.GQA, a, kv, d, d), Mlp(f, gated=True))
    got = layer_activation_bytes(layer, h, ActShape(S, B, flash=True), Recompute.NONE)
    sb = S * B
    # norms 4sbh, qkv input 2sbh, q 2sbh, k and v 2*2*sb*kv*d, o input 2sbh, mlp input 2sbh,
    # gate, up, product 6sbf, log-sum-exp 4asb
    expected = 4 * sb * h + 2 * sb * h + 2 * sb * h + 4 * sb * kv * d + 2 * sb * h
    expected += 2 * sb * h + 6 * sb * f + 4 * a * sb
    assert got == expected


def test_logits_at_the_frameworks_bytes_per_logit() -> None:
    # torch cross-entropy on bf16 logits: bf16 logits 2 + fp32 upcast 4 + log-softmax 4 +
    # fp32 gradient 4 = 14 bytes per logit, vocabulary-parallel under tp
    assert logits_bytes(102400, ActShape(4096, 2, tp=4), 14) == 14 * 4096 * 2 * 102400 / 4


def test_eager_kernels_keep_fp32_norm_inputs_and_the_silu_output() -> None:
    h, f, a, kv, d = 4096, 14336, 32, 8, 128
    layer = Layer(Attention(AttentionKind.GQA, a, kv, d, d), Mlp(f, gated=True))
    fused = layer_activation_bytes(layer, h, ActShape(S, B), Recompute.NONE)
    eager = ActShape(S, B, norm_bytes=6, unfused_swiglu=True)
    got = layer_activation_bytes(layer, h, eager, Recompute.NONE)
    # two norms keep 6 instead of 2 bytes per element; SiLU's output is one more f-wide tensor
    assert got - fused == 2 * 4 * S * B * h + 2 * S * B * f


def test_full_recompute_keeps_inputs_and_one_working_set() -> None:
    from deepfit.train.activations import stage_activation_bytes

    layers = (GPT,) * 4
    got = stage_activation_bytes(layers, H, _gpt(), Recompute.FULL, in_flight=3)
    one = S * B * H * (34 + 5 * A * S / H)
    assert got == pytest.approx(3 * 4 * 2 * S * B * H + one)
