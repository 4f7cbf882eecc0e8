"""Safetensors headers: an 8-byte little-endian length, then a JSON table of every tensor's
dtype, shape and byte range. The byte ranges give each tensor's exact size in the file."""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass

from ...errors import BadInputError
from .source import RangeSource

#: The format caps its header at 100 MB; deepfit reads no more.
MAX_HEADER_BYTES = 100 * 1024 * 1024


@dataclass(frozen=True)
class TensorEntry:
    name: str
    dtype: str
    shape: tuple[int, ...]
    nbytes: int


def _bad(origin: str, why: str) -> BadInputError:
    return BadInputError(f"{origin} is not a safetensors file ({why})", "pass a .safetensors file")


def parse_header(raw: bytes, origin: str) -> list[TensorEntry]:
    """Tensors of a safetensors JSON header (``__metadata__`` skipped)."""
    try:
        table = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise _bad(origin, "its header is not JSON") from None
    if not isinstance(table, dict):
        raise _bad(origin, "its header is not a JSON object")
    out = []
    for name, info in table.items():
        if name == "__metadata__":
            continue
        try:
            start, end = (int(x) for x in info["data_offsets"])
            shape = tuple(int(d) for d in info["shape"])
            dtype = str(info["dtype"])[:16]
        except (KeyError, TypeError, ValueError):
            raise _bad(origin, f"entry {str(name)[:60]!r} lacks dtype/shape/data_offsets") from None
        if end < start or start < 0 or any(d < 0 for d in shape):
            raise _bad(origin, f"entry {str(name)[:60]!r} has a negative size")
        out.append(TensorEntry(str(name)[:300], dtype, shape, end - start))
    return out


def read_header(source: RangeSource) -> list[TensorEntry]:
    """Read only the header of a safetensors file (two ranged reads)."""
    head = source.read(0, 8)
    if len(head) < 8:
        raise _bad(source.name, "shorter than 8 bytes")
    (size,) = struct.unpack("<Q", head)
    if size > MAX_HEADER_BYTES:
        raise _bad(source.name, f"its header claims {size:,} bytes")
    raw = source.read(8, size)
    if len(raw) < size:
        raise _bad(source.name, "its header is truncated")
    return parse_header(raw, source.name)
