"""Weights as an engine keeps them after loading, where it re-lays them out for its kernels.

vLLM's MXFP4 mixture-of-experts on Hopper (sm90). With no FlashInfer flag set,
``get_mxfp4_backend`` picks the Triton backend (vllm-project/vllm
``vllm/model_executor/layers/quantization/mxfp4.py`` at 007d5005, ``Mxfp4Backend.TRITON``):

- ``create_weights`` rounds each rank's expert width up to 64 (the fallback branch) and keeps
  the checkpoint's layout: ``w13`` [E, 2I, H/2] and ``w2`` [E, H, I/2] uint8 (two e2m1 values
  per byte), one e8m0 scale byte per 32 values, bf16 biases;
- ``process_weights_after_loading`` casts both biases to fp32 and hands weights and scales to
  ``_swizzle_mxfp4`` (``quantization/utils/mxfp4_utils.py`` at 01b817db), which transposes them
  so the scaled axis is dim 1 and converts them to triton_kernels' Hopper layouts; the
  checkpoint-layout tensors are freed, so what stays resident is the new layout.
- ``HopperMXValueLayout`` (triton-lang/triton
  ``python/triton_kernels/triton_kernels/tensor_details/layout_details/hopper_value.py`` at
  000df03e, ``_padded_shape``) pads the packed bytes of each expert matrix to multiples of 64
  along the scaled axis and 256 along the other; ``HopperMXScaleLayout`` (``hopper_scale.py`` at
  14dd7a19, ``swizzle_data``) pads the scales' rows to 2 x num_warps x 2 x 8 = 256 (vLLM passes
  8 warps) and their columns to 2.

gpt-oss-120b (H = I = 2,880): ``w13`` grows from 1,440 x 5,760 to 1,472 x 5,888 bytes per
expert and ``w2`` from 1,440 x 2,880 to 1,472 x 3,072, 3.21 GiB over the 36 layers; scales add
0.12 GiB and fp32 biases 0.07 GiB. Other GPUs take other backends (Marlin, FlashInfer), whose
layouts are not modelled here.
"""

from __future__ import annotations

from ..hardware import Gpu
from ..models.architecture import Architecture
from .formats import WeightFormat
from .layout import Layout

#: NVIDIA Hopper (sm90) parts in the GPU catalogue, by the first word of their names
HOPPER = frozenset({"H100", "H200", "H20", "H800", "GH200"})
#: triton_kernels' Hopper layouts: value bytes padded to (64 along the scaled axis, 256
#: along the other); scale rows to 2 x num_warps x 2 x 8 with vLLM's 8 warps, columns to 2
VALUE_ALIGN_SCALED, VALUE_ALIGN_OTHER = 64, 256
SCALE_ALIGN_ROWS, SCALE_ALIGN_COLS = 2 * 8 * 2 * 8, 2
#: vLLM rounds each rank's expert width up to this before anything else
WIDTH_ALIGN = 64
MX_BLOCK = 32


def _up(x: int, align: int) -> int:
    return -(-x // align) * align


def triton_hopper_expert_bytes(hidden: int, width: int, bias: bool) -> tuple[int, int]:
    """(resident, as loaded) bytes of one expert's gate-up and down matrices, scales and
    biases on one rank, ``width`` being that rank's share of the expert's intermediate size."""
    loaded = 2 * width * hidden // 2 + hidden * width // 2
    loaded += 2 * width * hidden // MX_BLOCK + hidden * width // MX_BLOCK
    loaded += 2 * (2 * width + hidden) if bias else 0
    width = _up(width, WIDTH_ALIGN)
    w13 = _up(hidden // 2, VALUE_ALIGN_SCALED) * _up(2 * width, VALUE_ALIGN_OTHER)
    w2 = _up(width // 2, VALUE_ALIGN_SCALED) * _up(hidden, VALUE_ALIGN_OTHER)
    s13 = _up(2 * width, SCALE_ALIGN_ROWS) * _up(hidden // MX_BLOCK, SCALE_ALIGN_COLS)
    s2 = _up(hidden, SCALE_ALIGN_ROWS) * _up(width // MX_BLOCK, SCALE_ALIGN_COLS)
    biases = 4 * (2 * width + hidden) if bias else 0
    return w13 + w2 + s13 + s2 + biases, loaded


def resident_extra_bytes(
    arch: Architecture,
    fmt: WeightFormat,
    layout: Layout,
    layers: range,
    engine_family: str,
    gpu: Gpu,
) -> int:
    """Bytes one GPU holds beyond the format's layout once ``engine_family`` has re-laid
    the weights of ``layers`` out (0 where no such rule applies)."""
    if engine_family != "vllm" or fmt.name != "mxfp4" or not is_hopper(gpu):
        return 0
    extra = 0
    for i in layers:
        moe = arch.layers[i].moe
        if moe is None or moe.num_experts <= 1:
            continue
        experts = moe.num_experts // layout.ep if layout.ep > 1 else moe.num_experts
        width = moe.expert.intermediate_size // (1 if layout.ep > 1 else layout.tp)
        resident, loaded = triton_hopper_expert_bytes(arch.hidden_size, width, moe.expert.bias)
        extra += experts * (resident - loaded)
    return extra


def is_hopper(gpu: Gpu) -> bool:
    return gpu.vendor == "NVIDIA" and gpu.name.split()[0] in HOPPER
