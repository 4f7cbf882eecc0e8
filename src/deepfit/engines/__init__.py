"""Serving engines, one folder each (``vllm/``, ``sglang/``, ``trtllm/``, ``trtllm_cpp/``,
``llamacpp/``, ``transformers/``): an ``engine.json`` with the engine's memory budget rule,
defaults, overheads, efficiency terms, serving caps and export rules, and an ``__init__.py``
with its exporter hook. Memory, performance, planning, export and the published-run readers
look engines up here and nowhere else. See README.md for adding one."""

from __future__ import annotations

from .registry import (
    add_engine_folder,
    engine_names,
    engines,
    exporter_hook,
    load_engine,
    prepare_hook,
    remove_engine_folder,
)
from .spec import Budget, Engine, ExportRules, OverheadModel, ServingDefaults, WeightSupport

__all__ = [
    "Budget",
    "Engine",
    "ExportRules",
    "OverheadModel",
    "ServingDefaults",
    "WeightSupport",
    "add_engine_folder",
    "engine_names",
    "engines",
    "exporter_hook",
    "load_engine",
    "prepare_hook",
    "remove_engine_folder",
]
