"""gpus.csv rows -> :class:`Gpu` values (the only place that knows the CSV's units)."""

from __future__ import annotations

from deepfit.errors import CatalogError
from deepfit.hardware._table import Row
from deepfit.hardware.gpu import Gpu, Missing, PeakRates
from deepfit.units import GB, TERA

RATE_COLUMNS: dict[str, str] = {
    "fp32": "fp32_tflops",
    "tf32": "tf32_tflops_dense",
    "bf16": "bf16_tflops_dense",
    "fp16": "fp16_tflops_dense",
    "fp8": "fp8_tflops_dense",
    "int8": "int8_tops_dense",
    "fp4": "fp4_tflops_dense",
    "int4": "int4_tops_dense",
}
"""Compute format -> column holding its dense peak in TFLOPS / TOPS (10^12 op/s)."""

REQUIRED_COLUMNS: tuple[str, ...] = (
    "name",
    "vendor",
    "memory_gb",
    "mem_bandwidth_gbps",
    *RATE_COLUMNS.values(),
    "source",
)
"""Columns a GPU CSV must have. The other gpus.csv columns are optional text or numbers."""

LABEL_COLUMNS = ("name",)


def gpu_from_row(row: Row) -> Gpu:
    """Build a :class:`Gpu` (without aliases) from one gpus.csv row.

    Units in the CSV: ``memory_gb`` decimal GB, ``mem_bandwidth_gbps`` GB/s,
    ``*_tflops*`` / ``*_tops*`` 10^12 op/s dense, ``interconnect_bidir_gbps`` GB/s.
    """
    memory = _known(row, "memory_gb")
    bandwidth = _known(row, "mem_bandwidth_gbps")
    link = row.number("interconnect_bidir_gbps")
    return Gpu(
        name=row.required_text("name"),
        aliases=(),
        vendor=row.required_text("vendor"),
        memory_bytes=memory if isinstance(memory, Missing) else round(memory * GB),
        memory_type=row.text("memory_type"),
        mem_bandwidth_bytes_per_s=bandwidth if isinstance(bandwidth, Missing) else bandwidth * GB,
        peak_ops_per_s=_peak_rates(row),
        dense_provenance=row.text("dense_derived_by_halving_sparse"),
        interconnect=row.text("interconnect"),
        interconnect_bidir_bytes_per_s=None if link is None else link * GB,
        form_factor=row.text("form_factor"),
        tdp_watts=row.number("tdp_w"),
        launch_year=row.integer("launch_year"),
        source=row.required_text("source"),
        fields_not_from_source=_split_list(row.text("fields_not_from_source")),
        notes=row.text("notes"),
    )


def _peak_rates(row: Row) -> PeakRates:
    rates: dict[str, float | Missing] = {}
    for fmt, column in RATE_COLUMNS.items():
        value = row.rate(column)
        rates[fmt] = value if isinstance(value, Missing) else value * TERA
    return PeakRates(**rates)


def _known(row: Row, column: str) -> float | Missing:
    """A number, or UNKNOWN for an empty cell; ``n/a`` makes no sense for these columns."""
    value = row.rate(column)
    if value is Missing.NOT_SUPPORTED:
        raise CatalogError(
            f"{row.where(column)}: 'n/a' is not allowed here",
            hint="give the number, or leave the cell empty if no source states it",
        )
    return value


def _split_list(text: str) -> tuple[str, ...]:
    """``"memory_type;launch_year"`` -> ``("memory_type", "launch_year")``."""
    return tuple(part.strip() for part in text.split(";") if part.strip())
