"""SkyPilot: a task YAML that provisions the GPUs and runs the engine's serve command.

Fields follow SkyPilot's task YAML reference (docs: Reference > YAML spec): ``resources``
(``accelerators: NAME:COUNT`` per node, ``disk_size`` in GB, ``ports``), ``num_nodes``,
``setup`` and ``run``. On many nodes ``run`` sees ``SKYPILOT_NODE_RANK`` and
``SKYPILOT_NODE_IPS`` (docs: Running on multiple nodes), which become the script's
``NODE_RANK`` and ``HEAD_IP``.
"""

from __future__ import annotations

import json
import math

from ..engines import load_engine
from ..errors import NotSupportedError
from ..memory import weight_bytes
from .deployment import Deployment
from .result import Export, shell_line
from .yamlout import dump_yaml


def accelerators() -> dict[str, str]:
    """deepfit catalogue name -> SkyPilot accelerator name (``hardware/data/
    skypilot_accelerators.json``)."""
    from importlib import resources

    data = resources.files("deepfit.hardware").joinpath("data/skypilot_accelerators.json")
    table = json.loads(data.read_text(encoding="utf-8"))["accelerators"]
    return {str(k): str(v) for k, v in table.items()}


def _setup(engine: str) -> str:
    """The engine's install line (``export.setup`` in its engine.json)."""
    rules = load_engine(engine).export
    if rules is None:
        raise NotSupportedError(f"{engine} has no exporter", "use --engine vllm")
    return rules.setup


def disk_gb(dep: Deployment) -> int:
    """Room for the checkpoint twice (download cache + copy) and 100 GB for the engine."""
    size = weight_bytes(dep.model.arch, dep.weights).total
    return int(math.ceil((2 * size / 1e9 + 100) / 50) * 50)


def sky_run(inner: Export, nodes: int) -> str:
    """The ``run`` section: the engine's script, with SkyPilot's node rank and head IP."""
    body = inner.files["serve.sh"]
    if nodes > 1:
        prefix = (
            "export NODE_RANK=${SKYPILOT_NODE_RANK}\n"
            'export HEAD_IP=$(echo "$SKYPILOT_NODE_IPS" | head -n1)\n'
        )
        body = prefix + body
    return body


def export_skypilot(dep: Deployment, inner: Export) -> Export:
    """A SkyPilot task around ``inner`` (the engine's own export of ``dep``)."""
    table = accelerators()
    name = table.get(dep.gpu.name)
    if name is None:
        raise NotSupportedError(
            f"deepfit has no SkyPilot accelerator name for {dep.gpu.name}",
            f"use one of: {', '.join(sorted(set(table.values())))}",
        )
    disk = disk_gb(dep)
    task = {
        "name": "deepfit-" + dep.model.id.rsplit("/", 1)[-1].lower().replace(".", "-"),
        "resources": {
            "accelerators": f"{name}:{dep.gpus_per_node}",
            "disk_size": disk,
            "ports": dep.port,
        },
        "num_nodes": dep.nodes,
        "envs": {"HF_TOKEN": ""},
        "setup": _setup(dep.engine) + "\n",
        "run": sky_run(inner, dep.nodes),
    }
    launch = ("sky", "launch", "-c", str(task["name"]), "task.yaml", "--env", "HF_TOKEN")
    notes = (*inner.notes, "launch: " + shell_line(launch))
    text = dump_yaml(task)
    return Export(
        engine=dep.engine,
        target="skypilot",
        argv=inner.argv,
        env=inner.env,
        files={"task.yaml": text, **inner.files},
        notes=notes,
        steps=inner.steps,
        settings={**inner.settings, "disk_size_gb": disk},
        main_file="task.yaml",
    )
