"""TensorRT-LLM: exporter hook (the command line and files live in deepfit/export/trtllm.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...export.deployment import Deployment
    from ...export.result import Export


def export(dep: Deployment) -> Export:
    from ...export.trtllm import export_trtllm

    return export_trtllm(dep)
