"""SkyPilot: a task YAML that provisions the GPUs and runs the engine's serve command.

Fields follow SkyPilot's task YAML reference (docs: Reference > YAML spec): ``resources``
(``accelerators: NAME:COUNT`` per node, ``disk_size`` in GB, ``ports``), ``num_nodes``,
``setup`` and ``run``. On many nodes ``run`` sees ``SKYPILOT_NODE_RANK`` and
``SKYPILOT_NODE_IPS`` (docs: Running on multiple nodes), which become the script's
``NODE_RANK`` and ``HEAD_IP``.
"""

from __future__ import annotations

import math
import re

from ..errors import NotSupportedError
from ..memory import weight_bytes
from .deployment import Deployment
from .result import Export, shell_line
from .yamlout import dump_yaml

#: deepfit catalogue name -> SkyPilot accelerator name (``sky show-gpus``).
ACCELERATORS = {
    "V100 16GB SXM2": "V100",
    "V100 32GB SXM2": "V100-32GB",
    "T4": "T4",
    "A10": "A10",
    "A10G": "A10G",
    "A100 40GB SXM4": "A100",
    "A100 80GB SXM4": "A100-80GB",
    "A100 40GB PCIe": "A100",
    "A100 80GB PCIe": "A100-80GB",
    "L4": "L4",
    "L40": "L40",
    "L40S": "L40S",
    "RTX 3090": "RTX3090",
    "RTX 4090": "RTX4090",
    "RTX A6000": "RTXA6000",
    "RTX 6000 Ada": "RTX6000-Ada",
    "H100 SXM": "H100",
    "H100 PCIe": "H100",
    "H100 NVL": "H100-NVL",
    "H200 SXM": "H200",
    "B200 (HGX, SXM)": "B200",
    "Instinct MI300X": "MI300X",
}
SETUP = {
    "vllm": "pip install vllm",
    "sglang": 'pip install "sglang[all]"',
    "trtllm": "pip install tensorrt_llm",
    "llamacpp": "command -v llama-server || echo 'install llama.cpp (llama-server) first' >&2",
}


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
    name = ACCELERATORS.get(dep.gpu.name)
    if name is None:
        raise NotSupportedError(
            f"deepfit has no SkyPilot accelerator name for {dep.gpu.name}",
            f"use one of: {', '.join(sorted(set(ACCELERATORS.values())))}",
        )
    disk = disk_gb(dep)
    task = {
        "name": ("deepfit-" + re.sub(r"[^a-z0-9]+", "-", dep.model.id.rsplit("/", 1)[-1].lower()))[
            :60
        ].strip("-"),
        "resources": {
            "accelerators": f"{name}:{dep.gpus_per_node}",
            "disk_size": disk,
            "ports": dep.port,
        },
        "num_nodes": dep.nodes,
        "envs": {"HF_TOKEN": ""},
        "setup": SETUP[dep.engine] + "\n",
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
