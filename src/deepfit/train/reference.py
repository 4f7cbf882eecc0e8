"""Models deepfit does not bundle but whose published dimensions training needs
(the seed's 33B, validation runs): ``data/reference_configs.json``, each with a source.

Entries are llama-style configs; ``"mlp": "plain"`` marks a GPT/BLOOM/NeoX/MPT/Falcon-style
two-matrix GeLU MLP (``h -> f -> h``) instead of Llama's gated three-matrix one, which is
all that training memory and FLOPs need to know about those families."""

from __future__ import annotations

import json
from dataclasses import replace
from functools import lru_cache
from importlib import resources
from typing import Any

from ..errors import UnknownModelError
from ..models import Model, load_model, model_from_config
from ..models.architecture import Mlp


@lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    text = resources.files("deepfit.train").joinpath("data/reference_configs.json")
    data: dict[str, Any] = json.loads(text.read_text("utf-8"))["models"]
    return data


def reference_names() -> tuple[str, ...]:
    return tuple(_table())


def reference_source(name: str) -> str:
    return str(_table()[name]["source"])


def reference_model(name: str) -> Model:
    """A model built from published dimensions (labelled ``reference:NAME``)."""
    row = _table().get(name)
    if row is None:
        raise UnknownModelError(
            f"no reference config {name!r}", f"known: {', '.join(reference_names())}"
        )
    model = model_from_config(dict(row["config"]), model_id=f"reference:{name}")
    if row.get("mlp") != "plain":
        return model
    layers = tuple(
        replace(la, mlp=Mlp(la.mlp.intermediate_size, gated=False)) if la.mlp else la
        for la in model.arch.layers
    )
    return replace(model, arch=replace(model.arch, layers=layers))


def training_model(name: str, hub: bool = False) -> Model:
    """A bundled model, else a reference config of the same name (e.g. deepseek-33b)."""
    try:
        return load_model(name, hub=hub)
    except UnknownModelError:
        if name.strip().lower() in _table():
            return reference_model(name.strip().lower())
        raise
