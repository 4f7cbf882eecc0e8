"""Memory-bound work of a training step: bytes the step streams through HBM outside the matmuls.

The fitted utilization (:mod:`.mfu`) covers the matmuls and the elementwise work of a
typical model layer. What it cannot cover scales with something other than the layer's
matmul FLOPs, so it is counted here, in bytes read plus written, from the code that runs,
and timed at :data:`HBM_EFFICIENCY` of the GPU's memory bandwidth:

* **optimizer step** (once per step, per trainable parameter on the GPU): PyTorch's
  multi-tensor AdamW (``_multi_tensor_adamw``) makes eight passes: weight decay (read and
  write the parameter), ``lerp`` of m (read m, g; write m), ``mul`` and ``addcmul`` of v
  (2 + 4), ``sqrt`` of v into a temporary (2), ``div`` and ``add`` on it (2 + 2) and
  ``addcdiv`` into the parameter (read p, m, temporary; write p): 21 element accesses. A
  fused AdamW reads p, g, m, v and writes p, m, v: 7. Elements are fp32 when there is a
  master copy or the weights are fp32, bf16 in pure-bf16 training.
* **loss** (per logit): the plain cross-entropy writes the bf16 logits (2), upcasts them
  (read 2, write 4), runs log-softmax (two reads of 4 and a write of 4), and backward writes
  the ``nll_loss`` gradient (4), reads it with the saved output (8), writes the input
  gradient (4), casts it to bf16 (read 4, write 2) and reads it twice for the head's two
  gradient matmuls (4): 46 bytes per logit.
* **PEFT adapters** (per token, Hugging Face family): each adapted projection with input
  width ``d`` and output width ``o`` upcasts its input to fp32 (6d), drops out (9d: fp32 in
  and out and a 1-byte mask), casts to bf16 (6d), reads it in ``lora_A`` (2d), and scales
  and adds the adapter's output (12o); backward reverses each (31d + 8o): ``54d + 20o``;
  full recomputation runs the forward again (``23d + 12o``).
* **autocast over fp32 weights** (Hugging Face ``bf16=True``): every forward pass casts the
  fp32 weights to bf16 (read 4, write 2 per parameter; again in each recomputed forward),
  and every weight gradient is cast to fp32 (read 2, write 4); per token and layer the fp32
  residual stream and the per-projection casts add about ``86h + 24(q + kv)`` bytes (casts
  of the norm output for five projections and their fp32 gradients, fp32 residual adds and
  rotary embeddings, less the upcasts a bf16 model does).

Bytes are per GPU; a tensor-parallel group splits them, data parallelism splits the tokens.
"""

from __future__ import annotations

from ..models.architecture import Architecture
from ..models.tensors import Role
from .framework import Runtime
from .lora import TARGETS
from .methods import Method, Offload, Optimizer, Recompute
from .states import Recipe

#: A streaming kernel's share of the datasheet HBM bandwidth (deepfit's H200 copy moved
#: 4.24 of 4.8 TB/s, benchmarks/device/results/2026-12-04-h200-kernels.jsonl).
HBM_EFFICIENCY = 0.9

FOREACH_ADAMW_ACCESSES = 21
FUSED_ADAMW_ACCESSES = 7
LOSS_BYTES_PER_LOGIT = 46.0
_ADAMW = (Optimizer.ADAMW, Optimizer.ADAMW_BF16, Optimizer.ADAMW_FP32)


def optimizer_step_bytes(recipe: Recipe, params: float, fused: bool, offload: Offload) -> float:
    """Bytes the optimizer step moves for ``params`` trainable elements on one GPU."""
    if recipe.optimizer not in _ADAMW or offload is not Offload.NONE:
        return 0.0  # 8-bit and paged optimizers work block-wise; CPU Adam is off the GPU
    spec = recipe.optimizer.spec
    elem = 4 if spec.master_bytes or spec.weight_bytes == 4 else 2
    accesses = FUSED_ADAMW_ACCESSES if fused else FOREACH_ADAMW_ACCESSES
    return params * accesses * elem


def loss_bytes(arch: Architecture, tokens: float, tp: int) -> float:
    """Bytes the cross-entropy over the vocabulary moves for ``tokens`` tokens."""
    return LOSS_BYTES_PER_LOGIT * tokens * arch.vocab_size / tp


def adapter_bytes_per_token(arch: Architecture, recipe: Recipe, recompute: Recompute) -> float:
    """PEFT's per-projection adapter traffic per token (all layers)."""
    if recipe.method is Method.FULL:
        return 0.0
    roles = TARGETS[recipe.lora.targets]
    total = 0.0
    for layer in arch.layers:
        att = layer.attention
        widths = {
            Role.ATTN_Q: (arch.hidden_size, att.q_dim),
            Role.ATTN_K: (arch.hidden_size, att.kv_dim),
            Role.ATTN_V: (arch.hidden_size, att.num_kv_heads * att.v_head_dim),
            Role.ATTN_O: (att.q_dim, arch.hidden_size),
        }
        if layer.mlp is not None:
            f = layer.mlp.intermediate_size
            widths |= {
                Role.FFN_UP: (arch.hidden_size, f),
                Role.FFN_DOWN: (f, arch.hidden_size),
            }
            if layer.mlp.gated:
                widths[Role.FFN_GATE] = (arch.hidden_size, f)
        again = recompute is Recompute.FULL
        for role, (d, o) in widths.items():
            if role in roles:
                total += 54 * d + 20 * o + ((23 * d + 12 * o) if again else 0)
    return total


def autocast_bytes_per_token(arch: Architecture) -> float:
    """The extra per-token traffic of an fp32 residual stream under autocast (all layers)."""
    return sum(
        86 * arch.hidden_size + 24 * (la.attention.q_dim + la.attention.kv_dim)
        for la in arch.layers
    )


def autocast_bytes_per_pass(params: float, recompute: Recompute) -> float:
    """Weight casts and gradient casts of one micro-batch under autocast over fp32 weights."""
    casts = 2 if recompute is Recompute.FULL else 1
    return params * (6 * casts + 6)


def step_traffic(
    arch: Architecture,
    recipe: Recipe,
    rt: Runtime,
    recompute: Recompute,
    tokens_per_gpu: float,
    micro_batches: int,
    trainable_on_gpu: float,
    optimizer_params: float,
    tp: int,
    offload: Offload,
    autocast: bool,
) -> float:
    """Bytes one GPU streams in one optimizer step outside the matmuls (see module doc)."""
    spec = rt.framework.spec
    fused = rt.optimizer_in_backward or spec.fused_optimizer
    total = optimizer_step_bytes(recipe, optimizer_params, fused, offload)
    total += loss_bytes(arch, tokens_per_gpu, tp)
    if spec.adapter_per_projection:
        total += adapter_bytes_per_token(arch, recipe, recompute) * tokens_per_gpu / tp
    if autocast:
        total += autocast_bytes_per_token(arch) * tokens_per_gpu / tp
        total += autocast_bytes_per_pass(trainable_on_gpu, recompute) * micro_batches
    return total
