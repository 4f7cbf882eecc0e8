"""Bisection for the largest size that still works (longest context, most sequences)."""

from __future__ import annotations

from collections.abc import Callable


def largest_satisfying(ok: Callable[[int], bool], hi: int) -> int:
    """The largest ``n`` in [1, hi] with ``ok(n)``, for an ``ok`` that holds up to some
    point and fails beyond it; 0 when ``ok(1)`` already fails."""
    if not ok(1):
        return 0
    if ok(hi):
        return hi
    lo = 1
    while lo < hi - 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if ok(mid) else (lo, mid)
    return lo
