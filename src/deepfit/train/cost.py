"""Prices: the cheapest catalogued on-demand price per GPU-hour for a GPU (US$)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..hardware import Gpu, list_instances

#: Offers billed by the hour without commitment; spot and reserved prices are left out.
ON_DEMAND = ("on_demand_instance", "rental_per_gpu_hour")  # and "on_demand_instance (neocloud)"


@dataclass(frozen=True)
class GpuPrice:
    """A price per GPU-hour and the offer it comes from."""

    usd_per_gpu_hour: float
    provider: str
    instance: str
    price_type: str
    price_as_of: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "usd_per_gpu_hour": self.usd_per_gpu_hour,
            "provider": self.provider,
            "instance": self.instance,
            "price_type": self.price_type,
            "price_as_of": self.price_as_of,
        }


def cheapest_price(gpu: Gpu) -> GpuPrice | None:
    """The lowest on-demand US$/GPU-hour in the catalogue for ``gpu``; None if unpriced."""
    offers = [
        (i.usd_per_gpu_hour, i)
        for i in list_instances(gpu.name)
        if i.usd_per_gpu_hour is not None and i.price_type.startswith(ON_DEMAND)
    ]
    if not offers:
        return None
    price, best = min(offers, key=lambda o: o[0])
    return GpuPrice(
        float(price),
        best.provider,
        best.instance,
        best.price_type,
        best.price_as_of,
    )
