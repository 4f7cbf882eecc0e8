"""GGUF weights as llama.cpp's quantizer writes them: the per-tensor type of each ftype.

llama.cpp does not store a "Q4_K_M" model in one type. ``llama_tensor_get_type`` (in
``src/llama-quant.cpp``) picks a ggml type per tensor from its name, layer and shape:

* ``output.weight`` (the head; the token embedding when the head is tied) becomes Q6_K,
  or stays Q8_0 for the Q8_0 ftype, or Q8_0 when its row length is not a multiple of the
  base type's block;
* Q4_K_M / Q5_K_M give ``attn_v`` and ``ffn_down`` (``ffn_down_exps``/``_shexp`` too) Q6_K
  on the layers where ``use_more_bits(i, n)``: ``i < n/8 or i >= 7n/8 or (i - n/8) % 3 == 2``;
* Q4_K_S gives ``attn_v`` of layers < 4 and ``ffn_down`` of layers < n/8 Q5_K;
  Q2_K gives ``attn_v`` Q4_K (Q3_K below 4 query heads per KV head), ``ffn_down`` and
  ``attn_output`` Q3_K;
* models with 80 layers (llama.cpp's 70B type) raise a Q3_K/Q4_K ``attn_v`` to Q5_K;
  models with exactly 8 experts (Mixtral) store ``attn_v``/``attn_k`` in Q8_0 and, for
  the 2-4 bit k-quants, ``attn_output`` in Q5_K; Phi-3's fused ``attn_qkv`` gets Q5_K
  (Q4_K_M) or Q6_K (Q5_K_M);
* a tensor whose row length (``cols``) is not a multiple of the type's block falls back:
  Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0, Q2_K/Q3_K -> IQ4_NL, then F16 if even 32
  does not divide it (llama.cpp aborts for Q4_0/Q8_0 there; we store F16).

Norms, biases and MoE routers (``ffn_gate_inp``) are F32, as ``convert_hf_to_gguf.py``
writes them and the quantizer leaves them. Not modelled: importance-matrix-only rules
(Q4_0 with imatrix), the IQ ftypes, and newer llama.cpp's split of MLA's ``attn_kv_b``
into ``attn_k_b``/``attn_v_b`` (whose 128-wide rows fall back to Q5_0/Q8_0).
Block sizes are ggml's ``ggml-common.h`` structs.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..models.architecture import Architecture
from ..models.tensors import Role, Tensor

# ggml type -> (bytes per block, weights per block), from ggml-common.h's block structs
GGML_TYPES: dict[str, tuple[int, int]] = {
    "F32": (4, 1),
    "F16": (2, 1),
    "Q4_0": (18, 32),
    "Q4_1": (20, 32),
    "Q5_0": (22, 32),
    "Q5_1": (24, 32),
    "Q8_0": (34, 32),
    "IQ4_NL": (18, 32),
    "MXFP4": (17, 32),
    "Q2_K": (84, 256),
    "Q3_K": (110, 256),
    "Q4_K": (144, 256),
    "Q5_K": (176, 256),
    "Q6_K": (210, 256),
}

# ftype -> the base ggml type of its tensors
FTYPE_BASE: dict[str, str] = {
    "F16": "F16",
    "Q4_0": "Q4_0",
    "Q8_0": "Q8_0",
    "Q2_K": "Q2_K",
    "Q4_K_S": "Q4_K",
    "Q4_K_M": "Q4_K",
    "Q5_K_M": "Q5_K",
    "Q6_K": "Q6_K",
}

_FALLBACK = {"Q4_K": "Q5_0", "Q5_K": "Q5_1", "Q6_K": "Q8_0", "Q2_K": "IQ4_NL", "Q3_K": "IQ4_NL"}
_SMALL_K = ("Q2_K", "Q4_K_S", "Q4_K_M")  # ftypes whose attn_output gets Q5_K with 8 experts


@dataclass(frozen=True)
class GgufModel:
    """What the type rules need to know about the whole model, beyond one tensor."""

    num_layers: int
    n_expert: int = 1  # routed experts per MoE layer (0 or 1: dense)
    n_gqa: int = 1  # query heads per KV head
    has_output: bool = True  # False when the head is tied to the token embedding
    fused_qkv: bool = False  # Phi-3 stores q, k and v as one attn_qkv tensor

    @classmethod
    def of(cls, arch: Architecture) -> GgufModel:
        att = arch.layers[0].attention
        moe = next((la.moe for la in arch.layers if la.moe is not None), None)
        return cls(
            num_layers=arch.num_layers,
            n_expert=moe.num_experts if moe else 1,
            n_gqa=max(1, att.num_heads // max(1, att.num_kv_heads)),
            has_output=not arch.tie_word_embeddings,
            fused_qkv=arch.model_type == "phi3",
        )


def use_more_bits(i_layer: int, n_layers: int) -> bool:
    """llama.cpp's choice of the layers that get more bits in the _M k-quant mixes."""
    return (
        i_layer < n_layers // 8
        or i_layer >= 7 * n_layers // 8
        or (i_layer - n_layers // 8) % 3 == 2
    )


def tensor_type(t: Tensor, ftype: str, model: GgufModel) -> str:
    """The ggml type llama.cpp stores tensor ``t`` in for ``ftype`` (a key of FTYPE_BASE)."""
    if not t.is_matrix or t.role is Role.ROUTER:
        return "F32"
    base = FTYPE_BASE[ftype]
    if base == "F16":
        return "F16"
    is_output = t.role is Role.HEAD or (t.role is Role.EMBED and not model.has_output)
    if is_output:
        wanted = _output_type(t, base)
    elif t.role is Role.EMBED:
        wanted = base
    else:
        wanted = _layer_type(t, ftype, base, model)
    return _fit_rows(wanted, t.cols)


def _output_type(t: Tensor, base: str) -> str:
    if t.cols % GGML_TYPES[base][1] != 0 or base == "Q8_0":
        return "Q8_0"
    return "Q6_K"


def _layer_type(t: Tensor, ftype: str, base: str, model: GgufModel) -> str:
    i, n = (t.layer or 0), model.num_layers
    role = t.role
    if model.fused_qkv and role in (Role.ATTN_Q, Role.ATTN_K, Role.ATTN_V):
        return {"Q4_K_M": "Q5_K", "Q5_K_M": "Q6_K"}.get(ftype, base)
    if role is Role.ATTN_V:
        return _attn_v_type(i, ftype, base, model)
    if role is Role.ATTN_K and model.n_expert == 8:
        return "Q8_0"
    if role is Role.FFN_DOWN:
        return _ffn_down_type(i, n, ftype, base)
    if role is Role.ATTN_O:
        if model.n_expert == 8:
            return "Q5_K" if ftype in _SMALL_K else base
        return "Q3_K" if ftype == "Q2_K" else base
    return base


def _attn_v_type(i: int, ftype: str, base: str, model: GgufModel) -> str:
    new = base
    if ftype == "Q2_K":
        new = "Q4_K" if model.n_gqa >= 4 else "Q3_K"
    elif ftype in ("Q4_K_M", "Q5_K_M") and use_more_bits(i, model.num_layers):
        new = "Q6_K"
    elif ftype == "Q4_K_S" and i < 4:
        new = "Q5_K"
    if model.num_layers == 80 and new in ("Q3_K", "Q4_K"):
        new = "Q5_K"  # llama.cpp's LLM_TYPE_70B: attn_v is 8x smaller, so more bits are cheap
    if model.n_expert == 8:
        new = "Q8_0"
    return new


def _ffn_down_type(i: int, n: int, ftype: str, base: str) -> str:
    if ftype == "Q2_K":
        return "Q3_K"
    if ftype in ("Q4_K_M", "Q5_K_M") and use_more_bits(i, n):
        return "Q6_K"
    if ftype == "Q4_K_S" and i < n // 8:
        return "Q5_K"
    return base


def _fit_rows(ggml_type: str, cols: int) -> str:
    """llama.cpp's fallback when the row length is not a multiple of the type's block."""
    block = GGML_TYPES[ggml_type][1]
    if cols % block == 0:
        return ggml_type
    fallback = _FALLBACK.get(ggml_type, "F16")
    return fallback if cols % GGML_TYPES[fallback][1] == 0 else "F16"


def type_bytes(ggml_type: str, numel: int) -> float:
    """Bytes of ``numel`` weights stored as ``ggml_type`` (whole blocks, scales included)."""
    block_bytes, block_weights = GGML_TYPES[ggml_type]
    return numel * block_bytes / block_weights


def gguf_tensor_bytes(t: Tensor, ftype: str, model: GgufModel) -> float:
    """Bytes of tensor ``t`` (all its experts) in a GGUF file of ``ftype``."""
    return type_bytes(tensor_type(t, ftype, model), t.numel)
