"""The estimators' memo cache: keyed by content, holding no object, bounded by weight (it
once kept every Architecture it saw by id: a server leaked gigabytes of pasted configs)."""

from __future__ import annotations

import gc
import weakref

import pytest

from deepfit import _cache
from deepfit.models.loader import model_from_config
from deepfit.models.tensors import tensors

TINY = {
    "model_type": "llama",
    "hidden_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 128,
    "vocab_size": 100,
}


def test_cache_holds_no_object_and_shares_equal_content() -> None:
    first = model_from_config(dict(TINY)).arch
    expected = tensors(first)
    entries = _cache.cache_info()[0]
    refs = []
    for _ in range(50):
        arch = model_from_config(dict(TINY)).arch  # a new object with the same content
        assert tensors(arch) == expected
        refs.append(weakref.ref(arch))
        del arch
    gc.collect()
    assert all(r() is None for r in refs)  # nothing kept them alive
    assert _cache.cache_info()[0] == entries  # and they added no entry


def test_cache_is_bounded_by_weight(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_cache, "MAX_WEIGHT", 2_000)
    for layers in range(1, 60):
        tensors(model_from_config(dict(TINY, num_hidden_layers=layers)).arch)
    assert _cache.cache_info()[1] <= 2_000
