"""Where the API's work runs: a bounded pool of threads, off the event loop, with a time
limit per request.

The event loop only parses requests and writes answers, so one large question never holds
up the others' small ones. At most ``workers`` questions are computed at once and at most
``queue`` more wait; beyond that the server answers 503 at once. A question that runs past
``limit_s`` is answered 503 and stopped at its next check (see :mod:`deepfit._deadline`).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from .._deadline import within
from ..errors import DeepfitError, TimeLimitError

T = TypeVar("T")


class BusyError(DeepfitError):
    """The server has more questions in hand than it takes (answered 503)."""


class Compute:
    """A bounded thread pool with admission control and a per-call time limit."""

    def __init__(self, workers: int = 4, queue: int = 64, limit_s: float = 20.0) -> None:
        self.limit_s = limit_s
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="deepfit-web")
        self._slots = threading.BoundedSemaphore(workers + queue)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in the pool, under the time limit. The slot is held until the work
        ends, even when the answer has already gone out as a time-out."""
        if not self._slots.acquire(blocking=False):
            raise BusyError("the server is busy", "retry in a few seconds")
        loop = asyncio.get_running_loop()
        try:
            future = loop.run_in_executor(self._pool, self._call, fn, args)
        except BaseException:
            self._slots.release()
            raise
        future.add_done_callback(lambda _: self._slots.release())
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.limit_s + 1.0)
        except asyncio.TimeoutError:  # a step longer than a deadline check: the thread ends later
            raise TimeLimitError(
                "the computation took longer than this server allows",
                "ask a smaller question or run the deepfit CLI",
            ) from None

    def _call(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        with within(self.limit_s):
            return fn(*args)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
