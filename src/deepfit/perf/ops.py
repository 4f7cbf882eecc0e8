"""Per-operator costs of one forward step on one GPU: FLOPs and bytes moved.

A step processes ``decode_tokens`` tokens of running sequences (each attending to
``decode_context`` earlier tokens) and ``prefill_tokens`` prompt tokens (each attending to
``prefill_context`` tokens on average: half the prompt for a causal prefill in one go).
Costs are for the layers of one pipeline stage, sharded as the layout says.

- Linear layers: 2 FLOPs per weight per token; their weights are read once per step.
- Attention: QK^T and AV, 2 FLOPs per element each; decode reads each sequence's KV cache.
  MLA decodes with the weight absorption vLLM and SGLang use: scores and values are computed
  in the ``kv_lora_rank`` latent space (plus the rope part), the per-head up-projections are
  folded into the query and output sides; prefill decompresses keys and values and runs
  plain multi-head attention, as those engines do.
- DeepSeek sparse attention (V3.2) and V4's hybrid attention: a query reads its window,
  the indexer's top-k (compressed) entries or, for HCA, every compressed entry, and the
  indexer scores every candidate with its own keys; see :func:`_sparse_attention_core`.
- Linear attention (Gated DeltaNet): a fixed cost per token and a fixed state per
  sequence, whatever the context; see :func:`_linear_attention_core`.
- MoE: a token runs ``experts_per_token`` experts; the weights read are those of the
  distinct experts the step's tokens touch: ``E * (1 - (1 - k/E)^T)`` under uniform
  routing. Shared experts and routers are dense.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._cache import by_identity
from ..memory.formats import WeightFormat
from ..memory.kv import KvSpec
from ..memory.layout import Layout
from ..memory.plan import stage_plan
from ..models.architecture import Architecture, Attention


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
    rows_per_expert: float = 0.0  # experts: tokens per touched expert (grouped-GEMM rows)

    @property
    def bytes(self) -> float:
        return self.weight_bytes + self.kv_bytes + self.act_bytes


def touched_experts(num_experts: int, k: int, tokens: int) -> float:
    """Expected distinct experts hit by ``tokens`` tokens routing to ``k`` each (uniform)."""
    if tokens <= 0:
        return 0.0
    return num_experts * (1.0 - (1.0 - k / num_experts) ** tokens)


def _attention_core(
    att: Attention, kv: KvSpec, shape: StepShape, heads: float
) -> tuple[OpCost, ...]:
    """Scores and weighted values for one layer (all heads on this GPU), and the lightning
    indexer's scoring where there is one."""
    if att.linear is not None:
        return (_linear_attention_core(att, kv, shape, heads),)
    if att.compressed is not None or att.indexer is not None:
        return _sparse_attention_core(att, kv, shape, heads)
    return (_dense_attention_core(att, kv, shape, heads),)


def _dense_attention_core(att: Attention, kv: KvSpec, shape: StepShape, heads: float) -> OpCost:
    def ctx(c: float) -> float:
        if att.chunk_size is not None and c > att.chunk_size:
            return att.chunk_size / 2  # within its chunk a token sees half a chunk on average
        return c if att.sliding_window is None else min(c, float(att.sliding_window))

    if att.mla is not None and kv.mla_latent:
        m = att.mla
        per_ctx = 2 * (m.latent_dim + m.kv_lora_rank)  # scores over latent+rope, values
        absorb = 2 * (m.qk_nope_head_dim * m.kv_lora_rank + m.kv_lora_rank * m.v_head_dim)
        # prefill runs as plain multi-head attention over keys and values decompressed from
        # the latent (the same 2 x rank x (nope + v) per position as the absorption)
        prefill_ctx = 2 * (m.qk_nope_head_dim + m.qk_rope_head_dim + m.v_head_dim)
    else:
        per_ctx = prefill_ctx = 2 * (att.head_dim + att.v_head_dim)
        absorb = 0
    flops = heads * (
        shape.decode_tokens * (per_ctx * ctx(shape.decode_context) + absorb)
        + shape.prefill_tokens * (prefill_ctx * ctx(shape.prefill_context) + absorb)
    )
    per_token = kv.layer_bytes_per_token(att)
    kv_read = shape.decode_tokens * ctx(shape.decode_context) * per_token
    kv_write = shape.tokens * per_token
    return OpCost("attention", flops, 0.0, kv_read + kv_write, compute="attention")


def _linear_attention_core(att: Attention, kv: KvSpec, shape: StepShape, heads: float) -> OpCost:
    """Gated DeltaNet per token and value head: the delta-rule update reads the state
    against the key (2 FLOPs per state element), adds the outer product (2) and reads it
    out with the query (2); the causal convolution costs 2 per channel and tap. A decode
    step reads and writes each sequence's state once; the cost does not grow with context."""
    lin = att.linear
    assert lin is not None
    share = heads / att.num_heads  # this rank's fraction of the heads
    per_token = 6 * heads * lin.head_k_dim * lin.head_v_dim
    per_token += 2 * lin.conv_kernel * lin.conv_dim * share
    state = kv.state_bytes(att)
    sequences = shape.decode_tokens + (1 if shape.prefill_tokens else 0)
    return OpCost(
        "attention", shape.tokens * per_token, 0.0, 2 * sequences * state, compute="attention"
    )


def _sparse_reads(att: Attention, context: float) -> tuple[float, float, float]:
    """(uncompressed entries, compressed entries, indexer keys) one query reads at
    ``context``: DeepSeek-V4 reads its window, then all HCA entries or the indexer's top-k
    CSA entries; V3.2 (MLA + indexer) reads the top-k tokens, scoring all of them."""
    idx, c = att.indexer, att.compressed
    if c is None:  # V3.2 DSA over the whole context
        assert idx is not None
        return min(context, float(idx.topk)), 0.0, context
    window = min(context, float(att.sliding_window or 0))
    if not c.ratio:
        return window, 0.0, 0.0
    entries = context / c.ratio
    if idx is None:
        return window, entries, 0.0
    return window, min(entries, float(idx.topk)), entries


def _sparse_attention_core(
    att: Attention, kv: KvSpec, shape: StepShape, heads: float
) -> tuple[OpCost, ...]:
    """DeepSeek sparse and compressed attention. Each attended entry costs 2 FLOPs per
    element for scores and 2 for values per head (MLA in the latent space, as vLLM runs it).
    The indexer (its own op) scores every candidate with all its heads on every rank, in the
    checkpoint's matmul format (FP8 in the released models, as DeepGEMM runs it)."""
    if att.mla is not None and kv.mla_latent:
        m = att.mla
        per_entry = 2 * (m.latent_dim + m.kv_lora_rank)
        absorb = 2 * (m.qk_nope_head_dim * m.kv_lora_rank + m.kv_lora_rank * m.v_head_dim)
    else:
        per_entry, absorb = 2 * (att.head_dim + att.v_head_dim), 0
    idx = att.indexer
    per_score = 2 * idx.num_heads * idx.head_dim if idx else 0
    parts = kv.parts(att)
    entry = parts[0].bytes_per_token  # window entry (V4) or latent token (V3.2)
    compressed_entry = entry if att.compressed else 0.0
    index_key = kv.indexer_bytes(idx.head_dim) if idx else 0.0

    def per_query(context: float) -> tuple[float, float, float, float]:
        window, picked, scored = _sparse_reads(att, context)
        flops = heads * (per_entry * (window + picked) + absorb)
        read = entry * window + compressed_entry * picked
        return flops, read, per_score * scored, index_key * scored

    d_flops, d_read, d_score, d_keys = per_query(shape.decode_context)
    p_flops, _, p_score, _ = per_query(shape.prefill_context)
    flops = shape.decode_tokens * d_flops + shape.prefill_tokens * p_flops
    kv_write = shape.tokens * sum(p.bytes_per_token for p in parts)
    core = OpCost(
        "attention", flops, 0.0, shape.decode_tokens * d_read + kv_write, compute="attention"
    )
    if idx is None:
        return (core,)
    scores = shape.decode_tokens * d_score + shape.prefill_tokens * p_score
    return core, OpCost("indexer", scores, 0.0, shape.decode_tokens * d_keys)


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
    plan = stage_plan(arch, fmt, layout, stage, layers)
    t_all = shape.tokens
    ops: list[OpCost] = []
    if plan.embed_width:
        ops.append(OpCost("embedding", 0.0, t_all * plan.embed_width * act_bytes_per_elem))
    for name, w in plan.ops.items():
        tokens: float = t_all
        if name == "lm_head":
            tokens = max(shape.decode_tokens, 1)  # logits only where a token is sampled
        elif name == "attn_proj":
            tokens = t_all / layout.kv_ranks  # DP attention: each rank its own sequences
        ops.append(OpCost(name, 2 * tokens * w.params, w.bytes))
    for g in plan.experts:
        touched = touched_experts(g.experts, g.per_token, t_all)
        rows = t_all * g.per_token / touched if touched > 0 else 0.0
        flops = 2 * t_all * g.params * g.per_token / g.experts
        ops.append(OpCost("experts", flops, g.bytes * touched / g.experts, rows_per_expert=rows))
    for att, count in _attention_kinds(arch, layers):
        # TP splits heads; DP attention keeps all heads for 1/tp of the sequences
        for one in _attention_core(att, kv, shape, att.num_heads / layout.tp):
            # the indexer runs whole on every rank: only DP attention divides its work
            share = layout.kv_ranks if one.name == "indexer" else 1
            # with DP attention a rank reads and writes only its own 1/tp of the sequences
            ops.append(
                OpCost(
                    one.name,
                    one.flops * count / share,
                    0.0,
                    one.kv_bytes * count / layout.kv_ranks,
                    compute=one.compute,
                )
            )
    # elementwise traffic: norms, residual adds, activations, ~8 passes over the hidden state;
    # hyper-connections (DeepSeek-V4) widen the residual to ``hyper_streams`` copies of it
    width = arch.hidden_size * max(1, arch.hyper_streams)
    ops.append(
        OpCost(
            "elementwise",
            0.0,
            0.0,
            act_bytes=len(layers) * 8 * t_all * width * act_bytes_per_elem,
        )
    )
    return _merge(ops)


@by_identity
def _attention_kinds(arch: Architecture, layers: range) -> tuple[tuple[Attention, int], ...]:
    """Distinct attention blocks of ``layers`` with how many layers share each."""
    counts: dict[Attention, int] = {}
    for i in layers:
        att = arch.layers[i].attention
        counts[att] = counts.get(att, 0) + 1
    return tuple(counts.items())


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
                op.rows_per_expert,
            )
        merged[op.name] = op
    return list(merged.values())
