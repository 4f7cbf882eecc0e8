"""Launch configurations from what deepfit planned: ``vllm serve``, SGLang, TensorRT-LLM,
llama.cpp (+ Ollama), wrapped for SkyPilot or Kubernetes.

Every export is checked first (:func:`deepfit.export.deployment.resolve`): the weight format
and KV dtype against the support table, and context x concurrency against the KV budget the
engine will really have (:func:`deepfit.estimate_memory`). Pure: no I/O.

    from deepfit.export import ExportRequest, export_config
    exp = export_config(model, gpu, ExportRequest(engine="vllm", gpus=8, context=32768))
    exp.argv, exp.files["serve.sh"], exp.to_dict()
"""

from __future__ import annotations

from typing import Any

from ..engines import exporter_hook, load_engine
from ..hardware import Gpu
from ..models import Model
from .deployment import TARGETS, Deployment, ExportRequest, canonical_engine, exportable, resolve
from .plans import pick_plan, plan_gpu, plan_model, request_from_plan
from .result import Export, Step

__all__ = [
    "TARGETS",
    "Deployment",
    "Export",
    "ExportRequest",
    "Step",
    "canonical_engine",
    "export_config",
    "export_deployment",
    "exportable",
    "pick_plan",
    "plan_gpu",
    "plan_model",
    "request_from_plan",
    "resolve",
]


def export_deployment(dep: Deployment) -> Export:
    """The launch configuration of an already checked deployment."""
    inner: Export = exporter_hook(load_engine(dep.engine))(dep)
    if dep.target == "skypilot":
        from .skypilot import export_skypilot

        return export_skypilot(dep, inner)
    if dep.target == "kubernetes":
        from .kubernetes import export_kubernetes

        return export_kubernetes(dep, inner)
    return inner


def export_config(
    model: Model, gpu: Gpu, request: ExportRequest | None = None, **kw: Any
) -> Export:
    """Check ``request`` (or keyword fields of :class:`ExportRequest`) for ``model`` on
    ``gpu`` and return its launch configuration; raises ``BadInputError`` subclasses with
    the nearest valid setting when something does not fit or is not supported."""
    req = request if request is not None else ExportRequest(**kw)
    return export_deployment(resolve(model, gpu, req))
