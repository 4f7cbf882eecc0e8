"""GGUF headers (v2/v3): magic, version, counts, key-value metadata, then one record per
tensor (name, shape, ggml type, offset). A tensor's bytes follow from its type's block
size and block bytes (ggml's type traits), so mixed quantizations (K-quants, IQ and
imatrix mixes) are sized exactly without reading the weights."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ...errors import BadInputError
from .safetensors import TensorEntry
from .source import RangeSource

#: Metadata (tokenizer vocabularies included) is a few MB; deepfit reads at most this.
MAX_METADATA_BYTES = 128 * 1024 * 1024
MAX_COUNT = 1 << 24
CHUNK = 1 << 20

#: ggml type id -> (name, elements per block, bytes per block), from ggml's type traits
GGML_TYPES: dict[int, tuple[str, int, int]] = {
    0: ("F32", 1, 4),
    1: ("F16", 1, 2),
    2: ("Q4_0", 32, 18),
    3: ("Q4_1", 32, 20),
    6: ("Q5_0", 32, 22),
    7: ("Q5_1", 32, 24),
    8: ("Q8_0", 32, 34),
    9: ("Q8_1", 32, 40),
    10: ("Q2_K", 256, 84),
    11: ("Q3_K", 256, 110),
    12: ("Q4_K", 256, 144),
    13: ("Q5_K", 256, 176),
    14: ("Q6_K", 256, 210),
    15: ("Q8_K", 256, 292),
    16: ("IQ2_XXS", 256, 66),
    17: ("IQ2_XS", 256, 74),
    18: ("IQ3_XXS", 256, 98),
    19: ("IQ1_S", 256, 50),
    20: ("IQ4_NL", 32, 18),
    21: ("IQ3_S", 256, 110),
    22: ("IQ2_S", 256, 82),
    23: ("IQ4_XS", 256, 136),
    24: ("I8", 1, 1),
    25: ("I16", 1, 2),
    26: ("I32", 1, 4),
    27: ("I64", 1, 8),
    28: ("F64", 1, 8),
    29: ("IQ1_M", 256, 56),
    30: ("BF16", 1, 2),
    34: ("TQ1_0", 256, 54),
    35: ("TQ2_0", 256, 66),
    39: ("MXFP4", 32, 17),
    40: ("NVFP4", 64, 36),
    41: ("Q1_0", 128, 18),
}

#: GGUF metadata value types -> struct format of the fixed-size ones
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q"}
_SCALARS.update({11: "<q", 12: "<d"})
_STRING, _ARRAY = 8, 9


def _bad(origin: str, why: str) -> BadInputError:
    return BadInputError(f"{origin} is not a readable GGUF file ({why})", "pass a .gguf file")


class _Reader:
    """Sequential reads over a range source, fetching 1 MB at a time, capped."""

    def __init__(self, source: RangeSource) -> None:
        self.source = source
        self.buf = b""
        self.start = 0  # file offset of buf[0]
        self.pos = 0

    def take(self, n: int) -> bytes:
        end = self.pos + n
        if end > MAX_METADATA_BYTES:
            raise _bad(self.source.name, f"its header is larger than {MAX_METADATA_BYTES:,} bytes")
        if end > self.start + len(self.buf):
            more = self.source.read(self.start + len(self.buf), max(CHUNK, end - self.pos))
            self.buf = self.buf[self.pos - self.start :] + more
            self.start = self.pos
        if end > self.start + len(self.buf):
            raise _bad(self.source.name, "it ends inside its header")
        out = self.buf[self.pos - self.start : end - self.start]
        self.pos = end
        return out

    def scalar(self, fmt: str) -> int | float | bool:
        value: int | float | bool = struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]
        return value

    def count(self) -> int:
        n = int(self.scalar("<Q"))
        if n > MAX_COUNT:
            raise _bad(self.source.name, f"a count of {n:,} is implausible")
        return n

    def string(self) -> str:
        n = int(self.scalar("<Q"))
        if n > MAX_METADATA_BYTES:
            raise _bad(self.source.name, "a string is longer than the header cap")
        return self.take(n).decode("utf-8", "replace")

    def skip_value(self, kind: int) -> None:
        if kind in _SCALARS:
            self.take(struct.calcsize(_SCALARS[kind]))
        elif kind == _STRING:
            self.string()
        elif kind == _ARRAY:
            item, n = int(self.scalar("<I")), self.count()
            if item in _SCALARS:
                self.take(struct.calcsize(_SCALARS[item]) * n)
            else:
                for _ in range(n):
                    self.skip_value(item)
        else:
            raise _bad(self.source.name, f"unknown metadata type {kind}")


@dataclass(frozen=True)
class GgufHeader:
    version: int
    tensors: list[TensorEntry]


def read_header(source: RangeSource) -> GgufHeader:
    """Tensor names, shapes, ggml types and exact bytes of a GGUF file, from its header."""
    r = _Reader(source)
    if r.take(4) != b"GGUF":
        raise _bad(source.name, "no GGUF magic")
    version = int(r.scalar("<I"))
    if version not in (2, 3):
        raise _bad(source.name, f"version {version} (deepfit reads 2 and 3)")
    n_tensors, n_kv = r.count(), r.count()
    for _ in range(n_kv):
        r.string()
        r.skip_value(int(r.scalar("<I")))
    tensors = []
    for _ in range(n_tensors):
        name = r.string()[:300]
        dims = int(r.scalar("<I"))
        if dims > 8:
            raise _bad(source.name, f"tensor {name!r} has {dims} dimensions")
        shape = tuple(int(r.scalar("<Q")) for _ in range(dims))
        kind = int(r.scalar("<I"))
        r.take(8)  # data offset
        if kind not in GGML_TYPES:
            raise _bad(source.name, f"tensor {name!r} has ggml type {kind}, unknown to deepfit")
        type_name, block, block_bytes = GGML_TYPES[kind]
        numel = 1
        for d in shape:
            numel *= d
        if numel % block:
            raise _bad(source.name, f"tensor {name!r} is not whole {type_name} blocks")
        tensors.append(TensorEntry(name, type_name, shape, numel // block * block_bytes))
    return GgufHeader(version, tensors)
