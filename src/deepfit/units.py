"""Unit conversions. deepfit computes in SI units (bytes, seconds, FLOP/s, bytes/s, US$);
these helpers exist only where data is read and where results are shown."""

from __future__ import annotations

KB = 1000
MB = 1000**2
GB = 1000**3
TB = 1000**4
KiB = 1024
MiB = 1024**2
GiB = 1024**3
TiB = 1024**4
TERA = 1e12


def gib(n_bytes: float) -> float:
    """Bytes -> GiB (2**30 bytes)."""
    return n_bytes / GiB


def gb(n_bytes: float) -> float:
    """Bytes -> decimal GB (10**9 bytes)."""
    return n_bytes / GB


def human_count(n: float) -> str:
    """A parameter or token count as people say it: 6.91B, 236M, 12.3K."""
    for div, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= div:
            return f"{n / div:.2f}{suffix}"
    return f"{n:.0f}"


def human_bytes(n_bytes: float) -> str:
    """Bytes in binary units, the way nvidia-smi and engine logs show memory."""
    for div, suffix in ((TiB, "TiB"), (GiB, "GiB"), (MiB, "MiB"), (KiB, "KiB")):
        if abs(n_bytes) >= div:
            return f"{n_bytes / div:.2f} {suffix}"
    return f"{n_bytes:.0f} B"
