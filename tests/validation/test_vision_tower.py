"""Vision towers counted by deepfit and by transformers' Gemma 3 built on the meta device
(vision tower + multimodal projector), with and without SigLIP's pooling head, and the
weights line `deepfit memory --vision` adds. Skipped without transformers."""

from __future__ import annotations

from typing import Any

import pytest

from deepfit.hardware import load_gpu
from deepfit.memory import estimate_memory
from deepfit.memory.ledger import Extras
from deepfit.models import model_from_config

pytest.importorskip("transformers")

# google/gemma-3-4b-it config.json (vision part verbatim; the text part trimmed to what
# deepfit reads)
GEMMA3_4B: dict[str, Any] = {
    "architectures": ["Gemma3ForConditionalGeneration"],
    "model_type": "gemma3",
    "mm_tokens_per_image": 256,
    "torch_dtype": "bfloat16",
    "text_config": {
        "model_type": "gemma3_text",
        "hidden_size": 2560,
        "intermediate_size": 10240,
        "num_hidden_layers": 34,
        "num_attention_heads": 8,
        "num_key_value_heads": 4,
        "head_dim": 256,
        "sliding_window": 1024,
        "vocab_size": 262208,
        "max_position_embeddings": 131072,
        "query_pre_attn_scalar": 256,
    },
    "vision_config": {
        "hidden_size": 1152,
        "image_size": 896,
        "intermediate_size": 4304,
        "model_type": "siglip_vision_model",
        "num_attention_heads": 16,
        "num_hidden_layers": 27,
        "patch_size": 14,
        "vision_use_head": False,
    },
}


def _meta_vision_params(cfg: dict[str, Any]) -> int:
    import torch
    from transformers import Gemma3Config, Gemma3ForConditionalGeneration

    text = {k: v for k, v in cfg["text_config"].items() if k != "model_type"}
    config = Gemma3Config(
        text_config=text,
        vision_config=cfg["vision_config"],
        mm_tokens_per_image=cfg["mm_tokens_per_image"],
    )
    with torch.device("meta"):
        model = Gemma3ForConditionalGeneration(config)
    return sum(
        p.numel()
        for name, p in model.named_parameters()
        if "vision_tower" in name or "multi_modal_projector" in name
    )


@pytest.mark.parametrize("use_head", [False, True])
def test_gemma3_vision_tower_equals_transformers(use_head: bool) -> None:
    cfg = {
        **GEMMA3_4B,
        "vision_config": {**GEMMA3_4B["vision_config"], "vision_use_head": use_head},
    }
    tower = model_from_config(cfg).arch.vision
    assert tower is not None
    assert tower.params == _meta_vision_params(cfg)


def test_vision_line_in_memory() -> None:
    model = model_from_config(GEMMA3_4B)
    assert model.arch.vision is not None
    est = estimate_memory(model, load_gpu("L4"), context=8192, extras=Extras(vision=True))
    line = est.to_dict()["ledger"][0]
    assert line["weights_bytes"] == 2 * _meta_vision_params(GEMMA3_4B)  # bf16, tp=1
    # the encoder cache: 8,192 embeddings (vLLM's per-step budget) of the text width, bf16
    assert line["activations_bytes"] == 8192 * 2560 * 2
