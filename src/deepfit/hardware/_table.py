"""Reading catalogue CSV files: the one place where cells become numbers or a CatalogError.

Cell conventions (see ``data/SOURCES.md``): an empty cell means "not found in a source";
``n/a`` means "not supported in hardware". Numbers must be finite and greater than zero
(a zero would only turn into a division by zero later; write ``n/a`` for "unsupported").
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from deepfit.errors import CatalogError
from deepfit.hardware.gpu import NOT_SUPPORTED, UNKNOWN, Rate

from .._data import data_path

_NOT_SUPPORTED_CELL = "n/a"


@dataclass(frozen=True)
class Row:
    """One data row of a catalogue CSV, with enough context to name it in an error."""

    origin: str
    index: int
    label: str
    cells: Mapping[str, str]

    def where(self, column: str) -> str:
        """``"gpus.csv row 3 ('T4'), column 'memory_gb'"``, for error messages."""
        return f"{self.origin} row {self.index} ({self.label!r}), column {column!r}"

    def text(self, column: str) -> str:
        """The cell, stripped; ``""`` for an optional column the file lacks."""
        return self.cells.get(column, "").strip()

    def required_text(self, column: str) -> str:
        """The cell, which must not be empty."""
        value = self.text(column)
        if not value:
            raise CatalogError(f"{self.where(column)} is empty", hint="fill it in")
        return value

    def number(self, column: str) -> float | None:
        """A positive number, or ``None`` for an empty or ``n/a`` cell."""
        value = self.text(column)
        if value == "" or value.lower() == _NOT_SUPPORTED_CELL:
            return None
        return self._parse(column, value)

    def required_number(self, column: str) -> float:
        """A positive number that must be present."""
        value = self.number(column)
        if value is None:
            raise CatalogError(
                f"{self.where(column)} is empty", hint="this number is required; add it"
            )
        return value

    def rate(self, column: str) -> Rate:
        """A number, :data:`NOT_SUPPORTED` for ``n/a``, or :data:`UNKNOWN` for empty."""
        value = self.text(column)
        if value == "":
            return UNKNOWN
        if value.lower() == _NOT_SUPPORTED_CELL:
            return NOT_SUPPORTED
        return self._parse(column, value)

    def integer(self, column: str) -> int | None:
        """A positive whole number, or ``None`` for an empty cell."""
        value = self.number(column)
        if value is None:
            return None
        if not value.is_integer():
            raise CatalogError(
                f"{self.where(column)}: {self.text(column)!r} is not a whole number",
                hint="write a whole number",
            )
        return int(value)

    def _parse(self, column: str, value: str) -> float:
        try:
            number = float(value)
        except ValueError:
            raise CatalogError(
                f"{self.where(column)}: {value!r} is not a number",
                hint="write a plain number, 'n/a' (not supported) or leave it empty (unknown)",
            ) from None
        if not math.isfinite(number) or number <= 0:
            raise CatalogError(
                f"{self.where(column)}: {value!r} is not a finite number above zero",
                hint="write a positive number in the column's unit, or 'n/a' if unsupported",
            )
        return number


def bundled_text(file_name: str) -> str:
    """The text of a data file shipped in ``deepfit/hardware/data``."""
    return data_path("deepfit.hardware", "data", file_name).read_text(encoding="utf-8")


def user_text(path: str | Path) -> str:
    """The text of a user-supplied catalogue file; unreadable files raise CatalogError."""
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise CatalogError(
            f"cannot read catalogue file {str(path)!r}: {exc.strerror or exc}",
            hint="check the path",
        ) from None
    except UnicodeDecodeError:
        raise CatalogError(
            f"catalogue file {str(path)!r} is not UTF-8 text", hint="save it as UTF-8 CSV"
        ) from None


def read_rows(
    text: str, origin: str, required: Sequence[str], label_columns: Sequence[str]
) -> list[Row]:
    """Parse CSV text into :class:`Row` objects, checking the header and the cell counts.

    ``origin`` names the file in errors; ``label_columns`` are joined to name a row.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [cell.strip() for cell in next(reader, [])]
        _check_header(header, origin, required)
        rows = [
            _make_row(cells, header, origin, number, label_columns)
            for number, cells in enumerate(reader, start=1)
            if any(cell.strip() for cell in cells)
        ]
    except csv.Error as exc:
        raise CatalogError(
            f"{origin} is not valid CSV (line {reader.line_num}): {exc}",
            hint="check the quoting on that line",
        ) from None
    return rows


def _check_header(header: Sequence[str], origin: str, required: Sequence[str]) -> None:
    missing = [column for column in required if column not in header]
    if missing:
        raise CatalogError(
            f"{origin} lacks the column(s) {', '.join(missing)}",
            hint="the first line must name the columns; see deepfit/hardware/README.md",
        )
    if len(set(header)) != len(header):
        raise CatalogError(f"{origin} names a column twice", hint="rename the duplicate")


def _make_row(
    cells: Sequence[str],
    header: Sequence[str],
    origin: str,
    number: int,
    label_columns: Sequence[str],
) -> Row:
    mapping = dict(zip(header, cells, strict=False))  # lengths are checked just below
    label = " / ".join(mapping.get(c, "").strip() for c in label_columns)
    if len(cells) != len(header):
        raise CatalogError(
            f"{origin} row {number} ({label!r}) has {len(cells)} cells, "
            f"the header has {len(header)}",
            hint="quote cells that contain commas",
        )
    return Row(origin=origin, index=number, label=label, cells=mapping)
