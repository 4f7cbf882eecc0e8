"""The GPU name ``cpu``: this machine, probed.

Memory size and core count can be read from the operating system; FLOP/s and memory
bandwidth cannot be read from anywhere trustworthy. Each is taken, first found wins, from:

1. the environment (the user states them):

   - ``DEEPFIT_CPU_BANDWIDTH_GBPS``: memory bandwidth in GB/s (10^9 bytes/s), e.g. STREAM.
   - ``DEEPFIT_CPU_GFLOPS``: peak matrix-multiply GFLOP/s (10^9 FLOP/s), used for fp32,
     bf16 and fp16 alike;

2. this machine's cached measurement (:mod:`deepfit.hardware.cpu_measure`), taken when
   ``probe_cpu(measure=True)`` is called or ``DEEPFIT_MEASURE_CPU=1`` is set and no cache
   exists: read bandwidth, and matmul FLOP/s for the formats that were measured;

3. otherwise they stay :data:`UNKNOWN`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from deepfit.errors import BadInputError
from deepfit.hardware.cpu_info import core_count, cpu_model_and_vendor
from deepfit.hardware.gpu import COMPUTE_FORMATS, UNKNOWN, Gpu, Missing, PeakRates
from deepfit.units import GB, MiB

if TYPE_CHECKING:
    from deepfit.hardware.cpu_measure import CpuMeasurement

CPU_NAME = "cpu"
BANDWIDTH_ENV = "DEEPFIT_CPU_BANDWIDTH_GBPS"
GFLOPS_ENV = "DEEPFIT_CPU_GFLOPS"
MEASURE_ENV = "DEEPFIT_MEASURE_CPU"
_FLOAT_FORMATS = ("fp32", "bf16", "fp16")


def probe_cpu(environ: Mapping[str, str] | None = None, measure: bool = False) -> Gpu:
    """Describe this machine's CPU and RAM as a :class:`Gpu` named ``cpu``.

    ``environ`` defaults to ``os.environ``. Bandwidth and FLOP/s come from the environment
    variables, else from this machine's cached measurement, else stay UNKNOWN. With
    ``measure`` (or ``DEEPFIT_MEASURE_CPU=1``) a missing cache is measured (~2 s, needs
    numpy) and written. Raises :class:`BadInputError` if one of the environment variables
    is set but is not a positive number, or if a measurement is needed without numpy.
    """
    env = os.environ if environ is None else environ
    bandwidth = _env_number(env, BANDWIDTH_ENV)
    gflops = _env_number(env, GFLOPS_ENV)
    measured = None
    if bandwidth is None or gflops is None:
        # Imported here: cpu_measure builds on this module's probes.
        from deepfit.hardware.cpu_measure import cached_measurement

        measure = measure or env.get(MEASURE_ENV, "").strip() == "1"
        measured = cached_measurement(measure, environ=env)
    model, vendor = cpu_model_and_vendor()
    cores = core_count()
    ram = _total_ram_bytes()
    return Gpu(
        name=CPU_NAME,
        aliases=(),
        vendor=vendor,
        memory_bytes=UNKNOWN if ram is None else ram,
        memory_type="host RAM",
        mem_bandwidth_bytes_per_s=_bandwidth(bandwidth, measured),
        peak_ops_per_s=_rates(gflops, measured),
        dense_provenance="",
        interconnect="",
        interconnect_bidir_bytes_per_s=None,
        form_factor=f"host CPU: {model}, {cores or 'unknown number of'} logical cores",
        tdp_watts=None,
        launch_year=None,
        source=_source(bandwidth, gflops, measured),
        fields_not_from_source=(),
        notes=_notes(bandwidth, gflops, ram, measured),
    )


def _bandwidth(from_env: float | None, measured: CpuMeasurement | None) -> float | Missing:
    if from_env is not None:
        return from_env * GB
    return UNKNOWN if measured is None else measured.stream_bandwidth_bytes_per_s


def _rates(gflops: float | None, measured: CpuMeasurement | None) -> PeakRates:
    rates: dict[str, float | Missing] = dict.fromkeys(COMPUTE_FORMATS, UNKNOWN)
    if gflops is not None:
        rates.update(dict.fromkeys(_FLOAT_FORMATS, gflops * 1e9))
    elif measured is not None:
        rates.update(measured.matmul_flops_per_s)
        for fmt in ("bf16", "fp16"):
            # numpy has no native 16-bit matmul: without a measured rate these formats
            # run as fp32 on this machine (upcast), as CPU engines do without AVX512-BF16
            if fmt not in measured.matmul_flops_per_s and "fp32" in measured.matmul_flops_per_s:
                rates[fmt] = Missing.NOT_SUPPORTED
    return PeakRates(**rates)


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


def _source(bandwidth: float | None, gflops: float | None, m: CpuMeasurement | None) -> str:
    parts = ["probed on this machine (os.sysconf, /proc/cpuinfo)"]
    if m is not None and (bandwidth is None or gflops is None):
        parts.append(
            f"measured on this machine {m.date} (numpy {m.numpy_version}, {m.threads} threads)"
        )
    if bandwidth is not None:
        parts.append(f"{BANDWIDTH_ENV}={bandwidth:g}")
    if gflops is not None:
        parts.append(f"{GFLOPS_ENV}={gflops:g}")
    return " ; ".join(parts)


def _notes(
    bandwidth: float | None, gflops: float | None, ram: int | None, m: CpuMeasurement | None
) -> str:
    notes = []
    if ram is None:
        notes.append("Total RAM could not be read.")
    if bandwidth is None and m is not None:
        notes.append(
            f"Memory bandwidth measured: best of multi-threaded numpy sums over a "
            f"{m.array_bytes / MiB:.0f} MiB array on {m.threads} threads (read only; "
            f"copy measured {m.copy_bandwidth_bytes_per_s / GB:.1f} GB/s read+write)."
        )
    elif bandwidth is None:
        notes.append(
            f"Memory bandwidth unknown: no datasheet for a CPU; set {BANDWIDTH_ENV}, "
            f"or measure it with {MEASURE_ENV}=1."
        )
    if gflops is None and m is not None:
        formats = ", ".join(sorted(m.matmul_flops_per_s))
        notes.append(
            f"FLOP/s measured for {formats}: best {m.matmul_size}x{m.matmul_size} matmul "
            f"({m.blas}); bf16/fp16 without a measured rate are computed as fp32 (upcast); "
            f"set {GFLOPS_ENV} to state one rate for all."
        )
        notes.extend(f"Measurement: {note}." for note in m.notes)
        notes.append("Measured rates are achieved, not peak; cached until the cache is deleted.")
    elif gflops is None:
        notes.append(
            f"Peak FLOP/s unknown: no datasheet for a CPU; set {GFLOPS_ENV}, "
            f"or measure it with {MEASURE_ENV}=1."
        )
    else:
        notes.append(f"{GFLOPS_ENV} is used as the peak for fp32, bf16 and fp16.")
    notes.append("memory_bytes is all of the host's RAM, not what is free.")
    return " ".join(notes)
