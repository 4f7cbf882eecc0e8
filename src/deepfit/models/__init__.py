"""Model architectures from Hugging Face configs, exact parameter counts, the catalogue."""

from __future__ import annotations

from .architecture import Architecture, Attention, AttentionKind, Layer, MlaDims, Mlp, Moe
from .catalog import CatalogEntry, catalog
from .families import FAMILIES
from .loader import Model, load_model, model_from_config
from .params import ParamBreakdown, count_params

__all__ = [
    "FAMILIES",
    "Architecture",
    "Attention",
    "AttentionKind",
    "CatalogEntry",
    "Layer",
    "MlaDims",
    "Mlp",
    "Model",
    "Moe",
    "ParamBreakdown",
    "catalog",
    "count_params",
    "load_model",
    "model_from_config",
]
