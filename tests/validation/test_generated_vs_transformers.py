"""Generated configs of every family, counted by deepfit and by transformers' own model
built on the meta device: the totals must be equal. Skipped without the validate extra."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from deepfit.models import model_from_config

from ..strategies import configs, deepseek_v4_configs, qwen3_next_configs
from .test_param_counts import _meta_count

pytest.importorskip("transformers")


@pytest.mark.slow
@settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(configs())
def test_generated_config_total_equals_transformers(cfg: dict[str, Any]) -> None:
    assert model_from_config(cfg).params.total == _meta_count(cfg)


@pytest.mark.slow
@settings(
    max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(deepseek_v4_configs())
def test_generated_deepseek_v4_total_equals_transformers(cfg: dict[str, Any]) -> None:
    assert model_from_config(cfg).params.total == _meta_count(cfg)


@pytest.mark.slow
@settings(
    max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(qwen3_next_configs())
def test_generated_qwen3_next_total_equals_transformers(cfg: dict[str, Any]) -> None:
    assert model_from_config(cfg).params.total == _meta_count(cfg)


@pytest.mark.slow
@settings(
    max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(qwen3_next_configs())
def test_generated_qwen3_5_text_models_equal_transformers(cfg: dict[str, Any]) -> None:
    """Qwen3.5's language models (dense and MoE) share Qwen3-Next's layer shapes; the MoE one
    makes every layer a MoE whatever decoder_sparse_step says, as transformers builds it."""
    for model_type in ("qwen3_5_text", "qwen3_5_moe_text"):
        variant = dict(cfg, model_type=model_type)
        assert model_from_config(variant).params.total == _meta_count(variant)
