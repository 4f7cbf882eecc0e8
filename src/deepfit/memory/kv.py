"""KV cache bytes per token, as each engine really stores it.

- MHA/GQA/MQA: K and V for each KV head, in every layer.
- Sliding-window layers hold at most ``window`` tokens of a sequence (Gemma 2, Mistral v0.1);
  chunked-attention layers (Llama 4) at most one chunk.
- DeepSeek MLA: engines with MLA kernels (vLLM, SGLang, TensorRT-LLM, llama.cpp) cache the
  compressed latent, ``kv_lora_rank + qk_rope_head_dim`` elements per token and layer, one
  copy per rank (not split by tensor parallelism); a plain transformers run caches the
  decompressed per-head K and V.
- Tensor parallelism splits KV heads across ranks; with fewer KV heads than ranks, each rank
  keeps one (heads are replicated, as vLLM does). Pipeline parallelism splits layers.
- DeepSeek lightning indexers (V3.2 DSA, V4 CSA) cache one key of ``index_head_dim`` per
  (compressed) token; MLA-aware engines store it in fp8 with an fp32 scale per 128
  (vLLM ``DeepseekV32IndexerCache``: 128 + 4 = 132 bytes).
- DeepSeek-V4 layers cache a window of ``sliding_window`` uncompressed entries plus one
  compressed entry per ``ratio`` tokens (CSA 4, HCA 128), each entry one shared K=V head of
  ``head_dim``; in fp8 engines store the no-RoPE part in fp8, the RoPE part in bf16 and an
  8-byte scale (vLLM ``fp8_ds_mla`` for V4: 448 + 128 + 8 = 584 bytes per entry). V3.2 with
  an fp8 cache uses the same format at its MLA width (512 + 16 + 128 = 656 bytes).

- SGLang keeps window layers in a pool of their own only for the model types its
  ``is_hybrid_swa_model`` lists (gpt-oss, Llama 4 among them): that pool holds
  ``--swa-full-tokens-ratio`` (0.8) tokens per token of the full pool, and a sequence keeps
  at most its window there. Other window models (Gemma 2/3) share one token pool, so every
  layer keeps the whole context (see :data:`SGLANG_HYBRID_SWA_TYPES`).

- Linear-attention layers (Gated DeltaNet) keep no per-token cache but a fixed state per
  sequence (recurrent state and convolution inputs), in 16 bits whatever the KV dtype
  (vLLM's mamba-state dtype follows the model's, not ``--kv-cache-dtype``), split across
  tensor-parallel ranks by heads.

Each layer's cache is a set of :class:`KvPart` (a window or the whole context, and bytes
per token), so memory, capacity and per-step KV traffic all read the same description.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
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


#: vLLM's fp8 indexer-key cache: fp8 keys plus one fp32 scale per 128 of them
INDEXER_SCALE_BLOCK = 128
#: vLLM's fp8 DeepSeek-V4 entry: 448 fp8 + 64 bf16 RoPE + one 8-byte scale = 584 bytes
V4_FP8_SCALE_BYTES = 8


@dataclass(frozen=True)
class KvPart:
    """One piece of a layer's cache: ``window`` tokens kept (None: the whole context),
    ``bytes_per_token`` per token of the sequence (fractional for compressed entries)."""

    window: int | None
    bytes_per_token: float


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
    group_padding: bool = False  # vLLM's hybrid KV-cache groups of equal layer counts
    swa_extra_tokens: int = 0  # llama.cpp: a window cache also holds one ubatch (512)
    swa_pad: int = 1  # llama.cpp pads its window cache to 256 cells
    #: SGLang's hybrid SWA pool: window-layer tokens per full-pool token (None: no such pool)
    swa_pool_ratio: float | None = None

    def window_cells(self, window: int) -> int:
        """Tokens a window (or chunk) layer keeps for one sequence at most. llama.cpp's
        ``llama_kv_cache_iswa`` sizes it ``GGML_PAD(n_swa + n_ubatch, 256)``."""
        cells = window + self.swa_extra_tokens
        return -(-cells // self.swa_pad) * self.swa_pad

    def entry_bytes(self, elements: int, rope: int, fp8_scale_bytes: int) -> float:
        """One cached entry of ``elements``, ``rope`` of which carry RoPE. In fp8, engines
        with MLA kernels keep the RoPE part in bf16 and add ``fp8_scale_bytes`` of scales."""
        if self.dtype is KvDtype.FP8 and self.mla_latent:
            return (elements - rope) + 2 * rope + fp8_scale_bytes
        return elements * self.dtype.bytes_per_element

    def indexer_bytes(self, head_dim: int) -> float:
        """One indexer key: in fp8 with an fp32 scale per 128 (vLLM), else in the KV dtype."""
        if self.dtype is KvDtype.FP8 and self.mla_latent:
            return head_dim + 4 * (head_dim // INDEXER_SCALE_BLOCK)
        return head_dim * self.dtype.bytes_per_element

    def state_bytes(self, att: Attention) -> float:
        """Bytes one rank keeps per sequence for a linear-attention layer (0 otherwise)."""
        if att.linear is None:
            return 0.0
        share = min(self.tp, att.linear.num_v_heads)
        width = 4.0 if self.dtype is KvDtype.FP32 else 2.0
        return att.linear.state_elements * width / share

    def parts(self, att: Attention) -> tuple[KvPart, ...]:
        """What one rank caches per token for one layer of this attention."""
        if att.linear is not None:
            return ()
        idx = att.indexer
        c = att.compressed
        if c is not None:
            entry = self.entry_bytes(att.head_dim, c.rope_dim, V4_FP8_SCALE_BYTES)
            out = [KvPart(att.sliding_window, entry)]
            if c.ratio:
                out.append(KvPart(None, entry / c.ratio))
                if idx is not None:
                    out.append(KvPart(None, self.indexer_bytes(idx.head_dim) / c.ratio))
            return tuple(out)
        if att.mla is not None and self.mla_latent and idx is not None:
            m = att.mla
            scales = 4 * (m.kv_lora_rank // INDEXER_SCALE_BLOCK)  # fp32 per 128
            main = self.entry_bytes(m.latent_dim, m.qk_rope_head_dim, scales)
            return (KvPart(None, main), KvPart(None, self.indexer_bytes(idx.head_dim)))
        per_token = elements_per_token(att, mla_latent=self.mla_latent, tp=self.tp)
        per_token *= self.dtype.bytes_per_element
        if idx is not None:  # plain transformers: decompressed K/V plus the indexer's keys
            per_token += self.indexer_bytes(idx.head_dim)
        # a chunked layer needs only its current chunk (vLLM frees blocks behind it)
        return (KvPart(att.sliding_window or att.chunk_size, per_token),)

    def layer_bytes_per_token(self, att: Attention) -> float:
        """Bytes per token of one layer while the context is shorter than any window."""
        return sum(p.bytes_per_token for p in self.parts(att))


#: llama.cpp's default n_ubatch, and the padding of its window cache (llama-kv-cache-iswa.cpp)
LLAMACPP_UBATCH = 512
LLAMACPP_SWA_PAD = 256


#: SGLang's ``--swa-full-tokens-ratio`` default (srt/server_args.py), and the model types its
#: hybrid SWA pool serves (srt/configs/model_config.py ``is_hybrid_swa_model``, commit
#: 001adf56: Llama4ForConditionalGeneration, GptOssForCausalLM, ...; not Gemma 2/3)
SGLANG_SWA_FULL_TOKENS_RATIO = 0.8
SGLANG_HYBRID_SWA_TYPES = frozenset({"gpt_oss", "llama4", "llama4_text"})


def for_engine(spec: KvSpec, engine: str) -> KvSpec:
    """``spec`` with an engine's rules for hybrid and window caches: vLLM's padded layer
    groups, llama.cpp's window cache of one ubatch more, padded to 256 cells, SGLang's
    window pool sized by ``--swa-full-tokens-ratio``."""
    if engine == "vllm":
        return replace(spec, group_padding=True)
    if engine == "llamacpp":
        return replace(spec, swa_extra_tokens=LLAMACPP_UBATCH, swa_pad=LLAMACPP_SWA_PAD)
    if engine == "sglang":
        return replace(spec, swa_pool_ratio=SGLANG_SWA_FULL_TOKENS_RATIO)
    return spec


def sglang_window_rule(arch: Architecture, spec: KvSpec, layers: range) -> str | None:
    """How SGLang holds this model's window layers: ``"pool"`` (a hybrid SWA pool of its
    own), ``"whole"`` (the one token pool: every layer keeps the whole context) or None
    (no window layers, compressed or indexed layers, or another engine)."""
    if spec.swa_pool_ratio is None:
        return None
    parts = [spec.parts(arch.layers[i].attention) for i in layers]
    if any(len(p) > 1 for p in parts) or not any(p and p[0].window for p in parts):
        return None
    if arch.model_type not in SGLANG_HYBRID_SWA_TYPES:
        return "whole"
    return "pool" if any(p and p[0].window is None for p in parts) else None


def bytes_per_token(arch: Architecture, spec: KvSpec, layers: range | None = None) -> float:
    """KV bytes one rank stores per token of a sequence, over ``layers`` (default all),
    counting every layer (the rate while the context is shorter than any window)."""
    return sum(per_token for _, per_token in kv_groups(arch, spec, layers))


def group_padding(arch: Architecture, spec: KvSpec, layers: range) -> dict[int | None, float]:
    """vLLM's hybrid KV-cache manager (layers of one page size, several attention types):
    each type's layers are cut into groups of the smallest type's layer count, and every
    group holds that many layers' pages, so a type whose count is not a multiple is padded.
    Returns the factor per window (1.0 without padding). Gemma 3 4B: 5 global and 29
    sliding layers make 7 groups of 5, i.e. 35 layers' worth, as vLLM's logged KV tokens
    show (tests/validation)."""
    counts: dict[int | None, int] = {}
    sizes = set()
    for i in layers:
        parts = spec.parts(arch.layers[i].attention)
        if len(parts) != 1:  # compressed, indexed or linear layers: vLLM pools them apart
            return {}
        counts[parts[0].window] = counts.get(parts[0].window, 0) + 1
        sizes.add(parts[0].bytes_per_token)
    if len(counts) < 2 or len(sizes) != 1:
        return {}
    size = min(counts.values())
    return {w: -(-n // size) * size / n for w, n in counts.items()}


@by_identity
def kv_groups(
    arch: Architecture, spec: KvSpec, layers: range | None = None
) -> tuple[tuple[int | None, float], ...]:
    """Per-token KV bytes summed by sliding window (None = full attention) over ``layers``."""
    chosen = range(arch.num_layers) if layers is None else layers
    groups: dict[int | None, float] = {}
    for i in chosen:
        for part in spec.parts(arch.layers[i].attention):
            groups[part.window] = groups.get(part.window, 0.0) + part.bytes_per_token
    if spec.group_padding:
        pad = group_padding(arch, spec, chosen)
        groups = {w: b * pad.get(w, 1.0) for w, b in groups.items()}
    rule = sglang_window_rule(arch, spec, chosen)
    if rule == "whole":
        groups = {None: sum(groups.values())}
    elif rule == "pool":  # bytes per token of the full pool: its layers, ratio x the window's
        ratio = spec.swa_pool_ratio or 0.0
        groups = {w: b if w is None else b * ratio for w, b in groups.items()}
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
    chosen = range(arch.num_layers) if layers is None else layers
    total = sum(spec.state_bytes(arch.layers[i].attention) for i in chosen)
    if sglang_window_rule(arch, spec, chosen) == "pool":
        return total + _sglang_pool_share(kv_groups(arch, spec, layers), spec, tokens, block_tokens)
    for window, per_token in kv_groups(arch, spec, layers):
        kept = tokens if window is None else min(tokens, spec.window_cells(window))
        total += -(-kept // block_tokens) * block_tokens * per_token
    return total


def _sglang_pool_share(
    groups: tuple[tuple[int | None, float], ...], spec: KvSpec, tokens: int, block: int
) -> float:
    """One sequence's share of SGLang's two pools, in bytes of the whole budget. SGLang
    (srt/model_executor/pool_configurator.py ``HybridSWAPoolConfigurator``, commit 003fca80)
    sizes the full pool at budget / (F + r S) tokens, F and S the bytes per token of the full
    and window layers, and the window pool at r times as many; a sequence takes ``tokens``
    of the first and at most its window of the second, so the pool that fills first binds:
    (F + r S) x max(tokens, min(tokens, window) / r). (``SWAChunkCapPoolConfigurator``, which
    SGLang picks only with an explicit --max-running-requests and the radix cache off, sizes
    the window pool from that cap instead; it is not modelled.)"""
    ratio = spec.swa_pool_ratio or 1.0
    cell = sum(rate for _, rate in groups)
    window = max(w for w, _ in groups if w is not None)
    kept = -(-tokens // block) * block
    return cell * max(kept, min(kept, spec.window_cells(window)) / ratio)
