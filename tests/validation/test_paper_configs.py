"""DeepSeek Coder 33B and DeepSeek LLM 67B are bundled from their papers' architecture
tables (no verified config.json was found): each file says so, the catalogue labels the
model ``paper``, and the parameter count equals a hand derivation from the table and the
published total within rounding."""

from __future__ import annotations

import pytest

from deepfit import load_model
from deepfit.models.catalog import find_entry


def _llama_params(vocab: int, hidden: int, layers: int, heads: int, kv: int, ffn: int) -> int:
    """Untied LLaMA-style decoder: embedding + head, per layer Q/O (h x h), K/V
    (h x kv x head_dim), SwiGLU (3 x h x ffn), two RMSNorms; a final RMSNorm."""
    head_dim = hidden // heads
    attention = 2 * hidden * hidden + 2 * hidden * kv * head_dim
    layer = attention + 3 * hidden * ffn + 2 * hidden
    return 2 * vocab * hidden + layers * layer + hidden


@pytest.mark.parametrize(
    ("name", "table", "published"),
    [
        # arXiv:2401.14196 Table 2: hidden 7168, FFN 19200, 56 heads, 62 layers, 8 KV groups
        ("deepseek-33b", (32256, 7168, 62, 56, 8, 19200), 33.3e9),
        # arXiv:2401.02954 Table 2: 95 layers, d_model 8192, 64 heads, 8 KV heads; FFN 8/3 d
        ("deepseek-67b", (102400, 8192, 95, 64, 8, 22016), 67e9),
    ],
)
def test_paper_config_counts(name: str, table: tuple[int, ...], published: float) -> None:
    model = load_model(name)  # offline: bundled
    assert model.origin == "paper"
    assert model.params.total == _llama_params(*table)
    assert abs(model.params.total - published) / published < 0.01


def test_paper_configs_are_labelled_where_a_user_sees_them() -> None:
    for name in ("deepseek-33b", "deepseek-67b"):
        entry = find_entry(name)
        assert entry is not None and entry.origin == "paper"
        assert "paper's architecture table" in entry.description
        assert load_model(name).to_dict()["origin"] == "paper"
