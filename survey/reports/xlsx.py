"""A report's tables as an Excel workbook staff can open and forward: one sheet per table, a notes sheet.

Column widths fit the text (wrapped beyond a limit), the header row is bold, coloured and frozen,
numbers are numbers with a number format (so Excel can sum them), and text that a spreadsheet would
run as a formula (``=``, ``+``, ``-``, ``@`` first) is stored as a text cell: it shows as typed, with no
apostrophe in front (OWASP "CSV injection").
"""
from __future__ import annotations

import re
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import TYPE_STRING
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from ..outputs import atomic_path
from .blocks import Document, Table

__all__ = ["write_xlsx", "sheet_name"]

_HEADER_FILL = PatternFill("solid", fgColor="E8F5E9")
_MAX_WIDTH = 60          # characters: wider text wraps
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_BAD_SHEET = re.compile(r"[\[\]:*?/\\]")


def sheet_name(title: str, taken: set[str]) -> str:
    """An Excel sheet name from a title: no ``[]:*?/\\``, at most 31 characters, unique in the book."""
    base = _BAD_SHEET.sub(" ", title).strip()[:31] or "Sheet"
    name, k = base, 2
    while name.lower() in {t.lower() for t in taken}:
        name = f"{base[:28]} ({k})"
        k += 1
    taken.add(name)
    return name


def _text(value: str) -> str:
    """What an .xlsx cell can hold: illegal characters dropped, cut to Excel's 32,767 characters."""
    return _ILLEGAL.sub("", value)[:32_766]


def _put(ws, row: int, col: int, value, number_format: str = "") -> None:
    cell = ws.cell(row=row, column=col)
    if isinstance(value, str):
        cell.value = _text(value)
        cell.data_type = TYPE_STRING   # never a formula, whatever the text starts with; no apostrophe shown
    else:
        cell.value = value
        if number_format:
            cell.number_format = number_format
    cell.alignment = Alignment(wrap_text=True, vertical="top")


def _width(texts: list[str]) -> float:
    longest = max((max((len(line) for line in t.splitlines()), default=0) for t in texts), default=0)
    return min(max(longest + 2, 8), _MAX_WIDTH)


def _sheet(ws, table: Table) -> None:
    for j, heading in enumerate(table.columns, 1):
        _put(ws, 1, j, heading)
        ws.cell(row=1, column=j).font = Font(bold=True)
        ws.cell(row=1, column=j).fill = _HEADER_FILL
    for i, row in enumerate(table.rows):
        raw = table.values[i] if table.values is not None else (None,) * len(row)
        for j, text in enumerate(row):
            number = raw[j] if j < len(raw) else None
            fmt = table.formats[j] if j < len(table.formats) else ""
            _put(ws, i + 2, j + 1, text if number is None else number, fmt)
    for j, heading in enumerate(table.columns, 1):
        ws.column_dimensions[get_column_letter(j)].width = _width([heading] + [r[j - 1] for r in table.rows])
    ws.freeze_panes = "A2"
    if table.note:
        _put(ws, len(table.rows) + 3, 1, table.note)


def write_xlsx(doc: Document, path: str | Path, notes_title: str, notes_heading: str) -> Path:
    """Write every table of ``doc`` on its own sheet and the notes (header, every section's notes, each
    table's note) on a last sheet ``notes_title``; whole or not at all."""
    path = Path(path)
    wb = Workbook()
    wb.remove(wb.active)
    taken: set[str] = set()
    for table in doc.tables():
        _sheet(wb.create_sheet(sheet_name(table.sheet or table.title, taken)), table)
    lines = [doc.title, f"{doc.labels['province']}: {doc.province}", f"{doc.labels['period']}: {doc.period}",
             f"{doc.labels['issuer']}: {doc.issuer}", f"{doc.labels['date']}: {doc.issued}", doc.notice]
    lines += [n for s in doc.sections for n in s.notes] + [f"{t.title}: {t.note}" for t in doc.tables() if t.note]
    notes = Table(notes_title, (notes_heading,), tuple((line,) for line in lines))
    _sheet(wb.create_sheet(sheet_name(notes_title, taken)), notes)
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return path
