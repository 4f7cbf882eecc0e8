"""llama.cpp: exporter hook (the command line and files live in deepfit/export/llamacpp.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...export.deployment import Deployment, ExportRequest
    from ...export.result import Export
    from ...models import Model


def export(dep: Deployment) -> Export:
    from ...export.llamacpp import export_llamacpp

    return export_llamacpp(dep)


def prepare(model: Model, req: ExportRequest, notes: list[str]) -> ExportRequest:
    """llama.cpp's own defaults (one GPU, a GGUF, an f16 KV cache) before the checks."""
    from ...export.llamacpp import llamacpp_request

    return llamacpp_request(model, req, notes)
