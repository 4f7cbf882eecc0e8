"""Safe reading of a Hugging Face ``config.json`` as plain data.

Configs come from strangers (the Hub, a user's disk). They are read as JSON only (never
executed: ``auto_map`` and custom code are ignored), size-capped before reading, and every
field deepfit uses is type- and range-checked, so a malformed or hostile file gives one
clear :class:`~deepfit.errors.ConfigError` instead of a traceback or a silent wrong answer.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._files import read_bytes
from ..errors import ConfigError

#: Largest config.json deepfit reads. Real ones are a few KB; multimodal ones reach ~100 KB.
MAX_CONFIG_BYTES = 4 * 1024 * 1024
#: Upper bounds that no real model reaches, to reject absurd sizes early.
MAX_DIM = 1 << 20  # hidden/intermediate/head sizes
MAX_LAYERS = 10_000
MAX_VOCAB = 1 << 24
MAX_HEADS = 1 << 14
MAX_EXPERTS = 1 << 16


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


def parse_config_text(text: str | bytes, origin: str) -> dict[str, Any]:
    """Parse config text into a dict, with the size cap and strict JSON (no NaN/Infinity)."""
    if len(text) > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"{origin} is {len(text):,} bytes, larger than any model config "
            f"({MAX_CONFIG_BYTES:,} max)",
            "pass the model's config.json, not its weights or another file",
        )
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError, UnicodeDecodeError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(
            f"{origin} is not valid JSON ({detail[:120]})",
            "a model config is the JSON file config.json from the model's repository",
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(
            f"{origin} holds a JSON {type(data).__name__}, not an object",
            "a config.json is one JSON object with keys such as hidden_size",
        )
    return data


def read_config_file(path: Path) -> dict[str, Any]:
    """Read and parse a config file from disk, refusing huge, special or unreadable files."""
    raw = read_bytes(
        path,
        "model config",
        max_bytes=MAX_CONFIG_BYTES,
        hint="pass the model's config.json (or a folder holding one), not its weights",
        error=ConfigError,
    )
    return parse_config_text(raw, str(path))


class ConfigReader:
    """Typed, range-checked access to config fields, with errors that name the field."""

    def __init__(self, data: Mapping[str, Any], origin: str) -> None:
        self.data = data
        self.origin = origin

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def _fail(self, key: str, why: str) -> ConfigError:
        return ConfigError(
            f"{self.origin}: field '{key}' {why}",
            "fix the config.json (compare with the model's repository)",
        )

    def integer(
        self,
        key: str,
        default: int | None = None,
        *,
        lo: int = 1,
        hi: int = MAX_DIM,
        aliases: tuple[str, ...] = (),
    ) -> int:
        """An integer field in [lo, hi]; ``default`` when absent or null (required if None)."""
        value: Any = None
        for name in (key, *aliases):
            if self.data.get(name) is not None:
                key, value = name, self.data[name]
                break
        if value is None:
            if default is None:
                raise self._fail(key, "is missing")
            return default
        if isinstance(value, bool):
            raise self._fail(key, f"must be an integer, got {value!r}")
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            value = int(value)
        if not isinstance(value, int):
            raise self._fail(key, f"must be an integer, got {type(value).__name__} {value!r:.40}")
        if not lo <= value <= hi:
            raise self._fail(key, f"is {value}, outside the plausible range [{lo}, {hi}]")
        return value

    def opt_integer(self, key: str, *, lo: int = 1, hi: int = MAX_DIM) -> int | None:
        """An optional integer field; None when absent or null."""
        if self.data.get(key) is None:
            return None
        return self.integer(key, lo=lo, hi=hi)

    def flag(self, key: str, default: bool) -> bool:
        value = self.data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self._fail(key, f"must be true or false, got {value!r:.40}")
        return value

    def number(self, key: str) -> float | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._fail(key, f"must be a number, got {value!r:.40}")
        if not math.isfinite(value) or value <= 0:
            raise self._fail(key, f"must be a positive finite number, got {value!r}")
        return float(value)

    def text(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self._fail(key, f"must be a string, got {type(value).__name__}")
        return value[:200]

    def int_list(self, key: str, *, hi: int = MAX_LAYERS) -> tuple[int, ...]:
        value = self.data.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or len(value) > MAX_LAYERS:
            raise self._fail(key, "must be a list of integers")
        out = []
        for item in value:
            if isinstance(item, bool) or not isinstance(item, int) or not 0 <= item <= hi:
                raise self._fail(key, f"must hold integers in [0, {hi}], got {item!r:.40}")
            out.append(item)
        return tuple(out)

    def str_list(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or len(value) > MAX_LAYERS:
            raise self._fail(key, "must be a list of strings")
        if not all(isinstance(item, str) for item in value):
            raise self._fail(key, "must hold only strings")
        return tuple(item[:200] for item in value)

    def mapping(self, key: str) -> Mapping[str, Any] | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self._fail(key, "must be a JSON object")
        return value
