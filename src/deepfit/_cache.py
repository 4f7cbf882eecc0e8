"""Memoisation keyed on an object's content, for pure functions of an Architecture.

Architectures hold plain dicts (the checkpoint's quantization_config) and so are not
hashable; they are immutable in practice, and the estimators call the same expensive
enumerations (tensors, per-stage weight sums) many times per answer. The key is a digest of
the object's ``repr`` (dataclasses of plain values: equal text, equal content), computed once
per object and forgotten with it; the cache holds no reference to the object itself.

One LRU store serves every decorated function. It is bounded by weight, not by count: an
entry weighs the number of items its value holds (a tuple of tensors weighs its length), so a
few huge pasted configs cannot hold more memory than many small ones.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from functools import wraps
from typing import Any, TypeVar

from ._deadline import check as deadline_check

T = TypeVar("T")
MAX_WEIGHT = 1_000_000
"""Items of cached values kept in all (about 100 MB at most; a bundled model needs a few
thousand)."""

_LOCK = threading.Lock()
_STORE: OrderedDict[tuple[Hashable, ...], tuple[int, Any]] = OrderedDict()
_WEIGHT = [0]
_KEYS: dict[int, bytes] = {}


def content_key(obj: Any) -> bytes:
    """A digest of ``obj``'s content, computed once while ``obj`` lives."""
    ident = id(obj)
    key = _KEYS.get(ident)
    if key is None:
        key = hashlib.blake2b(repr(obj).encode(), digest_size=16).digest()
        try:
            weakref.finalize(obj, _KEYS.pop, ident, None)
        except TypeError:  # not weak-referenceable: recompute next time rather than leak
            return key
        _KEYS[ident] = key
    return key


def _weight(value: Any) -> int:
    """Items held by ``value``: sequences count their items, one level of nesting deep."""
    if not isinstance(value, (tuple, list)):
        return 1
    return 1 + sum(len(v) if isinstance(v, (tuple, list)) else 1 for v in value)


def by_identity(fn: Callable[..., T]) -> Callable[..., T]:
    """Cache ``fn(obj, *hashable_args)`` on ``obj``'s content and the other arguments."""
    name = f"{fn.__module__}.{fn.__qualname__}"

    @wraps(fn)
    def wrapper(obj: Any, *args: Hashable, **kwargs: Hashable) -> T:
        key = (name, content_key(obj), *args, *sorted(kwargs.items()))
        with _LOCK:
            hit = _STORE.get(key)
            if hit is not None:
                _STORE.move_to_end(key)
                value: T = hit[1]
                return value
        deadline_check()
        value = fn(obj, *args, **kwargs)
        _put(key, _weight(value), value)
        return value

    return wrapper


def _put(key: tuple[Hashable, ...], weight: int, value: Any) -> None:
    with _LOCK:
        old = _STORE.pop(key, None)
        if old is not None:
            _WEIGHT[0] -= old[0]
        _STORE[key] = (weight, value)
        _WEIGHT[0] += weight
        while _WEIGHT[0] > MAX_WEIGHT and len(_STORE) > 1:
            _, (w, _v) = _STORE.popitem(last=False)
            _WEIGHT[0] -= w


def cache_info() -> tuple[int, int]:
    """(entries, weight) of the store: for tests and the load benchmark."""
    with _LOCK:
        return len(_STORE), _WEIGHT[0]
