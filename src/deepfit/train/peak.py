"""Peak GPU memory of a training step, as the framework allocates it.

The step goes through three high-water marks; the allocated peak is the largest, on top
of the weights and optimizer states that live throughout:

* **end of forward**: the saved activations of every micro-batch in flight, the loss
  (logits, their fp32 upcast and gradient: :mod:`.framework`) and the first gradient the
  backward pass writes (the head's). Gradients of earlier micro-batches are alive too when
  they accumulate (``m > 1``); otherwise ``zero_grad(set_to_none=True)`` freed them. Under
  autocast over fp32 weights the bf16 weight copies are alive through the forward, and
  still saved when the backward starts unless layers are recomputed.
* **end of backward**: every gradient, plus, under recomputation, the kept layer inputs
  and the working set of the layer being recomputed (the loss is freed by then).
* **optimizer step**: every gradient, plus the step's temporaries (:mod:`.methods`).

With the optimizer in the backward pass, a gradient lives only until its parameter is
stepped: the largest one stands for them all. Activation offloading keeps only the layer
being computed on the GPU.

Reserved memory is the allocated peak plus the caching allocator's overhead; NVML's
"used" adds the CUDA context. ``fits`` compares NVML-level use with the memory CUDA
reports, and states the margin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..memory.layout import stage_layers
from ..models.architecture import Architecture, NormKind
from ..models.tensors import Role, tensors
from .activations import (
    ActShape,
    bnb_saved_bytes,
    layer_activation_bytes,
    logits_bytes,
    stage_activation_bytes,
)
from .framework import ALLOCATOR_OVERHEAD, CUDA_CONTEXT_BYTES, Framework, Runtime
from .layout import TrainLayout
from .lora import TARGETS, lora_params
from .methods import Method, Recompute
from .states import ModelStates, Recipe


@dataclass(frozen=True)
class Peak:
    """The peak and its parts, bytes per GPU (heaviest stage)."""

    saved_activations: float
    loss: float
    step_temp: float
    forward: float  # beyond weights and optimizer states, at each high-water mark
    backward: float
    step: float
    autocast_cache: float = 0.0  # bf16 copies of fp32 weights autocast holds in the forward

    @property
    def transient(self) -> float:
        return max(self.forward, self.backward, self.step)

    @property
    def phase(self) -> str:
        marks = {"forward": self.forward, "backward": self.backward, "optimizer step": self.step}
        return max(marks, key=lambda k: marks[k])

    def to_dict(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "saved_activations_bytes": round(self.saved_activations),
            "loss_bytes": round(self.loss),
            "optimizer_step_temp_bytes": round(self.step_temp),
            "autocast_weight_cache_bytes": round(self.autocast_cache),
        }


def reserved_bytes(allocated: float) -> int:
    """What the caching allocator holds for an allocated peak."""
    return round(allocated * (1 + ALLOCATOR_OVERHEAD))


def nvml_bytes(allocated: float) -> int:
    """NVML "used": reserved plus CUDA context, cuBLAS workspace and NCCL buffers."""
    return reserved_bytes(allocated) + CUDA_CONTEXT_BYTES


def autocast_fp32(recipe: Recipe, rt: Runtime) -> bool:
    """Whether the model's own weights are fp32 under bf16 autocast (:mod:`.framework`):
    full training with a master-weight optimizer in a family that trains that way."""
    spec = rt.framework.spec
    return (
        spec.autocast_fp32_weights
        and recipe.method is Method.FULL
        and bool(recipe.optimizer.spec.master_bytes)
    )


def autocast_cache_bytes(
    arch: Architecture, recipe: Recipe, lay: TrainLayout, rt: Runtime
) -> float:
    """The bf16 copies autocast caches of the fp32 weights matmuls read (every weight but
    the norms and an untied embedding, which is a lookup; LoRA: the fp32 adapters)."""
    if not rt.framework.spec.autocast_fp32_weights:
        return 0.0
    if recipe.method is not Method.FULL:
        return 2.0 * lora_params(arch, recipe.lora) / lay.tp
    if not autocast_fp32(recipe, rt):
        return 0.0
    skip = {Role.NORM} | (set() if arch.tie_word_embeddings else {Role.EMBED})
    return 2.0 * sum(t.numel for t in tensors(arch) if t.role not in skip) / (lay.tp * lay.pp)


def act_shape(arch: Architecture, lay: TrainLayout, seq_len: int, micro_batch: int,
              flash: bool, recipe: Recipe, rt: Runtime) -> ActShape:  # fmt: skip
    """The activation shape with the framework's kernels: an eager RMSNorm keeps its fp32
    input (4 B), plus its bf16 output when the norm's weight trains (6 B), or its fp32
    output when the weights are fp32 under autocast (8 B); fused kernels and LayerNorm
    keep the 16-bit input (2 B)."""
    fp32 = autocast_fp32(recipe, rt)
    norm = 2.0
    if not rt.fused and arch.norm is NormKind.RMS:
        norm = (8.0 if fp32 else 6.0) if recipe.method is Method.FULL else 4.0
    return ActShape(
        seq_len,
        micro_batch,
        lay.tp,
        lay.sequence_parallel,
        flash,
        norm_bytes=norm,
        score_bytes=rt.framework.spec.eager_score_bytes,
        unfused_swiglu=not rt.fused,
        residual_bytes=4.0 if fp32 else 2.0,
        projection_casts=fp32,
    )


def _lora_dropout(arch: Architecture, recipe: Recipe, shape: ActShape, layers: int,
                  per_projection: bool) -> float:  # fmt: skip
    """A 1-byte mask and a 16-bit copy of each distinct adapter input, per layer; of each
    adapted projection's input when every projection drops out on its own (PEFT)."""
    roles = TARGETS[recipe.lora.targets]
    layer0 = arch.layers[0]
    h = arch.hidden_size
    f = layer0.mlp.intermediate_size if layer0.mlp is not None else 0
    width = 0
    if per_projection:
        inputs = {
            Role.ATTN_Q: h,
            Role.ATTN_K: h,
            Role.ATTN_V: h,
            Role.ATTN_O: layer0.attention.q_dim,
        }
        if layer0.mlp is not None:
            inputs |= {Role.FFN_GATE: h, Role.FFN_UP: h, Role.FFN_DOWN: f}
        width = sum(w for role, w in inputs.items() if role in roles)
        return 3.0 * shape.tokens * width * layers / shape.tp
    if roles & {Role.ATTN_Q, Role.ATTN_K, Role.ATTN_V, Role.MLA_Q_B, Role.MLA_KV_B}:
        width += h
    if Role.ATTN_O in roles:
        width += layer0.attention.q_dim
    if layer0.mlp is not None and roles & {Role.FFN_GATE, Role.FFN_UP}:
        width += h + f
    return 3.0 * shape.tokens * width * layers / shape.tp


def _frozen_inputs(arch: Architecture, shape: ActShape, layers: int) -> float:
    """What the base count keeps for frozen linears' inputs that autograd does not save
    under LoRA: the attention and MLP inputs (2sbh each) and the down projection's (2sbf);
    the output projection's input is attention's saved output either way."""
    layer0 = arch.layers[0]
    if layer0.mlp is None:
        return 0.0
    sp_div = shape.tp if shape.sequence_parallel else 1
    h, f = arch.hidden_size, layer0.mlp.intermediate_size
    per_layer = 2.0 * shape.tokens * (2 * h / sp_div + f / shape.tp)
    return per_layer * layers


def _largest_grad(arch: Architecture, recipe: Recipe, lay: TrainLayout) -> float:
    """Bytes of the largest trainable tensor's gradient slice (the head's, usually)."""
    if recipe.method is not Method.FULL:
        return 0.0
    biggest = max(t.numel // max(t.experts, 1) for t in tensors(arch))  # one expert at a time
    return biggest * recipe.optimizer.spec.grad_bytes / lay.tp


def _saved(arch: Architecture, lay: TrainLayout, shape: ActShape, w_recompute: Recompute,
           rt: Runtime, recipe: Recipe, m: int) -> tuple[float, float, float]:  # fmt: skip
    """(saved activations on the heaviest stage, its loss, one layer's working set)."""
    h = arch.hidden_size
    worst = (0.0, 0.0, 0.0)
    stages = stage_layers(arch.num_layers, lay.pp)
    for i, idx in enumerate(stages):
        in_flight = min(lay.pp - i, m)
        layers = tuple(arch.layers[j] for j in idx)
        working = max(layer_activation_bytes(la, h, shape, Recompute.NONE) for la in layers)
        if rt.activation_offload:
            act = working
        elif w_recompute is Recompute.SELECTIVE and rt.framework is Framework.FSDP:
            # torchtitan's selective AC checkpoints every other layer whole
            full = stage_activation_bytes(layers[::2], h, shape, Recompute.FULL, in_flight, False)
            rest = stage_activation_bytes(layers[1::2], h, shape, Recompute.NONE, in_flight)
            act = full + rest
        else:
            act = stage_activation_bytes(layers, h, shape, w_recompute, in_flight, False)
        if recipe.method is not Method.FULL and w_recompute is Recompute.NONE:
            spec = rt.framework.spec
            if spec.lora_dropout:
                per = _lora_dropout(arch, recipe, shape, len(layers), spec.adapter_per_projection)
                act += per * in_flight
            if spec.adapter_per_projection and recipe.method is Method.LORA:
                act -= _frozen_inputs(arch, shape, len(layers)) * in_flight
            if recipe.method is Method.QLORA and rt.framework.spec.bnb_saves_inputs:
                act += sum(bnb_saved_bytes(la, h, shape) for la in layers) * in_flight
        loss = 0.0
        if i == len(stages) - 1:
            loss = logits_bytes(arch.vocab_size, shape, rt.loss_bytes_per_logit)
        if act + loss > worst[0] + worst[1]:
            worst = (act, loss, working)
    return worst


def peak_memory(arch: Architecture, lay: TrainLayout, states: ModelStates, recipe: Recipe,
                shape: ActShape, recompute: Recompute, rt: Runtime, m: int) -> Peak:  # fmt: skip
    """The step's three high-water marks beyond weights and optimizer states. Autocast's
    weight cache is alive through the forward (the loss's own forward included); without
    recompute the matmuls still hold it when the backward pass starts."""
    act, loss, working = _saved(arch, lay, shape, recompute, rt, recipe, m)
    cache = autocast_cache_bytes(arch, recipe, lay, rt)
    loss_fwd = loss * rt.loss_forward_bytes_per_logit / rt.loss_bytes_per_logit
    grads = float(states.gradients_bytes)
    first = _largest_grad(arch, recipe, lay) * (2 if autocast_fp32(recipe, rt) else 1)
    opt = recipe.optimizer.spec
    shard = states.slice_trainable_params / (lay.dp if lay.zero >= 1 else 1)
    fused = rt.optimizer_in_backward or rt.framework.spec.fused_optimizer
    temp = 0.0 if fused else shard * opt.step_temp_bytes
    if rt.optimizer_in_backward:
        grads = min(grads, first)
    alive = grads if m > 1 else first
    held = cache if recompute is Recompute.NONE else 0.0  # recompute: freed before backward
    return Peak(
        saved_activations=act,
        loss=loss,
        step_temp=temp,
        forward=act + max(loss + alive + held, loss_fwd + cache),
        backward=grads + (act + working if recompute is not Recompute.NONE else 0.0),
        step=grads + temp,
        autocast_cache=cache,
    )
