"""Per-operator costs of one forward step on one GPU: FLOPs and bytes moved.

A step processes ``decode_tokens`` tokens of running sequences (each attending to
``decode_context`` earlier tokens) and ``prefill_tokens`` prompt tokens (each attending to
``prefill_context`` tokens on average: half the prompt for a causal prefill in one go).
Costs are for the layers of one pipeline stage, sharded as the layout says.

- Linear layers: 2 FLOPs per weight per token; their weights are read once per step.
- Attention: QK^T and AV, 2 FLOPs per element each; decode reads each sequence's KV cache.
  MLA runs with the weight absorption vLLM and SGLang use: scores and values are computed
  in the ``kv_lora_rank`` latent space (plus the rope part), the per-head up-projections are
  folded into the query and output sides.
- MoE: a token runs ``experts_per_token`` experts; the weights read are those of the
  distinct experts the step's tokens touch: ``E * (1 - (1 - k/E)^T)`` under uniform
  routing. Shared experts and routers are dense.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..memory.formats import WeightFormat, tensor_bytes
from ..memory.kv import KvSpec
from ..memory.layout import Layout, on_stage, shard
from ..models.architecture import Architecture, Attention
from ..models.tensors import Role, tensors


@dataclass(frozen=True)
class StepShape:
    decode_tokens: int = 0
    decode_context: float = 0.0
    prefill_tokens: int = 0
    prefill_context: float = 0.0

    @property
    def tokens(self) -> int:
        return self.decode_tokens + self.prefill_tokens


@dataclass(frozen=True)
class OpCost:
    """One operator class of a step on one GPU. Bytes are what must cross HBM."""

    name: str
    flops: float
    weight_bytes: float
    kv_bytes: float = 0.0
    act_bytes: float = 0.0
    compute: str = "weights"  # "weights": the format's matmul dtype; "attention": bf16/fp16

    @property
    def bytes(self) -> float:
        return self.weight_bytes + self.kv_bytes + self.act_bytes


_ATTN_PROJ = {
    Role.ATTN_Q,
    Role.ATTN_K,
    Role.ATTN_V,
    Role.ATTN_O,
    Role.MLA_Q_A,
    Role.MLA_Q_B,
    Role.MLA_KV_A,
    Role.MLA_KV_B,
}


def touched_experts(num_experts: int, k: int, tokens: int) -> float:
    """Expected distinct experts hit by ``tokens`` tokens routing to ``k`` each (uniform)."""
    if tokens <= 0:
        return 0.0
    return num_experts * (1.0 - (1.0 - k / num_experts) ** tokens)


def _attention_core(att: Attention, kv: KvSpec, shape: StepShape, heads: float) -> OpCost:
    """Scores and weighted values for one layer (all heads on this GPU)."""

    def ctx(c: float) -> float:
        return c if att.sliding_window is None else min(c, float(att.sliding_window))

    if att.mla is not None and kv.mla_latent:
        m = att.mla
        per_ctx = 2 * (m.latent_dim + m.kv_lora_rank)  # scores over latent+rope, values
        absorb = 2 * (m.qk_nope_head_dim * m.kv_lora_rank + m.kv_lora_rank * m.v_head_dim)
    else:
        per_ctx = 2 * (att.head_dim + att.v_head_dim)
        absorb = 0
    flops = heads * (
        shape.decode_tokens * (per_ctx * ctx(shape.decode_context) + absorb)
        + shape.prefill_tokens * (per_ctx * ctx(shape.prefill_context) + absorb)
    )
    per_token = kv.layer_bytes_per_token(att)
    kv_read = shape.decode_tokens * ctx(shape.decode_context) * per_token
    kv_write = shape.tokens * per_token
    return OpCost("attention", flops, 0.0, kv_read + kv_write, compute="attention")


def step_ops(
    arch: Architecture,
    fmt: WeightFormat,
    kv: KvSpec,
    layout: Layout,
    stage: int,
    layers: range,
    shape: StepShape,
    act_bytes_per_elem: int = 2,
) -> list[OpCost]:
    """Operator costs of one step on one GPU of pipeline stage ``stage``."""
    t_all = shape.tokens
    sums: dict[str, list[float]] = {}

    def add(name: str, flops: float, weight: float) -> None:
        cur = sums.setdefault(name, [0.0, 0.0])
        cur[0] += flops
        cur[1] += weight

    last = stage == layout.pp - 1
    for t in tensors(arch):
        if not on_stage(t, stage, layers, layout, arch.tie_word_embeddings) or not t.is_matrix:
            continue
        size = tensor_bytes(t, fmt, arch.num_layers, arch=arch) / shard(t, layout)
        params = t.numel / shard(t, layout)
        if t.role is Role.EMBED:
            add("embedding", 0.0, t_all * t.cols * act_bytes_per_elem)
            if arch.tie_word_embeddings and last:
                add("lm_head", 2 * shape.decode_tokens * params, size)
        elif t.role is Role.HEAD:
            add("lm_head", 2 * max(shape.decode_tokens, 1) * params, size)
        elif t.experts > 1:
            moe = arch.layers[t.layer or 0].moe
            k = moe.experts_per_token if moe else 1
            hit = touched_experts(t.experts, k, t_all) / t.experts
            add("experts", 2 * t_all * params * k / t.experts, size * hit)
        elif t.role is Role.ROUTER:
            add("router", 2 * t_all * params, size)
        elif t.role in _ATTN_PROJ:
            # data-parallel attention: each rank projects only its own sequences' tokens
            add("attn_proj", 2 * t_all * params / (layout.kv_ranks), size)
        else:
            add("mlp", 2 * t_all * params, size)
    ops = [OpCost(name, f, w) for name, (f, w) in sums.items()]
    for i in layers:
        att = arch.layers[i].attention
        # TP splits heads; DP attention keeps all heads for 1/tp of the sequences
        ops.append(_attention_core(att, kv, shape, att.num_heads / layout.tp))
    # elementwise traffic: norms, residual adds, activations, ~8 passes over the hidden state
    ops.append(
        OpCost(
            "elementwise",
            0.0,
            0.0,
            act_bytes=len(layers) * 8 * t_all * arch.hidden_size * act_bytes_per_elem,
        )
    )
    return _merge(ops)


def _merge(ops: list[OpCost]) -> list[OpCost]:
    merged: dict[str, OpCost] = {}
    for op in ops:
        if op.name in merged:
            m = merged[op.name]
            op = OpCost(
                op.name,
                m.flops + op.flops,
                m.weight_bytes + op.weight_bytes,
                m.kv_bytes + op.kv_bytes,
                m.act_bytes + op.act_bytes,
                op.compute,
            )
        merged[op.name] = op
    return list(merged.values())
