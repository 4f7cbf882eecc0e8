"""The cited quality table (src/deepfit/quality/data/effects.csv): every row has a source
that can be followed, finite values, a known format, and the relative change the code
reports is the one the copied numbers give."""

from __future__ import annotations

import csv
import math
import re
from importlib import resources

import pytest

from deepfit.memory import format_names
from deepfit.quality import load_effects, quality_for
from deepfit.quality.table import COLUMNS, load_models, load_proxies

TEXT = resources.files("deepfit.quality").joinpath("data/effects.csv").read_text("utf-8")
ROWS = list(csv.DictReader(TEXT.splitlines()))
CITABLE = re.compile(r"https?://\S+|arXiv:\d{4}\.\d{4,5}|github:\S+")


def test_columns_and_size() -> None:
    assert tuple(ROWS[0].keys()) == COLUMNS
    assert len(ROWS) >= 25
    assert len(load_effects()) == len(ROWS)


@pytest.mark.parametrize("n", range(len(ROWS)))
def test_row_is_traceable_and_finite(n: int) -> None:
    row = ROWS[n]
    assert CITABLE.search(row["source"]), row["source"]
    assert row["retrieval"].strip()
    for key in ("baseline", "quantized"):
        assert math.isfinite(float(row[key])) and float(row[key]) > 0
    assert row["metric"] in ("perplexity", "accuracy")
    assert row["format"] in format_names()
    assert row["baseline_format"] in format_names()
    if row["metric"] == "accuracy":
        assert float(row["baseline"]) <= 100 and float(row["quantized"]) <= 100


@pytest.mark.parametrize("n", range(len(ROWS)))
def test_relative_change_matches_the_copied_numbers(n: int) -> None:
    row = ROWS[n]
    e = quality_for(row["model_id"], row["format"], benchmark=row["benchmark"])
    assert e is not None and not e.estimate
    b, q = float(row["baseline"]), float(row["quantized"])
    if (e.baseline, e.quantized) != (b, q):
        # Llama-3.1-70B FP8 is published for the base model and its Instruct fine-tune on
        # the same benchmark: the lookup answers with the base model's (earlier) row.
        assert row["variant"] == "instruct" and "Instruct" not in e.measured_model
        return
    assert e.relative_change == pytest.approx((q - b) / b)
    sign = 1 if row["metric"] == "perplexity" else -1
    assert e.loss_percent == pytest.approx(sign * 100 * (q - b) / b)


def test_every_model_has_a_family_and_every_proxy_has_rows() -> None:
    models = load_models()
    for row in ROWS:
        assert row["model_id"] in models, row["model_id"]
        assert models[row["model_id"]].family == row["family"]
    ids = {r["model_id"] for r in ROWS}
    for proxy in load_proxies().values():
        assert proxy.reason and any(u in ids for u in proxy.use)


def test_published_llama2_70b_deltas_agree() -> None:
    """The Llama 2 70B scorechart prints its own 'Delta to fp16'; the copied values give
    the same numbers (Q4_K_M 1.20 %, Q6_K 0.16 %)."""
    for fmt, published in (("gguf-q4_k_m", 1.20), ("gguf-q6_k", 0.16)):
        e = quality_for("meta-llama/Llama-2-70b-hf", fmt)
        assert e is not None and round(e.loss_percent, 2) == published
