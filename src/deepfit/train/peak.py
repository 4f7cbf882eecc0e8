"""Peak GPU memory of a training step, as the framework allocates it.

The step goes through three high-water marks; the allocated peak is the largest, on top
of the weights and optimizer states that live throughout:

* **end of forward**: the saved activations of every micro-batch in flight, the loss
  (logits, their fp32 upcast and gradient: :mod:`.framework`) and the first gradient the
  backward pass writes (the head's). Gradients of earlier micro-batches are alive too when
  they accumulate (``m > 1``); otherwise ``zero_grad(set_to_none=True)`` freed them.
* **end of backward**: every gradient, plus the working set of the last layer recomputed.
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
from .lora import TARGETS
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
        }


def reserved_bytes(allocated: float) -> int:
    """What the caching allocator holds for an allocated peak."""
    return round(allocated * (1 + ALLOCATOR_OVERHEAD))


def nvml_bytes(allocated: float) -> int:
    """NVML "used": reserved plus CUDA context, cuBLAS workspace and NCCL buffers."""
    return reserved_bytes(allocated) + CUDA_CONTEXT_BYTES


def act_shape(arch: Architecture, lay: TrainLayout, seq_len: int, micro_batch: int,
              flash: bool, recipe: Recipe, rt: Runtime) -> ActShape:  # fmt: skip
    """The activation shape with the framework's kernels: an eager RMSNorm keeps its fp32
    input (4 B), plus its bf16 output when the norm's weight trains (6 B); fused kernels
    and LayerNorm keep the 16-bit input (2 B)."""
    norm = 2.0
    if not rt.fused and arch.norm is NormKind.RMS:
        norm = 6.0 if recipe.method is Method.FULL else 4.0
    return ActShape(
        seq_len,
        micro_batch,
        lay.tp,
        lay.sequence_parallel,
        flash,
        norm_bytes=norm,
        score_bytes=rt.framework.spec.eager_score_bytes,
        unfused_swiglu=not rt.fused,
    )


def _lora_dropout(arch: Architecture, recipe: Recipe, shape: ActShape, layers: int) -> float:
    """A 1-byte mask and a 16-bit copy of each distinct adapter input, per layer."""
    roles = TARGETS[recipe.lora.targets]
    layer0 = arch.layers[0]
    h = arch.hidden_size
    width = 0
    if roles & {Role.ATTN_Q, Role.ATTN_K, Role.ATTN_V, Role.MLA_Q_B, Role.MLA_KV_B}:
        width += h
    if Role.ATTN_O in roles:
        width += layer0.attention.q_dim
    if layer0.mlp is not None and roles & {Role.FFN_GATE, Role.FFN_UP}:
        width += h + layer0.mlp.intermediate_size
    return 3.0 * shape.tokens * width * layers / shape.tp


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
            full = stage_activation_bytes(layers[::2], h, shape, Recompute.FULL, in_flight)
            rest = stage_activation_bytes(layers[1::2], h, shape, Recompute.NONE, in_flight)
            act = full + rest
        else:
            act = stage_activation_bytes(layers, h, shape, w_recompute, in_flight)
        if recipe.method is not Method.FULL and w_recompute is Recompute.NONE:
            if rt.framework.spec.lora_dropout:
                act += _lora_dropout(arch, recipe, shape, len(layers)) * in_flight
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
    """The step's three high-water marks beyond weights and optimizer states."""
    act, loss, working = _saved(arch, lay, shape, recompute, rt, recipe, m)
    grads = float(states.gradients_bytes)
    first = _largest_grad(arch, recipe, lay)
    opt = recipe.optimizer.spec
    shard = states.slice_trainable_params / (lay.dp if lay.zero >= 1 else 1)
    fused = rt.optimizer_in_backward or rt.framework.spec.fused_optimizer
    temp = 0.0 if fused else shard * opt.step_temp_bytes
    if rt.optimizer_in_backward:
        grads = min(grads, first)
    alive = grads if m > 1 else first
    return Peak(
        saved_activations=act,
        loss=loss,
        step_temp=temp,
        forward=act + loss + alive,
        backward=grads + (working if recompute is not Recompute.NONE else 0.0),
        step=grads + temp,
    )
