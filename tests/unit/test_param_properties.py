"""Properties of the counts over generated configs."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from deepfit.models import model_from_config
from deepfit.models.params import attention_params

from ..strategies import DENSE, configs


@settings(max_examples=300, deadline=None, derandomize=True)
@given(configs())
def test_counts_positive_and_active_within_total(cfg: dict[str, Any]) -> None:
    p = model_from_config(cfg).params
    assert p.total > 0
    assert 0 < p.active <= p.total
    assert p.active_excluding_embedding < p.active


@settings(max_examples=300, deadline=None, derandomize=True)
@given(configs(), st.integers(1, 4))
def test_monotone_in_layers(cfg: dict[str, Any], extra: int) -> None:
    more = dict(cfg, num_hidden_layers=cfg["num_hidden_layers"] + extra)
    assert model_from_config(more).params.total > model_from_config(cfg).params.total


@settings(max_examples=300, deadline=None, derandomize=True)
@given(configs(DENSE), st.integers(1, 3))
def test_monotone_in_hidden_size(cfg: dict[str, Any], factor: int) -> None:
    heads = cfg["num_attention_heads"]
    head_dim = cfg.get("head_dim", cfg["hidden_size"] // heads)
    wider = dict(cfg, hidden_size=cfg["hidden_size"] * (factor + 1))
    wider["head_dim"] = head_dim  # keep the attention shape, widen the residual stream
    base = dict(cfg, head_dim=head_dim)
    assert model_from_config(wider).params.total > model_from_config(base).params.total


@settings(max_examples=300, deadline=None, derandomize=True)
@given(configs(DENSE))
def test_gqa_never_more_kv_params_than_mha(cfg: dict[str, Any]) -> None:
    mha = dict(cfg, num_key_value_heads=cfg["num_attention_heads"])
    gqa_att = model_from_config(cfg).arch.layers[0].attention
    mha_att = model_from_config(mha).arch.layers[0].attention
    h = cfg["hidden_size"]
    assert gqa_att.kv_dim <= mha_att.kv_dim
    assert attention_params(gqa_att, h)[0] <= attention_params(mha_att, h)[0]
