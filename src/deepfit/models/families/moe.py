"""Mixture-of-experts families without MLA: Mixtral, Qwen2-MoE, Qwen3-MoE, DeepSeek-MoE."""

from __future__ import annotations

from dataclasses import replace

from ...errors import ConfigError
from ..architecture import Layer, Mlp, Moe
from ..config import MAX_EXPERTS, MAX_LAYERS, ConfigReader
from ._common import FamilyParse, base_dims, qwen_windows, standard_attention, windows


def experts(
    r: ConfigReader, num_key: str, topk_key: str = "num_experts_per_tok"
) -> tuple[int, int]:
    """Routed experts and experts per token, checked against each other."""
    num = r.integer(num_key, hi=MAX_EXPERTS)
    topk = r.integer(topk_key, hi=MAX_EXPERTS)
    if topk > num:
        raise ConfigError(
            f"{r.origin}: {topk_key}={topk} is more than {num_key}={num}",
            "a token cannot be routed to more experts than exist",
        )
    return num, topk


def parse_mixtral(r: ConfigReader) -> FamilyParse:
    """Mixtral: every layer is MoE, experts of ``intermediate_size``, no shared expert."""
    _, n, _ = base_dims(r)
    num, topk = experts(r, "num_local_experts")
    moe = Moe(num_experts=num, experts_per_token=topk, expert=Mlp(r.integer("intermediate_size")))
    att = standard_attention(r, qkv_bias=False, o_bias=False)
    sliding = windows(r, n, lambda i: True)
    return FamilyParse(
        tuple(Layer(attention=replace(att, sliding_window=w), moe=moe) for w in sliding),
        tie_default=False,
    )


def _qwen_moe_layers(
    r: ConfigReader, moe: Moe, qkv_bias: bool, o_bias: bool, qk_norm: bool
) -> tuple[Layer, ...]:
    """Qwen MoE layer pattern: MoE unless listed in mlp_only_layers or off the sparse step."""
    _, n, _ = base_dims(r)
    step = r.integer("decoder_sparse_step", default=1, hi=MAX_LAYERS)
    dense_only = set(r.int_list("mlp_only_layers"))
    att = standard_attention(r, qkv_bias=qkv_bias, o_bias=o_bias, qk_norm=qk_norm)
    dense = Mlp(r.integer("intermediate_size"))
    out = []
    for i, w in enumerate(qwen_windows(r, n)):
        is_moe = i not in dense_only and (i + 1) % step == 0
        a = replace(att, sliding_window=w)
        out.append(Layer(attention=a, moe=moe) if is_moe else Layer(attention=a, mlp=dense))
    return tuple(out)


def parse_qwen3_moe(r: ConfigReader) -> FamilyParse:
    num, topk = experts(r, "num_experts")
    expert = Mlp(r.integer("moe_intermediate_size"))
    moe = Moe(num_experts=num, experts_per_token=topk, expert=expert)
    bias = r.flag("attention_bias", False)
    return FamilyParse(_qwen_moe_layers(r, moe, bias, bias, True), tie_default=False)


def parse_qwen2_moe(r: ConfigReader) -> FamilyParse:
    """Qwen1.5/Qwen2-MoE: one gated shared expert beside the routed ones."""
    num, topk = experts(r, "num_experts")
    shared_size = r.integer("shared_expert_intermediate_size", default=0, lo=0)
    moe = Moe(
        num_experts=num,
        experts_per_token=topk,
        expert=Mlp(r.integer("moe_intermediate_size")),
        shared=Mlp(shared_size) if shared_size else None,
        num_shared_experts=1 if shared_size else 0,
        shared_gate=bool(shared_size),
    )
    return FamilyParse(_qwen_moe_layers(r, moe, True, False, False), tie_default=False)


def deepseek_moe_block(r: ConfigReader) -> Moe:
    """DeepSeek routed + shared experts (DeepSeek-MoE, V2, V3 share this layout)."""
    num, topk = experts(r, "n_routed_experts")
    size = r.integer("moe_intermediate_size")
    shared = r.integer("n_shared_experts", default=0, lo=0, hi=MAX_EXPERTS)
    return Moe(
        num_experts=num,
        experts_per_token=topk,
        expert=Mlp(size),
        shared=Mlp(size * shared) if shared else None,
        num_shared_experts=shared,
    )


def deepseek_is_moe(r: ConfigReader, n: int) -> tuple[bool, ...]:
    """DeepSeek rule: layer i is MoE iff i >= first_k_dense_replace and i % moe_layer_freq == 0."""
    if not r.has("n_routed_experts"):
        return (False,) * n
    first = r.integer("first_k_dense_replace", default=0, lo=0, hi=MAX_LAYERS)
    freq = r.integer("moe_layer_freq", default=1, hi=MAX_LAYERS)
    return tuple(i >= first and i % freq == 0 for i in range(n))


def parse_deepseek(r: ConfigReader) -> FamilyParse:
    """DeepSeek-MoE (model_type "deepseek"): Llama-style attention with DeepSeek experts."""
    _, n, _ = base_dims(r)
    bias = r.flag("attention_bias", False)
    att = standard_attention(r, qkv_bias=bias, o_bias=bias)
    dense = Layer(attention=att, mlp=Mlp(r.integer("intermediate_size")))
    sparse = Layer(attention=att, moe=deepseek_moe_block(r)) if r.has("n_routed_experts") else dense
    layers = tuple(sparse if m else dense for m in deepseek_is_moe(r, n))
    return FamilyParse(layers, tie_default=False)


def parse_gpt_oss(r: ConfigReader) -> FamilyParse:
    """gpt-oss: GQA with biases and a learned sink logit per head, sliding-window (128) and
    full layers alternating (``layer_types``), every layer a MoE whose experts and router
    carry biases; no shared expert."""
    _, n, _ = base_dims(r)
    num, topk = experts(r, "num_local_experts")
    moe = Moe(
        num_experts=num,
        experts_per_token=topk,
        expert=Mlp(r.integer("intermediate_size"), gated=True, bias=True),
        router_bias=True,
    )
    bias = r.flag("attention_bias", True)
    att = replace(standard_attention(r, qkv_bias=bias, o_bias=bias), sinks=True)
    sliding = windows(r, n, lambda i: i % 2 == 0)
    return FamilyParse(
        tuple(Layer(attention=replace(att, sliding_window=w), moe=moe) for w in sliding),
        tie_default=False,
    )


def parse_glm4_moe(r: ConfigReader) -> FamilyParse:
    """GLM-4.5 / 4.6: GQA with q/k/v biases (no o bias), optional per-head q/k norms, dense
    MLP in the first ``first_k_dense_replace`` layers, then DeepSeek-style routed + shared
    experts; ``num_nextn_predict_layers`` MTP layers stored apart."""
    _, n, _ = base_dims(r)
    bias = r.flag("attention_bias", False)
    att = standard_attention(r, qkv_bias=bias, o_bias=False, qk_norm=r.flag("use_qk_norm", False))
    dense = Layer(attention=att, mlp=Mlp(r.integer("intermediate_size")))
    sparse = Layer(attention=att, moe=deepseek_moe_block(r))
    first = r.integer("first_k_dense_replace", default=1, lo=0, hi=MAX_LAYERS)
    layers = tuple(sparse if i >= first else dense for i in range(n))
    n_mtp = r.integer("num_nextn_predict_layers", default=0, lo=0, hi=MAX_LAYERS)
    notes: tuple[str, ...] = ()
    if n_mtp:
        notes = (
            f"{n_mtp} multi-token-prediction layer(s) are stored in the checkpoint but are not "
            "part of the main model; counted separately as params_mtp",
        )
    return FamilyParse(layers, tie_default=False, mtp_layers=(sparse,) * n_mtp, notes=notes)


def parse_minimax_m2(r: ConfigReader) -> FamilyParse:
    """MiniMax-M2: GQA with one RMSNorm across all query heads and one across all key heads,
    every layer a MoE of ``intermediate_size`` experts (no shared expert; the routing bias
    is a buffer, not a parameter)."""
    _, n, _ = base_dims(r)
    num, topk = experts(r, "num_local_experts")
    moe = Moe(num_experts=num, experts_per_token=topk, expert=Mlp(r.integer("intermediate_size")))
    att = standard_attention(r, qkv_bias=False, o_bias=False)
    att = replace(att, qk_norm_full=r.flag("use_qk_norm", True))
    notes: tuple[str, ...] = ()
    if r.flag("use_mtp", False):
        notes = ("the config declares MTP modules; their weights are not sized here",)
    return FamilyParse(tuple(Layer(attention=att, moe=moe) for _ in range(n)), False, notes=notes)


def parse_llama4(r: ConfigReader) -> FamilyParse:
    """Llama 4 (text): GQA whose RoPE layers use chunked local attention
    (``attention_chunk_size``) and every ``no_rope_layer_interval``-th layer global NoPE
    attention; MoE layers (``moe_layers`` / ``interleave_moe_layer_step``) with one routed
    expert per token beside a shared expert, dense layers of ``intermediate_size_mlp``."""
    _, n, _ = base_dims(r)
    num, topk = experts(r, "num_local_experts")
    size = r.integer("intermediate_size")
    moe = Moe(
        num_experts=num,
        experts_per_token=topk,
        expert=Mlp(size),
        shared=Mlp(size),
        num_shared_experts=1,
    )
    dense = Mlp(r.integer("intermediate_size_mlp", default=size))
    step = r.integer("interleave_moe_layer_step", default=1, hi=MAX_LAYERS)
    moe_at = set(r.int_list("moe_layers")) or set(range(step - 1, n, step))
    every = r.integer("no_rope_layer_interval", default=4, hi=MAX_LAYERS)
    rope = r.int_list("no_rope_layers", hi=1) or tuple(int((i + 1) % every != 0) for i in range(n))
    chunk = r.opt_integer("attention_chunk_size", hi=1 << 30)
    bias = r.flag("attention_bias", False)
    att = standard_attention(r, qkv_bias=bias, o_bias=bias)
    layers = []
    for i in range(n):
        a = replace(att, chunk_size=chunk if i < len(rope) and rope[i] else None)
        layers.append(Layer(attention=a, moe=moe) if i in moe_at else Layer(attention=a, mlp=dense))
    return FamilyParse(tuple(layers), tie_default=False)
