"""Fit vLLM's memory terms on held-in rows of the published engine logs.

Reads tests/validation/data/memory.csv (a copy of shared/groundtruth/memory.csv), keeps the
vLLM 0.19 sweep rows of models the catalogue covers (tests/validation/groundtruth_models.csv)
whose config number is even (the held-in half; odd ones are held out for validation), and fits:

- activation peak = a + b * vocab_size on the last pipeline stage (sampler/logits buffers),
  a alone on other stages (the logged rank of a PP run is the first stage);
- CUDA-graph memory = c + d * layers on the GPU;
- memory outside torch: the median of the single-GPU, TP>1 and PP-only rows.

Writes the result into src/deepfit/engines/vllm/engine.json under memory.fitted, with the
rows used and the residuals. Run: python tools/calibrate_memory.py
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
from pathlib import Path

from deepfit.memory.groundtruth import held_in, read_memory_csv
from deepfit.memory.layout import stage_layers
from deepfit.models import load_model
from deepfit.units import GiB

ROOT = Path(__file__).resolve().parents[1]
ENGINE_JSON = ROOT / "src/deepfit/engines/vllm/engine.json"
MODEL_MAP = ROOT / "tests/validation/groundtruth_models.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=ROOT / "tests/validation/data/memory.csv")
    args = parser.parse_args()
    with MODEL_MAP.open() as fh:
        mapping = {r["groundtruth_model"]: r["catalogue_id"] for r in csv.DictReader(fh)}
    act_x, act_y, graph_x, graph_y, used = [], [], [], [], []
    non_torch: dict[str, list[float]] = {"single": [], "tp": [], "pp": []}
    for dep in read_memory_csv(args.csv):
        if not held_in(dep) or dep.model not in mapping:
            continue
        arch = load_model(mapping[dep.model]).arch
        first = stage_layers(arch.num_layers, dep.pp)[0]
        last_logged = dep.pp == 1
        used.append(dep.config_id)
        if (act := dep.gib("activation_peak_GiB")) is not None:
            act_x.append(arch.vocab_size if last_logged else 0)
            act_y.append(act)
        if (graph := dep.gib("cudagraph_GiB")) is not None:
            graph_x.append(len(first))
            graph_y.append(graph)
        if (nt := dep.gib("non_torch_GiB")) is not None:
            key = "tp" if dep.tp > 1 else ("pp" if dep.pp > 1 else "single")
            non_torch[key].append(nt)
    act_fit = statistics.linear_regression(act_x, act_y)
    graph_fit = statistics.linear_regression(graph_x, graph_y)
    fitted = {
        "act_base_bytes": round(act_fit.intercept),
        "act_per_vocab_bytes": round(act_fit.slope, 3),
        "cudagraph_base_bytes": round(graph_fit.intercept),
        "cudagraph_per_layer_bytes": round(graph_fit.slope),
        "non_torch_single_bytes": round(statistics.median(non_torch["single"])),
        "non_torch_tp_bytes": round(statistics.median(non_torch["tp"])),
        "non_torch_pp_bytes": round(statistics.median(non_torch["pp"])),
        "fitted_on": sorted(used),
        "fit_residual_max_gib": {
            "activation": round(
                max(
                    abs(act_fit.intercept + act_fit.slope * x - y)
                    for x, y in zip(act_x, act_y, strict=True)
                )
                / GiB,
                3,
            ),
            "cudagraph": round(
                max(
                    abs(graph_fit.intercept + graph_fit.slope * x - y)
                    for x, y in zip(graph_x, graph_y, strict=True)
                )
                / GiB,
                3,
            ),
        },
        "how": "tools/calibrate_memory.py: least squares on held-in (even-numbered) configs of "
        "the llm-d-planner vLLM 0.19 H100 sweep (shared/groundtruth/memory.csv); "
        "max_num_batched_tokens 8192, max_num_seqs default",
    }
    data = json.loads(ENGINE_JSON.read_text())
    data["memory"]["fitted"] = fitted
    ENGINE_JSON.write_text(json.dumps(data, indent=2) + "\n")
    print(json.dumps(fitted, indent=2))


if __name__ == "__main__":
    main()
