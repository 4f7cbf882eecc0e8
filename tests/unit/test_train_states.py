"""Model-state bytes per method and ZeRO stage against hand derivations."""

from __future__ import annotations

import pytest

from deepfit.errors import BadInputError
from deepfit.models import load_model
from deepfit.models.tensors import tensors
from deepfit.train import (
    LoraConfig,
    Method,
    Offload,
    Optimizer,
    Recipe,
    lora_params,
    make_train_layout,
    model_states,
)

P = 6_910_365_696  # deepseek-llm-7b, exact (tests/validation/param_counts)


@pytest.fixture(scope="module")
def arch():  # type: ignore[no-untyped-def]
    return load_model("deepseek-7b").arch


@pytest.mark.parametrize(
    ("zero", "weights", "grads", "optim"),
    [
        (0, 2 * P, 2 * P, 12 * P),  # DDP: 16 bytes per parameter on every GPU
        (1, 2 * P, 2 * P, 12 * P / 8),  # ZeRO-1 shards the 12 bytes of Adam states
        (2, 2 * P, 2 * P / 8, 12 * P / 8),  # ZeRO-2 also the gradients
    ],
)
def test_zero_stages_by_hand(arch, zero, weights, grads, optim) -> None:  # type: ignore[no-untyped-def]
    s = model_states(arch, make_train_layout(arch, 8, zero=zero), Recipe())
    assert s.weights_bytes == pytest.approx(weights, rel=1e-9)
    assert s.gradients_bytes == pytest.approx(grads, rel=1e-9)
    assert s.optimizer_bytes == pytest.approx(optim, rel=1e-9)
    assert s.trainable_params == P


def test_zero3_shards_weights_plus_two_gathered_layers(arch) -> None:  # type: ignore[no-untyped-def]
    s = model_states(arch, make_train_layout(arch, 8, zero=3), Recipe())
    layer = sum(t.numel for t in tensors(arch) if t.layer == 0)
    assert s.zero3_buffer_bytes == pytest.approx(2 * 2 * layer * 7 / 8, rel=1e-9)
    assert s.weights_bytes - s.zero3_buffer_bytes == pytest.approx(2 * P / 8, rel=1e-9)
    assert s.total_bytes - s.zero3_buffer_bytes == pytest.approx(16 * P / 8, rel=1e-9)


@pytest.mark.parametrize(
    ("opt", "per_param"),
    [
        (Optimizer.ADAMW, 16),
        (Optimizer.ADAMW_BF16, 8),
        (Optimizer.ADAMW_8BIT, 10),
        (Optimizer.SGD, 8),
    ],
)
def test_optimizers_bytes_per_param(arch, opt, per_param) -> None:  # type: ignore[no-untyped-def]
    s = model_states(arch, make_train_layout(arch, 1), Recipe(optimizer=opt))
    assert s.total_bytes == pytest.approx(per_param * P, rel=1e-9)


def test_lora_counts_rank_times_rows_plus_cols(arch) -> None:  # type: ignore[no-untyped-def]
    h, f, layers = 4096, 11008, 30
    per_layer = 16 * (4 * (h + h) + 2 * (f + h) + (h + f))  # q k v o, gate up, down
    assert lora_params(arch, LoraConfig(16)) == layers * per_layer
    qv = lora_params(arch, LoraConfig(8, "qv"))
    assert qv == layers * 8 * 2 * (h + h)


def test_lora_and_qlora_states(arch) -> None:  # type: ignore[no-untyped-def]
    lay = make_train_layout(arch, 1)
    n = lora_params(arch, LoraConfig(16))
    lora = model_states(arch, lay, Recipe(method=Method.LORA))
    assert lora.weights_bytes == pytest.approx(2 * P + 2 * n, rel=1e-9)  # bf16 base + adapters
    assert lora.gradients_bytes == 2 * n and lora.optimizer_bytes == 12 * n
    q = model_states(arch, lay, Recipe(method=Method.QLORA))
    embed_head = 2 * 102400 * 4096
    body = P - embed_head
    # NF4 + double-quantized absmax: 4 + 8/64 bits per weight; norms, embed, head in bf16
    matrices = sum(t.numel for t in tensors(arch) if t.layer is not None and t.is_matrix)
    norms = body - matrices
    expected = matrices * (4 + 8 / 64) / 8 + 2 * (norms + embed_head) + 2 * n
    assert q.weights_bytes == pytest.approx(expected, rel=1e-6)


def test_frozen_embeddings(arch) -> None:  # type: ignore[no-untyped-def]
    s = model_states(arch, make_train_layout(arch, 1), Recipe(freeze_embeddings=True))
    frozen = 2 * 102400 * 4096
    assert s.trainable_params == P - frozen
    assert s.weights_bytes == 2 * P and s.optimizer_bytes == 12 * (P - frozen)


def test_offload_moves_optimizer_and_fp32_grads_to_host(arch) -> None:  # type: ignore[no-untyped-def]
    s = model_states(arch, make_train_layout(arch, 8, zero=2, offload=Offload.CPU), Recipe())
    assert s.optimizer_bytes == 0
    assert s.host_bytes == pytest.approx((12 + 4) * P, rel=1e-9)
    assert s.gradients_bytes <= 1_000_000_000  # one reduce bucket


def test_bad_layouts(arch) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BadInputError):
        make_train_layout(arch, 8, zero=0, offload=Offload.CPU)
    with pytest.raises(BadInputError):
        make_train_layout(arch, 8, zero=4)
    with pytest.raises(BadInputError):
        make_train_layout(arch, 6, tp=4)
    with pytest.raises(BadInputError):
        LoraConfig(0)
