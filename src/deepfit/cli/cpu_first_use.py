"""``--gpu cpu`` on first use: measure this machine once, say so, and say how to redo it.

A CPU has no datasheet, so its memory bandwidth and matmul rate are measured (about 2 s,
numpy) the first time a command names ``cpu``, and cached. Every later use of a figure
measured while the machine was busy carries a warning, since a busy machine measures low.
"""

from __future__ import annotations

import os
import sys

from ..hardware.cpu import BANDWIDTH_ENV, GFLOPS_ENV
from ..units import GB


def ensure_measured() -> None:
    """Measure and cache this machine's figures unless the user stated them or a cached
    measurement exists; print one progress line, the figures with their noise, and a
    warning when the machine was busy (on stderr: stdout stays the command's answer)."""
    from ..hardware.cpu_measure import cache_path, cached_measurement, measure_cpu, save_measurement

    if os.environ.get(BANDWIDTH_ENV, "").strip() and os.environ.get(GFLOPS_ENV, "").strip():
        return
    path = cache_path()
    found = cached_measurement(False)
    if found is None:
        print(
            "deepfit: measuring this machine's memory bandwidth and matmul speed "
            f"(about 2 s, once; cached in {path}) ...",
            file=sys.stderr,
            flush=True,
        )
        found = measure_cpu()
        save_measurement(found)
        spread = found.spread
        print(
            f"deepfit: measured {found.stream_bandwidth_bytes_per_s / GB:,.1f} GB/s read "
            f"(repeats within {spread.get('read_bandwidth', 0.0):.0%}), "
            f"{found.matmul_flops_per_s['fp32'] / 1e9:,.0f} GFLOP/s fp32 matmul "
            f"(repeats within {spread.get('fp32_matmul', 0.0):.0%})",
            file=sys.stderr,
        )
    busy = [n for n in found.notes if n.startswith("the machine was busy")]
    if busy:
        print(
            f"deepfit: warning: the CPU figures were measured when {busy[0]}, so they "
            f"may be low; to re-measure when the machine is idle, delete {path} and rerun "
            f"(or state them: {BANDWIDTH_ENV}=..., {GFLOPS_ENV}=...)",
            file=sys.stderr,
        )
