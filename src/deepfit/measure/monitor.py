"""Sample GPU memory, utilisation and power (NVML) and this machine's CPU and RAM (/proc)
into CSV rows, with deepfit's predicted memory per GPU as a reference column.

NVML comes from ``nvidia-ml-py`` (module ``pynvml``, the ``gpu`` extra), imported only
when sampling starts. Where it is missing, or no NVIDIA driver answers, :func:`open_nvml`
returns a one-line reason and monitoring goes on with CPU/RAM only.
"""

from __future__ import annotations

import csv
import importlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

COLUMNS = (
    "time_s",
    "device",
    "name",
    "memory_used_bytes",
    "memory_total_bytes",
    "utilization_percent",
    "power_w",
    "predicted_memory_bytes",
    "cpu_percent",
    "ram_used_bytes",
    "ram_total_bytes",
)


@dataclass(frozen=True)
class GpuSample:
    index: int
    name: str
    memory_used_bytes: int
    memory_total_bytes: int
    utilization_percent: float | None
    power_w: float | None


class Nvml:
    """A thin wrapper over ``pynvml`` (initialised once, shut down on close)."""

    def __init__(self, module: Any) -> None:
        self._m = module
        module.nvmlInit()
        self.count = int(module.nvmlDeviceGetCount())

    def sample(self) -> list[GpuSample]:
        m, out = self._m, []
        for i in range(self.count):
            h = m.nvmlDeviceGetHandleByIndex(i)
            mem = m.nvmlDeviceGetMemoryInfo(h)
            name = m.nvmlDeviceGetName(h)
            out.append(
                GpuSample(
                    index=i,
                    name=name.decode() if isinstance(name, bytes) else str(name),
                    memory_used_bytes=int(mem.used),
                    memory_total_bytes=int(mem.total),
                    utilization_percent=_try(self._util, h),
                    power_w=_try(self._power, h),
                )
            )
        return out

    def _util(self, handle: Any) -> float:
        return float(self._m.nvmlDeviceGetUtilizationRates(handle).gpu)

    def _power(self, handle: Any) -> float:
        return float(self._m.nvmlDeviceGetPowerUsage(handle)) / 1000.0  # mW -> W

    def close(self) -> None:
        _try(self._m.nvmlShutdown)


def _try(fn: Callable[..., Any], *args: Any) -> Any:
    try:
        return fn(*args)
    except Exception:  # a query this GPU or driver does not support: leave the cell empty
        return None


def open_nvml(importer: Callable[[str], Any] = importlib.import_module) -> Nvml | str:
    """An initialised NVML, or one line saying why there is none."""
    try:
        module = importer("pynvml")
    except ImportError:
        return "no NVML: nvidia-ml-py is not installed (pip install 'deepfit[gpu]'); CPU/RAM only"
    try:
        return Nvml(module)
    except Exception as exc:
        return f"no NVIDIA driver found (NVML: {exc}); CPU/RAM only"


class CpuSampler:
    """CPU busy share since the previous call, from /proc/stat; RAM from /proc/meminfo."""

    def __init__(self, proc: Path = Path("/proc")) -> None:
        self.proc = proc
        self._last = self._times()

    def _times(self) -> tuple[int, int] | None:
        try:
            fields = (self.proc / "stat").read_text().splitlines()[0].split()[1:]
        except (OSError, IndexError):
            return None
        values = [int(x) for x in fields]
        idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
        return sum(values), idle

    def cpu_percent(self) -> float | None:
        now, last = self._times(), self._last
        self._last = now
        if now is None or last is None or now[0] == last[0]:
            return None
        return 100.0 * (1 - (now[1] - last[1]) / (now[0] - last[0]))

    def ram(self) -> tuple[int | None, int | None]:
        """(used, total) bytes; used = total - available."""
        try:
            text = (self.proc / "meminfo").read_text()
        except OSError:
            return None, None
        kb = {}
        for line in text.splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                kb[parts[0].rstrip(":")] = int(parts[1]) * 1024
        total, avail = kb.get("MemTotal"), kb.get("MemAvailable")
        return (total - avail if total is not None and avail is not None else None), total


def samples(
    nvml: Nvml | None,
    interval_s: float,
    max_samples: int | None,
    duration_s: float | None,
    predicted_bytes: int | None = None,
    cpu: CpuSampler | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[dict[str, Any]]:
    """Rows (one per GPU per tick, or one CPU row per tick without NVML) until a bound."""
    cpu = cpu or CpuSampler()
    t0 = time.monotonic()
    n = 0
    while (max_samples is None or n < max_samples) and (
        duration_s is None or time.monotonic() - t0 < duration_s
    ):
        if n:
            sleep(interval_s)
        t = round(time.monotonic() - t0, 3)
        used, total = cpu.ram()
        host = {
            "cpu_percent": _round(cpu.cpu_percent()),
            "ram_used_bytes": used,
            "ram_total_bytes": total,
        }
        gpus = nvml.sample() if nvml else []
        for g in gpus:
            yield {
                "time_s": t,
                "device": g.index,
                "name": g.name,
                "memory_used_bytes": g.memory_used_bytes,
                "memory_total_bytes": g.memory_total_bytes,
                "utilization_percent": g.utilization_percent,
                "power_w": g.power_w,
                "predicted_memory_bytes": predicted_bytes,
                **host,
            }
        if not gpus:
            yield {
                "time_s": t,
                "device": "cpu",
                "name": "host",
                "predicted_memory_bytes": predicted_bytes,
                **host,
            }
        n += 1


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 1)


def write_csv(rows: Iterator[dict[str, Any]], out: IO[str]) -> int:
    """Write rows as they come (flushed each), return the count."""
    w = csv.DictWriter(out, fieldnames=COLUMNS, restval="")
    w.writeheader()
    n = 0
    for row in rows:
        w.writerow(row)
        out.flush()
        n += 1
    return n
