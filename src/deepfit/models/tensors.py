"""Every weight tensor of an architecture, with its role and how it shards.

Memory per format (which tensors a quantization leaves in 16 bits, GGUF's per-tensor
mixes) and memory per GPU under tensor/pipeline/expert parallelism both need the list of
tensors, not just totals. The sum of :func:`tensors` equals :func:`count_params` (tested).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum

from .._cache import by_identity
from .architecture import Architecture, Attention, Layer, Mlp, NormKind


class Role(str, Enum):
    """What a tensor is; quantization formats and GGUF mixes decide by role."""

    EMBED = "embed"
    HEAD = "head"
    NORM = "norm"
    BIAS = "bias"
    ATTN_Q = "attn_q"
    ATTN_K = "attn_k"
    ATTN_V = "attn_v"
    ATTN_O = "attn_o"
    MLA_Q_A = "attn_q_a"
    MLA_Q_B = "attn_q_b"
    MLA_KV_A = "attn_kv_a"
    MLA_KV_B = "attn_kv_b"
    FFN_GATE = "ffn_gate"
    FFN_UP = "ffn_up"
    FFN_DOWN = "ffn_down"
    ROUTER = "router"
    MTP_PROJ = "mtp_proj"
    ATTN_COMPRESS = "attn_compress"  # DeepSeek-V4 KV compressor (kv and gate projections)
    INDEXER = "attn_indexer"  # DeepSeek lightning indexer projections
    HYPER = "hyper"  # hyper-connection mixing maps (kept in full precision)


#: The projections of an attention block (MHA/GQA and MLA), and of a feed-forward block.
ATTENTION_ROLES = frozenset(
    {
        Role.ATTN_Q,
        Role.ATTN_K,
        Role.ATTN_V,
        Role.ATTN_O,
        Role.MLA_Q_A,
        Role.MLA_Q_B,
        Role.MLA_KV_A,
        Role.MLA_KV_B,
        Role.ATTN_COMPRESS,
        Role.INDEXER,
    }
)
FFN_ROLES = frozenset({Role.FFN_GATE, Role.FFN_UP, Role.FFN_DOWN})


class Split(str, Enum):
    """How tensor parallelism divides a tensor."""

    ROWS = "rows"  # column-parallel linear (output features) or vocab-parallel table
    COLS = "cols"  # row-parallel linear (input features)
    NONE = "replicated"  # every rank holds all of it (norms, routers, MLA's latent down-proj)


@dataclass(frozen=True)
class Tensor:
    """One weight (or a stack of ``experts`` equal ones). ``rows x cols`` elements each."""

    role: Role
    layer: int | None  # None for embeddings, head and the final norm
    rows: int
    cols: int
    split: Split
    experts: int = 1  # > 1: routed experts, divided by expert parallelism
    shared_expert: bool = False
    mtp: bool = False  # part of a multi-token-prediction module (not the main model)

    @property
    def numel(self) -> int:
        return self.rows * self.cols * self.experts

    @property
    def is_matrix(self) -> bool:
        """A 2-D weight that weight-quantization formats may compress."""
        return self.role not in (Role.NORM, Role.BIAS)


def _indexer(att: Attention, h: int, i: int) -> Iterator[Tensor]:
    idx = att.indexer
    if idx is None:
        return
    # every rank runs the whole indexer (its keys are one head, not split by TP)
    q_rank = att.compressed.q_lora_rank if att.compressed else (att.mla and att.mla.q_lora_rank)
    yield Tensor(Role.INDEXER, i, idx.num_heads * idx.head_dim, q_rank or h, Split.NONE)
    yield Tensor(Role.INDEXER, i, idx.num_heads, h, Split.NONE)
    if att.compressed is None:
        yield Tensor(Role.INDEXER, i, idx.head_dim, h, Split.NONE)
        yield Tensor(Role.NORM, i, 2 * idx.head_dim, 1, Split.NONE)
        return
    width = 2 * idx.head_dim
    yield Tensor(Role.INDEXER, i, 2 * width, h, Split.NONE)
    yield Tensor(Role.BIAS, i, att.compressed.ratio * width, 1, Split.NONE)
    yield Tensor(Role.NORM, i, idx.head_dim, 1, Split.NONE)


def _compressed(att: Attention, h: int, i: int) -> Iterator[Tensor]:
    """DeepSeek-V4: low-rank queries, one K=V head, grouped low-rank output, compressor."""
    c = att.compressed
    assert c is not None
    d = att.head_dim
    yield Tensor(Role.MLA_Q_A, i, c.q_lora_rank, h, Split.NONE)
    yield Tensor(Role.MLA_Q_B, i, att.q_dim, c.q_lora_rank, Split.ROWS)
    yield Tensor(Role.ATTN_K, i, d, h, Split.NONE)
    yield Tensor(Role.ATTN_O, i, c.o_groups * c.o_lora_rank, att.q_dim // c.o_groups, Split.ROWS)
    yield Tensor(Role.ATTN_O, i, h, c.o_groups * c.o_lora_rank, Split.COLS)
    yield Tensor(Role.NORM, i, c.q_lora_rank + d, 1, Split.NONE)
    if att.sinks:
        yield Tensor(Role.BIAS, i, att.num_heads, 1, Split.ROWS)
    if c.ratio:
        width = c.overlap * d
        yield Tensor(Role.ATTN_COMPRESS, i, 2 * width, h, Split.NONE)
        yield Tensor(Role.BIAS, i, c.ratio * width, 1, Split.NONE)
        yield Tensor(Role.NORM, i, d, 1, Split.NONE)
    yield from _indexer(att, h, i)


def _linear(att: Attention, h: int, i: int) -> Iterator[Tensor]:
    """Gated DeltaNet: heads split by tensor parallelism like attention heads."""
    lin = att.linear
    assert lin is not None
    value_dim = lin.num_v_heads * lin.head_v_dim
    yield Tensor(Role.ATTN_Q, i, lin.conv_dim + value_dim, h, Split.ROWS)  # in_proj_qkvz
    yield Tensor(Role.ATTN_Q, i, 2 * lin.num_v_heads, h, Split.ROWS)  # in_proj_ba
    yield Tensor(Role.BIAS, i, lin.conv_dim * lin.conv_kernel, 1, Split.ROWS)  # conv1d
    yield Tensor(Role.BIAS, i, 2 * lin.num_v_heads, 1, Split.ROWS)  # A_log, dt_bias
    yield Tensor(Role.NORM, i, lin.head_v_dim, 1, Split.NONE)
    yield Tensor(Role.ATTN_O, i, h, value_dim, Split.COLS)


def _attention(att: Attention, h: int, i: int) -> Iterator[Tensor]:
    if att.linear is not None:
        yield from _linear(att, h, i)
        return
    if att.compressed is not None:
        yield from _compressed(att, h, i)
        return
    yield from _indexer(att, h, i)
    if att.mla is not None:
        m = att.mla
        if m.q_lora_rank is None:
            yield Tensor(Role.ATTN_Q, i, att.q_dim, h, Split.ROWS)
        else:
            yield Tensor(Role.MLA_Q_A, i, m.q_lora_rank, h, Split.NONE)
            yield Tensor(Role.NORM, i, m.q_lora_rank, 1, Split.NONE)
            yield Tensor(Role.MLA_Q_B, i, att.q_dim, m.q_lora_rank, Split.ROWS)
            if att.qkv_bias:
                yield Tensor(Role.BIAS, i, m.q_lora_rank, 1, Split.NONE)
        yield Tensor(Role.MLA_KV_A, i, m.latent_dim, h, Split.NONE)
        if att.qkv_bias:
            yield Tensor(Role.BIAS, i, m.latent_dim, 1, Split.NONE)
        yield Tensor(Role.NORM, i, m.kv_lora_rank, 1, Split.NONE)
        kv_b = att.num_heads * (m.qk_nope_head_dim + m.v_head_dim)
        yield Tensor(Role.MLA_KV_B, i, kv_b, m.kv_lora_rank, Split.ROWS)
        yield Tensor(Role.ATTN_O, i, h, att.num_heads * m.v_head_dim, Split.COLS)
    else:
        v_dim = att.num_kv_heads * att.v_head_dim
        q_out = att.q_dim * (2 if att.output_gate else 1)
        yield Tensor(Role.ATTN_Q, i, q_out, h, Split.ROWS)
        yield Tensor(Role.ATTN_K, i, att.kv_dim, h, Split.ROWS)
        yield Tensor(Role.ATTN_V, i, v_dim, h, Split.ROWS)
        yield Tensor(Role.ATTN_O, i, h, att.num_heads * att.v_head_dim, Split.COLS)
        if att.qkv_bias:
            yield Tensor(Role.BIAS, i, q_out + att.kv_dim + v_dim, 1, Split.ROWS)
        if att.qk_norm:
            yield Tensor(Role.NORM, i, 2 * att.head_dim, 1, Split.NONE)
        if att.qk_norm_full:
            yield Tensor(Role.NORM, i, att.q_dim + att.kv_dim, 1, Split.ROWS)
        if att.sinks:
            yield Tensor(Role.BIAS, i, att.num_heads, 1, Split.ROWS)
    if att.o_bias:
        yield Tensor(Role.BIAS, i, h, 1, Split.NONE)


def _mlp(mlp: Mlp, h: int, i: int, experts: int = 1, shared: bool = False) -> Iterator[Tensor]:
    n = mlp.intermediate_size
    if mlp.gated:
        yield Tensor(Role.FFN_GATE, i, n, h, Split.ROWS, experts, shared)
    yield Tensor(Role.FFN_UP, i, n, h, Split.ROWS, experts, shared)
    yield Tensor(Role.FFN_DOWN, i, h, n, Split.COLS, experts, shared)
    if mlp.bias:
        yield Tensor(Role.BIAS, i, (2 if mlp.gated else 1) * n, experts, Split.ROWS)
        yield Tensor(Role.BIAS, i, h, experts, Split.NONE)


def _layer(layer: Layer, h: int, i: int, norm_size: int) -> Iterator[Tensor]:
    yield from _attention(layer.attention, h, i)
    if layer.mlp is not None:
        yield from _mlp(layer.mlp, h, i)
    if layer.moe is not None:
        moe = layer.moe
        yield Tensor(Role.ROUTER, i, moe.num_experts, h, Split.NONE)
        if moe.router_bias:
            yield Tensor(Role.BIAS, i, moe.num_experts, 1, Split.NONE)
        yield from _mlp(moe.expert, h, i, experts=moe.num_experts)
        if moe.shared is not None:
            yield from _mlp(moe.shared, h, i, shared=True)
        if moe.shared_gate:
            yield Tensor(Role.ROUTER, i, 1, h, Split.NONE, shared_expert=True)
    yield Tensor(Role.NORM, i, layer.norms * norm_size, 1, Split.NONE)


def _hyper(streams: int, h: int, i: int | None, head: bool) -> Iterator[Tensor]:
    """Hyper-connection maps: two per layer (before attention and MoE), one final head."""
    if streams < 1:
        return
    mix = streams if head else (2 + streams) * streams
    for _ in range(1 if head else 2):
        yield Tensor(Role.HYPER, i, mix, streams * h, Split.NONE)
        yield Tensor(Role.BIAS, i, mix + (1 if head else 3), 1, Split.NONE)


@by_identity
def tensors(arch: Architecture, *, include_mtp: bool = False) -> tuple[Tensor, ...]:
    """All weight tensors, main model first; MTP modules only with ``include_mtp``."""
    h = arch.hidden_size
    norm_size = h * (2 if arch.norm is NormKind.LAYER else 1)
    out = [Tensor(Role.EMBED, None, arch.vocab_size, h, Split.ROWS)]
    n = arch.hyper_streams
    for i, layer in enumerate(arch.layers):
        out.extend(_layer(layer, h, i, norm_size))
        out.extend(_hyper(n, h, i, head=False))
    out.append(Tensor(Role.NORM, None, norm_size, 1, Split.NONE))
    out.extend(_hyper(n, h, None, head=True))
    if not arch.tie_word_embeddings:
        out.append(Tensor(Role.HEAD, None, arch.vocab_size, h, Split.ROWS))
    if include_mtp:
        for j, layer in enumerate(arch.mtp_layers):
            i = arch.num_layers + j
            own = (*_layer(layer, h, i, norm_size), *_hyper(n, h, i, False), *_hyper(n, h, i, True))
            out.extend(_as_mtp(t) for t in own)
            out.append(Tensor(Role.MTP_PROJ, i, h, 2 * h, Split.NONE, mtp=True))
            out.append(Tensor(Role.NORM, i, 3 * norm_size, 1, Split.NONE, mtp=True))
    return tuple(out)


def _as_mtp(t: Tensor) -> Tensor:
    return Tensor(t.role, t.layer, t.rows, t.cols, t.split, t.experts, t.shared_expert, True)
