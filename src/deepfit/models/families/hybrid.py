"""Hybrid linear/softmax attention families: Qwen3-Next and Qwen3.5 (Gated DeltaNet + gated
attention).

Three of every four layers (``full_attention_interval``) use Gated DeltaNet linear
attention, whose memory is a fixed-size state per sequence; the others use softmax GQA
with per-head q/k norms and a sigmoid output gate. Every layer is a very sparse MoE with a
gated shared expert. Shapes follow transformers' ``Qwen3NextForCausalLM``.
"""

from __future__ import annotations

from dataclasses import replace

from ...errors import ConfigError
from ..architecture import Attention, AttentionKind, Layer, LinearAttention, Mlp, Moe
from ..config import MAX_HEADS, MAX_LAYERS, ConfigReader
from ._common import FamilyParse, base_dims, layer_types, standard_attention
from .moe import experts


def _linear_attention(r: ConfigReader) -> Attention:
    lin = LinearAttention(
        num_k_heads=r.integer("linear_num_key_heads", hi=MAX_HEADS),
        num_v_heads=r.integer("linear_num_value_heads", hi=MAX_HEADS),
        head_k_dim=r.integer("linear_key_head_dim"),
        head_v_dim=r.integer("linear_value_head_dim"),
        conv_kernel=r.integer("linear_conv_kernel_dim", default=4, hi=64),
    )
    if lin.num_v_heads % lin.num_k_heads:
        raise ConfigError(
            f"{r.origin}: linear_num_value_heads={lin.num_v_heads} is not a multiple of "
            f"linear_num_key_heads={lin.num_k_heads}",
            "Gated DeltaNet shares each key head across whole groups of value heads",
        )
    return Attention(
        kind=AttentionKind.LINEAR,
        num_heads=lin.num_v_heads,
        num_kv_heads=lin.num_k_heads,
        head_dim=lin.head_k_dim,
        v_head_dim=lin.head_v_dim,
        linear=lin,
    )


def _moe(r: ConfigReader) -> Moe:
    num, topk = experts(r, "num_experts")
    shared = r.integer("shared_expert_intermediate_size", default=0, lo=0)
    return Moe(
        num_experts=num,
        experts_per_token=topk,
        expert=Mlp(r.integer("moe_intermediate_size")),
        shared=Mlp(shared) if shared else None,
        num_shared_experts=1 if shared else 0,
        shared_gate=bool(shared),
    )


def _is_moe(r: ConfigReader, i: int, rule: str) -> bool:
    """Qwen3-Next: MoE unless in ``mlp_only_layers`` or off ``decoder_sparse_step``;
    Qwen3.5 MoE: every layer (as transformers builds it); Qwen3.5 dense: none."""
    if rule != "sparse_step":
        return rule == "all"
    step = r.integer("decoder_sparse_step", default=1, hi=MAX_LAYERS)
    return i not in set(r.int_list("mlp_only_layers")) and (i + 1) % step == 0


def _is_linear(r: ConfigReader, n: int) -> tuple[bool, ...]:
    types = layer_types(r, n)
    if types is not None:
        return tuple(t == "linear_attention" for t in types)
    every = r.integer("full_attention_interval", default=4, hi=MAX_LAYERS)
    return tuple((i + 1) % every != 0 for i in range(n))


def parse_qwen3_next(r: ConfigReader) -> FamilyParse:
    """Qwen3-Next: Gated DeltaNet and gated full attention, MoE with a gated shared expert."""
    return _hybrid(r, moe_rule="sparse_step")


def parse_qwen3_5_moe(r: ConfigReader) -> FamilyParse:
    """Qwen3.5 MoE (text model): Qwen3-Next's layers, every one a MoE."""
    return _hybrid(r, moe_rule="all")


def parse_qwen3_5(r: ConfigReader) -> FamilyParse:
    """Qwen3.5 dense (text model): Qwen3-Next's attention layers with dense MLPs."""
    return _hybrid(r, moe_rule="none")


def _hybrid(r: ConfigReader, moe_rule: str) -> FamilyParse:
    _, n, _ = base_dims(r)
    bias = r.flag("attention_bias", False)
    full = replace(
        standard_attention(r, qkv_bias=bias, o_bias=bias, qk_norm=True), output_gate=True
    )
    linear = _linear_attention(r)
    layers = []
    for i, is_linear in enumerate(_is_linear(r, n)):
        att = linear if is_linear else full
        if _is_moe(r, i, moe_rule):
            layers.append(Layer(attention=att, moe=_moe(r)))
        else:
            layers.append(Layer(attention=att, mlp=Mlp(r.integer("intermediate_size"))))
    n_linear = sum(la.attention.linear is not None for la in layers)
    notes: tuple[str, ...] = (
        f"{n_linear} Gated DeltaNet layers (a fixed state per sequence) and "
        f"{n - n_linear} gated full-attention layers",
    )
    # Qwen3.5's MTP module (``mtp.*`` in its checkpoints): fc [h, 2h], pre-fc norms of the
    # embedding and the hidden state, a final norm, and one gated full-attention layer with
    # the main layers' MLP or MoE; transformers does not build it
    n_mtp = r.integer("mtp_num_hidden_layers", default=0, lo=0, hi=MAX_LAYERS)
    ffn = Layer(attention=full, moe=_moe(r)) if moe_rule != "none" else None
    mtp = ffn or Layer(attention=full, mlp=Mlp(r.integer("intermediate_size")))
    if n_mtp:
        notes += (
            f"{n_mtp} multi-token-prediction layer(s) are stored in the checkpoint but are not "
            "part of the main model; counted separately as params_mtp",
        )
    return FamilyParse(tuple(layers), tie_default=False, mtp_layers=(mtp,) * n_mtp, notes=notes)
