"""DeepSeek-V4 (Flash, Pro): hybrid compressed attention, hyper-connections, hash routing.

Each layer attends to a sliding window of uncompressed entries plus, per ``compress_ratios``,
compressed entries: CSA (ratio 4, with a lightning indexer choosing ``index_topk`` of them)
or HCA (ratio 128, all of them); ratio 0 is the window alone. Keys and values are one
shared head of ``head_dim``. The residual stream is widened to ``hc_mult`` streams mixed by
manifold-constrained hyper-connections; the first ``num_hash_layers`` MoE layers route by a
fixed token-id table. Shapes follow transformers' ``DeepseekV4ForCausalLM`` and the
checkpoint's tensor list (see models/data/SOURCES.md).
"""

from __future__ import annotations

from dataclasses import replace

from ...errors import ConfigError
from ..architecture import Attention, AttentionKind, Compressed, Indexer, Layer, Mlp, Moe
from ..config import MAX_EXPERTS, MAX_HEADS, MAX_LAYERS, ConfigReader
from ._common import FamilyParse, base_dims
from .moe import experts

#: transformers' names for the per-layer kinds, and the ratios they stand for
_LAYER_TYPE_RATIO = {
    "sliding_attention": 0,
    "compressed_sparse_attention": 4,
    "heavily_compressed_attention": 128,
}


def _ratios(r: ConfigReader, n: int) -> tuple[int, ...]:
    """Per-layer compression ratios: ``compress_ratios`` (the released configs; it has one
    more entry per MTP layer) or transformers' ``layer_types``."""
    ratios = r.int_list("compress_ratios", hi=1 << 20)
    if not ratios:
        types = r.str_list("layer_types")
        unknown = [t for t in types if t not in _LAYER_TYPE_RATIO]
        if unknown or not types:
            raise ConfigError(
                f"{r.origin}: DeepSeek-V4 needs compress_ratios (or layer_types)",
                "use the model's released config.json",
            )
        ratios = tuple(_LAYER_TYPE_RATIO[t] for t in types)
    if len(ratios) < n or any(x not in (0, 4, 128) for x in ratios):
        raise ConfigError(
            f"{r.origin}: compress_ratios must give 0, 4 or 128 for each of the {n} layers",
            "DeepSeek-V4 layers are window-only (0), CSA (4) or HCA (128)",
        )
    return ratios


def _attention(r: ConfigReader, ratio: int) -> Attention:
    heads = r.integer("num_attention_heads", hi=MAX_HEADS)
    head_dim = r.integer("head_dim")
    groups = r.integer("o_groups", hi=MAX_HEADS)
    if heads % groups:
        raise ConfigError(
            f"{r.origin}: num_attention_heads={heads} is not a multiple of o_groups={groups}",
            "the grouped output projection splits the heads into equal groups",
        )
    comp = Compressed(
        ratio=ratio,
        q_lora_rank=r.integer("q_lora_rank"),
        o_groups=groups,
        o_lora_rank=r.integer("o_lora_rank"),
        rope_dim=r.integer("qk_rope_head_dim", default=64, hi=head_dim),
    )
    indexer = None
    if ratio == 4:
        indexer = Indexer(
            num_heads=r.integer("index_n_heads", hi=MAX_HEADS),
            head_dim=r.integer("index_head_dim"),
            topk=r.integer("index_topk", hi=1 << 30),
        )
    kind = {0: AttentionKind.MQA, 4: AttentionKind.CSA, 128: AttentionKind.HCA}[ratio]
    return Attention(
        kind=kind,
        num_heads=heads,
        num_kv_heads=1,
        head_dim=head_dim,
        v_head_dim=head_dim,
        sliding_window=r.integer("sliding_window", default=128, hi=1 << 30),
        sinks=True,
        indexer=indexer,
        compressed=comp,
    )


def _hash_layers(r: ConfigReader, n: int) -> int:
    types = r.str_list("mlp_layer_types")
    if types:
        return sum(t == "hash_moe" for t in types[:n])
    return min(n, r.integer("num_hash_layers", default=0, lo=0, hi=MAX_LAYERS))


def parse_deepseek_v4(r: ConfigReader) -> FamilyParse:
    """DeepSeek-V4-Flash / V4-Pro: every layer is MoE (routed + shared experts)."""
    _, n, _ = base_dims(r)
    ratios = _ratios(r, n)
    num, topk = experts(r, "n_routed_experts")
    size = r.integer("moe_intermediate_size")
    shared = r.integer("n_shared_experts", default=1, lo=0, hi=MAX_EXPERTS)
    moe = Moe(
        num_experts=num,
        experts_per_token=topk,
        expert=Mlp(size),
        shared=Mlp(size * shared) if shared else None,
        num_shared_experts=shared,
    )
    hashed = replace(moe, hash_routed=True)
    n_hash = _hash_layers(r, n)
    atts = {x: _attention(r, x) for x in set(ratios)}
    layers = tuple(
        Layer(attention=atts[ratios[i]], moe=hashed if i < n_hash else moe) for i in range(n)
    )
    n_mtp = r.integer("num_nextn_predict_layers", default=0, lo=0, hi=MAX_LAYERS)
    # MTP layers take the ratios after the main ones (0 in the released configs), and
    # route by score, not by hash (the checkpoint has no tid2eid table for them).
    mtp = tuple(
        Layer(attention=atts.get(x) or _attention(r, x), moe=moe)
        for x in (ratios[n + j] if n + j < len(ratios) else 0 for j in range(n_mtp))
    )
    notes: tuple[str, ...] = (
        f"hybrid attention: {ratios[:n].count(4)} CSA, {ratios[:n].count(128)} HCA and "
        f"{ratios[:n].count(0)} window-only layers; {n_hash} hash-routed MoE layers",
    )
    if n_mtp:
        notes += (
            f"{n_mtp} multi-token-prediction layer(s) are stored in the checkpoint but are not "
            "part of the main model; counted separately as params_mtp",
        )
    return FamilyParse(
        layers,
        tie_default=False,
        mtp_layers=mtp,
        notes=notes,
        hyper_streams=r.integer("hc_mult", default=4, hi=64),
    )
