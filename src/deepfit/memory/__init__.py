"""Inference memory as engines really allocate it: weights per format, KV cache per engine,
activations and engine overheads, parallel layouts. Entry point: :func:`estimate_memory`."""

from __future__ import annotations

from .api import estimate_memory, resolve_format
from .engines import EngineProfile, load_engine
from .formats import WeightBytes, WeightFormat, format_names, load_format, weight_bytes
from .kv import KvDtype, KvSpec, bytes_for_sequence, bytes_per_token, load_kv_dtype
from .result import MemoryEstimate, PerGpu

__all__ = [
    "EngineProfile",
    "KvDtype",
    "KvSpec",
    "MemoryEstimate",
    "PerGpu",
    "WeightBytes",
    "WeightFormat",
    "bytes_for_sequence",
    "bytes_per_token",
    "estimate_memory",
    "format_names",
    "load_engine",
    "load_format",
    "load_kv_dtype",
    "resolve_format",
    "weight_bytes",
]
