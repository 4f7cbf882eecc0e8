"""What GPU time costs: cloud offers from the catalogue (dated, with sources), a user's own
prices file, and owned hardware as purchase + power over its life, with the break-even."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import BadInputError
from ..hardware import Gpu, list_instances, load_gpu

HOURS_PER_YEAR = 24 * 365


@dataclass(frozen=True)
class Price:
    """US$ per GPU-hour for one GPU type, and where the figure comes from."""

    gpu: str
    usd_per_gpu_hour: float
    offer: str
    as_of: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "gpu": self.gpu,
            "usd_per_gpu_hour": self.usd_per_gpu_hour,
            "offer": self.offer,
            "as_of": self.as_of,
            "source": self.source,
        }


def cloud_price(gpu: Gpu) -> Price | None:
    """The cheapest priced offer for ``gpu`` in the catalogue, or None if none is priced."""
    best: Price | None = None
    for offer in list_instances():
        if offer.gpu is None or offer.gpu.name != gpu.name or not offer.usd_per_gpu_hour:
            continue
        if best is None or offer.usd_per_gpu_hour < best.usd_per_gpu_hour:
            best = Price(
                gpu.name,
                offer.usd_per_gpu_hour,
                f"{offer.provider} {offer.instance}",
                offer.price_as_of or "undated",
                offer.source,
            )
    return best


def read_prices(path: str | Path) -> dict[str, Price]:
    """A user's prices: CSV with columns ``gpu,usd_per_gpu_hour`` (and optionally
    ``offer,as_of``). Unknown GPUs, non-positive or non-numeric prices are bad input."""
    try:
        text = Path(path).read_text(encoding="utf-8")[: 1 << 20]
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInputError(
            f"cannot read prices file {path}: {exc}", "give a CSV with columns gpu,usd_per_gpu_hour"
        ) from None
    out: dict[str, Price] = {}
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or not {"gpu", "usd_per_gpu_hour"} <= set(reader.fieldnames):
        raise BadInputError(
            f"{path} lacks the columns gpu,usd_per_gpu_hour",
            "the first line must name the columns, e.g. gpu,usd_per_gpu_hour",
        )
    for n, row in enumerate(reader, start=2):
        gpu = load_gpu(row.get("gpu") or "")
        try:
            usd = float(row.get("usd_per_gpu_hour") or "")
        except ValueError:
            usd = -1.0
        if not 0 < usd < 1e4:
            raise BadInputError(
                f"{path} line {n}: price {row.get('usd_per_gpu_hour')!r} "
                "is not a positive number of US$ per GPU-hour",
                "e.g. H100,2.49",
            )
        out[gpu.name] = Price(
            gpu.name,
            usd,
            row.get("offer") or "your price",
            row.get("as_of") or "user-supplied",
            str(path),
        )
    return out


@dataclass(frozen=True)
class OwnHardware:
    """A GPU bought rather than rented: price, power, life and use."""

    purchase_usd_per_gpu: float
    years: float = 4.0
    usd_per_kwh: float = 0.12
    pue: float = 1.3  # facility overhead on the GPU's power
    utilization: float = 1.0  # share of hours it does useful work
    hosting_usd_per_gpu_year: float = 0.0

    def usd_per_gpu_hour(self, gpu: Gpu) -> float:
        """Amortised purchase + power (at TDP x PUE) + hosting, per useful GPU-hour."""
        if self.purchase_usd_per_gpu <= 0 or self.years <= 0 or not 0 < self.utilization <= 1:
            raise BadInputError(
                "own-hardware figures must be positive (utilization in (0, 1])",
                "e.g. purchase 30000, years 4, utilization 0.7",
            )
        hours = self.years * HOURS_PER_YEAR
        power = self._power_usd_per_hour(gpu)
        fixed = self.purchase_usd_per_gpu / hours + self.hosting_usd_per_gpu_year / HOURS_PER_YEAR
        return (fixed + power) / self.utilization

    def _power_usd_per_hour(self, gpu: Gpu) -> float:
        """Power at TDP x PUE, in US$ per GPU-hour; a GPU without a TDP is an error."""
        if gpu.tdp_watts is None:
            raise BadInputError(
                f"the catalogue has no power figure for {gpu.name}",
                "power cost needs the GPU's TDP",
            )
        return gpu.tdp_watts / 1000 * self.pue * self.usd_per_kwh

    def economics(self, gpu: Gpu) -> dict[str, float | None]:
        """Owning ``gpu`` against renting it at the catalogue's cheapest cloud price:
        US$ per useful GPU-hour both ways and the months after which owning is cheaper."""
        cloud = cloud_price(gpu)
        return {
            "usd_per_gpu_hour": self.usd_per_gpu_hour(gpu),
            "cloud_usd_per_gpu_hour": cloud.usd_per_gpu_hour if cloud else None,
            "break_even_months": self.break_even_months(gpu, cloud.usd_per_gpu_hour)
            if cloud
            else None,
        }

    def break_even_months(self, gpu: Gpu, cloud_usd_per_gpu_hour: float) -> float | None:
        """Months of use after which owning costs less than renting at the cloud price
        (None if renting is always cheaper at this utilization)."""
        power = self._power_usd_per_hour(gpu)
        hourly_saving = (
            cloud_usd_per_gpu_hour * self.utilization
            - power
            - (self.hosting_usd_per_gpu_year / HOURS_PER_YEAR)
        )
        if hourly_saving <= 0:
            return None
        return self.purchase_usd_per_gpu / hourly_saving / (HOURS_PER_YEAR / 12)
