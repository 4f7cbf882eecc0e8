"""Shared test helpers."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

# No test depends on how fast this machine is: hypothesis' per-example deadline and its
# too-slow health check are timing assertions, off everywhere (a busy CI machine passes).
settings.register_profile("deepfit", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("deepfit")

CONFIG_DIR = Path(str(resources.files("deepfit.models").joinpath("data", "configs")))


def bundled_config_files() -> list[Path]:
    return sorted(CONFIG_DIR.glob("*.json"))


def load_json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def hf_id(path: Path) -> str:
    return path.stem.replace("--", "/", 1)


@pytest.fixture(autouse=True)
def _isolated_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tests never read or write the user's cache (e.g. a measured CPU profile) or config
    (e.g. a calibration profile)."""
    monkeypatch.setenv("DEEPFIT_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("DEEPFIT_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))
    monkeypatch.delenv("DEEPFIT_MEASURE_CPU", raising=False)
