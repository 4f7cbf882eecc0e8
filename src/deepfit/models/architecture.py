"""Typed model architecture, parsed from a Hugging Face ``config.json``.

An :class:`Architecture` holds only what decides sizes and costs: the shapes of every
layer (attention kind and dims, dense MLP or mixture of experts, norms, sliding window),
the embeddings and head, and DeepSeek-V3's multi-token-prediction (MTP) layers kept apart
from the main stack. Nothing here knows about bytes, GPUs or engines.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from .vision import VisionTower


class AttentionKind(str, Enum):
    """How keys and values are shaped, which decides the KV cache."""

    MHA = "mha"  # one K/V head per query head
    GQA = "gqa"  # groups of query heads share a K/V head
    MQA = "mqa"  # one K/V head for all query heads
    MLA = "mla"  # DeepSeek multi-head latent attention (compressed latent K/V)
    CSA = "csa"  # DeepSeek-V4 compressed sparse attention (1 entry per m tokens, top-k read)
    HCA = "hca"  # DeepSeek-V4 heavily compressed attention (1 entry per m' tokens, all read)
    LINEAR = "gated_deltanet"  # linear attention: a fixed-size recurrent state per sequence


class NormKind(str, Enum):
    RMS = "rmsnorm"  # weight only
    LAYER = "layernorm"  # weight and bias


@dataclass(frozen=True)
class MlaDims:
    """DeepSeek multi-head latent attention dimensions (config names kept)."""

    q_lora_rank: int | None  # None: queries are projected directly, no low-rank stage
    kv_lora_rank: int
    qk_nope_head_dim: int
    qk_rope_head_dim: int
    v_head_dim: int

    @property
    def latent_dim(self) -> int:
        """Elements cached per token per layer by MLA-aware engines."""
        return self.kv_lora_rank + self.qk_rope_head_dim


@dataclass(frozen=True)
class Indexer:
    """DeepSeek's lightning indexer: scores every earlier (compressed) entry with its own
    small keys and keeps the ``topk`` best for the core attention (V3.2 DSA, V4 CSA)."""

    num_heads: int
    head_dim: int
    topk: int


@dataclass(frozen=True)
class Compressed:
    """DeepSeek-V4 attention: one K=V head of ``head_dim`` in a sliding window, plus (when
    ``ratio`` > 0) one compressed entry per ``ratio`` tokens; low-rank queries and a grouped
    low-rank output projection (``o_groups`` groups, each to ``o_lora_rank``)."""

    ratio: int  # 0: the window only
    q_lora_rank: int
    o_groups: int
    o_lora_rank: int
    rope_dim: int  # trailing channels of each entry that carry RoPE (kept in 16 bits)

    @property
    def overlap(self) -> int:
        """CSA's compressor keeps two overlapping series (2x width); HCA's one."""
        return 2 if self.ratio == 4 else 1


@dataclass(frozen=True)
class LinearAttention:
    """Gated DeltaNet (Qwen3-Next): keys/queries of ``num_k_heads`` x ``head_k_dim``, values
    of ``num_v_heads`` x ``head_v_dim``, a causal depthwise convolution of ``conv_kernel``
    over q, k and v, and per value head a ``head_k_dim`` x ``head_v_dim`` state."""

    num_k_heads: int
    num_v_heads: int
    head_k_dim: int
    head_v_dim: int
    conv_kernel: int

    @property
    def conv_dim(self) -> int:
        return 2 * self.num_k_heads * self.head_k_dim + self.num_v_heads * self.head_v_dim

    @property
    def state_elements(self) -> int:
        """Elements one sequence keeps: the recurrent state and the convolution's last
        ``conv_kernel - 1`` inputs."""
        recurrent = self.num_v_heads * self.head_k_dim * self.head_v_dim
        return recurrent + (self.conv_kernel - 1) * self.conv_dim


@dataclass(frozen=True)
class Attention:
    """One attention block. ``head_dim`` is the query/key head size, ``v_head_dim`` the value's."""

    kind: AttentionKind
    num_heads: int
    num_kv_heads: int
    head_dim: int
    v_head_dim: int
    qkv_bias: bool = False
    o_bias: bool = False
    qk_norm: bool = False  # per-head RMSNorm on q and k (Qwen3)
    qk_norm_full: bool = False  # one RMSNorm over all q heads and one over all k heads (MiniMax-M2)
    sliding_window: int | None = None  # tokens this layer attends to; None = full context
    chunk_size: int | None = None  # chunked local attention (Llama 4): only the current chunk
    mla: MlaDims | None = None
    sinks: bool = False  # one learned attention-sink logit per head (gpt-oss, DeepSeek-V4)
    indexer: Indexer | None = None  # DSA / CSA top-k selection
    compressed: Compressed | None = None  # DeepSeek-V4 hybrid attention
    output_gate: bool = False  # q_proj also emits a sigmoid gate on the output (Qwen3-Next)
    linear: LinearAttention | None = None  # linear attention instead of softmax attention

    @property
    def q_dim(self) -> int:
        return self.num_heads * self.head_dim

    @property
    def kv_dim(self) -> int:
        """Width of K (and, with ``v_head_dim``, of V) as a plain transformer stores them."""
        return self.num_kv_heads * self.head_dim


@dataclass(frozen=True)
class Mlp:
    """A feed-forward block; ``gated`` means gate+up+down (SwiGLU/GeGLU), else up+down."""

    intermediate_size: int
    gated: bool = True
    bias: bool = False


@dataclass(frozen=True)
class Moe:
    """A mixture-of-experts block.

    ``shared`` is the always-on expert path (DeepSeek's shared experts are fused into one
    MLP of ``num_shared_experts * moe_intermediate_size``); ``shared_gate`` is Qwen2-MoE's
    sigmoid gate on it.
    """

    num_experts: int
    experts_per_token: int
    expert: Mlp
    shared: Mlp | None = None
    num_shared_experts: int = 0
    shared_gate: bool = False
    router_bias: bool = False
    hash_routed: bool = False  # experts chosen by a fixed token-id table (DeepSeek-V4 first layers)


@dataclass(frozen=True)
class Layer:
    """One decoder layer: attention, then either a dense MLP or a MoE block."""

    attention: Attention
    mlp: Mlp | None = None
    moe: Moe | None = None
    norms: int = 2  # hidden-size norms in the layer (Gemma 2 has 4)


@dataclass(frozen=True)
class Architecture:
    """A decoder-only LLM's shapes. Sizes are element counts; nothing is in bytes."""

    model_id: str
    family: str
    model_type: str
    hidden_size: int
    vocab_size: int
    layers: tuple[Layer, ...]
    tie_word_embeddings: bool
    norm: NormKind = NormKind.RMS
    max_position_embeddings: int | None = None
    rope_theta: float | None = None
    rope_scaling: str | None = None
    torch_dtype: str | None = None
    mtp_layers: tuple[Layer, ...] = ()  # DeepSeek-V3 multi-token prediction, not in the main stack
    hyper_streams: int = 0  # manifold-constrained hyper-connection streams (V4: 4); 0 = none
    quantization: Mapping[str, Any] | None = None  # the checkpoint's quantization_config, as data
    vision: VisionTower | None = None  # a multimodal config's vision encoder and projector
    notes: tuple[str, ...] = field(default=())

    @property
    def num_layers(self) -> int:
        return len(self.layers)

    @property
    def is_moe(self) -> bool:
        return any(layer.moe is not None for layer in self.layers)

    @property
    def moe_layers(self) -> tuple[int, ...]:
        """Indices of the layers that hold a mixture of experts."""
        return tuple(i for i, layer in enumerate(self.layers) if layer.moe is not None)

    @property
    def dense_layers(self) -> tuple[int, ...]:
        return tuple(i for i, layer in enumerate(self.layers) if layer.moe is None)

    @property
    def attention_kinds(self) -> frozenset[AttentionKind]:
        return frozenset(layer.attention.kind for layer in self.layers)

    @property
    def chunked_layers(self) -> tuple[int, ...]:
        return tuple(i for i, la in enumerate(self.layers) if la.attention.chunk_size is not None)

    @property
    def sliding_window_layers(self) -> tuple[int, ...]:
        return tuple(
            i for i, layer in enumerate(self.layers) if layer.attention.sliding_window is not None
        )

    def summary(self) -> dict[str, Any]:
        """The architecture as JSON-ready data (what `deepfit info` shows)."""
        first = self.layers[0]
        att = first.attention
        moe_layer = next((layer.moe for layer in self.layers if layer.moe is not None), None)
        dense = next((layer.mlp for layer in self.layers if layer.mlp is not None), None)
        out: dict[str, Any] = {
            "id": self.model_id,
            "family": self.family,
            "model_type": self.model_type,
            "num_layers": self.num_layers,
            "hidden_size": self.hidden_size,
            "vocab_size": self.vocab_size,
            "tie_word_embeddings": self.tie_word_embeddings,
            "norm": self.norm.value,
            "attention": {
                "kind": att.kind.value,
                "num_heads": att.num_heads,
                "num_kv_heads": att.num_kv_heads,
                "head_dim": att.head_dim,
                "v_head_dim": att.v_head_dim,
                "qkv_bias": att.qkv_bias,
                "o_bias": att.o_bias,
                "qk_norm": att.qk_norm,
                "sliding_window_layers": list(self.sliding_window_layers),
                "sliding_window": next(
                    (
                        la.attention.sliding_window
                        for la in self.layers
                        if la.attention.sliding_window is not None
                    ),
                    None,
                ),
            },
            "intermediate_size": dense.intermediate_size if dense else None,
            "max_position_embeddings": self.max_position_embeddings,
            "rope_theta": self.rope_theta,
            "rope_scaling": self.rope_scaling,
            "torch_dtype": self.torch_dtype,
            "mtp_layers": len(self.mtp_layers),
        }
        kinds = sorted({la.attention.kind.value for la in self.layers})
        if len(kinds) > 1:
            out["attention"]["layer_kinds"] = {
                k: sum(la.attention.kind.value == k for la in self.layers) for k in kinds
            }
        if att.sinks:
            out["attention"]["sinks"] = True
        if self.chunked_layers:
            out["attention"]["chunked_layers"] = list(self.chunked_layers)
            out["attention"]["chunk_size"] = next(
                la.attention.chunk_size for la in self.layers if la.attention.chunk_size
            )
        if self.hyper_streams:
            out["hyper_connection_streams"] = self.hyper_streams
        idx = next((la.attention.indexer for la in self.layers if la.attention.indexer), None)
        if idx is not None:
            out["attention"]["indexer"] = {
                "num_heads": idx.num_heads,
                "head_dim": idx.head_dim,
                "topk": idx.topk,
            }
        if att.compressed is not None:
            c = att.compressed
            out["attention"]["compress_ratios"] = [
                la.attention.compressed.ratio if la.attention.compressed else 0
                for la in self.layers
            ]
            out["attention"]["q_lora_rank"] = c.q_lora_rank
            out["attention"]["o_groups"] = c.o_groups
            out["attention"]["o_lora_rank"] = c.o_lora_rank
        if att.mla is not None:
            m = att.mla
            out["attention"]["mla"] = {
                "q_lora_rank": m.q_lora_rank,
                "kv_lora_rank": m.kv_lora_rank,
                "qk_nope_head_dim": m.qk_nope_head_dim,
                "qk_rope_head_dim": m.qk_rope_head_dim,
                "v_head_dim": m.v_head_dim,
            }
        if moe_layer is not None:
            out["moe"] = {
                "num_experts": moe_layer.num_experts,
                "experts_per_token": moe_layer.experts_per_token,
                "expert_intermediate_size": moe_layer.expert.intermediate_size,
                "num_shared_experts": moe_layer.num_shared_experts,
                "shared_intermediate_size": (
                    moe_layer.shared.intermediate_size if moe_layer.shared else None
                ),
                "moe_layers": len(self.moe_layers),
                "dense_layers": list(self.dense_layers),
            }
        if self.quantization:
            out["checkpoint_quantization"] = dict(self.quantization)
        if self.notes:
            out["notes"] = list(self.notes)
        return out
