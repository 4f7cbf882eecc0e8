"""Exact parameter counts from an :class:`Architecture`.

The counts equal what transformers builds from the same config (checked in
``tests/validation``): every weight matrix, bias and norm that is an ``nn.Parameter``;
buffers (rotary tables, DeepSeek-V3's ``e_score_correction_bias``) are not parameters.

Active parameters per token follow the usual convention for MoE models (Mixtral's
12.9B, DeepSeek-V3's 37B): everything a token passes through, i.e. all non-routed
parameters (embeddings, attention, dense MLPs, shared experts, routers, norms, head) plus
``experts_per_token`` routed experts in each MoE layer. ``active_excluding_embedding``
leaves out the input embedding table, which a token only indexes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .architecture import Architecture, Attention, Layer, Mlp, Moe, NormKind


@dataclass(frozen=True)
class ParamBreakdown:
    """Parameter counts by component (element counts, not bytes)."""

    embedding: int
    attention: int
    mlp: int  # dense feed-forward layers
    experts_routed: int
    experts_shared: int  # shared experts and their gates
    router: int
    norms: int
    head: int  # 0 when tied to the embedding
    active_routed: int  # routed-expert parameters one token uses
    mtp: int = 0  # DeepSeek-V3 multi-token prediction, outside the main model
    hyper: int = 0  # hyper-connection mixing weights (DeepSeek-V4)

    @property
    def total(self) -> int:
        return (
            self.embedding
            + self.attention
            + self.mlp
            + self.experts_routed
            + self.experts_shared
            + self.router
            + self.norms
            + self.head
            + self.hyper
        )

    @property
    def active(self) -> int:
        return self.total - self.experts_routed + self.active_routed

    @property
    def active_excluding_embedding(self) -> int:
        return self.active - self.embedding

    @property
    def non_embedding(self) -> int:
        return self.total - self.embedding - self.head

    def to_dict(self) -> dict[str, int]:
        out = asdict(self)
        out.update(
            total=self.total,
            active=self.active,
            active_excluding_embedding=self.active_excluding_embedding,
            non_embedding=self.non_embedding,
        )
        return out


def mlp_params(mlp: Mlp, hidden: int) -> int:
    mats = 3 if mlp.gated else 2
    bias = 2 * mlp.intermediate_size + hidden if mlp.gated else mlp.intermediate_size + hidden
    return mats * hidden * mlp.intermediate_size + (bias if mlp.bias else 0)


def indexer_params(att: Attention, hidden: int) -> tuple[int, int]:
    """(weights, norms) of a lightning indexer. V3.2's projects one key per token
    (LayerNorm on it); V4's compresses its keys like the layer's own compressor does."""
    idx = att.indexer
    if idx is None:
        return 0, 0
    q_rank = att.compressed.q_lora_rank if att.compressed else (att.mla and att.mla.q_lora_rank)
    q = (q_rank or hidden) * idx.num_heads * idx.head_dim + hidden * idx.num_heads
    if att.compressed is None:
        return q + hidden * idx.head_dim, 2 * idx.head_dim
    width = 2 * idx.head_dim  # two overlapping series, like CSA's own compressor
    return q + 2 * hidden * width + att.compressed.ratio * width, idx.head_dim


def compressed_params(att: Attention, hidden: int) -> tuple[int, int]:
    """(weights, norms) of a DeepSeek-V4 attention block, indexer included."""
    c = att.compressed
    assert c is not None
    d, heads = att.head_dim, att.num_heads
    proj = hidden * c.q_lora_rank + c.q_lora_rank * heads * d  # low-rank queries
    proj += hidden * d  # the shared K=V head
    proj += heads * d * c.o_lora_rank + c.o_groups * c.o_lora_rank * hidden  # grouped output
    proj += heads if att.sinks else 0
    norms = c.q_lora_rank + d
    if c.ratio:
        width = c.overlap * d
        proj += 2 * hidden * width + c.ratio * width  # kv and gate projections, position bias
        norms += d
    idx, idx_norms = indexer_params(att, hidden)
    return proj + idx, norms + idx_norms


def hyper_params(streams: int, hidden: int) -> tuple[int, int]:
    """(per layer, final head) weights of manifold-constrained hyper-connections: before
    attention and before the MoE, a map from the ``streams`` x ``hidden`` state to pre,
    post and comb mixing weights (n + n + n^2), a bias each and three scales."""
    if streams < 1:
        return 0, 0
    mix = (2 + streams) * streams
    per_block = mix * streams * hidden + mix + 3
    return 2 * per_block, streams * streams * hidden + streams + 1


def linear_attention_params(att: Attention, hidden: int) -> tuple[int, int]:
    """(weights, norms) of a Gated DeltaNet block: q/k/v/z and beta/alpha projections,
    the depthwise convolution, per-head decay (A_log) and dt bias, a gated norm, out_proj."""
    lin = att.linear
    assert lin is not None
    value_dim = lin.num_v_heads * lin.head_v_dim
    proj = hidden * (lin.conv_dim + value_dim) + hidden * 2 * lin.num_v_heads
    proj += lin.conv_dim * lin.conv_kernel + 2 * lin.num_v_heads + value_dim * hidden
    return proj, lin.head_v_dim


def attention_params(att: Attention, hidden: int) -> tuple[int, int]:
    """(projection weights and biases, norms inside attention) of one attention block."""
    if att.linear is not None:
        return linear_attention_params(att, hidden)
    if att.compressed is not None:
        return compressed_params(att, hidden)
    if att.mla is not None:
        idx, idx_norms = indexer_params(att, hidden)
        m = att.mla
        if m.q_lora_rank is None:
            q = hidden * att.q_dim
            norms = 0
        else:
            q = hidden * m.q_lora_rank + m.q_lora_rank * att.q_dim
            q += m.q_lora_rank if att.qkv_bias else 0
            norms = m.q_lora_rank
        kv_a = hidden * m.latent_dim + (m.latent_dim if att.qkv_bias else 0)
        kv_b = m.kv_lora_rank * att.num_heads * (m.qk_nope_head_dim + m.v_head_dim)
        o = att.num_heads * m.v_head_dim * hidden + (hidden if att.o_bias else 0)
        return q + kv_a + kv_b + o + idx, norms + m.kv_lora_rank + idx_norms
    v_dim = att.num_kv_heads * att.v_head_dim
    q_out = att.q_dim * (2 if att.output_gate else 1)
    proj = hidden * (q_out + att.kv_dim + v_dim) + att.num_heads * att.v_head_dim * hidden
    if att.qkv_bias:
        proj += q_out + att.kv_dim + v_dim
    if att.o_bias:
        proj += hidden
    proj += att.num_heads if att.sinks else 0
    norms = 2 * att.head_dim if att.qk_norm else 0
    return proj, norms + (att.q_dim + att.kv_dim if att.qk_norm_full else 0)


def _moe_params(moe: Moe, hidden: int) -> tuple[int, int, int, int]:
    """(routed, shared, router, routed active per token) of one MoE block."""
    per_expert = mlp_params(moe.expert, hidden)
    shared = mlp_params(moe.shared, hidden) if moe.shared else 0
    shared += hidden if moe.shared_gate else 0
    router = hidden * moe.num_experts + (moe.num_experts if moe.router_bias else 0)
    return per_expert * moe.num_experts, shared, router, per_expert * moe.experts_per_token


def _layers(layers: tuple[Layer, ...], hidden: int, norm_size: int) -> ParamBreakdown:
    att = mlp = routed = shared = router = norms = active = 0
    for layer in layers:
        a, a_norms = attention_params(layer.attention, hidden)
        att += a
        norms += a_norms + layer.norms * norm_size
        if layer.mlp is not None:
            mlp += mlp_params(layer.mlp, hidden)
        if layer.moe is not None:
            r, s, g, act = _moe_params(layer.moe, hidden)
            routed, shared, router, active = routed + r, shared + s, router + g, active + act
    return ParamBreakdown(0, att, mlp, routed, shared, router, norms, 0, active)


def count_params(arch: Architecture) -> ParamBreakdown:
    """Exact parameter counts of ``arch`` by component, with MoE active counts."""
    h = arch.hidden_size
    norm_size = h * (2 if arch.norm is NormKind.LAYER else 1)
    body = _layers(arch.layers, h, norm_size)
    embedding = arch.vocab_size * h
    head = 0 if arch.tie_word_embeddings else arch.vocab_size * h
    per_layer_hc, head_hc = hyper_params(arch.hyper_streams, h)
    mtp = 0
    if arch.mtp_layers:
        extra = _layers(arch.mtp_layers, h, norm_size)
        # per MTP module: eh_proj (2h -> h, no bias) and enorm, hnorm, shared_head.norm
        # (DeepSeek-V4: e_proj and h_proj, h -> h each, and its own hyper-connections)
        per_module = 2 * h * h + 3 * norm_size + per_layer_hc + head_hc
        mtp = extra.total + len(arch.mtp_layers) * per_module
    return ParamBreakdown(
        embedding=embedding,
        attention=body.attention,
        mlp=body.mlp,
        experts_routed=body.experts_routed,
        experts_shared=body.experts_shared,
        router=body.router,
        norms=body.norms + norm_size,  # + the final norm
        head=head,
        active_routed=body.active_routed,
        mtp=mtp,
        hyper=per_layer_hc * arch.num_layers + head_hc,
    )
