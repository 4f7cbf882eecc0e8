"""GPU names: how a user's spelling is matched to a catalogue row.

Matching ignores case, spaces, dashes, underscores and other punctuation, and a leading
vendor word: ``"h100"``, ``"H100 SXM"``, ``"nvidia-h100-sxm"`` all find the same row.
"""

from __future__ import annotations

import re

from deepfit.errors import CatalogError

_VENDOR_PREFIX = re.compile(
    r"^(?:(?:nvidia|amd|intel|habana|geforce|tesla|instinct|apple)[\s_\-]*)+"
)
_NOT_ALNUM = re.compile(r"[^0-9a-z]")


def name_key(name: str) -> str:
    """The comparison key of a GPU name: lower-case letters and digits only, vendor dropped.

    >>> name_key("NVIDIA H100-SXM")
    'h100sxm'
    """
    lowered = name.strip().lower()
    key = _NOT_ALNUM.sub("", _VENDOR_PREFIX.sub("", lowered))
    return key or _NOT_ALNUM.sub("", lowered)


class AliasIndex:
    """Name keys -> exact row names, remembering how each key was spelled."""

    def __init__(self) -> None:
        self._targets: dict[str, str] = {}
        self._spellings: dict[str, str] = {}  # key -> first spelling, for suggestions
        self._added: list[tuple[str, str]] = []  # (spelling, key), in the order added

    def add(self, spelling: str, target: str, origin: str, keep_existing: bool = False) -> None:
        """Let ``spelling`` resolve to the row named ``target``.

        Raises CatalogError when the spelling has no letters or digits, or when it would
        resolve to two different rows (with ``keep_existing``, the earlier row silently wins).
        """
        key = name_key(spelling)
        if not key:
            raise CatalogError(
                f"{origin}: the GPU name {spelling!r} has no letters or digits",
                hint="give it a name people can type",
            )
        existing = self._targets.get(key)
        if existing is not None and existing != target:
            if keep_existing:
                return
            raise CatalogError(
                f"{origin}: the name {spelling!r} would mean both {existing!r} and {target!r}",
                hint="rename one of them or drop the alias",
            )
        self._targets[key] = target
        self._spellings.setdefault(key, spelling)
        if (spelling, key) not in self._added:
            self._added.append((spelling, key))

    def resolve(self, name: str) -> str | None:
        """The row name ``name`` refers to, or ``None``."""
        return self._targets.get(name_key(name))

    def spellings_for(self, target: str) -> tuple[str, ...]:
        """Spellings that resolve to ``target``, other than ``target`` itself, in the order
        they were added."""
        return tuple(
            spelling
            for spelling, key in self._added
            if self._targets[key] == target and spelling != target
        )

    def suggest(self, name: str, limit: int = 5) -> list[str]:
        """Up to ``limit`` known spellings close to ``name``, at most one per row."""
        import difflib

        key = name_key(name)
        if not key:
            return []
        close = difflib.get_close_matches(key, self._targets, n=limit * 4, cutoff=0.5)
        close += sorted(k for k in self._targets if key in k and k not in close)
        seen: set[str] = set()
        out: list[str] = []
        for match in close:
            target = self._targets[match]
            if target not in seen:
                seen.add(target)
                out.append(self._spellings[match])
        return out[:limit]
