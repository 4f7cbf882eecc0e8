"""Engine memory profiles now live in :mod:`deepfit.engines` (one folder per engine); these
names stay for callers that import them from here."""

from __future__ import annotations

from ..engines import Engine, load_engine

EngineProfile = Engine

__all__ = ["EngineProfile", "load_engine"]
