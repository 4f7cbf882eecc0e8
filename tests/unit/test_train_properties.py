"""Properties over generated models: more sharding never adds per-GPU bytes, and
recomputation never adds activation bytes."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from deepfit.models import model_from_config
from deepfit.train import (
    ActShape,
    LoraConfig,
    Method,
    Recipe,
    Recompute,
    layer_activation_bytes,
    make_train_layout,
    model_states,
)

from ..strategies import configs

COMMON = settings(max_examples=120, deadline=None, derandomize=True)
METHODS = st.sampled_from([Method.FULL, Method.LORA, Method.QLORA])


def _recipe(method: Method) -> Recipe:
    return Recipe(method=method, lora=LoraConfig(2))


def _states(cfg: dict[str, Any], gpus: int, method: Method, **kw: Any) -> int:
    arch = model_from_config(cfg).arch
    return model_states(arch, make_train_layout(arch, gpus, **kw), _recipe(method)).total_bytes


@COMMON
@given(configs(), METHODS, st.sampled_from([1, 2, 4, 8]), st.integers(0, 2))
def test_higher_zero_stage_never_adds_bytes(
    cfg: dict[str, Any], method: Method, gpus: int, zero: int
) -> None:
    assert _states(cfg, gpus, method, zero=zero + 1) <= _states(cfg, gpus, method, zero=zero)


@COMMON
@given(configs(), METHODS, st.sampled_from([1, 2, 4]), st.integers(0, 3))
def test_more_data_parallel_gpus_never_add_bytes(
    cfg: dict[str, Any], method: Method, gpus: int, zero: int
) -> None:
    assert _states(cfg, 2 * gpus, method, zero=zero) <= _states(cfg, gpus, method, zero=zero)


@COMMON
@given(configs(), METHODS, st.integers(0, 3))
def test_tensor_parallel_never_adds_bytes(cfg: dict[str, Any], method: Method, zero: int) -> None:
    heads = cfg["num_attention_heads"]
    tp = next((t for t in (3, 2) if heads % t == 0), 1)
    split = _states(cfg, tp, method, tp=tp, zero=zero)
    assert split <= _states(cfg, 1, method, zero=zero)


@COMMON
@given(
    configs(),
    st.integers(1, 4096),
    st.integers(1, 8),
    st.sampled_from([1, 2, 4]),
    st.booleans(),
    st.booleans(),
)
def test_recompute_never_adds_activation_bytes(
    cfg: dict[str, Any], s: int, b: int, tp: int, flash: bool, sp: bool
) -> None:
    arch = model_from_config(cfg).arch
    shape = ActShape(s, b, tp=tp, sequence_parallel=sp, flash=flash)
    for layer in arch.layers:
        none, sel, full = (
            layer_activation_bytes(layer, arch.hidden_size, shape, r)
            for r in (Recompute.NONE, Recompute.SELECTIVE, Recompute.FULL)
        )
        assert full <= sel <= none
        more_tp = ActShape(s, b, tp=2 * tp, sequence_parallel=sp, flash=flash)
        assert layer_activation_bytes(layer, arch.hidden_size, more_tp, Recompute.NONE) <= none
