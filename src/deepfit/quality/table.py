"""The cited quality effects, read from ``data/effects.csv`` and ``data/models.json``.

One :class:`PublishedEffect` per row: a model, a weight format (deepfit's name), a metric
on a named benchmark, the baseline and quantized values copied from the source, and where
they were read. ``models.json`` gives each model's family, approximate size and the
declared proxies used for flagged estimates. Files are read once, on first use.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from ..errors import CatalogError

COLUMNS = (
    "model_id",
    "measured_model",
    "variant",
    "family",
    "format",
    "published_format",
    "group_size",
    "baseline_format",
    "metric",
    "benchmark",
    "baseline",
    "quantized",
    "source",
    "retrieval",
    "note",
)
METRICS = ("perplexity", "accuracy")
"""Perplexity: lower is better. Accuracy (percent or score): higher is better."""


@dataclass(frozen=True)
class PublishedEffect:
    """One published measurement of a format against its unquantized baseline."""

    model_id: str
    measured_model: str
    variant: str
    family: str
    format: str
    published_format: str
    group_size: int | None
    baseline_format: str
    metric: str
    benchmark: str
    baseline: float
    quantized: float
    source: str
    retrieval: str
    note: str


@dataclass(frozen=True)
class ModelInfo:
    """A model's family, approximate size (billions of parameters) and checkpoint dtype."""

    model_id: str
    family: str
    params_b: float
    checkpoint_dtype: str | None = None


@dataclass(frozen=True)
class Proxy:
    """Models whose measurements stand in (as flagged estimates) for ``model_id``."""

    model_id: str
    use: tuple[str, ...]
    reason: str


def _number(row: dict[str, str], key: str, line: int) -> float:
    try:
        value = float(row[key])
    except ValueError as err:
        raise CatalogError(f"effects.csv line {line}: {key} is not a number") from err
    if not math.isfinite(value) or value <= 0:
        raise CatalogError(f"effects.csv line {line}: {key} must be a positive finite number")
    return value


def _row(row: dict[str, str], line: int) -> PublishedEffect:
    for key in ("model_id", "format", "metric", "benchmark", "source", "retrieval"):
        if not row.get(key, "").strip():
            raise CatalogError(f"effects.csv line {line}: empty {key}")
    if row["metric"] not in METRICS:
        raise CatalogError(f"effects.csv line {line}: metric must be one of {METRICS}")
    group = row["group_size"].strip()
    return PublishedEffect(
        model_id=row["model_id"],
        measured_model=row["measured_model"],
        variant=row["variant"],
        family=row["family"],
        format=row["format"],
        published_format=row["published_format"],
        group_size=int(group) if group else None,
        baseline_format=row["baseline_format"],
        metric=row["metric"],
        benchmark=row["benchmark"],
        baseline=_number(row, "baseline", line),
        quantized=_number(row, "quantized", line),
        source=row["source"],
        retrieval=row["retrieval"],
        note=row["note"],
    )


@lru_cache(maxsize=1)
def load_effects() -> tuple[PublishedEffect, ...]:
    """Every row of ``effects.csv``, in file order (the first row of a model and format
    is its headline measurement)."""
    text = resources.files(__package__).joinpath("data/effects.csv").read_text("utf-8")
    reader = csv.DictReader(text.splitlines())
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise CatalogError("effects.csv: unexpected columns", hint=f"expected {COLUMNS}")
    return tuple(_row(row, n) for n, row in enumerate(reader, start=2))


@lru_cache(maxsize=1)
def _models_json() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("data/models.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@lru_cache(maxsize=1)
def load_models() -> dict[str, ModelInfo]:
    """Family and size per model id (case as written in the file)."""
    return {
        key: ModelInfo(key, v["family"], float(v["params_b"]), v.get("checkpoint_dtype"))
        for key, v in _models_json()["models"].items()
    }


@lru_cache(maxsize=1)
def load_proxies() -> dict[str, Proxy]:
    """Declared stand-ins per model id."""
    return {
        key: Proxy(key, tuple(v["use"]), v["reason"])
        for key, v in _models_json()["proxies"].items()
    }
