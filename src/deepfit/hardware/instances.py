"""Cloud instances and per-GPU rentals from instances.csv, priced in US$ per hour."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from deepfit.errors import CatalogError
from deepfit.hardware._table import Row
from deepfit.hardware.gpu import Gpu
from deepfit.units import GB, GiB

REQUIRED_COLUMNS: tuple[str, ...] = (
    "provider",
    "instance",
    "price_type",
    "gpu",
    "gpu_count",
    "on_demand_usd_per_hour",
    "usd_per_gpu_hour",
    "source",
)
LABEL_COLUMNS = ("provider", "instance")
MEMORY_UNITS: dict[str, int] = {"GB": GB, "GiB": GiB}


@dataclass(frozen=True)
class CloudInstance:
    """One priced offer: a cloud VM shape or a per-GPU-hour rental.

    Attributes:
        provider: ``AWS``, ``Azure``, ``GCP``, ``RunPod (Secure Cloud)`` ...
        instance: the provider's name for the shape (``p5.48xlarge``).
        price_type: ``on_demand_instance``, ``rental_per_gpu_hour`` ...
        gpu: the catalogue GPU, or ``None`` when ``gpu_as_listed`` is not in the catalogue.
        gpu_as_listed: the GPU as instances.csv names it (``"A100 40GB SXM"``).
        gpu_count: GPUs in the offer.
        vcpus: virtual CPUs, ``None`` if not given.
        host_memory_bytes: host RAM in bytes, ``None`` if not given or if the source's unit
            is not known (then ``host_memory_as_listed`` keeps the number).
        host_memory_as_listed: the ``host_memory_gb`` cell as a number, in the source's unit.
        usd_per_hour: price of the whole instance per hour, ``None`` if not sourced.
        usd_per_gpu_hour: price per GPU per hour, ``None`` if not sourced.
        region: where the price applies, ``None`` if not stated.
        price_as_of: the date (or the dating caveat) of the price.
        source: where the row comes from.
        notes: caveats (derived prices, older snapshot prices ...).
    """

    provider: str
    instance: str
    price_type: str
    gpu: Gpu | None
    gpu_as_listed: str
    gpu_count: int
    vcpus: int | None
    host_memory_bytes: int | None
    host_memory_as_listed: float | None
    usd_per_hour: float | None
    usd_per_gpu_hour: float | None
    region: str | None
    price_as_of: str | None
    source: str
    notes: str

    @property
    def key(self) -> str:
        """``"provider / instance"``, unique within the catalogue."""
        return f"{self.provider} / {self.instance}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values: bytes, US$ per hour; the GPU by its catalogue name."""
        return {
            "provider": self.provider,
            "instance": self.instance,
            "price_type": self.price_type,
            "gpu": None if self.gpu is None else self.gpu.name,
            "gpu_as_listed": self.gpu_as_listed,
            "gpu_count": self.gpu_count,
            "vcpus": self.vcpus,
            "host_memory_bytes": self.host_memory_bytes,
            "host_memory_as_listed": self.host_memory_as_listed,
            "usd_per_hour": self.usd_per_hour,
            "usd_per_gpu_hour": self.usd_per_gpu_hour,
            "region": self.region,
            "price_as_of": self.price_as_of,
            "source": self.source,
            "notes": self.notes,
        }


@dataclass(frozen=True)
class HostMemoryUnits:
    """Which unit each source used for ``host_memory_gb`` (data/host_memory_units.json)."""

    by_provider: Mapping[str, str]
    by_instance: Mapping[str, str]

    def bytes_per_unit(self, provider: str, instance: str) -> int | None:
        """Bytes per listed unit for this row, or ``None`` if the unit is not known."""
        unit = self.by_instance.get(f"{provider} / {instance}", self.by_provider.get(provider))
        return None if unit is None else MEMORY_UNITS[unit]

    @classmethod
    def from_json(cls, data: Any, origin: str) -> HostMemoryUnits:
        """Validate the parsed JSON file; raises CatalogError on an unknown unit."""
        by_provider = _unit_map(data, "by_provider", origin)
        by_instance = _unit_map(data, "by_instance", origin)
        return cls(by_provider=by_provider, by_instance=by_instance)


def instance_from_row(
    row: Row, resolve_gpu: Callable[[str], Gpu | None], units: HostMemoryUnits
) -> CloudInstance:
    """Build a :class:`CloudInstance` from one instances.csv row.

    ``resolve_gpu`` maps the listed GPU name to a catalogue :class:`Gpu` (or ``None``).
    """
    provider = row.required_text("provider")
    instance = row.required_text("instance")
    gpu_name = row.required_text("gpu")
    listed_memory = row.number("host_memory_gb")
    per_unit = units.bytes_per_unit(provider, instance)
    gpu_count = row.integer("gpu_count")
    if gpu_count is None:
        raise CatalogError(f"{row.where('gpu_count')} is empty", hint="give the GPU count")
    return CloudInstance(
        provider=provider,
        instance=instance,
        price_type=row.required_text("price_type"),
        gpu=resolve_gpu(gpu_name),
        gpu_as_listed=gpu_name,
        gpu_count=gpu_count,
        vcpus=row.integer("vcpus"),
        host_memory_bytes=(
            None if listed_memory is None or per_unit is None else round(listed_memory * per_unit)
        ),
        host_memory_as_listed=listed_memory,
        usd_per_hour=row.number("on_demand_usd_per_hour"),
        usd_per_gpu_hour=row.number("usd_per_gpu_hour"),
        region=row.text("region") or None,
        price_as_of=row.text("price_as_of") or None,
        source=row.text("source"),
        notes=row.text("notes"),
    )


def _unit_map(data: Any, section: str, origin: str) -> dict[str, str]:
    table = data.get(section) if isinstance(data, dict) else None
    if not isinstance(table, dict):
        raise CatalogError(f"{origin} lacks the object {section!r}", hint="restore the file")
    out: dict[str, str] = {}
    for key, unit in table.items():
        if unit not in MEMORY_UNITS:
            raise CatalogError(
                f"{origin}: {section}[{key!r}] = {unit!r} is not a known unit",
                hint=f"use one of {', '.join(MEMORY_UNITS)}",
            )
        out[str(key)] = unit
    return out
