"""The bundled hardware catalogue: GPUs, cloud instances, networks.

Files are read from ``deepfit/hardware/data`` on first use and cached; nothing is parsed
at import time. Users can add their own GPUs with :func:`load_gpu_catalog`.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from deepfit.errors import CatalogError
from deepfit.hardware import _gpu_table
from deepfit.hardware._gpu_catalog import GpuCatalog
from deepfit.hardware._table import bundled_text, read_rows, user_text
from deepfit.hardware.gpu import Gpu
from deepfit.hardware.instances import REQUIRED_COLUMNS as INSTANCE_COLUMNS
from deepfit.hardware.instances import CloudInstance, HostMemoryUnits, instance_from_row
from deepfit.hardware.network import REQUIRED_COLUMNS as NETWORK_COLUMNS
from deepfit.hardware.network import Network, network_from_row

GPUS_FILE = "gpus.csv"
INSTANCES_FILE = "instances.csv"
NETWORKS_FILE = "networks.csv"
ALIASES_FILE = "aliases.json"
HOST_MEMORY_UNITS_FILE = "host_memory_units.json"


def load_gpu(name: str, catalog: GpuCatalog | None = None) -> Gpu:
    """The GPU called ``name`` (a row name or alias, any case; ``cpu`` = this machine).

    ``catalog`` defaults to the bundled one. Raises UnknownGpuError with close matches.
    """
    return (bundled_gpu_catalog() if catalog is None else catalog).get(name)


def ambiguity_note(name: str) -> str | None:
    """A sentence when ``name`` is a short name that rows of different memory sizes could
    mean (``A100``): which row it resolves to, and the names of the others."""
    from deepfit.hardware._names import name_key

    table = _json(ALIASES_FILE).get("ambiguous", {})
    for alias, others in table.items():
        if name_key(alias) == name_key(name) and isinstance(others, list):
            gpu = bundled_gpu_catalog().find(name)
            if gpu is not None:
                mem = gpu.memory_bytes
                size = f" ({mem / 1e9:,.0f} GB)" if isinstance(mem, int) else ""
                return (
                    f"{name!r} means the {gpu.name}{size}; "
                    f"for another card name it: {', '.join(map(str, others))}"
                )
    return None


def list_gpus() -> list[Gpu]:
    """Every GPU in the bundled catalogue, in file order (``cpu`` is not listed)."""
    return list(bundled_gpu_catalog().gpus)


def list_instances(gpu: str | None = None) -> list[CloudInstance]:
    """Bundled cloud offers, all of them or those with the GPU ``gpu`` (name or alias).

    Raises UnknownGpuError if ``gpu`` is not in the catalogue.
    """
    instances = _bundled_instances()
    if gpu is None:
        return list(instances)
    wanted = load_gpu(gpu).name
    return [i for i in instances if i.gpu is not None and i.gpu.name == wanted]


def list_networks() -> list[Network]:
    """Bundled interconnects (NVLink, xGMI, PCIe, InfiniBand, EFA ...), in file order."""
    return list(_bundled_networks())


def load_gpu_catalog(path: str | Path, include_bundled: bool = True) -> GpuCatalog:
    """Read a user's GPU CSV with gpus.csv's columns (units as in data/SOURCES.md).

    The ``deepfit_alias`` column may hold extra names separated by ``;``. With
    ``include_bundled`` the result also holds the bundled GPUs; the user's rows win a
    clash of names. Raises CatalogError naming the file, row and column of a bad cell.
    """
    origin = str(path)
    user = _gpu_catalog_from_text(user_text(path), origin, {})
    return bundled_gpu_catalog().merged_with(user) if include_bundled else user


@lru_cache(maxsize=1)
def bundled_gpu_catalog() -> GpuCatalog:
    """The GPUs shipped with deepfit (data/gpus.csv + data/aliases.json), read once."""
    aliases = _aliases_from_json(_json(ALIASES_FILE), ALIASES_FILE)
    return _gpu_catalog_from_text(bundled_text(GPUS_FILE), GPUS_FILE, aliases)


@lru_cache(maxsize=1)
def _bundled_instances() -> tuple[CloudInstance, ...]:
    catalog = bundled_gpu_catalog()
    units = HostMemoryUnits.from_json(_json(HOST_MEMORY_UNITS_FILE), HOST_MEMORY_UNITS_FILE)
    rows = read_rows(
        bundled_text(INSTANCES_FILE), INSTANCES_FILE, INSTANCE_COLUMNS, ("provider", "instance")
    )
    return tuple(instance_from_row(row, catalog.find, units) for row in rows)


@lru_cache(maxsize=1)
def _bundled_networks() -> tuple[Network, ...]:
    rows = read_rows(bundled_text(NETWORKS_FILE), NETWORKS_FILE, NETWORK_COLUMNS, ("name",))
    return tuple(network_from_row(row) for row in rows)


def _gpu_catalog_from_text(text: str, origin: str, aliases: dict[str, str]) -> GpuCatalog:
    rows = read_rows(text, origin, _gpu_table.REQUIRED_COLUMNS, _gpu_table.LABEL_COLUMNS)
    gpus = [_gpu_table.gpu_from_row(row) for row in rows]
    column_aliases = {
        alias.strip(): row.required_text("name")
        for row in rows
        for alias in row.text("deepfit_alias").split(";")
        if alias.strip()
    }
    return GpuCatalog(gpus, {**column_aliases, **aliases}, origin)


def _json(file_name: str) -> Any:
    try:
        return json.loads(bundled_text(file_name))
    except json.JSONDecodeError as exc:
        raise CatalogError(
            f"{file_name} is not valid JSON: {exc}", hint="restore the file"
        ) from None


def _aliases_from_json(data: Any, origin: str) -> dict[str, str]:
    table = data.get("aliases") if isinstance(data, dict) else None
    if not isinstance(table, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in table.items()
    ):
        raise CatalogError(
            f"{origin} must hold an object 'aliases' of name -> gpus.csv row name",
            hint="restore the file",
        )
    return dict(table)
