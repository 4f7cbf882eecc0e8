"""The memory an engine can really use on a device."""

from __future__ import annotations

from ..hardware import Gpu
from ..units import GB, GiB

#: Vendors state HBM/GDDR sizes in decimal GB that are physically GiB; CUDA then reports
#: about 1% less (ECC and driver reservations). Fitted to torch's reported totals in the
#: published engine logs of shared/groundtruth/memory.csv: H100 80GB -> 79.18-79.22 GiB
#: (80 x 0.99 = 79.2), RTX 3090 24GB -> 23.58 GiB (24 x 0.99 = 23.76, 0.8% high).
VISIBLE_FRACTION = 0.99


def visible_memory_bytes(gpu: Gpu) -> int:
    """Bytes of device memory the CUDA runtime reports (the engines' "total memory")."""
    nominal = gpu.require_memory_bytes()
    if gpu.name == "cpu":  # the probe reads the machine's RAM directly
        return nominal
    return int(nominal / GB * GiB * VISIBLE_FRACTION)
