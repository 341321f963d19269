"""The pieces every report is made of, already in the reader's language and formatted as text.

A report is a :class:`Document` of :class:`Section` s; a section holds paragraphs, :class:`Table` s,
:class:`Figure` s and notes. The builders (:mod:`.digest`, :mod:`.annual`) fill them; the writers
(:mod:`.render` for HTML and PDF, :mod:`.xlsx` for Excel) only lay them out, so the HTML, the PDF
and the workbook always say the same thing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Table", "Figure", "Section", "Document"]


@dataclass(frozen=True)
class Table:
    """A table whose cells are text as the reader sees it.

    Attributes
    ----------
    title : the table's heading (also its Excel sheet name, cut to 31 characters, unless ``sheet``).
    columns : column headings.
    rows : one tuple of texts per row, as long as ``columns``.
    note : a line under the table (suppression, units), or "".
    values : the same rows as numbers where a cell is a number (None elsewhere), for Excel; or None.
    formats : one Excel number format per column ("" for text), used with ``values``.
    numeric : which columns are right-aligned.
    sheet : the Excel sheet name, if not the title.
    key : a stable name for code and tests, never shown.
    """

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""
    values: tuple[tuple[Any, ...], ...] | None = None
    formats: tuple[str, ...] = ()
    numeric: tuple[bool, ...] = ()
    sheet: str = ""
    key: str = ""          # a stable name for code and tests (not shown)

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(f"table {self.title!r}: a row has {len(row)} cells for {len(self.columns)} columns")
            if not all(isinstance(cell, str) for cell in row):
                raise TypeError(f"table {self.title!r}: cells must be text, formatted for the reader")

    def align(self, i: int) -> str:
        return "num" if i < len(self.numeric) and self.numeric[i] else "text"


@dataclass(frozen=True)
class Figure:
    """A chart: its title, the SVG drawing (vector in HTML and PDF) and a text alternative."""

    title: str
    svg: str = field(repr=False)
    alt: str = ""


@dataclass(frozen=True)
class Section:
    """A numbered part of a report: paragraphs, then tables, then figures, then notes."""

    title: str
    paragraphs: tuple[str, ...] = ()
    tables: tuple[Table, ...] = ()
    figures: tuple[Figure, ...] = ()
    notes: tuple[str, ...] = ()
    key: str = ""          # a stable anchor for links and tests (not shown)


@dataclass(frozen=True)
class Document:
    """A whole report: what its header says on every page, and its sections in order."""

    title: str
    lang: str
    province: str
    period: str                 # in words: "tháng 12/2025", "năm 2025"
    issuer: str
    issued: str                 # the date, formatted for the reader
    notice: str                 # the unofficial notice printed on every page
    sections: tuple[Section, ...]
    labels: dict[str, str] = field(default_factory=dict)   # header words: province, period, issuer, date, page

    def tables(self) -> list[Table]:
        """Every table, in reading order."""
        return [t for s in self.sections for t in s.tables]
