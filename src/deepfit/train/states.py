"""Model states per GPU: weights, gradients and optimizer states, with ZeRO and offload.

For each pipeline stage every tensor's slice (``numel / shard``, see
:func:`deepfit.memory.layout.shard`) is charged its method's bytes (:mod:`.methods`),
divided by the ZeRO group where the stage shards it. The per-GPU answer is the heaviest
stage. Assumptions, all in bytes:

* Frozen weights (LoRA's base, frozen embeddings) are stored in bf16; QLoRA's base in NF4
  (``bnb-nf4``, with QLoRA's double quantization by default: an 8-bit absmax per 64
  weights, the second-level fp32 constants ignored), embeddings and head kept in bf16.
* ZeRO-3 gathers a layer's weights to compute it and prefetches the next one: the GPU also
  holds two layers' unsharded (within the DP group) bf16 weights.
* CPU offload (ZeRO-Offload / ZeRO-Infinity to CPU) moves the optimizer states and an fp32
  copy of the gradients (which CPU Adam reads) to host RAM; with ZeRO-3 the bf16
  parameters go there too and the GPU keeps only the two gathered layers. Gradients then
  pass through one reduce bucket on the GPU (DeepSpeed default 5e8 elements).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..memory.formats import WeightFormat, load_format, tensor_bytes
from ..memory.layout import on_stage, shard, stage_layers
from ..models.architecture import Architecture
from ..models.tensors import Role, Tensor, tensors
from .layout import TrainLayout
from .lora import LoraConfig, lora_params
from .methods import Method, Offload, Optimizer

FP32_GRAD_BYTES = 4  # the fp32 gradient copy CPU Adam reads (DeepSpeed ZeRO-Offload)
#: With offload, gradients leave the GPU bucket by bucket: DeepSpeed's default
#: ``reduce_bucket_size`` is 5e8 elements, 2 bytes each in bf16.
OFFLOAD_GRAD_BUCKET_BYTES = 500_000_000 * 2


@dataclass(frozen=True)
class Recipe:
    """What is trained and how: method, optimizer, adapters, frozen embeddings."""

    method: Method = Method.FULL
    optimizer: Optimizer = Optimizer.ADAMW
    lora: LoraConfig = field(default_factory=LoraConfig)
    freeze_embeddings: bool = False  # full training with embedding and head frozen
    double_quant: bool = True  # QLoRA's double quantization of the NF4 absmax


@dataclass(frozen=True)
class ModelStates:
    """Bytes of model states on the heaviest GPU, and in host RAM for the whole job."""

    weights_bytes: int
    gradients_bytes: int
    optimizer_bytes: int
    host_bytes: int
    trainable_params: int
    stage: int  # the pipeline stage whose GPUs are the heaviest
    zero3_buffer_bytes: int = 0  # gathered layers (in weights_bytes), ZeRO-3 only
    slice_trainable_params: int = 0  # trainable elements on that GPU before ZeRO sharding
    slice_weight_bytes: int = 0  # weight bytes on that GPU before ZeRO-3 sharding

    @property
    def total_bytes(self) -> int:
        return self.weights_bytes + self.gradients_bytes + self.optimizer_bytes


@dataclass
class _Acc:
    weights: float = 0.0
    grads: float = 0.0
    optim: float = 0.0
    host: float = 0.0  # per GPU of this stage
    trainable: float = 0.0  # elements of trainable slices, before ZeRO sharding
    unsharded_weights: float = 0.0  # bytes of the weight slices before ZeRO-3 sharding
    layer_weights: dict[int, float] | None = None
    buffer: float = 0.0
    remote: float = 0.0  # ZeRO-3: weight bytes of this GPU's slices held elsewhere


def frozen_format(recipe: Recipe) -> WeightFormat:
    """The storage format of frozen weights: bf16 (fp32 when training in fp32), or NF4
    for QLoRA."""
    if recipe.method is not Method.QLORA:
        return load_format("fp32" if recipe.optimizer.spec.weight_bytes == 4 else "bf16")
    fmt = load_format("bnb-nf4")
    return replace(fmt, name="bnb-nf4-dq", scale_bits=8) if recipe.double_quant else fmt


def _is_trainable_base(t: Tensor, recipe: Recipe) -> bool:
    if recipe.method is not Method.FULL:
        return False
    return not (recipe.freeze_embeddings and t.role in (Role.EMBED, Role.HEAD))


def _charge(acc: _Acc, t: Tensor, arch: Architecture, lay: TrainLayout, recipe: Recipe) -> None:
    opt = recipe.optimizer.spec
    pieces = shard(t, lay.base)
    group = lay.zero_group(t)
    n = t.numel / pieces
    if _is_trainable_base(t, recipe):
        trainable, frozen_bytes = n, 0.0
    else:
        adapters = recipe.lora.adapter_params(t) if recipe.method is not Method.FULL else 0
        trainable = adapters / pieces
        fmt = frozen_format(recipe)
        frozen_bytes = tensor_bytes(t, fmt, arch.num_layers, arch=arch) / pieces
    weights = trainable * opt.weight_bytes + frozen_bytes
    if lay.zero >= 3 and t.layer is not None and acc.layer_weights is not None:
        # what a ZeRO-3 gather brings in: from other GPUs, or all of it from the host
        remote = weights if lay.offload is Offload.CPU else weights * (group - 1) / group
        acc.layer_weights[t.layer] = acc.layer_weights.get(t.layer, 0.0) + remote
        acc.remote += remote
    grads = trainable * opt.grad_bytes / (group if lay.zero >= 2 else 1)
    optim = trainable * opt.state_bytes / (group if lay.zero >= 1 else 1)
    acc.trainable += trainable
    acc.unsharded_weights += weights
    weights /= group if lay.zero >= 3 else 1
    if lay.offload is Offload.CPU:
        acc.host += optim + trainable * FP32_GRAD_BYTES / group
        optim = 0.0
        if lay.zero >= 3:
            acc.host += weights
            weights = 0.0
    acc.weights += weights
    acc.grads += grads
    acc.optim += optim


def _stage(arch: Architecture, lay: TrainLayout, recipe: Recipe, stage: int, layers: range) -> _Acc:
    acc = _Acc(layer_weights={})
    for t in tensors(arch):
        if on_stage(t, stage, layers, lay.base, arch.tie_word_embeddings):
            _charge(acc, t, arch, lay, recipe)
    if lay.zero >= 3 and acc.layer_weights:
        # two gathered layers (current + prefetched) on top of the shards, never more
        # than the whole unsharded stage
        acc.buffer = min(2 * max(acc.layer_weights.values()), acc.remote)
        acc.weights += acc.buffer
    return acc


def trainable_params(arch: Architecture, recipe: Recipe) -> int:
    """Parameters the optimizer updates (whole model, main stack)."""
    if recipe.method is not Method.FULL:
        return lora_params(arch, recipe.lora)
    return sum(t.numel for t in tensors(arch) if _is_trainable_base(t, recipe))


def model_states(arch: Architecture, lay: TrainLayout, recipe: Recipe) -> ModelStates:
    """Weights, gradients and optimizer bytes on the heaviest GPU; host bytes in total."""
    stages = [
        _stage(arch, lay, recipe, i, layers)
        for i, layers in enumerate(stage_layers(arch.num_layers, lay.pp))
    ]
    per_stage_gpus = lay.tp * lay.dp
    host = sum(a.host for a in stages) * per_stage_gpus
    i, worst = max(enumerate(stages), key=lambda p: p[1].weights + p[1].grads + p[1].optim)
    grads = worst.grads
    if lay.offload is Offload.CPU:
        grads = min(grads, OFFLOAD_GRAD_BUCKET_BYTES)
    return ModelStates(
        weights_bytes=round(worst.weights),
        gradients_bytes=round(grads),
        optimizer_bytes=round(worst.optim),
        host_bytes=round(host),
        trainable_params=trainable_params(arch, recipe),
        stage=i,
        zero3_buffer_bytes=round(worst.buffer),
        slice_trainable_params=round(worst.trainable),
        slice_weight_bytes=round(worst.unsharded_weights),
    )
