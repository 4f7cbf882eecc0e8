"""Hardware catalogue: GPUs, cloud instances and interconnects, in SI units.

>>> from deepfit.hardware import load_gpu
>>> gpu = load_gpu("H100")          # any case; aliases work; "cpu" probes this machine
>>> gpu.peak_flops("bf16")          # dense FLOP/s; raises if n/a or not in the catalogue
989500000000000.0

Facts live in ``data/*.csv`` with a source per row; see ``README.md`` to add a GPU.
"""

from __future__ import annotations

from deepfit.hardware._gpu_catalog import GpuCatalog
from deepfit.hardware.catalog import (
    bundled_gpu_catalog,
    list_gpus,
    list_instances,
    list_networks,
    load_gpu,
    load_gpu_catalog,
)
from deepfit.hardware.cpu import probe_cpu
from deepfit.hardware.gpu import (
    COMPUTE_FORMATS,
    NOT_SUPPORTED,
    UNKNOWN,
    Gpu,
    Missing,
    PeakRates,
    Rate,
    compute_format,
)
from deepfit.hardware.instances import CloudInstance
from deepfit.hardware.network import Network

__all__ = [
    "COMPUTE_FORMATS",
    "NOT_SUPPORTED",
    "UNKNOWN",
    "CloudInstance",
    "Gpu",
    "GpuCatalog",
    "Missing",
    "Network",
    "PeakRates",
    "Rate",
    "bundled_gpu_catalog",
    "compute_format",
    "list_gpus",
    "list_instances",
    "list_networks",
    "load_gpu",
    "load_gpu_catalog",
    "probe_cpu",
]
