"""Kubernetes: a Deployment running ``vllm serve`` on one node, or a LeaderWorkerSet (the
``leaderworkerset.x-k8s.io/v1`` CRD) whose leader starts Ray and ``vllm serve`` and whose
workers join it, for many nodes (vLLM docs: Deployment > Kubernetes; LWS docs: vLLM example).

GPUs are requested as ``nvidia.com/gpu`` (``amd.com/gpu`` for AMD) limits; ``/dev/shm`` is a
memory-backed ``emptyDir`` because NCCL and vLLM's workers exchange tensors through it.
"""

from __future__ import annotations

import re
from typing import Any

from .deployment import Deployment
from .result import Export, shell_line
from .vllm import RAY_PORT, vllm_argv
from .yamlout import dump_yaml

IMAGE = "vllm/vllm-openai:latest"
SHM = "16Gi"


def _name(dep: Deployment) -> str:
    """A DNS-1123 label from the model id (lowercase letters, digits and ``-``)."""
    base = re.sub(r"[^a-z0-9]+", "-", dep.model.id.rsplit("/", 1)[-1].lower())
    return ("vllm-" + base)[:50].strip("-")


def _container(dep: Deployment, name: str, command: list[str], probe: bool) -> dict[str, Any]:
    gpu_key = "amd.com/gpu" if dep.gpu.vendor == "AMD" else "nvidia.com/gpu"
    gpus = str(dep.gpus_per_node)
    container: dict[str, Any] = {
        "name": name,
        "image": IMAGE,
        "command": command,
        "env": [
            {
                "name": "HF_TOKEN",
                "valueFrom": {
                    "secretKeyRef": {"name": "hf-token", "key": "token", "optional": True}
                },
            }
        ],
        "ports": [{"containerPort": dep.port, "name": "http"}],
        "resources": {"limits": {gpu_key: gpus}, "requests": {gpu_key: gpus}},
        "volumeMounts": [{"name": "dshm", "mountPath": "/dev/shm"}],
    }
    if probe:
        container["readinessProbe"] = {
            "httpGet": {"path": "/health", "port": dep.port},
            "initialDelaySeconds": 60,
            "periodSeconds": 10,
        }
    return container


def _pod(dep: Deployment, name: str, command: list[str], probe: bool) -> dict[str, Any]:
    return {
        "containers": [_container(dep, name, command, probe)],
        "volumes": [{"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": SHM}}],
    }


def deployment(dep: Deployment) -> dict[str, Any]:
    """A one-node ``apps/v1`` Deployment as data."""
    name = _name(dep)
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": _pod(dep, "vllm", list(vllm_argv(dep)), True),
            },
        },
    }


def leader_worker_set(dep: Deployment) -> dict[str, Any]:
    """A multi-node LeaderWorkerSet as data: one group of ``dep.nodes`` pods."""
    leader = f"ray start --head --port={RAY_PORT} && " + shell_line(vllm_argv(dep))
    worker = f'ray start --address="${{LWS_LEADER_ADDRESS}}:{RAY_PORT}" --block'
    return {
        "apiVersion": "leaderworkerset.x-k8s.io/v1",
        "kind": "LeaderWorkerSet",
        "metadata": {"name": _name(dep)},
        "spec": {
            "replicas": 1,
            "leaderWorkerTemplate": {
                "size": dep.nodes,
                "restartPolicy": "RecreateGroupOnPodRestart",
                "leaderTemplate": {
                    "metadata": {"labels": {"role": "leader"}},
                    "spec": _pod(dep, "vllm-leader", ["sh", "-c", leader], True),
                },
                "workerTemplate": {"spec": _pod(dep, "vllm-worker", ["sh", "-c", worker], False)},
            },
        },
    }


def export_kubernetes(dep: Deployment, inner: Export) -> Export:
    """The manifest for ``dep`` around vLLM's own export ``inner``."""
    if dep.nodes == 1:
        manifest, file = deployment(dep), "deployment.yaml"
    else:
        manifest, file = leader_worker_set(dep), "leaderworkerset.yaml"
    notes = [*inner.notes, f"apply: kubectl apply -f {file}"]
    if dep.nodes > 1:
        notes.append("needs the LeaderWorkerSet controller (kubernetes-sigs/lws) in the cluster")
    if dep.model_path_is_placeholder:
        notes.append("mount the checkpoint at the placeholder path (e.g. a PVC) before applying")
    return Export(
        engine=dep.engine,
        target="kubernetes",
        argv=inner.argv,
        env=inner.env,
        files={file: dump_yaml(manifest), **inner.files},
        notes=tuple(notes),
        steps=inner.steps,
        settings=inner.settings,
        main_file=file,
    )
