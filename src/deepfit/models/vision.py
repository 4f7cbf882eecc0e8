"""The vision encoder and projector of a multimodal config (its ``vision_config``), sized from
the shapes alone: SigLIP towers (Gemma 3) with Gemma 3's projector. Other towers are
reported as not sized rather than guessed.

SigLIP (transformers ``SiglipVisionTransformer``; vLLM ``SiglipVisionModel``): a patch
embedding (a conv of ``channels x patch^2 -> hidden`` with bias), a position table of
``(image / patch)^2`` rows, ``layers`` encoder layers (two LayerNorms, q/k/v/o with bias, an
MLP ``hidden -> intermediate -> hidden`` with biases), a final LayerNorm and, when
``vision_use_head``, an attention-pooling head (Gemma 3 checkpoints turn it off). Gemma 3's
projector: ``mm_input_projection_weight`` (vision hidden x text hidden) and an RMS norm.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: vision_config model types sized here
SIGLIP = "siglip_vision_model"


@dataclass(frozen=True)
class VisionTower:
    """Shapes of a vision encoder and its projector into the language model."""

    kind: str
    hidden: int
    intermediate: int
    layers: int
    heads: int
    patch: int
    image: int
    channels: int
    use_head: bool
    text_hidden: int
    tokens_per_image: int  # embeddings one image becomes in the language model

    @property
    def patches(self) -> int:
        return (self.image // self.patch) ** 2

    @property
    def encoder_params(self) -> int:
        h, i = self.hidden, self.intermediate
        embed = self.channels * self.patch**2 * h + h + self.patches * h
        layer = 4 * (h * h + h) + (h * i + i) + (i * h + h) + 2 * 2 * h
        head = 0
        if self.use_head:  # probe, fused q/k/v and out projection, LayerNorm, MLP
            head = h + (3 * h * h + 3 * h) + (h * h + h) + 2 * h + (h * i + i) + (i * h + h)
        return embed + self.layers * layer + 2 * h + head

    @property
    def projector_params(self) -> int:
        return self.hidden * self.text_hidden + self.hidden

    @property
    def params(self) -> int:
        return self.encoder_params + self.projector_params


def vision_tower(config: Mapping[str, Any], text_hidden: int) -> VisionTower | str | None:
    """The tower of a multimodal ``config``; a note (str) when it has one deepfit cannot
    size; None when it has none."""
    vc = config.get("vision_config")
    if not isinstance(vc, Mapping):
        return None
    kind = str(vc.get("model_type", ""))[:60]
    if kind != SIGLIP:
        return f"vision encoder '{kind or 'unknown'}' is not sized (SigLIP towers are)"
    try:
        return VisionTower(
            kind=kind,
            hidden=_int(vc, "hidden_size", 768),
            intermediate=_int(vc, "intermediate_size", 3072),
            layers=_int(vc, "num_hidden_layers", 12),
            heads=_int(vc, "num_attention_heads", 12),
            patch=_int(vc, "patch_size", 16),
            image=_int(vc, "image_size", 224),
            channels=_int(vc, "num_channels", 3),
            use_head=bool(vc.get("vision_use_head", True)),
            text_hidden=text_hidden,
            tokens_per_image=_int(config, "mm_tokens_per_image", 256),
        )
    except ValueError as exc:
        return f"vision encoder not sized: {exc}"


def _int(m: Mapping[str, Any], key: str, default: int) -> int:
    """A positive size from the config, or transformers' default for SigLIP when absent."""
    value = m.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 1 << 20:
        raise ValueError(f"vision_config.{key} = {value!r} is not a size")
    return value
