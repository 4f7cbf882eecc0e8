"""Where a performance number comes from, and the calibration data that changes it.

The core never reads a user's calibration file: an adapter (CLI, web, measure) loads the
profile and hands :func:`estimate_perf` a :class:`Calibration`; without one, the bundled
factors apply and the answer is the same on every machine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum


class Provenance(str, Enum):
    """What a prediction rests on: the roofline with default efficiencies, efficiencies
    fitted on published runs (bundled), efficiencies calibrated on the user's own runs, or
    a measurement."""

    ROOFLINE = "roofline"
    FITTED = "fitted"
    CALIBRATED = "calibrated"
    MEASURED = "measured"

    @property
    def source(self) -> str:
        """The contract's ``source`` value (``roofline | calibrated | measured``): a bundled
        fit on published runs has always been reported as ``calibrated`` there."""
        return "calibrated" if self is Provenance.FITTED else self.value


@dataclass(frozen=True)
class Calibration:
    """Efficiency factors (``bandwidth_efficiency``, ``step_overhead_s``...) that replace
    the engine's bundled ones; ``origin`` says where they came from (a profile key, a file)."""

    factors: Mapping[str, float] = field(default_factory=dict)
    provenance: Provenance = Provenance.CALIBRATED
    origin: str = ""

    def __bool__(self) -> bool:
        return bool(self.factors)
