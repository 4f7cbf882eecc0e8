"""Weights in real bytes per format, as checkpoints and engines lay them out.

A :class:`WeightFormat` says how one weight matrix (``rows`` output x ``cols`` input
features) is stored: the packed payload's bits per weight, one scale (and zero point) per
``group_cols`` inputs x ``group_rows`` outputs, GPTQ's int32 ``g_idx`` per input, and
per-tensor constants; which roles stay in 16 bits; and the compute format its matmuls use
(a key of ``Gpu.peak_flops``). GGUF formats delegate to :mod:`.gguf` for llama.cpp's
per-tensor type mix. All sizes are bytes (SI); packing padding is ignored (real model
dimensions are multiples of the packing width).

What stays unquantized follows the tools that write each format: GPTQ, AWQ, FP8, INT8,
NVFP4 and bitsandbytes keep the embedding, ``lm_head``, norms, biases and MoE routers in
16 bits (bitsandbytes through transformers would quantize a router that is an
``nn.Linear``; it is < 0.01 % of any model's bytes). DeepSeek-V3's block FP8 keeps
embedding, head, router and norms in bf16 and quantizes every other linear. MXFP4 follows
gpt-oss: only the routed-expert weights (``experts > 1``) are MXFP4, attention and the
rest stay bf16; on a dense model it quantizes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from ..errors import NotSupportedError
from ..models.architecture import Architecture
from ..models.tensors import ATTENTION_ROLES, FFN_ROLES, Role, Tensor, tensors
from ._format_table import WeightFormat, format_names, load_format
from .gguf import GgufModel, gguf_tensor_bytes

__all__ = [
    "WeightBytes",
    "WeightFormat",
    "checkpoint_native_format",
    "format_names",
    "load_format",
    "tensor_bytes",
    "weight_bytes",
]


def _is_quantized(t: Tensor, fmt: WeightFormat) -> bool:
    if not t.is_matrix or t.role in fmt.keep_roles:
        return False
    return t.experts > 1 if fmt.experts_only else True


def _quantized_bytes(t: Tensor, fmt: WeightFormat) -> float:
    """Payload, scales, zero points, g_idx and per-tensor constants of one stack of experts."""
    groups_in = -(-t.cols // fmt.group_cols) if fmt.group_cols else 1
    groups_out = -(-t.rows // fmt.group_rows) if fmt.group_rows else 1
    per_matrix = (
        t.rows * t.cols * fmt.bits / 8
        + groups_in * groups_out * (fmt.scale_bits + fmt.zero_bits) / 8
        + (4 * t.cols if fmt.g_idx else 0)
        + fmt.tensor_extra_bytes
    )
    return per_matrix * t.experts


def tensor_bytes(
    t: Tensor, fmt: WeightFormat, num_layers: int, *, arch: Architecture | None = None
) -> float:
    """Bytes of tensor ``t`` (all its experts, with scales/zeros/g_idx) stored as ``fmt``.

    ``num_layers`` is the main stack's depth (GGUF's ``use_more_bits`` needs it). Pass
    ``arch`` for GGUF formats to apply the rules that depend on the whole model (8-expert
    models, 80-layer models, tied heads, Phi-3's fused QKV); without it the tensor is
    treated as part of a dense model with an untied head.
    """
    if fmt.gguf_ftype is not None:
        model = GgufModel.of(arch) if arch is not None else GgufModel(num_layers)
        return gguf_tensor_bytes(t, fmt.gguf_ftype, model)
    if not t.is_matrix:
        return t.numel * fmt.vector_bits / 8
    if fmt.expert_format is not None and t.experts > 1:
        return tensor_bytes(t, load_format(fmt.expert_format), num_layers, arch=arch)
    if not _is_quantized(t, fmt):
        return t.numel * fmt.keep_bits / 8
    return _quantized_bytes(t, fmt)


@dataclass(frozen=True)
class WeightBytes:
    """Bytes of a model's weights in one format, by component.

    ``mlp`` holds dense feed-forward layers and shared experts, ``experts`` the routed
    experts, ``other`` norms, biases, routers; ``mtp`` DeepSeek-V3's multi-token-prediction
    modules (0 unless asked for).
    """

    format: str
    embed: int
    head: int
    attention: int
    mlp: int
    experts: int
    other: int
    mtp: int = 0

    @property
    def total(self) -> int:
        return (
            self.embed + self.head + self.attention + self.mlp + self.experts + self.other
        ) + self.mtp

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "total": self.total}


def _component(t: Tensor) -> str:
    if t.mtp:
        return "mtp"
    if t.role is Role.EMBED:
        return "embed"
    if t.role is Role.HEAD:
        return "head"
    if t.role in ATTENTION_ROLES:
        return "attention"
    if t.role in FFN_ROLES:
        return "experts" if t.experts > 1 else "mlp"
    return "other"


def weight_bytes(arch: Architecture, fmt: WeightFormat, include_mtp: bool = False) -> WeightBytes:
    """Bytes of every weight of ``arch`` stored as ``fmt``, by component.

    With a tied head the embedding is counted once (as checkpoints store it).
    ``include_mtp`` adds DeepSeek-V3's MTP layers; their copies of the embedding and head,
    which the published checkpoint also stores, are not counted.
    """
    parts = dict.fromkeys(("embed", "head", "attention", "mlp", "experts", "other", "mtp"), 0.0)
    for t in tensors(arch, include_mtp=include_mtp):
        parts[_component(t)] += tensor_bytes(t, fmt, arch.num_layers, arch=arch)
    return WeightBytes(fmt.name, **{k: round(v) for k, v in parts.items()})


def checkpoint_native_format(arch: Architecture) -> WeightFormat | None:
    """The format of the checkpoint as published, from its ``quantization_config``.

    None means an unquantized checkpoint (its ``torch_dtype``). Raises
    :class:`NotSupportedError` for a quantization method deepfit cannot size.
    """
    q = arch.quantization
    if not q:
        return None
    method = str(q.get("quant_method", "")).lower()
    if method == "fp8":
        if _fp4_experts(arch, q):
            return load_format("fp8-fp4-experts")
        return load_format("fp8-block" if q.get("weight_block_size") else "fp8")
    if method in ("gptq", "awq"):
        return _grouped(method, q)
    if method == "compressed-tensors":
        return _compressed_tensors(q)
    if method == "mxfp4":
        return load_format("mxfp4")
    if method == "bitsandbytes":
        return load_format("bnb-nf4" if q.get("load_in_4bit") else "bnb-int8")
    if method == "modelopt" and str(q.get("quant_algo", "")).upper() in ("FP8", "NVFP4"):
        return load_format(str(q["quant_algo"]).lower())
    raise _unsupported(method or "unknown")


def _fp4_experts(arch: Architecture, q: Mapping[str, Any]) -> bool:
    """DeepSeek-V4 checkpoints store routed experts in FP4: said by ``expert_dtype`` (later
    configs), implied for V4 configs that predate the key (the released Pro's tensors are
    int8-packed FP4 with e8m0 scales)."""
    dtype = str(q.get("expert_dtype", "")).lower()
    return dtype == "fp4" or (not dtype and arch.model_type == "deepseek_v4")


def _grouped(method: str, q: Mapping[str, Any]) -> WeightFormat:
    bits = int(q.get("bits", 4))
    if bits not in (4, 8) or (method == "awq" and bits != 4):
        raise _unsupported(f"{method} {bits}-bit")
    fmt = load_format(f"{method}-int{bits}")
    group = int(q.get("group_size", 128))
    if group in (-1, 0):
        return replace(fmt, name=f"{fmt.name}-per-channel", group_cols=None)
    if group != fmt.group_cols:
        return replace(fmt, name=f"{fmt.name}-g{group}", group_cols=group)
    return fmt


def _compressed_tensors(q: Mapping[str, Any]) -> WeightFormat:
    groups = q.get("config_groups") or {}
    scheme: Mapping[str, Any] = (
        next(iter(groups.values()), {}) if isinstance(groups, Mapping) else {}
    )
    weights: Mapping[str, Any] = scheme.get("weights") or {}
    bits, kind = int(weights.get("num_bits", 0)), str(weights.get("type", ""))
    strategy = str(weights.get("strategy", ""))
    acts = scheme.get("input_activations")
    if kind == "float" and bits == 8:
        return load_format("fp8-block" if strategy == "block" else "fp8")
    if kind == "float" and bits == 4:
        return load_format("nvfp4")
    if kind == "int" and bits == 8:
        return load_format("int8" if acts else "int8-wo")
    if kind == "int" and bits == 4:
        fmt = load_format("awq-int4")
        group = weights.get("group_size") or 128
        fmt = replace(
            fmt,
            name="w4a16",
            group_cols=int(group),
            zero_bits=0 if weights.get("symmetric", True) else fmt.zero_bits,
            description="compressed-tensors W4A16 (pack-quantized int4, 16-bit group scales)",
        )
        if _ignores_all_but_routed_experts(q.get("ignore") or ()):
            fmt = replace(
                fmt,
                name="w4a16-experts",
                experts_only=True,
                description="compressed-tensors W4A16 routed experts, the rest 16-bit",
            )
        return fmt
    raise _unsupported(f"compressed-tensors {kind}{bits}")


def _ignores_all_but_routed_experts(ignore: Any) -> bool:
    """Whether a compressed-tensors ``ignore`` list leaves attention, shared experts and
    dense MLPs unquantized, so only routed experts are packed (Kimi-K2.5's INT4 release:
    ``re:.*self_attn.*``, ``re:.*shared_experts.*``, ``re:.*mlp\\.(gate|up|...)_proj.*``)."""
    if not isinstance(ignore, (list, tuple)):
        return False
    text = " ".join(str(x) for x in ignore)
    return all(key in text for key in ("self_attn", "shared_expert", "mlp\\."))


def _unsupported(what: str) -> NotSupportedError:
    return NotSupportedError(
        f"cannot size a checkpoint quantized with {what}",
        hint=f"pass a format explicitly; known formats: {', '.join(format_names())}",
    )
