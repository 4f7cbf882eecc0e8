"""A per-thread deadline for long computations (the web server's per-request time limit).

Threads cannot be stopped from outside, so the expensive steps call :func:`check`, which
raises :class:`~deepfit.errors.TimeLimitError` once the thread's deadline has passed. Outside
:func:`within` there is no deadline and :func:`check` costs one attribute lookup.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import TimeLimitError

_LOCAL = threading.local()


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """Run the body with a deadline ``seconds`` from now (nested deadlines keep the earlier)."""
    previous: float | None = getattr(_LOCAL, "deadline", None)
    ends = time.monotonic() + seconds
    _LOCAL.deadline = ends if previous is None else min(previous, ends)
    try:
        yield
    finally:
        _LOCAL.deadline = previous


def check() -> None:
    """Raise TimeLimitError if this thread's deadline has passed."""
    ends: float | None = getattr(_LOCAL, "deadline", None)
    if ends is not None and time.monotonic() > ends:
        raise TimeLimitError(
            "the computation took longer than this server allows",
            "ask a smaller question (fewer GPUs, a smaller model) or run the deepfit CLI",
        )
