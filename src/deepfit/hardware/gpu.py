"""One accelerator's datasheet facts, in SI units.

A :class:`Gpu` holds what a catalogue row says, converted once: bytes, bytes/s, op/s, watts.
A number the catalogue does not have is never guessed: it is :data:`UNKNOWN` (the source did
not give it) or :data:`NOT_SUPPORTED` (the hardware has no such format), and asking for it
raises an error that says which.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields
from typing import Any, TypeAlias

from deepfit.errors import BadInputError, CatalogError, NotSupportedError


class Missing(enum.Enum):
    """Why a catalogue number is absent."""

    NOT_SUPPORTED = "n/a"
    """The hardware does not run this format (``n/a`` in the CSV)."""
    UNKNOWN = "unknown"
    """No retrieved source gave the number (an empty CSV cell). Not the same as unsupported."""


NOT_SUPPORTED = Missing.NOT_SUPPORTED
UNKNOWN = Missing.UNKNOWN

Rate: TypeAlias = float | Missing
"""A peak rate in op/s, or the marker that says why there is none."""

COMPUTE_FORMATS: tuple[str, ...] = ("fp32", "tf32", "bf16", "fp16", "fp8", "int8", "fp4", "int4")
"""The compute formats the catalogue records a dense peak for, in column order."""

_FORMAT_ALIASES = {
    "float32": "fp32",
    "float": "fp32",
    "float16": "fp16",
    "half": "fp16",
    "bfloat16": "bf16",
    "float8": "fp8",
}


def compute_format(dtype: str) -> str:
    """The canonical compute-format name (``fp32`` ... ``int4``) for ``dtype``.

    Accepts the canonical names in any case and a few PyTorch spellings (``bfloat16``,
    ``float16``, ``float32``). Raises :class:`BadInputError` for anything else.
    """
    key = dtype.strip().lower()
    key = _FORMAT_ALIASES.get(key, key)
    if key not in COMPUTE_FORMATS:
        raise BadInputError(
            f"unknown compute format {dtype!r}",
            hint=f"use one of {', '.join(COMPUTE_FORMATS)}",
        )
    return key


@dataclass(frozen=True)
class PeakRates:
    """Dense peak throughput per compute format, in operations per second.

    Floating-point formats are FLOP/s; ``int8`` and ``int4`` are integer OP/s (TOPS x 1e12).
    All are **dense** (no 2:4 sparsity) tensor/matrix-unit peaks, except ``fp32``, which is
    the plain (non-tensor) FP32 rate as datasheets list it.
    """

    fp32: Rate
    tf32: Rate
    bf16: Rate
    fp16: Rate
    fp8: Rate
    int8: Rate
    fp4: Rate
    int4: Rate

    def get(self, fmt: str) -> Rate:
        """The rate (or marker) for a canonical format name."""
        value: Rate = getattr(self, compute_format(fmt))
        return value

    def known(self) -> tuple[str, ...]:
        """Formats with a number."""
        return tuple(f for f in COMPUTE_FORMATS if not isinstance(self.get(f), Missing))

    def with_marker(self, marker: Missing) -> tuple[str, ...]:
        """Formats whose value is ``marker``."""
        return tuple(f for f in COMPUTE_FORMATS if self.get(f) is marker)

    def to_dict(self) -> dict[str, float | None]:
        """Format -> op/s, with ``None`` where there is no number."""
        return {f.name: _number_or_none(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True)
class Gpu:
    """One accelerator as the catalogue describes it. All quantities are SI.

    Attributes:
        name: the exact ``name`` of the catalogue row (e.g. ``"H100 SXM"``).
        aliases: other names that resolve to this row (``"H100"``, ``"H100-SXM"`` ...).
        vendor: ``NVIDIA``, ``AMD``, ``Intel``, ``Apple`` ...
        memory_bytes: device memory in bytes, decimal GB x 1e9 as the vendor states it
            (nvidia-smi shows somewhat less); :data:`UNKNOWN` if no source gave it.
        memory_type: ``HBM3``, ``GDDR6`` ...
        mem_bandwidth_bytes_per_s: peak memory bandwidth in bytes/s, or :data:`UNKNOWN`.
        peak_ops_per_s: dense peak op/s per compute format (see :class:`PeakRates`).
        dense_provenance: whether the dense numbers were halved from sparse datasheet figures.
        interconnect: the GPU-to-GPU link as text (``"NVLink 4 (18 links)"``).
        interconnect_bidir_bytes_per_s: per-GPU bidirectional link bandwidth in bytes/s
            (NVLink 4 = 900e9, i.e. 450e9 each way), ``None`` if unknown.
        form_factor: ``SXM5``, ``PCIe dual-slot`` ...
        tdp_watts: board power in watts, ``None`` if unknown.
        launch_year: year of launch, ``None`` if unknown.
        source: where the numbers come from (URLs or ``github:owner/repo/path@commit``).
        fields_not_from_source: fields filled from general knowledge or an
            equal-by-construction rule rather than from the cited source.
        notes: caveats and conflicts between sources.
    """

    name: str
    aliases: tuple[str, ...]
    vendor: str
    memory_bytes: int | Missing
    memory_type: str
    mem_bandwidth_bytes_per_s: float | Missing
    peak_ops_per_s: PeakRates
    dense_provenance: str
    interconnect: str
    interconnect_bidir_bytes_per_s: float | None
    form_factor: str
    tdp_watts: float | None
    launch_year: int | None
    source: str
    fields_not_from_source: tuple[str, ...]
    notes: str

    def peak_flops(self, dtype: str) -> float:
        """Dense peak throughput for ``dtype`` in op/s (FLOP/s; OP/s for int formats).

        Raises:
            NotSupportedError: the hardware has no such format (``n/a`` in the catalogue).
            CatalogError: the catalogue has no number for it (never guessed).
            BadInputError: ``dtype`` is not a compute format deepfit knows.
        """
        fmt = compute_format(dtype)
        value = self.peak_ops_per_s.get(fmt)
        if value is Missing.NOT_SUPPORTED:
            raise NotSupportedError(
                f"{self.name} does not support {fmt} in hardware",
                hint=self._formats_hint(),
            )
        if isinstance(value, Missing):
            raise self._unknown(f"peak {fmt} throughput")
        return value

    def supports(self, dtype: str) -> bool:
        """False only where the catalogue marks ``dtype`` as not supported in hardware.

        True does not promise a number: :meth:`peak_flops` still raises
        :class:`CatalogError` when the source did not give one. An unknown format name
        raises :class:`BadInputError`.
        """
        return self.peak_ops_per_s.get(dtype) is not Missing.NOT_SUPPORTED

    def require_memory_bytes(self) -> int:
        """Device memory in bytes; raises :class:`CatalogError` if the catalogue lacks it."""
        if isinstance(self.memory_bytes, Missing):
            raise self._unknown("memory size")
        return self.memory_bytes

    def require_mem_bandwidth_bytes_per_s(self) -> float:
        """Peak memory bandwidth in bytes/s; raises :class:`CatalogError` if unknown."""
        if isinstance(self.mem_bandwidth_bytes_per_s, Missing):
            raise self._unknown("memory bandwidth")
        return self.mem_bandwidth_bytes_per_s

    def unknown_fields(self) -> tuple[str, ...]:
        """Names of the numeric fields a computation cannot use because no source gave them."""
        names = [
            name
            for name in ("memory_bytes", "mem_bandwidth_bytes_per_s")
            if getattr(self, name) is Missing.UNKNOWN
        ]
        names += [f"peak_ops_per_s.{f}" for f in self.peak_ops_per_s.with_marker(UNKNOWN)]
        return tuple(names)

    def unusable_for(self) -> dict[str, str]:
        """Commands this row cannot answer, each with the reason (empty: it answers all).

        ``memory`` needs the memory size; ``perf``, ``plan`` and ``train`` also need the
        bandwidth and a 16-bit matmul rate (bf16, or fp16 where the hardware has no bf16).
        """
        if isinstance(self.memory_bytes, Missing):
            return dict.fromkeys(("memory", "perf", "plan", "train"), "no sourced memory size")
        missing = []
        if isinstance(self.mem_bandwidth_bytes_per_s, Missing):
            missing.append("memory bandwidth")
        half = "bf16" if self.supports("bf16") else "fp16"
        if self.supports(half) and isinstance(self.peak_ops_per_s.get(half), Missing):
            missing.append(f"{half} tensor rate")
        why = f"no sourced {' or '.join(missing)}"
        return dict.fromkeys(("perf", "plan", "train"), why) if missing else {}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready SI values. Absent numbers are ``null``; ``unsupported_formats`` and
        ``unknown_fields`` say why."""
        return {
            "name": self.name,
            "aliases": list(self.aliases),
            "vendor": self.vendor,
            "memory_bytes": _number_or_none(self.memory_bytes),
            "memory_type": self.memory_type,
            "mem_bandwidth_bytes_per_s": _number_or_none(self.mem_bandwidth_bytes_per_s),
            "peak_ops_per_s": self.peak_ops_per_s.to_dict(),
            "unsupported_formats": list(self.peak_ops_per_s.with_marker(NOT_SUPPORTED)),
            "unknown_fields": list(self.unknown_fields()),
            "unusable_for": self.unusable_for(),
            "dense_provenance": self.dense_provenance,
            "interconnect": self.interconnect,
            "interconnect_bidir_bytes_per_s": self.interconnect_bidir_bytes_per_s,
            "form_factor": self.form_factor,
            "tdp_watts": self.tdp_watts,
            "launch_year": self.launch_year,
            "source": self.source,
            "fields_not_from_source": list(self.fields_not_from_source),
            "notes": self.notes,
        }

    def _formats_hint(self) -> str:
        known = self.peak_ops_per_s.known()
        unknown = self.peak_ops_per_s.with_marker(UNKNOWN)
        hint = f"formats {self.name} runs: {', '.join(known) or 'none recorded'}"
        if unknown:
            hint += f"; not recorded in the catalogue: {', '.join(unknown)}"
        return hint

    def _unknown(self, what: str) -> CatalogError:
        return CatalogError(
            f"the hardware catalogue has no {what} for {self.name} (no source gave it)",
            hint=f"`deepfit gpus` shows what {self.name} answers; deepfit does not guess: "
            "add the figure with its source to a GPU CSV (see deepfit/hardware/README.md)",
        )


def _number_or_none(value: float | Missing) -> float | None:
    return None if isinstance(value, Missing) else value
