"""Load a model by name, id or path into a :class:`Model` (architecture + counts)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Literal

from ..errors import UnknownModelError
from .architecture import Architecture
from .catalog import (
    HUB_ID,
    CatalogEntry,
    bundled_config,
    find_entry,
    local_config,
    suggestions,
    unknown_model,
)
from .families import parse_architecture
from .hub import fetch_config
from .params import ParamBreakdown, count_params

Origin = Literal["bundled", "paper", "file", "hub", "data"]


@dataclass(frozen=True)
class Model:
    """A model deepfit can reason about: where its config came from and its architecture."""

    arch: Architecture
    origin: Origin
    aliases: tuple[str, ...] = ()
    description: str = ""

    @property
    def id(self) -> str:
        return self.arch.model_id

    @cached_property
    def params(self) -> ParamBreakdown:
        return count_params(self.arch)

    def to_dict(self) -> dict[str, Any]:
        p = self.params
        return {
            "id": self.id,
            "origin": self.origin,
            "aliases": list(self.aliases),
            "params_total": p.total,
            "params_active": p.active,
            "params": p.to_dict(),
            "architecture": self.arch.summary(),
        }


def model_from_config(
    data: dict[str, Any], model_id: str = "custom", origin: Origin = "data"
) -> Model:
    """A :class:`Model` from already-parsed config data (e.g. a dict in a script)."""
    return Model(parse_architecture(data, model_id, f"config of {model_id}"), origin)


@lru_cache(maxsize=128)
def bundled_model(entry: CatalogEntry) -> Model:
    """The :class:`Model` of a catalogue entry (built once: models are immutable)."""
    data = bundled_config(entry)
    arch = parse_architecture(data, entry.id, f"bundled {entry.file}")
    origin: Origin = "paper" if entry.origin == "paper" else "bundled"
    return Model(arch, origin, entry.aliases, entry.description)


def _looks_like_path(text: str) -> bool:
    """A MODEL argument that can only be a file path (a Hub id is ``org/name``)."""
    return (
        text.lower().endswith(".json")
        or text.startswith(("/", "./", "../", "~", "."))
        or "\\" in text
        or text.count("/") > 1
    )


def load_model(name: str | Path, *, hub: bool = False, revision: str | None = None) -> Model:
    """Resolve MODEL: bundled alias or id, then a local path, then (if ``hub``) the Hub.

    Raises :class:`~deepfit.errors.UnknownModelError`, ``ConfigError``,
    ``UnsupportedArchitectureError`` or ``OfflineError`` with a hint.
    """
    text = str(name).strip()
    if not text or len(text) > 4096 or "\x00" in text:
        raise UnknownModelError(
            "empty or invalid model name",
            "name a model, e.g. deepseek-v3, or a path to a config.json",
        )
    entry = find_entry(text)
    if entry is not None and ((entry.bundled and entry.origin != "paper") or not hub):
        return bundled_model(entry)
    if entry is not None:  # no verified config bundled (none, or the paper's): the Hub, as asked
        data = fetch_config(entry.id, revision)
        arch = parse_architecture(data, entry.id, f"{entry.id}/config.json")
        return Model(arch, "hub", entry.aliases, entry.description)
    local = local_config(text)
    if local is None and _looks_like_path(text):
        raise UnknownModelError(
            f"no config file at {text[:200]!r}",
            "check the path: give a config.json, or a folder that holds one",
        )
    if local is not None:
        data, model_id = local
        return Model(parse_architecture(data, model_id, text), "file")
    if HUB_ID.match(text):
        if not hub:
            close = suggestions(text)
            raise UnknownModelError(
                f"'{text}' is not in the bundled catalogue",
                "add --hub to fetch its config.json from the Hugging Face Hub, "
                "or pass a path to a downloaded config.json"
                + (f"; close bundled names: {', '.join(close)}" if close else ""),
            )
        data = fetch_config(text, revision)
        return Model(parse_architecture(data, text, f"{text}/config.json"), "hub")
    raise unknown_model(text)
