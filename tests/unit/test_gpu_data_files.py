"""Adding a GPU is data rows only: every file that names GPUs outside gpus.csv names them by
their exact catalogue name, so a typo there cannot silently drop a GPU."""

from __future__ import annotations

import json
from pathlib import Path

from deepfit.hardware import list_gpus

SRC = Path(__file__).resolve().parents[2] / "src" / "deepfit"


def _names() -> set[str]:
    return {g.name for g in list_gpus()}


def test_skypilot_names_are_catalogue_gpus() -> None:
    data = json.loads((SRC / "hardware/data/skypilot_accelerators.json").read_text())
    assert data["accelerators"]
    assert set(data["accelerators"]) <= _names()


def test_training_generations_name_catalogue_gpus() -> None:
    data = json.loads((SRC / "train/data/mfu.json").read_text())
    listed = [g for row in data["generations"].values() for g in row["gpus"]]
    assert len(listed) == len(set(listed))  # one generation per GPU
    assert set(listed) <= _names()
