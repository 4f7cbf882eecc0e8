"""Interconnects (NVLink, xGMI, PCIe, InfiniBand, EFA ...) from networks.csv, in bytes/s."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from deepfit.hardware._table import Row
from deepfit.units import GB

REQUIRED_COLUMNS: tuple[str, ...] = (
    "name",
    "scope",
    "technology",
    "per_gpu_unidir_GBps",
    "per_gpu_bidir_GBps",
    "source",
)
LABEL_COLUMNS = ("name",)


@dataclass(frozen=True)
class Network:
    """One interconnect as networks.csv describes it. Bandwidths are bytes/s per GPU.

    Attributes:
        name: the row's name (``"NVLink 4 (HGX/DGX H100/H200)"``).
        scope: ``intra-node (scale-up)``, ``inter-node (scale-out)``, ``host`` ...
        technology: ``NVLink + NVSwitch gen3``, ``InfiniBand NDR`` ...
        link_config: how the links are built, as text.
        per_gpu_unidir_bytes_per_s: per-GPU bandwidth in one direction; ``None`` if unknown.
        per_gpu_bidir_bytes_per_s: per-GPU bandwidth both directions summed; ``None`` if
            unknown (not derived from the one-way figure: the source did not give it).
        per_node_unidir_bytes_per_s: whole-node bandwidth in one direction, if given.
        domain_size_gpus: GPUs that share this fabric at full speed (8 for HGX NVLink,
            72 for NVL72); ``None`` where it does not apply or is unknown.
        typical_systems: where this interconnect is found, as text.
        source: URLs or ``github:owner/repo/path@commit`` references.
        notes: caveats (e.g. xGMI peer-to-peer is far below the all-to-all figure).
    """

    name: str
    scope: str
    technology: str
    link_config: str
    per_gpu_unidir_bytes_per_s: float | None
    per_gpu_bidir_bytes_per_s: float | None
    per_node_unidir_bytes_per_s: float | None
    domain_size_gpus: int | None
    typical_systems: str
    source: str
    notes: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready SI values (``null`` where the source gave no number)."""
        return asdict(self)


def network_from_row(row: Row) -> Network:
    """Build a :class:`Network` from one networks.csv row (GB/s columns -> bytes/s)."""
    return Network(
        name=row.required_text("name"),
        scope=row.text("scope"),
        technology=row.text("technology"),
        link_config=row.text("link_config"),
        per_gpu_unidir_bytes_per_s=_bytes_per_s(row, "per_gpu_unidir_GBps"),
        per_gpu_bidir_bytes_per_s=_bytes_per_s(row, "per_gpu_bidir_GBps"),
        per_node_unidir_bytes_per_s=_bytes_per_s(row, "per_node_unidir_GBps"),
        domain_size_gpus=row.integer("domain_size_gpus"),
        typical_systems=row.text("typical_systems"),
        source=row.required_text("source"),
        notes=row.text("notes"),
    )


def _bytes_per_s(row: Row, column: str) -> float | None:
    value = row.number(column)
    return None if value is None else value * GB
