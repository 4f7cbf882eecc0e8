"""Kimi-K2.5 and Qwen3.5 bundled configs against their publishers' figures and Kimi-K2.5's
published tensor list (transformers' meta-device counts are in param_counts_found.csv)."""

from __future__ import annotations

import pytest

from deepfit.memory.formats import checkpoint_native_format, weight_bytes
from deepfit.models import load_model

GIB = 1 << 30


def test_kimi_k25_active_matches_nvidias_card() -> None:
    """NVIDIA Technical Blog, "Build with Kimi K2.5 Multimodal VLM Using NVIDIA
    GPU-Accelerated Endpoints" (2026-02-04): 1T total parameters, 32.86B active."""
    p = load_model("kimi-k2.5").params
    assert abs(p.active - 32.86e9) <= 0.005e9
    assert abs(p.total - 1.0e12) <= 0.05e12


def _moonvit_and_projector_bytes() -> int:
    """Kimi-K2.5's vision tower and projector as its tensor list gives them (27 blocks of
    fc0 4304x1152, fc1 1152x4304, wo 1152x1152, wqkv 3456x1152 with biases and two
    LayerNorms; final LayerNorm, 64x64x1152 position table, 14x14 patch conv; projector
    LayerNorm and 4608x4608, 7168x4608 linears with biases), all bf16."""
    block = (4304 * 1152 + 4304) + (1152 * 4304 + 1152) + 4 * 1152
    block += (1152 * 1152 + 1152) + (3456 * 1152 + 3456)
    tower = 27 * block + 2 * 1152 + 64 * 64 * 1152 + 1152 * 3 * 14 * 14 + 1152
    projector = 2 * 1152 + (4608 * 4608 + 4608) + (7168 * 4608 + 7168)
    return 2 * (tower + projector)


def test_kimi_k25_int4_checkpoint_bytes_match_its_tensor_list() -> None:
    """moonshotai/Kimi-K2.5's 64 safetensors files hold 208,550 tensors of 554.27 GiB
    (model report, code-index file 62530201892): routed experts int4 packed in int32 with a
    bf16 scale per 32 (the compressed-tensors ``ignore`` list keeps attention, shared
    experts and the dense layer in bf16), the MoonViT tower and projector in bf16, which
    deepfit does not size (the language model is what it sizes)."""
    arch = load_model("kimi-k2.5").arch
    fmt = checkpoint_native_format(arch)
    assert fmt is not None and fmt.experts_only
    ours = weight_bytes(arch, fmt, include_mtp=True).total
    published_language_model = 554.27 * GIB - _moonvit_and_projector_bytes()
    assert ours == pytest.approx(published_language_model, abs=0.01 * GIB)  # two decimals


def test_qwen35_397b_matches_its_card() -> None:
    """Qwen3.5-397B-A17B model card (as copied in mlx-community/Qwen3.5-397B-A17B-4bit's
    card): 397B total, ~17B activated, 60 layers of 15 x (3 Gated DeltaNet + 1 full
    attention), 512 experts with 10 routed + 1 shared per token. The card rounds to the
    billion and counts the vision encoder, which deepfit does not size."""
    model = load_model("qwen3.5-397b-a17b")
    assert abs(model.params.total - 397e9) <= 1e9
    assert abs(model.params.active - 17e9) <= 0.5e9
    kinds = [la.attention.linear is None for la in model.arch.layers]
    assert kinds == [i % 4 == 3 for i in range(60)]
    moe = model.arch.layers[0].moe
    assert moe is not None and (moe.num_experts, moe.experts_per_token) == (512, 10)


def test_qwen35_small_is_dense_and_tied() -> None:
    """Qwen3.5-0.8B (its config as fetched from the Hub, code-index file 54505217749):
    24 layers, 18 Gated DeltaNet and 6 full attention, tied 248,320 x 1,024 embeddings;
    the 0.8B of its name includes the vision encoder, which deepfit does not size."""
    model = load_model("qwen3.5-0.8b")
    assert model.arch.tie_word_embeddings
    assert sum(la.attention.linear is not None for la in model.arch.layers) == 18
    assert model.params.total == model.params.active
    assert 0.7e9 <= model.params.total <= 0.8e9
