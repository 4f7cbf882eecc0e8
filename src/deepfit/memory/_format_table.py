"""The weight formats deepfit knows, each with the layout's source.

Scale dtypes: GPTQ/AWQ store fp16 scales and 4-bit zero points packed in int32, one per
128 inputs of each output row, and GPTQ adds an int32 ``g_idx`` per input channel
(AutoGPTQ ``QuantLinear``: qweight, qzeros, scales, g_idx). compressed-tensors FP8/INT8
checkpoints store one 16-bit scale per output channel (``weight_scale`` of shape
``[out, 1]``; vLLM's online FP8 uses one per tensor, 0.02 % less). DeepSeek-V3 stores an fp32
``weight_scale_inv`` per 128x128 block. bitsandbytes NF4 keeps an fp32 absmax per 64
weights (``bnb_4bit_use_double_quant`` defaults to False in transformers), LLM.int8 an fp32
``SCB`` per row. NVFP4 has an fp8 e4m3 scale per 16 weights plus fp32 ``weight_scale_2``
and ``input_scale`` per tensor; MXFP4 an e8m0 scale per 32.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import BadInputError
from ..models.tensors import Role

HALF_KEEP = frozenset({Role.EMBED, Role.HEAD, Role.ROUTER, Role.HYPER})
"""Matrices the quantizers leave in 16 bits (norms and biases are never quantized)."""


@dataclass(frozen=True)
class WeightFormat:
    """How weights are stored. Matrix is ``rows`` (outputs) x ``cols`` (inputs).

    ``bits`` is the packed payload per quantized weight (GGUF: of the ftype's base type,
    block scales included). One scale (``scale_bits``) and zero point (``zero_bits``) cover
    ``group_cols`` inputs x ``group_rows`` outputs; None means the whole row / all rows.
    ``keep_roles`` stay at ``keep_bits``; norms and biases use ``vector_bits``.
    ``compute_dtype`` is the ``Gpu.peak_flops`` format the matmuls run in.
    """

    name: str
    description: str
    bits: float
    compute_dtype: str
    source: str
    group_cols: int | None = None
    group_rows: int | None = 1
    scale_bits: int = 0
    zero_bits: int = 0
    g_idx: bool = False
    tensor_extra_bytes: int = 0
    keep_roles: frozenset[Role] = field(default=HALF_KEEP)
    experts_only: bool = False
    keep_bits: int = 16
    vector_bits: int = 16
    gguf_ftype: str | None = None
    expert_format: str | None = None  # routed experts stored in this other format

    @property
    def is_quantized(self) -> bool:
        return self.bits < self.keep_bits or self.gguf_ftype is not None


def _dense(name: str, bits: int, compute: str) -> WeightFormat:
    return WeightFormat(
        name,
        f"unquantized {name} (every tensor {bits // 8} bytes per element)",
        bits,
        compute,
        "IEEE 754 / bfloat16 element sizes",
        keep_roles=frozenset(),
        keep_bits=bits,
        vector_bits=bits,
    )


_GGML = "llama.cpp src/llama-quant.cpp llama_tensor_get_type; ggml/src/ggml-common.h blocks"


def _gguf(ftype: str, bits: float, block: int, what: str) -> WeightFormat:
    compute = "fp16" if ftype == "F16" else "int8"  # llama.cpp CUDA MMQ/MMVQ: int8 dot products
    return WeightFormat(
        f"gguf-{ftype.lower()}",
        f"GGUF {ftype}: {what}; norms/biases/routers F32",
        bits,
        compute,
        _GGML,
        group_cols=block,
        keep_roles=frozenset(),
        vector_bits=32,
        gguf_ftype=ftype,
    )


_AUTOGPTQ = "AutoGPTQ/optimum QuantLinear (qweight, qzeros, fp16 scales, int32 g_idx)"

_TABLE: tuple[WeightFormat, ...] = (
    _dense("fp32", 32, "fp32"),
    _dense("bf16", 16, "bf16"),
    _dense("fp16", 16, "fp16"),
    WeightFormat(
        "fp8",
        "FP8 e4m3 weights, one 16-bit scale per output channel (W8A8 dynamic)",
        8,
        "fp8",
        "compressed-tensors FP8-dynamic (RedHatAI *-FP8-dynamic); vLLM fp8",
        scale_bits=16,
    ),
    WeightFormat(
        "fp8-block",
        "FP8 e4m3 weights, fp32 scale_inv per 128x128 block (DeepSeek-V3)",
        8,
        "fp8",
        "DeepSeek-V3 config quantization_config weight_block_size [128, 128]",
        group_cols=128,
        group_rows=128,
        scale_bits=32,
    ),
    WeightFormat(
        "fp8-fp4-experts",
        "FP8 e4m3 with a UE8M0 scale per 128x128 block; routed experts MXFP4 (DeepSeek-V4)",
        8,
        "fp8",
        "DeepSeek-V4 checkpoints: quantization_config fp8 [128, 128] scale_fmt ue8m0, "
        "expert_dtype fp4 (experts int8-packed e2m1 with an e8m0 scale per 32)",
        group_cols=128,
        group_rows=128,
        scale_bits=8,
        keep_roles=HALF_KEEP | {Role.ATTN_COMPRESS},
        expert_format="mxfp4",
    ),
    WeightFormat(
        "int8",
        "W8A8 INT8: int8 weights, 16-bit per-channel scales, int8 activations",
        8,
        "int8",
        "compressed-tensors W8A8-INT8 (RedHatAI *-quantized.w8a8)",
        scale_bits=16,
    ),
    WeightFormat(
        "int8-wo",
        "weight-only INT8 (per-channel 16-bit scales), 16-bit matmuls",
        8,
        "bf16",
        "compressed-tensors W8A16",
        scale_bits=16,
    ),
    WeightFormat(
        "gptq-int4",
        "GPTQ 4-bit, group 128, fp16 scales, packed 4-bit zeros, int32 g_idx",
        4,
        "fp16",
        _AUTOGPTQ,
        group_cols=128,
        scale_bits=16,
        zero_bits=4,
        g_idx=True,
    ),
    WeightFormat(
        "gptq-int8",
        "GPTQ 8-bit, group 128, fp16 scales, packed 8-bit zeros, int32 g_idx",
        8,
        "fp16",
        _AUTOGPTQ,
        group_cols=128,
        scale_bits=16,
        zero_bits=8,
        g_idx=True,
    ),
    WeightFormat(
        "awq-int4",
        "AWQ 4-bit GEMM, group 128, fp16 scales, packed 4-bit zeros",
        4,
        "fp16",
        "AutoAWQ WQLinear_GEMM (qweight, qzeros, scales)",
        group_cols=128,
        scale_bits=16,
        zero_bits=4,
    ),
    WeightFormat(
        "bnb-nf4",
        "bitsandbytes NF4, fp32 absmax per 64 weights (no double quant)",
        4,
        "bf16",
        "bitsandbytes Params4bit blocksize 64; transformers BitsAndBytesConfig",
        group_cols=64,
        scale_bits=32,
    ),
    WeightFormat(
        "bnb-int8",
        "bitsandbytes LLM.int8: int8 weights, fp32 SCB per row",
        8,
        "int8",
        "bitsandbytes Int8Params (CB, SCB)",
        scale_bits=32,
    ),
    WeightFormat(
        "nvfp4",
        "NVFP4: e2m1 weights, fp8 e4m3 scale per 16, fp32 per-tensor scales",
        4,
        "fp4",
        "NVIDIA ModelOpt / compressed-tensors nvfp4-pack-quantized",
        group_cols=16,
        scale_bits=8,
        tensor_extra_bytes=8,
    ),
    WeightFormat(
        "mxfp4",
        "MXFP4 routed experts (e2m1 + e8m0 scale per 32), the rest bf16",
        4,
        "bf16",
        "OCP MX spec; gpt-oss checkpoints (only MoE expert weights MXFP4)",
        group_cols=32,
        scale_bits=8,
        experts_only=True,
    ),
    _gguf("Q4_0", 4.5, 32, "4-bit blocks of 32 with an fp16 scale; output Q6_K"),
    _gguf("Q8_0", 8.5, 32, "8-bit blocks of 32 with an fp16 scale"),
    _gguf("Q2_K", 2.625, 256, "Q2_K; attn_v Q3_K/Q4_K, ffn_down/attn_output Q3_K"),
    _gguf("Q4_K_S", 4.5, 256, "Q4_K; first attn_v and ffn_down Q5_K; output Q6_K"),
    _gguf("Q4_K_M", 4.5, 256, "Q4_K; half of attn_v and ffn_down Q6_K; output Q6_K"),
    _gguf("Q5_K_M", 5.5, 256, "Q5_K; half of attn_v and ffn_down Q6_K; output Q6_K"),
    _gguf("Q6_K", 6.5625, 256, "Q6_K everywhere"),
    _gguf("F16", 16, 1, "every matrix F16"),
)

FORMATS: dict[str, WeightFormat] = {f.name: f for f in _TABLE}
_ALIASES = {"int4": "gptq-int4", "w8a8": "int8", "f16": "gguf-f16"}


def format_names() -> list[str]:
    """Every accepted format name (aliases included), sorted."""
    return sorted([*FORMATS, *_ALIASES])


def load_format(name: str) -> WeightFormat:
    """The :class:`WeightFormat` called ``name`` (case-insensitive; aliases accepted)."""
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key in FORMATS:
        return FORMATS[key]
    import difflib

    close = difflib.get_close_matches(key, format_names(), n=3, cutoff=0.5)
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    raise BadInputError(
        f"unknown weight format {name!r}",
        hint=f"{hint}known formats: {', '.join(format_names())}",
    )
