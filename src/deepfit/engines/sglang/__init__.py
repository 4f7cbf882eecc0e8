"""SGLang: exporter hook (the command line and files live in deepfit/export/sglang.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...export.deployment import Deployment
    from ...export.result import Export


def export(dep: Deployment) -> Export:
    from ...export.sglang import export_sglang

    return export_sglang(dep)
