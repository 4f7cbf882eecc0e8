"""Training methods and optimizers: how many bytes each parameter costs.

Bytes per parameter (ZeRO paper, Rajbhandari et al. 2020, sec. 3.1: mixed-precision Adam
keeps 2 + 2 + K bytes with K = 12):

=====================  =======  =====  ==========================================
optimizer              weights  grads  optimizer states
=====================  =======  =====  ==========================================
``adamw`` (mixed)      2 bf16   2      12: fp32 master copy + fp32 m + fp32 v
``adamw-bf16`` (pure)  2 bf16   2      4: bf16 m + bf16 v, no master copy
``adamw-8bit`` (mixed) 2 bf16   2      6: fp32 master + 8-bit m + 8-bit v (bitsandbytes)
``sgd`` (mixed)        2 bf16   2      4: fp32 master, no momentum
``adamw-fp32``         4 fp32   4      8: fp32 m + fp32 v (no mixed precision)
``adamw-8bit-bf16``    2 bf16   2      2: 8-bit m + 8-bit v, no master (torchtune)
``paged-adamw``        4 fp32   4      0 on the GPU: fp32 m + v paged in unified memory
=====================  =======  =====  ==========================================

The optimizer step itself allocates temporaries: PyTorch's multi-tensor (``foreach``)
AdamW builds a full-size ``sqrt(v)`` intermediate in the state dtype over the parameters
it steps (``step_temp_bytes`` per parameter); bitsandbytes' 8-bit kernels work in blocks.

bitsandbytes' block-wise 8-bit states add one fp32 absmax per 2048 values (0.2 %),
ignored here. LoRA adapters are trained like the full model (PEFT keeps them in the base
dtype under autocast; the optimizer keeps fp32 states), so they cost the same bytes per
adapter parameter. QLoRA's frozen base is stored in NF4 (see :mod:`.states`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Method(str, Enum):
    """What is trained."""

    FULL = "full"  # every parameter
    LORA = "lora"  # low-rank adapters on a frozen 16-bit base
    QLORA = "qlora"  # low-rank adapters on a frozen 4-bit (NF4) base


@dataclass(frozen=True)
class OptimizerSpec:
    """Bytes per trainable parameter, and what the optimizer is."""

    name: str
    weight_bytes: int
    grad_bytes: int
    state_bytes: int
    description: str
    step_temp_bytes: int = 4  # the foreach step's full-size temporary per parameter
    master_bytes: int = 0  # the fp32 master copy inside ``state_bytes`` (mixed precision)

    @property
    def bytes_per_param(self) -> int:
        return self.weight_bytes + self.grad_bytes + self.state_bytes


class Optimizer(Enum):
    """An optimizer and precision recipe; the value carries its bytes per parameter."""

    ADAMW = OptimizerSpec(
        "adamw", 2, 2, 12, "mixed-precision AdamW: fp32 master, m, v", master_bytes=4
    )
    ADAMW_BF16 = OptimizerSpec(
        "adamw-bf16", 2, 2, 4, "pure-bf16 AdamW: bf16 m, v, no master", step_temp_bytes=2
    )
    ADAMW_8BIT = OptimizerSpec(
        "adamw-8bit",
        2,
        2,
        6,
        "8-bit AdamW: fp32 master, 8-bit m, v",
        step_temp_bytes=0,
        master_bytes=4,
    )
    SGD = OptimizerSpec(
        "sgd",
        2,
        2,
        4,
        "mixed-precision SGD without momentum: fp32 master",
        step_temp_bytes=0,
        master_bytes=4,
    )
    ADAMW_FP32 = OptimizerSpec("adamw-fp32", 4, 4, 8, "fp32 AdamW without mixed precision")
    # bitsandbytes' paged optimizers put their states in CUDA unified memory, which pages
    # out to host RAM when the GPU fills and which the torch allocator does not count
    PAGED_ADAMW = OptimizerSpec(
        "paged-adamw", 4, 4, 0, "bitsandbytes paged 32-bit AdamW (QLoRA)", step_temp_bytes=0
    )
    ADAMW_8BIT_BF16 = OptimizerSpec(
        "adamw-8bit-bf16", 2, 2, 2, "pure-bf16 8-bit AdamW: 8-bit m, v", step_temp_bytes=0
    )

    @property
    def spec(self) -> OptimizerSpec:
        spec: OptimizerSpec = self.value
        return spec


def optimizer_names() -> tuple[str, ...]:
    return tuple(o.spec.name for o in Optimizer)


def find_optimizer(name: str) -> Optimizer:
    """The optimizer called ``name``; raises BadInputError with the known names."""
    from ..errors import BadInputError

    for opt in Optimizer:
        if opt.spec.name == name.strip().lower():
            return opt
    raise BadInputError(f"unknown optimizer {name!r}", f"use one of {', '.join(optimizer_names())}")


class Recompute(str, Enum):
    """Activation recomputation (Korthikanti et al. 2022)."""

    NONE = "none"
    SELECTIVE = "selective"  # recompute the attention core (the s^2 terms)
    FULL = "full"  # keep only each layer's input, recompute the layer


class Offload(str, Enum):
    """Where ZeRO puts states that do not stay on the GPU."""

    NONE = "none"
    CPU = "cpu"  # optimizer states (and with ZeRO-3 the parameters) in host RAM
