"""The published runs deepfit ships, read and split: ``throughput.csv`` (vendor and engine
tables), ``inferencex.csv`` (InferenceX closed-loop sweeps) and ``vllm-runs.csv`` (vLLM under
open-loop rates), each with its notes in ``data/groundtruth/``; held in or out by group
(:mod:`deepfit.perf.split`)."""

from __future__ import annotations

from pathlib import Path

from .groundtruth import PublishedRun, read_model_map, read_throughput_csv
from .groundtruth_ix import read_inferencex_csv
from .groundtruth_vl import read_vllm_runs_csv
from .split import assign_split


def bundled_runs(
    csv_path: Path | None = None, models_path: Path | None = None
) -> list[PublishedRun]:
    """The published runs deepfit ships (``data/groundtruth/``: throughput.csv, inferencex.csv,
    vllm-runs.csv), split held-in / held-out by group; or a user's CSV in throughput.csv's
    long format with the bundled model-name map (or the user's own)."""
    from importlib import resources

    base = resources.files("deepfit.perf").joinpath("data").joinpath("groundtruth")
    models = read_model_map(models_path or Path(str(base.joinpath("throughput_models.csv"))))
    if csv_path is not None:
        return assign_split(read_throughput_csv(csv_path, models))
    runs = read_throughput_csv(Path(str(base.joinpath("throughput.csv"))), models)
    runs += read_inferencex_csv(Path(str(base.joinpath("inferencex.csv"))), models)
    runs += read_vllm_runs_csv(Path(str(base.joinpath("vllm-runs.csv"))), models)
    return assign_split(runs)
