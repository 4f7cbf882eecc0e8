"""Memoisation keyed on an object's identity, for pure functions of an Architecture.

Architectures hold plain dicts (the checkpoint's quantization_config) and so are not
hashable; they are immutable in practice, and the estimators call the same expensive
enumerations (tensors, per-stage weight sums) many times per answer. The cache keeps a
reference to the object, so an id is never reused while its entry lives.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from functools import wraps
from typing import Any, TypeVar

T = TypeVar("T")
_SIZE = 16384


def by_identity(fn: Callable[..., T]) -> Callable[..., T]:
    """Cache ``fn(obj, *hashable_args)`` on ``id(obj)`` and the other arguments."""
    store: OrderedDict[tuple[Hashable, ...], tuple[Any, T]] = OrderedDict()

    @wraps(fn)
    def wrapper(obj: Any, *args: Hashable, **kwargs: Hashable) -> T:
        key = (id(obj), *args, *sorted(kwargs.items()))
        hit = store.get(key)
        if hit is not None and hit[0] is obj:
            store.move_to_end(key)
            return hit[1]
        value = fn(obj, *args, **kwargs)
        store[key] = (obj, value)
        if len(store) > _SIZE:
            store.popitem(last=False)
        return value

    return wrapper
