"""KV cache bytes per token, as each engine really stores it.

- MHA/GQA/MQA: K and V for each KV head, in every layer.
- Sliding-window layers hold at most ``window`` tokens of a sequence (Gemma 2, Mistral v0.1).
- DeepSeek MLA: engines with MLA kernels (vLLM, SGLang, TensorRT-LLM, llama.cpp) cache the
  compressed latent, ``kv_lora_rank + qk_rope_head_dim`` elements per token and layer, one
  copy per rank (not split by tensor parallelism); a plain transformers run caches the
  decompressed per-head K and V.
- Tensor parallelism splits KV heads across ranks; with fewer KV heads than ranks, each rank
  keeps one (heads are replicated, as vLLM does). Pipeline parallelism splits layers.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from .._cache import by_identity
from ..errors import BadInputError
from ..models.architecture import Architecture, Attention


class KvDtype(str, Enum):
    """Element formats of the KV cache and their bytes per element."""

    FP32 = "fp32"
    BF16 = "bf16"
    FP16 = "fp16"
    FP8 = "fp8"
    INT8 = "int8"
    Q8_0 = "q8_0"  # llama.cpp: 34 bytes per 32 elements
    Q4_0 = "q4_0"  # llama.cpp: 18 bytes per 32 elements

    @property
    def bytes_per_element(self) -> float:
        return _KV_BYTES[self]


_KV_BYTES = {
    KvDtype.FP32: 4.0,
    KvDtype.BF16: 2.0,
    KvDtype.FP16: 2.0,
    KvDtype.FP8: 1.0,
    KvDtype.INT8: 1.0,
    KvDtype.Q8_0: 34 / 32,
    KvDtype.Q4_0: 18 / 32,
}
_KV_ALIASES = {
    "float32": "fp32",
    "bfloat16": "bf16",
    "float16": "fp16",
    "half": "fp16",
    "fp8_e4m3": "fp8",
    "fp8_e5m2": "fp8",
    "f16": "fp16",
    "f32": "fp32",
}


def load_kv_dtype(name: str, model_dtype: str = "bf16") -> KvDtype:
    """A KV dtype by name; ``auto`` follows the model's compute dtype, as engines do."""
    key = name.strip().lower()
    if key in ("", "auto"):
        key = model_dtype
    key = _KV_ALIASES.get(key, key)
    try:
        return KvDtype(key)
    except ValueError:
        raise BadInputError(
            f"unknown KV-cache dtype '{name}'",
            f"use one of: auto, {', '.join(d.value for d in KvDtype)}",
        ) from None


def elements_per_token(att: Attention, *, mla_latent: bool, tp: int = 1) -> float:
    """KV elements one rank stores per token for one layer."""
    if att.mla is not None and mla_latent:
        return float(att.mla.latent_dim)  # replicated on every tensor-parallel rank
    heads = att.num_kv_heads / tp if att.num_kv_heads >= tp else 1.0
    return heads * (att.head_dim + att.v_head_dim)


@dataclass(frozen=True)
class KvSpec:
    """How a deployment stores KV: format, MLA handling, sharding."""

    dtype: KvDtype = KvDtype.BF16
    mla_latent: bool = True
    tp: int = 1

    def layer_bytes_per_token(self, att: Attention) -> float:
        return elements_per_token(att, mla_latent=self.mla_latent, tp=self.tp) * (
            self.dtype.bytes_per_element
        )


def bytes_per_token(arch: Architecture, spec: KvSpec, layers: range | None = None) -> float:
    """KV bytes one rank stores per token of a sequence, over ``layers`` (default all),
    counting every layer (the rate while the context is shorter than any window)."""
    chosen = arch.layers if layers is None else [arch.layers[i] for i in layers]
    return sum(spec.layer_bytes_per_token(layer.attention) for layer in chosen)


@by_identity
def kv_groups(
    arch: Architecture, spec: KvSpec, layers: range | None = None
) -> tuple[tuple[int | None, float], ...]:
    """Per-token KV bytes summed by sliding window (None = full attention) over ``layers``."""
    groups: dict[int | None, float] = {}
    for i in range(arch.num_layers) if layers is None else layers:
        att = arch.layers[i].attention
        groups[att.sliding_window] = groups.get(att.sliding_window, 0.0) + (
            spec.layer_bytes_per_token(att)
        )
    return tuple(groups.items())


def bytes_for_sequence(
    arch: Architecture,
    spec: KvSpec,
    tokens: int,
    layers: range | None = None,
    block_tokens: int = 1,
) -> float:
    """KV bytes one rank stores for one sequence of ``tokens``; sliding-window layers keep at
    most their window. ``block_tokens`` rounds up to the engine's block (vLLM: 16)."""
    total = 0.0
    for window, per_token in kv_groups(arch, spec, layers):
        kept = tokens if window is None else min(tokens, window)
        total += -(-kept // block_tokens) * block_tokens * per_token
    return total
