"""Training FLOPs per token: ``6N`` plus attention (Kaplan et al. 2020; PaLM app. B).

``N`` is the parameters a token passes through in matrix multiplies: the active parameters
without the input embedding (a lookup), plus the head even when it is tied to the
embedding. Each costs 2 FLOPs forward and 4 backward (activation and weight gradients).
Attention adds, per layer and token, ``2*s*a*(d_qk + d_v)`` forward FLOPs for the scores
and the weighted sum over ``s`` keys (``s`` capped by a sliding window), i.e.
``12*L*s*h`` for training with multi-head attention, as in PaLM's MFU definition (no
causal halving, so MFU figures compare with published ones).

With a frozen base (LoRA, QLoRA) the weight-gradient matmuls of the base are skipped:
``4N`` plus ``6 x`` the adapter parameters, attention unchanged. Recomputation re-runs
forward work; it is hardware FLOPs, not model FLOPs (MFU counts model FLOPs only).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..models.architecture import Architecture, Layer
from ..models.params import count_params
from .methods import Method, Recompute


def matmul_params(arch: Architecture) -> int:
    """Parameters one token multiplies through (active, no input embedding, with head)."""
    p = count_params(arch)
    head = arch.vocab_size * arch.hidden_size if arch.tie_word_embeddings else 0
    return p.active_excluding_embedding + head


def _attention_forward(layer: Layer, seq_len: int) -> float:
    att = layer.attention
    s = min(seq_len, att.sliding_window or seq_len)
    d_qk = att.head_dim
    d_v = att.v_head_dim
    if att.mla is not None:
        d_qk = att.mla.qk_nope_head_dim + att.mla.qk_rope_head_dim
        d_v = att.mla.v_head_dim
    return 2.0 * s * att.num_heads * (d_qk + d_v)


@dataclass(frozen=True)
class TokenFlops:
    """FLOPs per trained token: model FLOPs (for MFU) and hardware FLOPs (with recompute)."""

    model: float
    hardware: float
    attention: float = 0.0  # the attention core's share of ``hardware`` (score and value matmuls)


def flops_per_token(
    arch: Architecture,
    seq_len: int,
    method: Method = Method.FULL,
    adapter_params: int = 0,
    recompute: Recompute = Recompute.NONE,
    flash: bool = True,
) -> TokenFlops:
    """Training FLOPs per token at sequence length ``seq_len`` (tokens).

    Selective recomputation re-runs the attention core; with flash attention that is what
    its backward pass does anyway (and what the fitted runs did), so it adds nothing.
    """
    n = matmul_params(arch)
    attn_fwd = sum(_attention_forward(la, seq_len) for la in arch.layers)
    if method is Method.FULL:
        model = 6.0 * n + 3.0 * attn_fwd
    else:
        model = 4.0 * n + 6.0 * adapter_params + 3.0 * attn_fwd
    extra = 0.0
    attention = 3.0 * attn_fwd
    if recompute is Recompute.FULL:
        extra = 2.0 * n + attn_fwd
        attention += attn_fwd
    elif recompute is Recompute.SELECTIVE and not flash:
        extra = attn_fwd
        attention += attn_fwd
    return TokenFlops(model, model + extra, attention)
