"""Helpers shared by the family parsers: attention heads, sliding windows, layer lists."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ...errors import ConfigError
from ..architecture import Attention, AttentionKind, Layer, Mlp
from ..config import MAX_HEADS, MAX_LAYERS, MAX_VOCAB, ConfigReader


@dataclass(frozen=True)
class FamilyParse:
    """What a family parser returns; :func:`parse_architecture` adds the common fields."""

    layers: tuple[Layer, ...]
    tie_default: bool
    mtp_layers: tuple[Layer, ...] = ()
    notes: tuple[str, ...] = ()
    hyper_streams: int = 0


def base_dims(r: ConfigReader) -> tuple[int, int, int]:
    """hidden_size, num_hidden_layers, vocab_size."""
    hidden = r.integer("hidden_size", aliases=("n_embd", "d_model"))
    layers = r.integer("num_hidden_layers", hi=MAX_LAYERS, aliases=("n_layer", "num_layers"))
    vocab = r.integer("vocab_size", hi=MAX_VOCAB)
    return hidden, layers, vocab


def attention_kind(num_heads: int, num_kv_heads: int) -> AttentionKind:
    if num_kv_heads == num_heads:
        return AttentionKind.MHA
    if num_kv_heads == 1:
        return AttentionKind.MQA
    return AttentionKind.GQA


def standard_attention(
    r: ConfigReader,
    *,
    qkv_bias: bool,
    o_bias: bool,
    qk_norm: bool = False,
) -> Attention:
    """Multi-head / grouped-query attention as in Llama and its descendants."""
    hidden = r.integer("hidden_size")
    heads = r.integer("num_attention_heads", hi=MAX_HEADS)
    kv_heads = r.integer("num_key_value_heads", default=heads, hi=MAX_HEADS)
    if heads % kv_heads:
        raise ConfigError(
            f"{r.origin}: num_attention_heads={heads} is not a multiple of "
            f"num_key_value_heads={kv_heads}",
            "grouped-query attention needs whole groups; check both fields",
        )
    if not r.has("head_dim") and hidden % heads:
        raise ConfigError(
            f"{r.origin}: hidden_size={hidden} is not divisible by num_attention_heads={heads}"
            " and no head_dim is given",
            "add head_dim to the config or fix the head count",
        )
    head_dim = r.integer("head_dim", default=hidden // heads)
    return Attention(
        kind=attention_kind(heads, kv_heads),
        num_heads=heads,
        num_kv_heads=kv_heads,
        head_dim=head_dim,
        v_head_dim=head_dim,
        qkv_bias=qkv_bias,
        o_bias=o_bias,
        qk_norm=qk_norm,
    )


def dense_mlp(r: ConfigReader, *, bias: bool = False, key: str = "intermediate_size") -> Mlp:
    return Mlp(intermediate_size=r.integer(key, aliases=("ffn_dim",)), gated=True, bias=bias)


def layer_types(r: ConfigReader, num_layers: int) -> tuple[str, ...] | None:
    """The explicit per-layer attention types newer configs carry, if any."""
    types = r.str_list("layer_types")
    if not types:
        return None
    if len(types) != num_layers:
        raise ConfigError(
            f"{r.origin}: layer_types has {len(types)} entries for {num_layers} layers",
            "layer_types needs one entry per layer",
        )
    return types


def windows(
    r: ConfigReader, num_layers: int, rule: Callable[[int], bool]
) -> tuple[int | None, ...]:
    """Per-layer sliding window: ``layer_types`` when given, else the family's ``rule``."""
    window = r.opt_integer("sliding_window", hi=1 << 30)
    types = layer_types(r, num_layers)
    if types is not None:
        return tuple(window if t == "sliding_attention" else None for t in types)
    if window is None:
        return (None,) * num_layers
    return tuple(window if rule(i) else None for i in range(num_layers))


def qwen_windows(r: ConfigReader, num_layers: int) -> tuple[int | None, ...]:
    """Qwen2/Qwen3: a window only with use_sliding_window, on layers >= max_window_layers."""
    if not r.flag("use_sliding_window", False):
        return (None,) * num_layers
    first = r.integer("max_window_layers", default=0, lo=0, hi=MAX_LAYERS)
    return windows(r, num_layers, lambda i: i >= first)


#: A family parser: config reader -> the layers and family defaults of an Architecture.
Parser = Callable[[ConfigReader], FamilyParse]
