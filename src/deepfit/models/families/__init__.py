"""Model families: one parser per Hugging Face ``model_type``.

To add a family, write a function ``ConfigReader -> FamilyParse`` (see ``dense.py`` for
the simplest ones), register it in :data:`FAMILIES` under its ``model_type``, add a config
of the family to ``models/data/configs/`` and its transformers parameter count to the
validation table; the tests then check the count exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...errors import ConfigError, UnsupportedArchitectureError
from ..architecture import Architecture
from ..config import ConfigReader
from ..vision import vision_tower
from ._common import FamilyParse, Parser, base_dims
from .deepseek import parse_deepseek_v2, parse_deepseek_v32
from .deepseek_v4 import parse_deepseek_v4
from .dense import (
    parse_gemma,
    parse_gemma2,
    parse_gemma3,
    parse_llama,
    parse_mistral,
    parse_phi3,
    parse_qwen2,
    parse_qwen3,
)
from .hybrid import parse_qwen3_5, parse_qwen3_5_moe, parse_qwen3_next
from .moe import (
    parse_deepseek,
    parse_glm4_moe,
    parse_gpt_oss,
    parse_llama4,
    parse_minimax_m2,
    parse_mixtral,
    parse_qwen2_moe,
    parse_qwen3_moe,
)

FAMILIES: Mapping[str, Parser] = {
    "llama": parse_llama,
    "mistral": parse_mistral,
    "qwen2": parse_qwen2,
    "qwen3": parse_qwen3,
    "gemma": parse_gemma,
    "gemma2": parse_gemma2,
    "phi3": parse_phi3,
    "mixtral": parse_mixtral,
    "qwen2_moe": parse_qwen2_moe,
    "qwen3_moe": parse_qwen3_moe,
    "deepseek": parse_deepseek,
    "deepseek_v2": parse_deepseek_v2,
    "deepseek_v3": parse_deepseek_v2,
    "deepseek_v32": parse_deepseek_v32,
    "deepseek_v4": parse_deepseek_v4,
    "kimi_k2": parse_deepseek_v2,  # Kimi-K2: the DeepSeek-V3 architecture, 384 experts
    "glm4_moe_lite": parse_deepseek_v2,  # GLM-4.7-Flash: MLA with DeepSeek-style experts
    "gpt_oss": parse_gpt_oss,
    "qwen3_next": parse_qwen3_next,
    "qwen3_5_text": parse_qwen3_5,
    "qwen3_5_moe_text": parse_qwen3_5_moe,
    "glm4_moe": parse_glm4_moe,
    "gemma3_text": parse_gemma3,
    "llama4_text": parse_llama4,
    "minimax_m2": parse_minimax_m2,
}

#: multimodal configs whose language model deepfit sizes, under the text model's type
TEXT_MODEL_OF: Mapping[str, str] = {
    "gemma3": "gemma3_text",
    "llama4": "llama4_text",
    "kimi_k25": "deepseek_v3",  # Kimi-K2.5: the Kimi-K2 (DeepSeek-V3) language model
    "qwen3_5": "qwen3_5_text",
    "qwen3_5_moe": "qwen3_5_moe_text",
}

__all__ = ["FAMILIES", "FamilyParse", "parse_architecture"]


def _text_model(data: Mapping[str, Any], origin: str) -> tuple[Mapping[str, Any], str | None]:
    """A multimodal config's ``text_config`` as a config of its own (quantization and
    dtype inherited), with a note; other configs unchanged."""
    r = ConfigReader(data, origin)
    kind = TEXT_MODEL_OF.get(r.text("model_type") or "")
    text = r.mapping("text_config")
    if kind is None or text is None:
        return data, None
    merged = {k: data[k] for k in ("quantization_config", "torch_dtype") if k in data}
    merged.update(text)
    merged["model_type"] = kind
    return merged, "multimodal model: the language model is sized; the vision encoder is not"


def _rope_scaling(r: ConfigReader) -> str | None:
    scaling = r.mapping("rope_scaling")
    if not scaling:
        return None
    kind = scaling.get("rope_type", scaling.get("type"))
    factor = scaling.get("factor")
    text = str(kind)[:40] if kind is not None else "custom"
    if isinstance(factor, (int, float)) and not isinstance(factor, bool):
        text += f" x{factor:g}"
    return text


def parse_architecture(data: Mapping[str, Any], model_id: str, origin: str) -> Architecture:
    """Turn config data into an :class:`Architecture`, or raise a clear error."""
    raw = data
    data, multimodal = _text_model(data, origin)
    r = ConfigReader(data, origin)
    model_type = r.text("model_type")
    archs = r.str_list("architectures")
    if model_type is None:
        raise ConfigError(
            f"{origin} has no model_type (architectures: {', '.join(archs) or 'none'})",
            'a Hugging Face config.json names its model_type, e.g. "llama"',
        )
    parser = FAMILIES.get(model_type)
    if parser is None:
        raise UnsupportedArchitectureError(
            f"model_type '{model_type}' (architectures: {', '.join(archs) or 'none'}) "
            f"is not a family deepfit knows; known: {', '.join(sorted(FAMILIES))}",
            "to add it, write a parser in deepfit/models/families/ and register it in "
            "FAMILIES (see deepfit/models/README.md)",
        )
    hidden, _, vocab = base_dims(r)
    tower = vision_tower(raw, hidden) if multimodal else None
    if isinstance(tower, str):
        multimodal, tower = f"{multimodal}; {tower}", None
    elif tower is not None:
        multimodal = f"{multimodal} unless asked (deepfit memory --vision)"
    parsed: FamilyParse = parser(r)
    quant = r.mapping("quantization_config")
    expert_dtype = r.text("expert_dtype")  # DeepSeek-V4 puts it beside quantization_config
    if quant and expert_dtype and "expert_dtype" not in quant:
        quant = {**quant, "expert_dtype": expert_dtype}
    return Architecture(
        model_id=model_id,
        family=model_type,
        model_type=model_type,
        hidden_size=hidden,
        vocab_size=vocab,
        layers=parsed.layers,
        tie_word_embeddings=r.flag("tie_word_embeddings", parsed.tie_default),
        max_position_embeddings=r.opt_integer("max_position_embeddings", hi=1 << 30),
        rope_theta=r.number("rope_theta"),
        rope_scaling=_rope_scaling(r),
        torch_dtype=r.text("torch_dtype") or r.text("dtype"),
        mtp_layers=parsed.mtp_layers,
        hyper_streams=parsed.hyper_streams,
        quantization=dict(quant) if quant else None,
        notes=parsed.notes + ((multimodal,) if multimodal else ()),
        vision=tower,
    )
