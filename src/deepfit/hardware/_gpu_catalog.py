"""A set of GPUs and the names that find them."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping

from deepfit.errors import CatalogError, UnknownGpuError
from deepfit.hardware._names import AliasIndex, name_key
from deepfit.hardware.cpu import CPU_NAME, probe_cpu
from deepfit.hardware.gpu import Gpu


class GpuCatalog:
    """GPUs by exact name and alias; lookups ignore case and punctuation.

    The name ``cpu`` is reserved: :meth:`get` answers it with :func:`probe_cpu`.
    """

    def __init__(self, gpus: Iterable[Gpu], aliases: Mapping[str, str], origin: str) -> None:
        """``aliases`` maps extra spellings to exact GPU names; ``origin`` names the data
        in errors. Raises CatalogError on duplicate names, aliases pointing at no GPU, or
        spellings that would mean two GPUs."""
        rows = list(gpus)
        index = _build_index(rows, aliases, origin)
        self._assemble(origin, {gpu.name: gpu for gpu in rows}, aliases, index)

    def _assemble(
        self, origin: str, rows: Mapping[str, Gpu], aliases: Mapping[str, str], index: AliasIndex
    ) -> None:
        self.origin = origin
        self._index = index
        self._aliases = {a: t for a, t in aliases.items() if index.resolve(a) == t}
        self._gpus = {
            name: dataclasses.replace(gpu, aliases=index.spellings_for(name))
            for name, gpu in rows.items()
        }

    @property
    def gpus(self) -> tuple[Gpu, ...]:
        """Every GPU, in file order."""
        return tuple(self._gpus.values())

    @property
    def aliases(self) -> Mapping[str, str]:
        """Extra spellings -> exact GPU names, as given (row names not included)."""
        return dict(self._aliases)

    def __iter__(self) -> Iterator[Gpu]:
        return iter(self._gpus.values())

    def __len__(self) -> int:
        return len(self._gpus)

    def find(self, name: str) -> Gpu | None:
        """The GPU ``name`` refers to, or ``None`` (``cpu`` is not looked up here)."""
        target = self._index.resolve(name)
        return None if target is None else self._gpus[target]

    def get(self, name: str) -> Gpu:
        """The GPU ``name`` refers to; ``"cpu"`` probes this machine.

        Raises UnknownGpuError, with close matches in the hint, when nothing matches.
        """
        if name_key(name) == CPU_NAME:
            return probe_cpu()
        gpu = self.find(name)
        if gpu is None:
            raise UnknownGpuError(f"unknown GPU {name.strip()!r}", hint=self._hint(name))
        return gpu

    def merged_with(self, other: GpuCatalog) -> GpuCatalog:
        """This catalogue plus ``other``; ``other``'s rows and names win any clash."""
        index = _build_index(list(other), other._aliases, other.origin)
        for gpu in self:
            if gpu.name not in other._gpus:
                index.add(gpu.name, gpu.name, self.origin, keep_existing=True)
        for alias, target in self._aliases.items():
            index.add(alias, target, self.origin, keep_existing=True)
        merged = GpuCatalog.__new__(GpuCatalog)
        merged._assemble(
            f"{other.origin} + {self.origin}",
            {**self._gpus, **other._gpus},
            {**self._aliases, **other._aliases},
            index,
        )
        return merged

    def _hint(self, name: str) -> str:
        close = self._index.suggest(name)
        listing = "`deepfit gpus` lists the catalogue; `cpu` means this machine"
        return f"did you mean {', '.join(close)}? {listing}" if close else listing


def _build_index(gpus: list[Gpu], aliases: Mapping[str, str], origin: str) -> AliasIndex:
    names = [gpu.name for gpu in gpus]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise CatalogError(
            f"{origin} lists {', '.join(map(repr, duplicates))} more than once",
            hint="keep one row per GPU",
        )
    for spelling in [*names, *aliases]:
        if name_key(spelling) == CPU_NAME:
            raise CatalogError(
                f"{origin}: the name {spelling!r} is reserved for this machine's CPU",
                hint="call the row something else",
            )
    index = AliasIndex()
    for name in names:
        index.add(name, name, origin)
    for alias, target in aliases.items():
        if target not in names:
            raise CatalogError(
                f"{origin}: alias {alias!r} points at {target!r}, which is not a GPU row",
                hint="use the exact `name` of a row",
            )
        index.add(alias, target, origin)
    return index
