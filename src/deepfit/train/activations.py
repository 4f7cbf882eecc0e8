"""Activation memory for training, per layer and per GPU.

Korthikanti et al. 2022 ("Reducing Activation Recomputation in Large Transformer Models",
eq. 1-6) count, for a GPT layer with 16-bit activations and dropout, ``s*b*h*(34 +
5*a*s/h)`` bytes without recomputation, ``34*s*b*h`` with selective recomputation (the
attention core's ``5*a*s^2*b`` is recomputed), ``2*s*b*h`` with full recomputation, all
divided by ``t`` with tensor and sequence parallelism. The 34 is a sum of what the backward
pass keeps, and :func:`layer_activation_bytes` rebuilds it term by term from the layer's
real widths instead of assuming ``4h`` MLPs and one K/V head per query head:

* norms: each norm's 16-bit input (4sbh for GPT's two LayerNorms);
* attention: the QKV input (2sbh), Q and K (``2*s*b*(q_dim + kv_dim)``: 4sbh with MHA,
  less with GQA), V (``2*s*b*v_dim``), the output projection's input (2sbh), and a 1-byte
  dropout mask (sbh) when dropout is on; MLA adds its latent and low-rank query inputs;
* attention core: softmax output ``2as^2b`` plus, with dropout, its mask and output
  (``3as^2b``); flash attention keeps only fp32 log-sum-exp statistics (``4*a*s*b``);
* dense MLP of width ``f``: its input (2sbh); non-gated, activation input and output
  (``4sbf``, 16sbh at ``f = 4h``); gated (SwiGLU), gate, up and their product (``6sbf``);
  dropout mask (sbh);
* MoE: the input and fp32 router logits, and for each of the ``k`` experts a token is sent
  to, a dispatched copy of its input, the expert's gated activations and its output kept
  for the weighted combine (dropless, no capacity padding); shared experts like a dense MLP.

* q/k norms (Qwen3): each keeps its input's fp32 upcast (and its bf16 output when it
  trains) over q and k;
* autocast over fp32 weights (Hugging Face ``bf16=True``): the residual stream is fp32, so
  a full-recompute checkpoint keeps ``4sbh`` and each projection casts its own bf16 copy of
  the fp32 norm output (three for q, k and v; two for gate and up).

With GPT's shapes (MHA, non-gated ``4h`` MLP, dropout) this equals the paper's
``34*s*b*h + 5*a*s^2*b`` exactly (tested). Without sequence parallelism the norms' inputs,
the QKV and MLP inputs and the dropout masks are not split by ``t`` (``10 + 24/t``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..models.architecture import Layer
from .methods import Recompute

ACT_BYTES = 2  # bf16 activations
LOGIT_BYTES = 4  # fp32 router logits (MoE)


@dataclass(frozen=True)
class ActShape:
    """Tokens of one micro-batch on one GPU and how the layer is split."""

    seq_len: int
    micro_batch: int
    tp: int = 1
    sequence_parallel: bool = True
    flash: bool = True
    dropout: bool = False
    norm_bytes: float = ACT_BYTES  # per element a norm keeps: 4 for an eager fp32 RMSNorm
    score_bytes: float = ACT_BYTES  # per attention score kept without flash attention
    unfused_swiglu: bool = False  # eager SiLU(gate) * up also keeps the SiLU output
    residual_bytes: float = ACT_BYTES  # per element of the residual stream (4 under autocast)
    #: Autocast over fp32 weights casts the fp32 norm output once per projection reading it
    #: (only leaf weights are cached): q, k and v keep three bf16 copies, gate and up two.
    projection_casts: bool = False

    @property
    def tokens(self) -> int:
        return self.seq_len * self.micro_batch


def _attention_terms(layer: Layer, h: int, shape: ActShape) -> tuple[float, float, float]:
    """(split by tp, replicated without SP, attention core) bytes of one attention block."""
    att = layer.attention
    sb, p = shape.tokens, ACT_BYTES
    v_dim = att.num_kv_heads * att.v_head_dim
    q_dim, kv_dim = att.q_dim, att.kv_dim
    extra = 0
    if att.mla is not None:  # MLA expands K and V to every head; keeps latent inputs
        m = att.mla
        kv_dim = att.num_heads * (m.qk_nope_head_dim + m.qk_rope_head_dim)
        v_dim = att.num_heads * m.v_head_dim
        extra = m.latent_dim + (m.q_lora_rank or 0)
    split = float(p * sb * (q_dim + kv_dim + v_dim + att.num_heads * att.v_head_dim + extra))
    readers = (2 if att.mla is not None else 3) if shape.projection_casts else 1
    replicated = readers * p * sb * h + (sb * h if shape.dropout else 0)
    s_eff = min(shape.seq_len, att.sliding_window or shape.seq_len)
    if att.qk_norm or att.qk_norm_full:  # q and k norms keep their input (16-bit in, so <= 6)
        split += min(shape.norm_bytes, 6.0) * sb * (att.q_dim + att.kv_dim)
    if shape.flash:
        core = 4.0 * att.num_heads * sb
    else:
        core = att.num_heads * sb * s_eff * (shape.score_bytes + (1 + p if shape.dropout else 0))
    return split, replicated, core


def _mlp_terms(layer: Layer, h: int, shape: ActShape) -> tuple[float, float]:
    """(split by tp, replicated without SP) bytes of one dense MLP or MoE block."""
    sb, p = shape.tokens, ACT_BYTES
    gated = layer.mlp.gated if layer.mlp is not None else False
    readers = 2 if shape.projection_casts and gated else 1
    replicated = readers * p * sb * h + (sb * h if shape.dropout else 0)
    if layer.mlp is not None:
        f = layer.mlp.intermediate_size
        width = (4 if shape.unfused_swiglu else 3) if layer.mlp.gated else 2
        return width * p * sb * f, replicated
    moe = layer.moe
    if moe is None:
        return 0.0, replicated
    f = moe.expert.intermediate_size
    per_copy = 2 * p * h + (3 if moe.expert.gated else 2) * p * f
    split = moe.experts_per_token * sb * per_copy + LOGIT_BYTES * sb * moe.num_experts
    if moe.shared is not None:
        split += (3 if moe.shared.gated else 2) * p * sb * moe.shared.intermediate_size
    return split, replicated


def layer_activation_bytes(layer: Layer, h: int, shape: ActShape, recompute: Recompute) -> float:
    """Bytes one layer keeps for the backward pass of one micro-batch on one GPU."""
    t = shape.tp
    sp_div = t if shape.sequence_parallel else 1
    if recompute is Recompute.FULL:
        return shape.residual_bytes * shape.tokens * h / sp_div
    a_split, a_rep, core = _attention_terms(layer, h, shape)
    m_split, m_rep = _mlp_terms(layer, h, shape)
    norms = layer.norms * shape.norm_bytes * shape.tokens * h
    if recompute is Recompute.SELECTIVE and not shape.flash:
        core = 0.0
    return (a_split + m_split + core) / t + (norms + a_rep + m_rep) / sp_div


def logits_bytes(vocab_size: int, shape: ActShape, bytes_per_logit: float) -> float:
    """Loss memory of one micro-batch: ``s*b*V`` logits (vocabulary-parallel under tp) at
    the framework's bytes per logit (:mod:`.framework`: bf16 logits, fp32 upcast and
    gradient; less with a chunked cross-entropy)."""
    return bytes_per_logit * shape.tokens * vocab_size / shape.tp


def bnb_saved_bytes(layer: Layer, h: int, shape: ActShape) -> float:
    """What bitsandbytes' 4-bit matmul keeps on top of LoRA's activations: the inputs of
    the MLP's frozen up and down projections (``2h + 2f`` bytes per token)."""
    f = layer.mlp.intermediate_size if layer.mlp is not None else 0
    return ACT_BYTES * shape.tokens * (h + f) / shape.tp


def stage_activation_bytes(
    layers: tuple[Layer, ...],
    h: int,
    shape: ActShape,
    recompute: Recompute,
    in_flight: int,
    with_working: bool = True,
) -> float:
    """A pipeline stage's activations: its layers for ``in_flight`` micro-batches (1F1B
    keeps ``pp - stage`` micro-batches in flight on stage ``stage``). Under full
    recomputation the layer being recomputed holds its whole working set once more
    (``with_working``: during the backward pass, after the loss has been freed)."""
    per_mb = sum(layer_activation_bytes(la, h, shape, recompute) for la in layers)
    working = 0.0
    if recompute is Recompute.FULL and layers and with_working:
        working = max(layer_activation_bytes(la, h, shape, Recompute.NONE) for la in layers)
    return per_mb * in_flight + working
