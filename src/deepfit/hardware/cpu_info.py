"""What this machine's CPU is (model, vendor, usable cores), for the ``cpu`` device and
its measurement; apart so that neither of those imports the other."""

from __future__ import annotations

import os
from pathlib import Path

_CPUINFO = Path("/proc/cpuinfo")


def core_count() -> int | None:
    """Logical cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        try:
            return len(os.sched_getaffinity(0))
        except OSError:
            pass
    return os.cpu_count()


def cpu_model_and_vendor() -> tuple[str, str]:
    """(model name, vendor) from /proc/cpuinfo where present, else from ``platform``."""
    import platform

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
