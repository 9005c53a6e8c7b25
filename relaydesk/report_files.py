"""Report files: CSV (UTF-8 with a BOM, so spreadsheet software reads Cyrillic and Polish right)
and XLSX (openpyxl, streamed in write-only mode: typed cells, a bold frozen header row).

Text from customers is never taken for a formula: in CSV a leading = + - @ gets a quote mark
(the usual defence against formula injection), in XLSX such a cell is stored as a string.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol

FORMATS = ("csv", "xlsx")
_XLSX_FORMATS = {
    "datetime": "yyyy-mm-dd hh:mm:ss",
    "date": "yyyy-mm-dd",
    "ratio": "0.0%",
    "seconds": "0.000",
}
_FORMULA_START = ("=", "+", "-", "@")


@dataclass(frozen=True, slots=True)
class Column:
    """``kind``: text, int, float, seconds, ratio, bool, date or datetime (UTC)."""

    name: str
    kind: str = "text"


def _plain(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if kind == "datetime" and isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None)
    if kind == "date" and isinstance(value, str):
        return date.fromisoformat(value)
    if kind == "bool":
        return bool(value)
    return value


class Sheet(Protocol):
    """A report file being written: one ``write`` per row, then ``close``."""

    def write(self, row: Mapping[str, Any]) -> None: ...

    def close(self) -> None: ...


def open_sheet(fmt: str, path: Path, title: str, columns: Sequence[Column]) -> Sheet:
    return CsvSheet(path, columns) if fmt == "csv" else XlsxSheet(path, title, columns)


class CsvSheet:
    def __init__(self, path: Path, columns: Sequence[Column]) -> None:
        self._columns = columns
        self._file = path.open("w", encoding="utf-8-sig", newline="")
        self._writer = csv.writer(self._file)
        self._writer.writerow([c.name for c in columns])

    def write(self, row: Mapping[str, Any]) -> None:
        self._writer.writerow([_csv_cell(row.get(c.name), c.kind) for c in self._columns])

    def close(self) -> None:
        self._file.close()


def _csv_cell(value: Any, kind: str) -> str:
    plain = _plain(value, kind)
    if plain is None:
        return ""
    if isinstance(plain, datetime):
        return plain.isoformat(sep=" ")
    if isinstance(plain, bool):
        return "true" if plain else "false"
    text = str(plain)
    if kind == "text" and text.startswith(_FORMULA_START):
        return "'" + text
    return text


class XlsxSheet:
    def __init__(self, path: Path, title: str, columns: Sequence[Column]) -> None:
        # imported here: openpyxl takes ~0.15 s to import, and every CLI command loads this module
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        self._path, self._columns = path, columns
        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet(title[:31])
        self._sheet.freeze_panes = "A2"
        for i, column in enumerate(columns, start=1):
            wide = column.kind in ("datetime", "text")
            width = 20 if wide else max(12, len(column.name) + 2)
            self._sheet.column_dimensions[get_column_letter(i)].width = width
        bold = Font(bold=True)
        header = []
        for column in columns:
            cell = WriteOnlyCell(self._sheet, value=column.name)
            cell.font = bold
            header.append(cell)
        self._sheet.append(header)

    def write(self, row: Mapping[str, Any]) -> None:
        self._sheet.append([self._cell(row.get(c.name), c.kind) for c in self._columns])

    def close(self) -> None:
        self._book.save(self._path)

    def _cell(self, value: Any, kind: str) -> Any:
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        plain = _plain(value, kind)
        if isinstance(plain, str):
            plain = ILLEGAL_CHARACTERS_RE.sub("", plain)
        cell = WriteOnlyCell(self._sheet, value=plain)
        if isinstance(plain, str) and plain.startswith("="):
            cell.data_type = "s"  # text, not a formula
        number_format = _XLSX_FORMATS.get(kind)
        if number_format is not None and plain is not None:
            cell.number_format = number_format
        return cell
