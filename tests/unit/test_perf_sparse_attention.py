"""Attention FLOPs and KV traffic of DeepSeek's sparse and compressed attention, by hand."""

from __future__ import annotations

import pytest

from deepfit import model_from_config
from deepfit.memory import load_format
from deepfit.memory.kv import KvDtype, KvSpec
from deepfit.memory.layout import Layout
from deepfit.perf import StepShape, step_ops
from deepfit.perf.ops import OpCost

from .test_kv_deepseek_sparse import v4_config

KV = KvSpec(KvDtype.BF16)


def _ops(
    cfg: dict[str, object], shape: StepShape, layout: Layout | None = None
) -> dict[str, OpCost]:
    arch = model_from_config(cfg).arch
    lay = layout or Layout()
    ops = step_ops(arch, load_format("bf16"), KV, lay, 0, range(arch.num_layers), shape)
    return {op.name: op for op in ops}


def _attention(cfg: dict[str, object], shape: StepShape) -> tuple[float, float]:
    """Attention and indexer together: FLOPs and KV bytes."""
    ops = _ops(cfg, shape)
    parts = [ops[name] for name in ("attention", "indexer") if name in ops]
    return sum(o.flops for o in parts), sum(o.kv_bytes for o in parts)


def test_v4_decode_by_hand() -> None:
    # 4 heads of 16 (K=V), window 8, CSA top-3 of ctx/4, HCA all of ctx/128, indexer 2 x 8
    flops, kv = _attention(v4_config(), StepShape(decode_tokens=1, decode_context=1024))
    per_entry = 4 * 2 * (16 + 16)  # heads x (scores + values) x 2 FLOPs
    window_only = per_entry * 8
    csa = per_entry * (8 + 3) + 2 * 2 * 8 * (1024 / 4)  # + indexer scores over 256 entries
    hca = per_entry * (8 + 1024 / 128)
    assert flops == pytest.approx(window_only + csa + hca)
    entry, key = 16 * 2, 8 * 2
    read = entry * 8 + (entry * (8 + 3) + key * 256) + entry * (8 + 8)
    write = 3 * entry + entry / 4 + key / 4 + entry / 128
    assert kv == pytest.approx(read + write)


def test_v4_attention_grows_with_context_only_through_compressed_entries() -> None:
    short, _ = _attention(v4_config(), StepShape(decode_tokens=1, decode_context=4096))
    long, _ = _attention(v4_config(), StepShape(decode_tokens=1, decode_context=8192))
    # doubling the context adds the indexer's and HCA's share only (top-k is saturated)
    extra = 2 * 2 * 8 * (4096 / 4) + 4 * 2 * 32 * (4096 / 128)
    assert long - short == pytest.approx(extra)


def test_v32_reads_top_k_tokens_and_scores_all() -> None:
    cfg = {
        "model_type": "deepseek_v32",
        "hidden_size": 32,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "q_lora_rank": 8,
        "kv_lora_rank": 16,
        "qk_nope_head_dim": 4,
        "qk_rope_head_dim": 4,
        "v_head_dim": 4,
        "intermediate_size": 16,
        "vocab_size": 20,
        "index_n_heads": 2,
        "index_head_dim": 8,
        "index_topk": 10,
    }
    flops, kv = _attention(cfg, StepShape(decode_tokens=1, decode_context=100))
    # MLA in the latent space: (20 + 16) x 2 per attended token and head, plus absorption
    per_token = 2 * (20 + 16)
    absorb = 2 * (4 * 16 + 16 * 4)
    assert flops == pytest.approx(2 * (per_token * 10 + absorb) + 2 * 2 * 8 * 100)
    latent, key = 20 * 2, 8 * 2
    assert kv == pytest.approx(latent * 10 + key * 100 + latent + key)


def test_linear_attention_cost_does_not_grow_with_context() -> None:
    from .test_kv_hybrid import QWEN3_NEXT

    cfg = dict(QWEN3_NEXT, full_attention_interval=8)  # all four layers Gated DeltaNet
    short = _attention(cfg, StepShape(decode_tokens=2, decode_context=100))
    long = _attention(cfg, StepShape(decode_tokens=2, decode_context=100_000))
    assert short == long
    flops, kv = short
    conv_dim = 2 * 2 * 8 + 4 * 6
    per_token = 6 * 4 * 8 * 6 + 2 * 4 * conv_dim
    assert flops == pytest.approx(4 * 2 * per_token)
    state = (4 * 8 * 6 + 3 * conv_dim) * 2
    assert kv == pytest.approx(4 * 2 * 2 * state)  # read and write, 2 sequences, 4 layers


def test_chunked_attention_reads_the_current_chunk() -> None:
    from .test_kv_hybrid import LLAMA4

    flops, _ = _attention(LLAMA4, StepShape(decode_tokens=1, decode_context=10_000))
    per_position = 4 * 2 * (8 + 8)  # 4 heads, scores and values over head_dim 8
    # 6 chunked layers see half a 64-token chunk on average, 2 global layers all 10,000
    assert flops == pytest.approx(per_position * (6 * 32 + 2 * 10_000))


def test_the_indexer_is_its_own_op_run_whole_on_every_tensor_parallel_rank() -> None:
    shape = StepShape(decode_tokens=1, decode_context=1024)
    one = _ops(v4_config(), shape)
    two = _ops(v4_config(), shape, Layout(tp=2))
    assert one["indexer"].flops == 2 * 2 * 8 * (1024 / 4)  # 2 heads x 8 dims x 256 entries
    assert two["indexer"].flops == one["indexer"].flops  # replicated, not split
    assert two["attention"].flops == pytest.approx(one["attention"].flops / 2)  # heads split
    assert one["indexer"].compute == "weights"  # the checkpoint's matmul format (FP8 native)


def test_hyper_connections_widen_the_residual_traffic() -> None:
    shape = StepShape(decode_tokens=3, decode_context=10)
    two = _ops(v4_config(hc_mult=2), shape)["elementwise"].act_bytes
    four = _ops(v4_config(hc_mult=4), shape)["elementwise"].act_bytes
    assert two == 3 * 8 * 3 * 32 * 2 * 2  # layers x passes x tokens x hidden x streams x bf16
    assert four == 2 * two
