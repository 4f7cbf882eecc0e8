"""The bundled model catalogue and the resolution of a MODEL argument.

MODEL may be a catalogue alias (``deepseek-236b``), a Hugging Face id (bundled copy
first), a path to a ``config.json`` or to a folder holding one, or a Hub id that is not
bundled, fetched only when allowed (see :mod:`deepfit.models.hub`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from .._data import data_path
from ..errors import CatalogError, UnknownModelError
from .config import parse_config_text, read_config_file

HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]{0,95}/[\w.\-]{1,96}$")


@dataclass(frozen=True)
class CatalogEntry:
    """One bundled model: its Hub id, the config file and the names it answers to."""

    id: str
    file: str | None  # None: known by name, but no verified config.json is bundled
    aliases: tuple[str, ...]
    description: str
    #: "bundled": the published config.json; "paper": built from the paper's architecture
    #: table because no verified copy was found (the file's ``_deepfit_source`` says how)
    origin: str = "bundled"

    @property
    def bundled(self) -> bool:
        return self.file is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "aliases": list(self.aliases),
            "description": self.description,
            "bundled": self.bundled,
            "origin": self.origin,
        }


def _data() -> Path:
    return data_path("deepfit.models", "data")


@lru_cache(maxsize=1)
def catalog() -> tuple[CatalogEntry, ...]:
    """The bundled catalogue, read once."""
    try:
        raw = json.loads(_data().joinpath("catalog.json").read_text(encoding="utf-8"))
        return tuple(
            CatalogEntry(
                m["id"],
                m["file"],
                tuple(m.get("aliases", ())),
                m.get("description", ""),
                m.get("origin", "bundled"),
            )
            for m in raw["models"]
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CatalogError(
            f"the bundled model catalogue is damaged: {exc}", "reinstall deepfit"
        ) from None


def _key(name: str) -> str:
    return name.strip().lower()


@lru_cache(maxsize=1)
def _index() -> dict[str, CatalogEntry]:
    index: dict[str, CatalogEntry] = {}
    for entry in catalog():
        for name in (entry.id, entry.id.split("/", 1)[1], *entry.aliases):
            index.setdefault(_key(name), entry)
    return index


def find_entry(name: str) -> CatalogEntry | None:
    """The bundled entry a name, id or alias refers to, if any."""
    return _index().get(_key(name))


def bundled_config(entry: CatalogEntry) -> dict[str, Any]:
    if entry.file is None:
        raise UnknownModelError(
            f"'{entry.aliases[0] if entry.aliases else entry.id}' is {entry.id}, whose "
            "config.json is not bundled (no verified copy was found)",
            "add --hub to fetch it from the Hugging Face Hub, or pass a path to its config.json",
        )
    text = _data().joinpath("configs").joinpath(entry.file).read_bytes()
    return parse_config_text(text, f"bundled config of {entry.id}")


def suggestions(name: str) -> list[str]:
    import difflib

    return difflib.get_close_matches(_key(name), list(_index()), n=3, cutoff=0.5)


def local_config(name: str) -> tuple[dict[str, Any], str] | None:
    """A config from a path (file or folder), with its model id; None if not a path."""
    path = Path(name).expanduser()
    try:
        exists = path.exists()
    except (OSError, ValueError):
        return None
    if not exists:
        return None
    if path.is_dir():
        path = path / "config.json"
    data = read_config_file(path)
    model_id = data.get("_name_or_path")
    if not isinstance(model_id, str) or not model_id or len(model_id) > 200:
        model_id = str(path.parent.name if path.name == "config.json" else path.stem)
    return data, model_id


def unknown_model(name: str) -> UnknownModelError:
    close = suggestions(name)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    hint += (
        "see `deepfit models` for bundled names, pass a path to a config.json, "
        "or a Hugging Face id (org/name) with --hub"
    )
    return UnknownModelError(f"unknown model '{name[:120]}'", hint)
