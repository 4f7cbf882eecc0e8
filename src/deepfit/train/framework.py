"""Training framework families: what each holds beyond the model's tensors, and how it runs.

The frameworks differ in what they keep for the loss, which kernels they fuse, how they
shard a frozen base, and how much communication they hide behind compute. Each term is
named and physical; its source is beside it. Bytes are per element of the tensor named.

=============  ==========================================================================
family         what it covers
=============  ==========================================================================
``fsdp``       PyTorch FSDP / FSDP2: torchtitan, LitGPT (Lightning Fabric), LLM Foundry
``deepspeed``  DeepSpeed ZeRO (incl. Megatron-DeepSpeed, GPT-NeoX)
``megatron``   Megatron-LM / Megatron-Core / NeMo (fused kernels, vocab-parallel loss)
``hf``         Hugging Face Trainer / PEFT / TRL with bitsandbytes
``torchtune``  torchtune recipes
=============  ==========================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

GiB = 1024**3


@dataclass(frozen=True)
class FrameworkSpec:
    """Memory and overlap terms of one framework family."""

    name: str
    #: Loss bytes per logit with the plain cross-entropy, counted from the code: the bf16
    #: logits (2), their fp32 upcast (4), log-softmax's saved fp32 output (4) and the fp32
    #: gradient (4) are alive together when the backward pass starts: 14. Hugging Face
    #: models (transformers >= 4.46, ``ForCausalLMLoss``) pad the labels instead of shifting
    #: the logits, and the Trainer drops the model's output (the bf16 logits) before
    #: ``backward``: log-softmax's saved output, the gradient ``nll_loss`` writes and the
    #: input gradient ``log_softmax_backward`` writes, all fp32: 12. Megatron's fused
    #: vocabulary-parallel cross-entropy works in place on the fp32 upcast (2 + 4 = 6).
    loss_bytes_per_logit: float
    #: Chunked cross-entropy keeps only the bf16 logits (torchtune CEWithChunkedOutputLoss,
    #: LitGPT chunked_cross_entropy): the fp32 upcast lives one chunk at a time.
    chunked_loss_default: bool
    #: Eager RMSNorm saves its fp32 upcast input (4 B/element) instead of bf16 (2 B);
    #: fused norm kernels (Megatron/TE, torch.compile) keep the bf16 input only.
    fused_norms: bool
    #: Bytes per attention score when attention is not flash (eager softmax): Megatron's
    #: fused softmax keeps the 16-bit output (2); Hugging Face's eager attention runs the
    #: softmax in fp32 and keeps its output (4) and the 16-bit copy the matmul saves (2).
    eager_score_bytes: float
    #: A frozen LoRA base under FSDP stays gathered: LitGPT's and torchtune's FSDP LoRA
    #: peaks equal their single-GPU peaks (the frozen flat parameters are not resharded
    #: between forward and backward); DeepSpeed ZeRO-3 re-partitions them.
    frozen_base_gathered: bool
    #: bitsandbytes' 4-bit matmul saves its input for the backward pass even though the
    #: base is frozen (torch's own linear would not): the MLP input and the down-projection
    #: input are kept on top of what LoRA keeps.
    bnb_saves_inputs: bool
    #: LoRA dropout on the adapters' inputs (LitGPT 0.05, PEFT recipes 0.05-0.1; torchtune
    #: 0.0): a 1-byte mask and the dropped 16-bit copy of each distinct adapter input.
    lora_dropout: bool
    #: A fused optimizer step (torchtune's ``fused=True`` AdamW, DeepSpeed FusedAdam,
    #: Megatron/Apex) makes no full-size temporaries; PyTorch's default multi-tensor
    #: AdamW (HF Trainer ``adamw_torch``, LitGPT, torchtitan) does (:mod:`.methods`).
    fused_optimizer: bool
    #: Share of data-parallel communication hidden behind compute (bucketed overlap).
    dp_overlap: float
    #: Data-parallel collectives spread over all of a node's NICs (NCCL's multi-ring
    #: all-gather / reduce-scatter of large flat buffers: FSDP, Megatron's distributed
    #: optimizer). DeepSpeed ZeRO-3's per-bucket collectives ran at one NIC's rate per
    #: GPU in the Megatron-LM 2021 paper's ZeRO-3 runs (44-48 TFLOP/s at 1536-2240 GPUs).
    dp_shares_nics: bool
    #: Share of tensor-parallel communication hidden (Megatron's TP comm overlap with
    #: sequence parallelism; none elsewhere).
    tp_overlap: float
    #: Mixed precision is autocast over fp32 weights (HF Trainer ``bf16=True``; PEFT keeps
    #: its adapters in fp32, ``autocast_adapter_dtype``): fp32 weights and gradients beside
    #: fp32 m and v; autocast caches a bf16 copy of every fp32 weight a matmul reads until
    #: the outermost autocast region exits (``cached_cast``: leaf tensors that need a
    #: gradient), and the matmuls save those copies for the backward pass; the residual
    #: stream and the norms run in fp32, so each projection casts its own bf16 input.
    autocast_fp32_weights: bool = False
    #: PEFT wraps every targeted ``nn.Linear`` in its own LoRA layer: q, k and v (and gate
    #: and up) each draw their own dropout mask and keep their own dropped bf16 copy of the
    #: shared input, and a frozen base linear keeps no input (autograd saves a matmul's
    #: input only for the weight's gradient).
    adapter_per_projection: bool = False
    #: Loss bytes per logit alive during the loss's own forward, when they differ from the
    #: backward's (HF: bf16 logits 2 + fp32 upcast 4 + log-softmax output 4 = 10). Under
    #: autocast the weight cache is alive then and freed before ``backward`` under recompute.
    loss_forward_bytes_per_logit: float | None = None


class Framework(Enum):
    """A training framework family; the value carries its terms."""

    #               loss chunk fused score gather bnb  drop  fusedopt dp   nics  tp
    FSDP = FrameworkSpec("fsdp", 14, False, False, 6, True, True, True, False, 0.9, True, 0.0)
    DEEPSPEED = FrameworkSpec(
        "deepspeed", 14, False, False, 6, False, True, True, True, 0.8, False, 0.0
    )
    MEGATRON = FrameworkSpec(
        "megatron", 6, False, True, 2, False, False, False, True, 0.9, True, 0.5
    )
    HF = FrameworkSpec(
        "hf", 12, False, False, 6, False, True, True, False, 0.8, True, 0.0, True, True, 10
    )
    TORCHTUNE = FrameworkSpec(
        "torchtune", 14, False, False, 6, True, False, False, True, 0.9, True, 0.0
    )

    @property
    def spec(self) -> FrameworkSpec:
        spec: FrameworkSpec = self.value
        return spec


def framework_names() -> tuple[str, ...]:
    return tuple(f.spec.name for f in Framework)


def find_framework(name: str) -> Framework:
    """The family called ``name``; BadInputError with the known names otherwise."""
    from ..errors import BadInputError

    for fw in Framework:
        if fw.spec.name == name.strip().lower():
            return fw
    raise BadInputError(
        f"unknown training framework {name!r}", f"use one of {', '.join(framework_names())}"
    )


#: Chunked cross-entropy keeps the bf16 logits (2 B per logit) and their bf16 gradient (2);
#: the fp32 upcast, log-softmax output and fp32 gradient (12) live one chunk at a time
#: (torchtune: 1 of 8 chunks, 1.5): 5.5. The 8.5 B/logit this saves over the plain loss is
#: torchtune's published 8.1 GiB on 1.05e9 logits (a check, not a fit).
CHUNKED_LOSS_BYTES_PER_LOGIT = 5.5
#: With activation offloading the loss's saved tensors go to host RAM too: what stays is
#: the chunk in flight and the bf16 gradient being formed.
OFFLOADED_LOSS_BYTES_PER_LOGIT = 2.0

#: The caching allocator reserves more than it hands out: rounding to 2 MiB / 20 MiB
#: segments and fragmentation between differently sized blocks. The training notes put
#: reserved at 5-20 % above allocated; deepfit takes the midpoint.
ALLOCATOR_OVERHEAD = 0.10

#: CUDA context, cuBLAS workspace and NCCL buffers: NVML "used" minus reserved, about
#: 0.5-2 GB per GPU (training notes); deepfit takes 1 GiB.
CUDA_CONTEXT_BYTES = 1 * GiB

#: A "fits" with less free memory than this share of the GPU carries a warning: the
#: allocator's overhead varies by 5-20 % between runs of the same job.
THIN_MARGIN = 0.10


@dataclass(frozen=True)
class Runtime:
    """How a job runs inside its framework: the family and the switches that change memory."""

    framework: Framework = Framework.FSDP
    chunked_loss: bool | None = None  # None: the framework's default
    compiled: bool = False  # torch.compile: fused norms and SwiGLU keep bf16 inputs only
    optimizer_in_backward: bool = False  # step each parameter as its gradient is ready
    activation_offload: bool = False  # saved activations go to host RAM (torchtune)

    @property
    def chunked(self) -> bool:
        spec = self.framework.spec
        return spec.chunked_loss_default if self.chunked_loss is None else self.chunked_loss

    @property
    def loss_bytes_per_logit(self) -> float:
        if self.activation_offload:
            return OFFLOADED_LOSS_BYTES_PER_LOGIT
        if self.chunked:
            return CHUNKED_LOSS_BYTES_PER_LOGIT
        return self.framework.spec.loss_bytes_per_logit

    @property
    def loss_forward_bytes_per_logit(self) -> float:
        """Loss bytes per logit during the loss's forward (no more than the backward's)."""
        said = self.framework.spec.loss_forward_bytes_per_logit
        if said is None or self.activation_offload or self.chunked:
            return self.loss_bytes_per_logit
        return min(said, self.loss_bytes_per_logit)

    @property
    def fused(self) -> bool:
        return self.compiled or self.framework.spec.fused_norms


def default_framework(tp: int, pp: int, offload: bool) -> Framework:
    """The family a layout implies: Megatron for tensor or pipeline parallelism, DeepSpeed
    for CPU offload, PyTorch FSDP otherwise."""
    if tp > 1 or pp > 1:
        return Framework.MEGATRON
    return Framework.DEEPSPEED if offload else Framework.FSDP
