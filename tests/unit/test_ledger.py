"""The serving ledger (draft model, MTP layers, LoRA slots) against hand derivations from the
engines' own allocation code and the models' published configs:

- LoRA: vLLM ``BaseLinearLayerWithLoRA.create_lora_weights`` (vllm/lora/layers/
  base_linear.py) allocates per slot and per wrapped linear layer A of (max_lora_rank x
  input) and B of (output x max_lora_rank) in the model's dtype; column-parallel layers keep
  A's input whole and split B's output by tp, row-parallel layers split A's input and keep B
  whole. SGLang's ``LoRAMemoryPool`` has the same shapes per slot.
- Draft model: vLLM gives the draft's attention layers blocks in the same pool, so a pooled
  token costs target + draft bytes (kv_cache_utils: one block table over every layer).
- MTP: DeepSeek-V3's config.json (one NextN layer: MLA attention, 256 routed experts + one
  shared, eh_proj 2h -> h); vLLM shares the target's embedding and head with it.
"""

from __future__ import annotations

import pytest

from deepfit.errors import BadInputError
from deepfit.hardware import load_gpu
from deepfit.memory import estimate_memory
from deepfit.memory.formats import load_format
from deepfit.memory.ledger import Extras
from deepfit.models import load_model

# Meta-Llama-3-8B config.json
H, FFN, LAYERS, Q, KV = 4096, 14336, 32, 4096, 1024


def _llama_slot_elements(rank: int, tp: int) -> int:
    """One LoRA slot on one GPU of Llama-3-8B, by hand from vLLM's shapes."""
    column = [(H, Q), (H, KV), (H, KV), (H, FFN), (H, FFN)]  # (input, output): q k v gate up
    row = [(Q, H), (FFN, H)]  # o_proj, down_proj
    per_layer = sum(rank * i + rank * o // tp for i, o in column)
    per_layer += sum(rank * i // tp + rank * o for i, o in row)
    return LAYERS * per_layer


@pytest.mark.parametrize(("tp", "slots", "rank"), [(1, 1, 16), (1, 4, 16), (2, 3, 64), (4, 2, 8)])
def test_lora_slots_match_vllm_shapes(tp: int, slots: int, rank: int) -> None:
    model = load_model("llama-3-8b")
    est = estimate_memory(
        model,
        load_gpu("H100"),
        tp=tp,
        context=4096,
        extras=Extras(max_loras=slots, max_lora_rank=rank),
    )
    expected = slots * _llama_slot_elements(rank, tp) * 2  # bf16
    line = est.to_dict()["ledger"][0]
    assert line["name"] == "lora_slots"
    assert line["weights_bytes"] == expected
    assert est.per_gpu.extras == expected
    # 1 slot of rank 16 at tp=1: 32 x 16 x (38,912 A inputs + 43,008 B outputs) x 2 = 80 MiB
    if (tp, slots, rank) == (1, 1, 16):
        assert expected == 80 * 2**20


def test_lora_slots_come_out_of_the_kv_pool() -> None:
    model, gpu = load_model("llama-3-8b"), load_gpu("H100")
    plain = estimate_memory(model, gpu, context=4096)
    lora = estimate_memory(model, gpu, context=4096, extras=Extras(max_loras=8, max_lora_rank=32))
    taken = lora.per_gpu.extras
    assert plain.per_gpu.kv_cache - lora.per_gpu.kv_cache == taken
    assert plain.per_gpu.total == lora.per_gpu.total  # vLLM's budget is fixed
    p = lora.per_gpu
    assert p.weights + p.kv_cache + p.activations + p.overhead + p.extras == p.total


def test_draft_model_weights_and_shared_pool() -> None:
    model, gpu = load_model("llama-3-8b"), load_gpu("H100")
    draft = load_model("llama-3.2-1b")
    plain = estimate_memory(model, gpu, context=8192)
    est = estimate_memory(
        model,
        gpu,
        context=8192,
        extras=Extras(draft=draft, draft_format=load_format("bf16"), spec_tokens=3),
    )
    line = est.to_dict()["ledger"][0]
    # Llama-3.2-1B: 1,235,814,400 parameters (tied embedding), bf16
    assert line["weights_bytes"] == 1_235_814_400 * 2
    # 16 layers x 8 KV heads x 64 x (K and V) x 2 bytes
    assert line["kv_bytes_per_token"] == 16 * 8 * 64 * 2 * 2
    target = 32 * 8 * 128 * 2 * 2
    pool = est.per_gpu.kv_cache
    assert est.kv_capacity_tokens == pool // (target + 32768) // 16 * 16
    assert plain.per_gpu.kv_cache - pool == line["weights_bytes"]
    assert line["kv_pool_bytes"] == int(pool * 32768 / (target + 32768))


def test_deepseek_v3_mtp_layer_by_hand() -> None:
    model = load_model("deepseek-v3")
    est = estimate_memory(
        model,
        load_gpu("H200"),
        gpus=8,
        weights="bf16",
        context=4096,
        extras=Extras(mtp=True, spec_tokens=1),
    )
    h, q_rank, kv_rank, rope, nope, v, heads, inter, experts = (
        7168, 1536, 512, 64, 128, 128, 128, 2048, 256
    )  # fmt: skip
    # split by tp=8: q_b, kv_b, o, experts (by tp: no ep), shared expert; replicated: q_a,
    # kv_a, norms, router, eh_proj and the MTP norms
    split = (
        q_rank * heads * (nope + rope)
        + kv_rank * heads * (nope + v)
        + heads * v * h
        + (experts + 1) * 3 * h * inter
    )
    replicated = (
        h * q_rank
        + q_rank
        + h * (kv_rank + rope)
        + kv_rank
        + 2 * h  # input and post-attention norms
        + experts * h
        + experts  # router and its score-correction bias
        + h * 2 * h  # eh_proj
        + 3 * h  # enorm, hnorm, shared_head.norm
    )
    expected = 2 * (split / 8 + replicated)
    line = est.to_dict()["ledger"][0]
    assert line["name"] == "mtp"
    assert line["weights_bytes"] == pytest.approx(expected, rel=1e-6)
    assert line["kv_bytes_per_token"] == (kv_rank + rope) * 2  # one more latent per token


def test_no_extras_leaves_the_answer_unchanged() -> None:
    model, gpu = load_model("deepseek-v3"), load_gpu("H200")
    a = estimate_memory(model, gpu, gpus=8, context=8192).to_dict()
    b = estimate_memory(model, gpu, gpus=8, context=8192, extras=Extras()).to_dict()
    assert a == b
    assert "ledger" not in a and "extras_bytes" not in a["per_gpu"]


@pytest.mark.parametrize(
    ("model", "extras"),
    [
        ("llama-3-8b", Extras(mtp=True)),
        ("llama-3-8b", Extras(max_loras=2)),
        ("llama-3-8b", Extras(max_loras=2, max_lora_rank=1024)),
    ],
)
def test_bad_combinations(model: str, extras: Extras) -> None:
    with pytest.raises(BadInputError):
        estimate_memory(load_model(model), load_gpu("H100"), context=4096, extras=extras)


@pytest.mark.parametrize(
    ("name", "tp", "pp", "extras"),
    [
        ("llama-3-8b", 2, 2, Extras(max_loras=4, max_lora_rank=32)),
        ("deepseek-v3", 8, 1, Extras(mtp=True, spec_tokens=1)),
    ],
)
def test_planner_counts_the_same_extras(name: str, tp: int, pp: int, extras: Extras) -> None:
    from deepfit.engines import load_engine
    from deepfit.memory.kv import KvSpec, load_kv_dtype
    from deepfit.memory.layout import Layout
    from deepfit.planner.shapes import stage_shapes

    model = load_model(name)
    fmt = "fp8" if name == "deepseek-v3" else "bf16"
    spec = KvSpec(load_kv_dtype("bf16"), mla_latent=True, tp=tp)
    shapes = stage_shapes(
        model.arch, load_format(fmt), spec, Layout(tp, pp), load_engine("vllm"), 1000, 300, extras
    )
    est = estimate_memory(
        model, load_gpu("H200"), tp=tp, pp=pp, weights=fmt, context=1300, extras=extras
    )
    for shape, stage in zip(shapes, est.stages, strict=True):
        assert shape.weights == stage.weights + stage.extras_bytes
        assert shape.kv_per_token == pytest.approx(stage.kv_bytes_per_token)
    assert any(stage.extras for stage in est.stages)


def test_sglang_keeps_the_mtp_drafter_beside_its_static_budget() -> None:
    """SGLang (server_args.py) lowers its default mem_fraction_static by 2 GiB for an
    EAGLE/NextN drafter; the draft worker loads the MTP layer and a KV pool of as many tokens
    as the target's (model_runner.py, draft_runner_cache_size) outside that budget."""
    model, gpu = load_model("deepseek-v3"), load_gpu("H200")
    kw: dict[str, object] = dict(gpus=8, context=8192, engine="sglang")
    plain = estimate_memory(model, gpu, **kw)  # type: ignore[arg-type]
    mtp = estimate_memory(model, gpu, extras=Extras(mtp=True, spec_tokens=1), **kw)  # type: ignore[arg-type]
    # the default fraction less 2 GiB over the GPU's memory, rounded to 3 decimals as SGLang
    # rounds its own; the main pool shrinks by exactly that share of the GPU
    assert plain.memory_fraction is not None
    frac = round(plain.memory_fraction - 2 * 2**30 / plain.gpu_memory_bytes, 3)
    assert mtp.memory_fraction == frac
    lost = int(plain.gpu_memory_bytes * plain.memory_fraction) - int(plain.gpu_memory_bytes * frac)
    assert plain.per_gpu.kv_cache - mtp.per_gpu.kv_cache == lost
    assert mtp.stages[0].kv_bytes_per_token == plain.stages[0].kv_bytes_per_token
    line = mtp.to_dict()["ledger"][0]
    assert line["kv_pool_bytes"] == mtp.kv_capacity_tokens * line["kv_bytes_per_token"]
    assert mtp.per_gpu.extras == line["weights_bytes"] + line["kv_pool_bytes"]
