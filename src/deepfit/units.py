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


#: Token-count suffixes. Lower-case k and m are decimal, upper-case K and M binary (vLLM's
#: convention for --max-model-len: 32k = 32,000, 32K = 32,768, 1M = 1,048,576); B and T
#: (any case) are billions and trillions, for training-token totals.
TOKEN_SUFFIXES = {
    "k": 1000,
    "K": 1024,
    "m": 1000**2,
    "M": 1024**2,
    "b": 1000**3,
    "B": 1000**3,
    "t": 1000**4,
    "T": 1000**4,
}


def parse_token_count(text: str) -> int:
    """A token count as people write it: ``4096``, ``32k``, ``128K``, ``1M``, ``1.5k``,
    ``15.6e12``, ``2T``. Raises ValueError for anything else or a fractional count."""
    raw = text.strip().replace(",", "").replace("_", "")
    scale = TOKEN_SUFFIXES.get(raw[-1:], 1) if raw else 1
    number = raw[:-1] if scale != 1 else raw
    if not number or len(number) > 40:
        raise ValueError(text)
    value = float(number) * scale
    if value != value or value in (float("inf"), float("-inf")) or not value.is_integer():
        raise ValueError(text)
    return int(value)
