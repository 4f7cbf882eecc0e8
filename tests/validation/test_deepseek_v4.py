"""DeepSeek-V4 against published figures: the model cards' totals, the released
checkpoint's tensor shapes, and vLLM's KV-cache size at one million tokens."""

from __future__ import annotations

import pytest

from deepfit.memory.formats import checkpoint_native_format, weight_bytes
from deepfit.memory.kv import KvDtype, KvSpec, bytes_for_sequence
from deepfit.models import load_model

GIB = 1 << 30


@pytest.mark.parametrize(
    ("name", "total", "active"),
    [
        # model cards (huggingface.co/deepseek-ai/DeepSeek-V4-Flash, -Pro, 2026-04-24):
        # "284B parameters (13B activated)", "1.6T parameters (49B activated)"
        ("deepseek-v4-flash", 284e9, 13e9),
        ("deepseek-v4-pro", 1.6e12, 49e9),
    ],
)
def test_totals_and_active_match_the_cards(name: str, total: float, active: float) -> None:
    p = load_model(name).params
    # the cards round: 284B to the billion, 1.6T to the hundred billion
    assert abs(p.total - total) <= (0.5e9 if total < 1e12 else 0.05e12)
    # activated without the input embedding (a lookup), rounded to the billion
    assert abs(p.active_excluding_embedding - active) <= 0.5e9


def test_pro_mtp_module_matches_the_checkpoint_tensor_list() -> None:
    """Element counts of ``mtp.0.*`` in DeepSeek-V4-Pro's safetensors (shapes as published;
    the FP4 experts' int8 tensors hold two weights per byte, so 3584 columns are 7168)."""
    h, q, heads, d = 7168, 1536, 128, 512
    shapes = [
        (heads,),  # attn_sink
        (d,),  # kv_norm
        (q,),  # q_norm
        (d, h),  # wkv
        (16384, 4096),  # wo_a
        (h, 16384),  # wo_b
        (q, h),  # wq_a
        (65536, q),  # wq_b
        (h,),  # attn_norm
        (h, h),  # e_proj
        (h,),  # enorm
        (384 * 3072, 2 * 3584),  # experts w1 (packed FP4)
        (384 * h, 2 * 1536),  # experts w2 (packed FP4)
        (384 * 3072, 2 * 3584),  # experts w3 (packed FP4)
        (384, h),  # gate.weight (gate.bias is a buffer, not a parameter)
        (3072, h),  # shared w1
        (h, 3072),  # shared w2
        (3072, h),  # shared w3
        (h,),  # ffn_norm
        (h, h),  # h_proj
        (24,),
        (24, 4 * h),
        (3,),  # hc_attn base, fn, scale
        (24,),
        (24, 4 * h),
        (3,),  # hc_ffn base, fn, scale
        (4,),
        (4, 4 * h),
        (1,),  # hc_head base, fn, scale
        (h,),  # hnorm
        (h,),  # norm
    ]
    expected = 0
    for shape in shapes:
        n = 1
        for dim in shape:
            n *= dim
        expected += n
    assert load_model("deepseek-v4-pro").params.mtp == expected


def test_pro_kv_at_one_million_tokens_matches_vllm() -> None:
    """vLLM blog "DeepSeek V4 in vLLM: Efficient Long-context Attention" (2026-04-24):
    about 9.62 GiB of KV cache per sequence in bf16 at a 1M-token context, 8.7x less than
    DeepSeek-V3.2's layout at the same length."""
    arch = load_model("deepseek-v4-pro").arch
    per_seq = bytes_for_sequence(arch, KvSpec(KvDtype.BF16), 1 << 20)
    assert per_seq / GIB == pytest.approx(9.62, abs=0.01)


def test_v32_kv_at_one_million_tokens_and_the_ratio_to_v4() -> None:
    """Same vLLM blog: DeepSeek-V3.2's layout (MLA latent + indexer keys, bf16) would take
    about 83.88 GiB at 1M tokens, 8.7x DeepSeek-V4-Pro's."""
    spec = KvSpec(KvDtype.BF16)
    v32 = bytes_for_sequence(load_model("deepseek-v3.2").arch, spec, 1 << 20)
    v4 = bytes_for_sequence(load_model("deepseek-v4-pro").arch, spec, 1 << 20)
    assert v32 / GIB == pytest.approx(83.88, abs=0.01)
    assert v32 / v4 == pytest.approx(8.7, abs=0.05)


def test_kimi_k2_active_matches_the_card() -> None:
    """Kimi-K2 model card: 1T total, 32B activated parameters (rounded to the billion)."""
    p = load_model("kimi-k2").params
    assert abs(p.total - 1.0e12) <= 0.05e12
    assert abs(p.active_excluding_embedding - 32e9) <= 0.5e9


@pytest.mark.parametrize(
    ("name", "published"),
    [
        # model.safetensors.index.json of DeepSeek-V4-Flash: metadata.total_size (46 shards,
        # 69,187 tensors, MTP included), as fetched in code-index file 59368543979
        ("deepseek-v4-flash", 159_609_485_896),
        # DeepSeek-V4-Pro's 145,116 tensors: 805.32 GiB (two decimals), code-index 62525154746
        ("deepseek-v4-pro", 805.32 * GIB),
    ],
)
def test_native_checkpoint_bytes_match_the_published_checkpoints(
    name: str, published: float
) -> None:
    """FP8 e4m3 with UE8M0 block scales, routed experts MXFP4, compressors, embeddings and
    head in bf16; the checkpoint also keeps hyper-connection maps and sinks in fp32 and the
    hash-routing tables (buffers) in int64, which the format rule rounds to 16 bits or omits."""
    arch = load_model(name).arch
    fmt = checkpoint_native_format(arch)
    assert fmt is not None and fmt.name == "fp8-fp4-experts"
    ours = weight_bytes(arch, fmt, include_mtp=True).total
    assert ours == pytest.approx(published, rel=0.003)


def test_v32_checkpoint_bytes_match_its_tensor_list() -> None:
    """DeepSeek-V3.2's 92,425 tensors hold 642.12 GiB (code-index file 62736905881): FP8
    block weights, the MTP layer, and that layer's own bf16 copies of embedding and head
    (which deepfit's MTP count leaves out, as they duplicate the main model's)."""
    arch = load_model("deepseek-v3.2").arch
    fmt = checkpoint_native_format(arch)
    assert fmt is not None and fmt.name == "fp8-block"
    copies = 2 * arch.vocab_size * arch.hidden_size * 2
    ours = weight_bytes(arch, fmt, include_mtp=True).total + copies
    assert ours == pytest.approx(642.12 * GIB, rel=0.002)


def test_glm47_flash_tensor_elements_equal_the_checkpoint() -> None:
    """GLM-4.7-Flash's bf16 safetensors hold 31,221,488,576 elements (code-index file
    62624914535): the main model, the MTP layer with its own copies of embedding and head,
    and 47 routing-bias buffers of 64."""
    model = load_model("glm-4.7-flash")
    p, arch = model.params, model.arch
    copies = 2 * arch.vocab_size * arch.hidden_size
    assert p.total + p.mtp + copies + 47 * 64 == 31_221_488_576
