"""Cited quality effects of weight formats (see docs/quality.md).

deepfit states what a format costs in quality only with a published measurement, or with
an estimate flagged as such; anything else is "not measured".
"""

from __future__ import annotations

from .lookup import QualityEffect, SeedCell, quality_floor_ok, quality_for, seed_claims_table
from .table import PublishedEffect, load_effects

__all__ = [
    "PublishedEffect",
    "QualityEffect",
    "SeedCell",
    "load_effects",
    "quality_floor_ok",
    "quality_for",
    "seed_claims_table",
]
