"""DeepSeek-V2 and V3/R1: multi-head latent attention (MLA) with DeepSeek experts."""

from __future__ import annotations

from dataclasses import replace

from ..architecture import Attention, AttentionKind, Indexer, Layer, MlaDims, Mlp
from ..config import MAX_HEADS, MAX_LAYERS, ConfigReader
from ._common import FamilyParse, base_dims
from .moe import deepseek_is_moe, deepseek_moe_block


def mla_attention(r: ConfigReader) -> Attention:
    """MLA. As a plain transformer stores it, K/V are ``num_heads`` full heads (decompressed);
    MLA-aware engines cache only ``kv_lora_rank + qk_rope_head_dim`` per token and layer."""
    heads = r.integer("num_attention_heads", hi=MAX_HEADS)
    dims = MlaDims(
        q_lora_rank=r.opt_integer("q_lora_rank"),
        kv_lora_rank=r.integer("kv_lora_rank"),
        qk_nope_head_dim=r.integer("qk_nope_head_dim", lo=0),
        qk_rope_head_dim=r.integer("qk_rope_head_dim"),
        v_head_dim=r.integer("v_head_dim"),
    )
    bias = r.flag("attention_bias", False)
    return Attention(
        kind=AttentionKind.MLA,
        num_heads=heads,
        num_kv_heads=heads,
        head_dim=dims.qk_nope_head_dim + dims.qk_rope_head_dim,
        v_head_dim=dims.v_head_dim,
        qkv_bias=bias,
        o_bias=bias,
        mla=dims,
    )


def parse_deepseek_v2(r: ConfigReader) -> FamilyParse:
    """DeepSeek-V2 / V2-Lite / Coder-V2 and (with MTP) V3 / R1."""
    _, n, _ = base_dims(r)
    att = mla_attention(r)
    dense = Layer(attention=att, mlp=Mlp(r.integer("intermediate_size")))
    sparse = Layer(attention=att, moe=deepseek_moe_block(r)) if r.has("n_routed_experts") else dense
    layers = tuple(sparse if m else dense for m in deepseek_is_moe(r, n))
    # Each MTP module is one more decoder layer (MoE, since its index is past the dense ones)
    # plus a projection and norms; transformers does not build it, checkpoints do store it.
    n_mtp = r.integer("num_nextn_predict_layers", default=0, lo=0, hi=MAX_LAYERS)
    notes: tuple[str, ...] = ()
    if n_mtp:
        notes = (
            f"{n_mtp} multi-token-prediction layer(s) are stored in the checkpoint but are not "
            "part of the main model; counted separately as params_mtp",
        )
    return FamilyParse(layers, tie_default=False, mtp_layers=(sparse,) * n_mtp, notes=notes)


def parse_deepseek_v32(r: ConfigReader) -> FamilyParse:
    """DeepSeek-V3.2: V3's layout with DeepSeek Sparse Attention. A lightning indexer
    (its own query heads, one key of ``index_head_dim`` per token, cached) picks the
    ``index_topk`` earlier tokens each query attends to."""
    parsed = parse_deepseek_v2(r)
    indexer = Indexer(
        num_heads=r.integer("index_n_heads", hi=MAX_HEADS),
        head_dim=r.integer("index_head_dim"),
        topk=r.integer("index_topk", hi=1 << 30),
    )

    def with_indexer(layer: Layer) -> Layer:
        return replace(layer, attention=replace(layer.attention, indexer=indexer))

    return replace(
        parsed,
        layers=tuple(with_indexer(la) for la in parsed.layers),
        mtp_layers=tuple(with_indexer(la) for la in parsed.mtp_layers),
    )
