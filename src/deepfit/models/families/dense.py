"""Dense decoder families: Llama, Mistral, Qwen2/2.5, Qwen3, Gemma, Gemma 2, Phi-3."""

from __future__ import annotations

from dataclasses import replace

from ..architecture import Layer
from ..config import ConfigReader
from ._common import FamilyParse, base_dims, dense_mlp, qwen_windows, standard_attention, windows


def _stack(
    r: ConfigReader,
    *,
    qkv_bias: bool,
    o_bias: bool,
    qk_norm: bool,
    mlp_bias: bool,
    norms: int,
    sliding: tuple[int | None, ...],
) -> tuple[Layer, ...]:
    att = standard_attention(r, qkv_bias=qkv_bias, o_bias=o_bias, qk_norm=qk_norm)
    mlp = dense_mlp(r, bias=mlp_bias)
    cache: dict[int | None, Layer] = {}
    for w in set(sliding):
        cache[w] = Layer(attention=replace(att, sliding_window=w), mlp=mlp, norms=norms)
    return tuple(cache[w] for w in sliding)


def parse_llama(r: ConfigReader) -> FamilyParse:
    """Llama 1/2/3.x, deepseek-llm, deepseek-coder, R1-Distill-Llama: no window by default."""
    _, n, _ = base_dims(r)
    bias = r.flag("attention_bias", False)
    layers = _stack(
        r,
        qkv_bias=bias,
        o_bias=bias,
        qk_norm=False,
        mlp_bias=r.flag("mlp_bias", False),
        norms=2,
        sliding=windows(r, n, lambda i: False),
    )
    return FamilyParse(layers, tie_default=False)


def parse_mistral(r: ConfigReader) -> FamilyParse:
    """Mistral: with ``sliding_window`` set, every layer attends within the window."""
    _, n, _ = base_dims(r)
    layers = _stack(
        r,
        qkv_bias=False,
        o_bias=False,
        qk_norm=False,
        mlp_bias=False,
        norms=2,
        sliding=windows(r, n, lambda i: True),
    )
    return FamilyParse(layers, tie_default=False)


def parse_qwen2(r: ConfigReader) -> FamilyParse:
    """Qwen2/2.5 and R1-Distill-Qwen: biases on q/k/v, none on o."""
    _, n, _ = base_dims(r)
    layers = _stack(
        r,
        qkv_bias=True,
        o_bias=False,
        qk_norm=False,
        mlp_bias=False,
        norms=2,
        sliding=qwen_windows(r, n),
    )
    return FamilyParse(layers, tie_default=False)


def parse_qwen3(r: ConfigReader) -> FamilyParse:
    """Qwen3 dense: per-head RMSNorm on q and k, optional attention bias."""
    _, n, _ = base_dims(r)
    bias = r.flag("attention_bias", False)
    layers = _stack(
        r,
        qkv_bias=bias,
        o_bias=bias,
        qk_norm=True,
        mlp_bias=False,
        norms=2,
        sliding=qwen_windows(r, n),
    )
    return FamilyParse(layers, tie_default=False)


def parse_gemma(r: ConfigReader) -> FamilyParse:
    """Gemma (1): tied embeddings, explicit head_dim, full attention."""
    _, n, _ = base_dims(r)
    bias = r.flag("attention_bias", False)
    layers = _stack(
        r,
        qkv_bias=bias,
        o_bias=bias,
        qk_norm=False,
        mlp_bias=False,
        norms=2,
        sliding=(None,) * n,
    )
    return FamilyParse(layers, tie_default=True)


def parse_gemma2(r: ConfigReader) -> FamilyParse:
    """Gemma 2: four norms per layer; even-indexed layers use the sliding window."""
    _, n, _ = base_dims(r)
    bias = r.flag("attention_bias", False)
    layers = _stack(
        r,
        qkv_bias=bias,
        o_bias=bias,
        qk_norm=False,
        mlp_bias=False,
        norms=4,
        sliding=windows(r, n, lambda i: (i + 1) % 2 == 1),
    )
    return FamilyParse(layers, tie_default=True)


def parse_phi3(r: ConfigReader) -> FamilyParse:
    """Phi-3/3.5 (fused qkv and gate_up projections, same shapes as Llama's)."""
    _, n, _ = base_dims(r)
    layers = _stack(
        r,
        qkv_bias=False,
        o_bias=False,
        qk_norm=False,
        mlp_bias=False,
        norms=2,
        sliding=windows(r, n, lambda i: True),
    )
    return FamilyParse(layers, tie_default=False)


def parse_gemma3(r: ConfigReader) -> FamilyParse:
    """Gemma 3 (text): Gemma 2's four norms per layer plus per-head q/k norms; five
    sliding-window layers (1,024 tokens in the released models) to one global layer
    (``layer_types``, else ``sliding_window_pattern``, default 6)."""
    _, n, _ = base_dims(r)
    bias = r.flag("attention_bias", False)
    every = r.integer("sliding_window_pattern", default=6, hi=1 << 10)
    layers = _stack(
        r,
        qkv_bias=bias,
        o_bias=bias,
        qk_norm=True,
        mlp_bias=False,
        norms=4,
        sliding=windows(r, n, lambda i: (i + 1) % every != 0),
    )
    return FamilyParse(layers, tie_default=True)
