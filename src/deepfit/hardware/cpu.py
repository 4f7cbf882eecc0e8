"""The GPU name ``cpu``: this machine, probed.

Memory size and core count can be read from the operating system; peak FLOP/s and memory
bandwidth cannot be read from anywhere trustworthy, so they stay :data:`UNKNOWN` unless
the user states them:

- ``DEEPFIT_CPU_BANDWIDTH_GBPS``: memory bandwidth in GB/s (10^9 bytes/s), e.g. from STREAM.
- ``DEEPFIT_CPU_GFLOPS``: peak matrix-multiply GFLOP/s (10^9 FLOP/s), used for fp32, bf16
  and fp16 alike.
"""

from __future__ import annotations

import math
import os
import platform
from collections.abc import Mapping
from pathlib import Path

from deepfit.errors import BadInputError
from deepfit.hardware.gpu import COMPUTE_FORMATS, UNKNOWN, Gpu, Missing, PeakRates
from deepfit.units import GB

CPU_NAME = "cpu"
BANDWIDTH_ENV = "DEEPFIT_CPU_BANDWIDTH_GBPS"
GFLOPS_ENV = "DEEPFIT_CPU_GFLOPS"
_CPUINFO = Path("/proc/cpuinfo")
_FLOAT_FORMATS = ("fp32", "bf16", "fp16")


def probe_cpu(environ: Mapping[str, str] | None = None) -> Gpu:
    """Describe this machine's CPU and RAM as a :class:`Gpu` named ``cpu``.

    ``environ`` defaults to ``os.environ``. Raises :class:`BadInputError` if one of the
    environment variables is set but is not a positive number.
    """
    env = os.environ if environ is None else environ
    bandwidth = _env_number(env, BANDWIDTH_ENV)
    gflops = _env_number(env, GFLOPS_ENV)
    model, vendor = _cpu_model()
    cores = _core_count()
    ram = _total_ram_bytes()
    flops: float | Missing = UNKNOWN if gflops is None else gflops * 1e9
    rates = {f: (flops if f in _FLOAT_FORMATS else UNKNOWN) for f in COMPUTE_FORMATS}
    return Gpu(
        name=CPU_NAME,
        aliases=(),
        vendor=vendor,
        memory_bytes=UNKNOWN if ram is None else ram,
        memory_type="host RAM",
        mem_bandwidth_bytes_per_s=UNKNOWN if bandwidth is None else bandwidth * GB,
        peak_ops_per_s=PeakRates(**rates),
        dense_provenance="",
        interconnect="",
        interconnect_bidir_bytes_per_s=None,
        form_factor=f"host CPU: {model}, {cores or 'unknown number of'} logical cores",
        tdp_watts=None,
        launch_year=None,
        source=_source(bandwidth, gflops),
        fields_not_from_source=(),
        notes=_notes(bandwidth, gflops, ram),
    )


def _env_number(env: Mapping[str, str], variable: str) -> float | None:
    raw = env.get(variable, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise BadInputError(
            f"{variable}={raw!r} is not a positive number",
            hint=f"set {variable} to a plain number such as 100, or unset it",
        )
    return value


def _total_ram_bytes() -> int | None:
    """Physical RAM in bytes from sysconf, falling back to /proc/meminfo; None if neither."""
    try:
        pages = os.sysconf("SC_PHYS_PAGES")
        page_size = os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        pages = page_size = -1
    if pages > 0 and page_size > 0:
        return int(pages * page_size)
    return _meminfo_total_bytes()


def _meminfo_total_bytes() -> int | None:
    try:
        text = Path("/proc/meminfo").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "MemTotal:" and parts[1].isdigit():
            return int(parts[1]) * 1024  # /proc/meminfo's "kB" are KiB
    return None


def _core_count() -> int | None:
    """Logical cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        try:
            return len(os.sched_getaffinity(0))
        except OSError:
            pass
    return os.cpu_count()


def _cpu_model() -> tuple[str, str]:
    """(model name, vendor) from /proc/cpuinfo where present, else from ``platform``."""
    fields = _cpuinfo_fields()
    model = fields.get("model name") or platform.processor() or platform.machine() or "unknown"
    vendor = fields.get("vendor_id") or platform.machine() or "unknown"
    return model, vendor


def _cpuinfo_fields() -> dict[str, str]:
    try:
        text = _CPUINFO.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() and value.strip():
            fields.setdefault(key.strip(), value.strip())
    return fields


def _source(bandwidth: float | None, gflops: float | None) -> str:
    parts = ["probed on this machine (os.sysconf, /proc/cpuinfo)"]
    if bandwidth is not None:
        parts.append(f"{BANDWIDTH_ENV}={bandwidth:g}")
    if gflops is not None:
        parts.append(f"{GFLOPS_ENV}={gflops:g}")
    return " ; ".join(parts)


def _notes(bandwidth: float | None, gflops: float | None, ram: int | None) -> str:
    notes = []
    if ram is None:
        notes.append("Total RAM could not be read.")
    if bandwidth is None:
        notes.append(f"Memory bandwidth unknown: no datasheet for a CPU; set {BANDWIDTH_ENV}.")
    if gflops is None:
        notes.append(f"Peak FLOP/s unknown: no datasheet for a CPU; set {GFLOPS_ENV}.")
    else:
        notes.append(f"{GFLOPS_ENV} is used as the peak for fp32, bf16 and fp16.")
    notes.append("memory_bytes is all of the host's RAM, not what is free.")
    return " ".join(notes)
