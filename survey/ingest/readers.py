"""Read survey exports: KoboToolbox CSV, other CSV, SPSS ``.sav`` and Excel ``.xlsx``.

Every reader takes the same keywords and returns the same things, as
pyreadstat's readers do: a frame of raw answers and a :class:`RawMeta`. The
frame's index is the row number a person sees when opening the file (the
spreadsheet row for CSV and Excel, where row 1 is the header; the case number
for SPSS), so every message can point at it. ``iter_chunks`` yields the same
in pieces so that large files are read with bounded memory.

A file that cannot be read raises :class:`~survey.errors.IngestError` with
the file name and what to do, never a library traceback.
"""
from __future__ import annotations

import codecs
import csv
import hashlib
import os
import re
import subprocess
import sys
import zipfile
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterator

from ..arrow_text import one_chunk, string_bytes
from ..errors import IngestError
from ..lazy_import import lazy_module
from . import read_worker  # light (the standard library only): its children, forked or started anew

# imported when first used: the child that only scans a CSV (read_worker) needs neither, and starts in
# a twentieth of the time without them
np = lazy_module("numpy")
pd = lazy_module("pandas")

__all__ = [
    "FORMATS", "FileInfo", "RawMeta", "file_info", "detect_encoding", "read_file", "iter_chunks",
    "read_kobo_csv", "read_csv", "read_sav", "read_xlsx", "DEFAULT_MAX_BYTES", "DEFAULT_MAX_ROWS",
    "MAX_CELL_CHARS", "MAX_HEADER_CHARS", "MAX_COLUMNS", "XLSX_MAX_RATIO", "prefetch", "prepare",
]

pyreadstat = lazy_module("pyreadstat")  # imported when a .sav is read, not at start-up

from ..options import INGEST_FORMATS as FORMATS  # noqa: E402  (one definition, light for the CLI)
DEFAULT_MAX_BYTES = 1024 ** 3  # 1 GiB; for .xlsx also the limit of the unzipped workbook
DEFAULT_MAX_ROWS = 2_000_000
#: Excel's own limit for a cell; no survey answer is longer. A longer cell sends its row to quarantine.
MAX_CELL_CHARS = 32_767
#: A column name longer than this is not a header (a data row, or a crafted file).
MAX_HEADER_CHARS = 2_000
MAX_COLUMNS = 10_000
#: Real workbooks unzip to about 10 times their size; a zip bomb to 1,000 times.
XLSX_MAX_RATIO = 100
#: Shared texts of a real workbook are cited by its cells (some 30 bytes of sheet each); a workbook
#: whose texts outweigh its sheets this many times holds texts no cell uses.
XLSX_STRINGS_RATIO = 20
_XLSX_RATIO_FLOOR = 10 * 1024 ** 2  # parts smaller than this are not checked for their ratio
KOBO_MARKERS = {"_uuid", "_submission_time", "_id", "_index", "__version__"}
_SAMPLE = 256 * 1024
_MAGIC = {b"$FL2": "sav", b"$FL3": "sav", b"PK\x03\x04": "xlsx", b"\xd0\xcf\x11\xe0": "xls"}
_FORMAT_NAMES = {"kobo_csv": "KoboToolbox CSV", "csv": "CSV", "sav": "SPSS .sav", "xlsx": "Excel .xlsx"}


@dataclass(frozen=True)
class FileInfo:
    """What is known of an input file before reading its rows."""

    path: Path
    size: int
    #: the file's SHA-256 (hex), or None when the caller hashes it beside the reading (a load hashes it
    #: as it archives it: see :func:`survey.ingest.ingest_file`)
    sha256: str | None
    format: str
    encoding: str | None = None
    separator: str | None = None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def format_name(self) -> str:
        return _FORMAT_NAMES.get(self.format, self.format)


@dataclass
class RawMeta:
    """Metadata of a read file, shared by every reader.

    Attributes
    ----------
    columns : list of str
        Column names as in the file (Unicode NFC).
    rows : int or None
        Number of data rows, when known before reading them all.
    value_labels, variable_labels : dict
        From an SPSS file; empty for the other formats.
    cell_problems : dict
        Rows whose cells cannot be taken as they are: row number ->
        ``[(column, reason, length)]`` with reason ``cell_too_long`` (over
        :data:`MAX_CELL_CHARS` characters) or ``nul_in_cell`` (a NUL character,
        which no database stores as text). Filled as chunks are read; ingest
        quarantines these rows.
    """

    info: FileInfo
    columns: list[str]
    rows: int | None = None
    value_labels: dict[str, dict[Any, str]] = field(default_factory=dict)
    variable_labels: dict[str, str] = field(default_factory=dict)
    cell_problems: dict[int, list[tuple[str, str, int]]] = field(default_factory=dict)


# ------------------------------------------------------------------ detection

def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sniff_format(path: Path, head: bytes) -> str:
    for magic, fmt in _MAGIC.items():
        if head.startswith(magic):
            return fmt
    return "csv"


def file_info(path: str | Path, *, format: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES,
              digest: bool = True) -> FileInfo:
    """Check that a file exists, is not empty or too large, and tell its format.

    The format comes from the file's content, not its name: an SPSS file
    renamed ``.csv`` is reported, not read as garbage. ``digest``: hash the whole file now
    (``FileInfo.sha256``); False leaves it None, for a caller that hashes it beside other work.

    Raises
    ------
    IngestError
        Missing, empty, too large, an old ``.xls``, or content that does not match
        its extension or the requested format.
    """
    path = Path(path)
    if not path.is_file():
        raise IngestError("file not found", file=str(path), code="ingest.not_found", params={"file": str(path)})
    size = path.stat().st_size
    if size == 0:
        raise IngestError("the file is empty (0 bytes)", file=str(path),
                          hint="export the survey again and check the download finished", code="ingest.empty")
    if size > max_bytes:
        raise IngestError(f"the file is {size / 1e6:,.1f} MB, larger than the limit of "
                          f"{max_bytes / 1e6:,.1f} MB", file=str(path),
                          hint="raise the limit with --max-size, or split the file", code="ingest.too_large",
                          params={"size": size / 1e6, "limit": max_bytes / 1e6})
    with path.open("rb") as fh:
        head = fh.read(8)
    found = _sniff_format(path, head)
    if found == "xls":
        raise IngestError("this is an old Excel .xls workbook", file=str(path),
                          hint="open it in Excel and save it as .xlsx", code="ingest.xls")
    _check_extension(path, found)
    if format is not None:
        wanted = "csv" if format in ("kobo_csv", "csv") else format
        if wanted not in ("csv", "sav", "xlsx"):
            raise IngestError(f"unknown format {format!r}", hint="one of " + ", ".join(FORMATS),
                              code="ingest.unknown_format",
                              params={"format": repr(format), "known": ", ".join(FORMATS)})
        if wanted != found:
            raise IngestError(f"the file holds {_FORMAT_NAMES[found]} data, not "
                              f"{_FORMAT_NAMES[wanted]}", file=str(path), code="ingest.format_mismatch",
                              params={"found": _FORMAT_NAMES[found], "wanted": _FORMAT_NAMES[wanted]})
        found = format
    return FileInfo(path, size, _sha256(path) if digest else None, found)


def _check_extension(path: Path, found: str) -> None:
    ext = path.suffix.lower()
    expected = {".csv": "csv", ".txt": "csv", ".sav": "sav", ".zsav": "sav", ".xlsx": "xlsx", ".xlsm": "xlsx"}
    if ext in expected and expected[ext] != found:
        right = "csv" if found == "csv" else found
        raise IngestError(
            f"the name ends with {ext} but the file is {_FORMAT_NAMES[found]}",
            file=str(path), hint=f"rename it to end with .{right} or check that it is the right file",
            code="ingest.extension_mismatch", params={"ext": ext, "found": _FORMAT_NAMES[found], "right": right})


def detect_encoding(sample: bytes) -> str:
    """Guess a CSV's text encoding from its first bytes.

    Byte-order marks decide first (UTF-8 with BOM, UTF-16); then UTF-16
    without BOM (many zero bytes, nearly all on one side of each pair); then
    UTF-8 if the bytes decode; else Windows-1258, the Vietnamese Windows code page.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    zeros = sample.count(0)
    if sample and zeros > len(sample) // 4:
        odd = sample[1::2].count(0)
        if max(odd, zeros - odd) >= 0.9 * zeros:
            return "utf-16-le" if odd >= zeros - odd else "utf-16-be"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return "cp1258"


_CONTROL_BYTES = bytes(set(range(0x20)) - {0x09, 0x0A, 0x0C, 0x0D, 0x1A})


def _looks_binary(sample: bytes, encoding: str) -> bool:
    """True when a sample is not text: control bytes that no text export holds.

    A stray NUL in one cell is not enough (that row is quarantined); more
    than 1% control bytes is a binary file (a picture, a zip, an old .doc).
    """
    if encoding.startswith("utf-16") or not sample:
        return False
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return controls > max(8, len(sample) // 100)


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def _nfc_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells in Unicode NFC (Windows-1258 and macOS files use combining marks)."""
    for col in frame.columns:
        series = frame[col]
        if series.dtype != object and not pd.api.types.is_string_dtype(series):
            continue
        if series.dtype != object:  # pandas' Arrow strings: checked and mended in Arrow's kernels
            frame[col] = _nfc_arrow(series)
            continue
        values = pd.unique(series.dropna())
        fix = {v: unicodedata.normalize("NFC", v) for v in values
               if isinstance(v, str) and not unicodedata.is_normalized("NFC", v)}
        if fix:
            frame[col] = series.map(lambda v: fix.get(v, v) if isinstance(v, str) else v)
    return frame


def _nfc_arrow(series: pd.Series) -> pd.Series:
    """A column of pandas' Arrow-backed strings in NFC, the column itself when it already is (the usual
    case): one pass of Arrow's normaliser instead of a Python call per distinct value (issue 18)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = one_chunk(pa.array(series))
    if _surely_nfc(text) or _all_nfc(text):
        return series
    normal = pc.utf8_normalize(text, "NFC")
    return pd.Series(series.dtype.__from_arrow__(normal), index=series.index, name=series.name)


def _surely_nfc(array) -> bool:
    """Whether an Arrow string array (one chunk) is in NFC by its UTF-8 bytes alone, without decoding it:
    True when every character is below U+0300 (ASCII: codes, numbers, ids, dates; Latin-1, Latin
    Extended-A and -B, spacing letters: "à", "đ", "ơ", "ư") or in U+1E00-U+1EFF (Latin Extended
    Additional: the Vietnamese letters with two marks, "ấ", "ộ", "ủ"). Each of these is NFC on its own,
    has combining class 0 and combines with nothing before it (checked for every one of them by
    ``tests/ingest/test_nfc_screen.py``), so a text of them only is NFC (Unicode's quick check). False
    says "look": :func:`_all_nfc` decides. The usual Vietnamese answer passes; the decoding and test of
    its text was most of the readers' NFC check (issue 18)."""
    import numpy as np

    found = string_bytes(array)
    if found is None:
        return False
    ends, data = found
    data = data[ends[0]:ends[-1]]
    if data.size == 0 or data.max() < 0xCC:  # continuation bytes are 0x80-0xBF: leads below U+0300 only
        return True
    high = np.flatnonzero(data >= 0xCC)  # the lead bytes of characters from U+0300 on
    if (data[high] != 0xE1).any():  # E1 leads U+1000-U+1FFF ...
        return False
    second = data[np.minimum(high + 1, data.size - 1)]
    return bool(((second >= 0xB8) & (second <= 0xBB)).all())  # ... and E1 B8-BB, U+1E00-U+1EFF


def _all_nfc(text) -> bool:
    """Whether every cell of an Arrow string array is in NFC, checked on one text: the cells joined by line
    breaks, by Python's exact test (its quick check, then normalising only where that is unsure), six
    times faster than normalising every cell in Arrow to compare (issue 18). Joined by "\n", the cells
    cannot change one another: a line break composes with nothing, and a mark after it starts afresh."""
    import pyarrow as pa
    import pyarrow.compute as pc

    filled = one_chunk(text).fill_null("")
    lists = pa.LargeListArray if pa.types.is_large_string(filled.type) else pa.ListArray
    offsets = pa.array([0, len(filled)], pa.int64() if lists is pa.LargeListArray else pa.int32())
    joined = pc.binary_join(lists.from_arrays(offsets, filled), pa.scalar("\n", filled.type))[0].as_py()
    return unicodedata.is_normalized("NFC", joined or "")


# ------------------------------------------------------------------ CSV

def _decode_sample(info: FileInfo, encoding: str) -> str:
    with info.path.open("rb") as fh:
        sample = fh.read(_SAMPLE)
    if _looks_binary(sample, encoding):
        raise IngestError("the file is not a text (CSV) file: it holds binary data", file=str(info.path),
                          hint="check that it is the right file; a CSV export opens as text in Notepad",
                          code="ingest.binary")
    try:
        return codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
    except UnicodeDecodeError as exc:
        line = sample[: exc.start].count(b"\n") + 1
        other = "utf-8" if encoding == "cp1258" else "cp1258 (Vietnamese Windows)"
        raise IngestError(
            f"line {line} cannot be read as {encoding} text", file=str(info.path), line=line,
            hint=f"the file is in another encoding; try --encoding {other} or utf-16, "
                 "or save it from Excel as 'CSV UTF-8'",
            code="ingest.decode" if encoding == "cp1258" else "ingest.decode_cp1258",
            params={"line": line, "encoding": encoding}) from None
    except LookupError:
        raise IngestError(f"unknown encoding {encoding!r}", hint="e.g. utf-8, utf-16, cp1258",
                          code="ingest.unknown_encoding",
                          params={"encoding": repr(encoding), "examples": "utf-8, utf-16, cp1258"}) from None


def _sniff_separator(info: FileInfo, text: str) -> str:
    header = next(iter(text.splitlines()), "")
    if "\x00" in header:
        raise IngestError("the first line (the column names) holds a NUL character, so it is not a CSV header",
                          file=str(info.path), line=1, hint="is it really a CSV export?", code="ingest.header_nul")
    counts = {sep: _count_outside_quotes(header[:MAX_COLUMNS * MAX_HEADER_CHARS], sep) for sep in (",", ";", "\t")}
    sep, count = max(counts.items(), key=lambda kv: kv[1])
    if count == 0:
        other = next((c for c in "|:^#" if c in header), None)
        raise IngestError(
            "the first line has a single column, so its separator is not recognised",
            file=str(info.path), line=1,
            hint=(f"it seems to use '{other}'; " if other else "")
            + "save the file with comma, semicolon or tab separators",
            code="ingest.single_column_other" if other else "ingest.single_column", params={"other": other})
    return sep


def _count_outside_quotes(line: str, sep: str) -> int:
    if '"' not in line:  # the common case, in C
        return line.count(sep)
    return sum(part.count(sep) for part in line.split('"')[::2])


def _csv_info(info: FileInfo, encoding: str | None, sep: str | None) -> FileInfo:
    if encoding is None:
        with info.path.open("rb") as fh:
            encoding = detect_encoding(fh.read(_SAMPLE))
    text = _decode_sample(info, encoding)
    check_encoding(info, encoding)
    if sep is not None:
        _check_separator(info, text, sep)
    return replace(info, encoding=encoding, separator=sep or _sniff_separator(info, text))


def _check_separator(info: FileInfo, text: str, sep: str) -> None:
    """A separator given by hand must split the first line; else say which one the file seems to use."""
    header = next(iter(text.splitlines()), "")
    if _count_outside_quotes(header, sep) > 0:
        return
    counts = {c: _count_outside_quotes(header, c) for c in (",", ";", "\t", "|")}
    other, count = max(counts.items(), key=lambda kv: kv[1])
    shown = "tab" if other == "\t" else other
    raise IngestError(f"the separator '{sep}' does not occur in the first line (the column names)",
                      file=str(info.path), line=1,
                      hint=(f"the file seems to use '{shown}': give --sep '{shown}', or leave --sep out"
                            if count else "check the file; leave --sep out to detect the separator"),
                      code="ingest.separator_absent" if count else "ingest.separator_absent_unknown",
                      params={"sep": "tab" if sep == "\t" else sep, "other": shown})


#: every Vietnamese letter with a diacritic (precomposed), to count in decoded text
_VIETNAMESE = frozenset(unicodedata.normalize("NFC", base + tone)
                        for base in "aăâeêioôơuưyAĂÂEÊIOÔƠUƯY"
                        for tone in ("", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323")
                        ) - set("aeiouyAEIOUY") | set("đĐ")
#: a decoding is taken as garbled when its "mess" (charset-normalizer) exceeds the best one's by this much
_MESS_MARGIN = 0.1


def _vietnamese_letters(text: str) -> int:
    return sum(1 for ch in unicodedata.normalize("NFC", text) if ch in _VIETNAMESE)


def check_encoding(info: FileInfo, encoding: str) -> None:
    """Refuse an encoding that turns the file's text into mojibake ("CÃ´ng ty" for "Công ty").

    A UTF encoding that decodes the file is taken as right. For any other, the text as
    decoded is measured with charset-normalizer (its "mess ratio": letters that do not
    belong together) against the encoding charset-normalizer finds best; when the chosen
    decoding is clearly messier and the other shows more Vietnamese letters, the file is
    refused with the suggested encoding, before anything is read or stored.

    Raises
    ------
    IngestError
        ``ingest.wrong_encoding``, naming the encoding to use and showing a word both ways.
    """
    if codecs.lookup(encoding).name.startswith("utf"):
        return
    with info.path.open("rb") as fh:
        sample = fh.read(_SAMPLE)
    if sample.isascii():
        return
    from charset_normalizer import from_bytes
    from charset_normalizer.md import mess_ratio

    best = from_bytes(sample).best()
    if best is None or codecs.lookup(best.encoding).name == codecs.lookup(encoding).name:
        return
    chosen = codecs.decode(sample, encoding, errors="replace")
    suggested = str(best)
    if mess_ratio(chosen, maximum_threshold=1.0) < best.chaos + _MESS_MARGIN \
            or _vietnamese_letters(suggested) <= _vietnamese_letters(chosen) // 2:
        return
    name = "utf-8" if codecs.lookup(best.encoding).name == "utf-8" else codecs.lookup(best.encoding).name
    wrong, right = _example_word(chosen, suggested)
    raise IngestError(f"the file does not look like {encoding} text: it would read '{wrong}' where it most likely "
                      f"says '{right}'", file=str(info.path),
                      hint=f"load it with --encoding {name} (or without --encoding)", code="ingest.wrong_encoding",
                      params={"encoding": encoding, "suggested": name, "wrong": wrong, "right": right,
                              "letters": _vietnamese_letters(suggested), "confidence": 1 - best.chaos})


def _example_word(chosen: str, suggested: str) -> tuple[str, str]:
    """The first word the two decodings read differently: (as the chosen encoding, as the suggested one).

    Separators and line ends are ASCII, the same bytes in both, so the words line up.
    """
    split = re.compile(r"[\s,;|\"]+").split
    for a, b in zip(split(chosen), split(suggested)):
        if a != b:
            return _printable_word(a[:40]), _printable_word(b[:40])
    return "", ""


def _printable_word(text: str) -> str:
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def check_header(columns: list[str], info: FileInfo) -> list[str]:
    """Column names in NFC, checked: not too many, not too long, none twice.

    Raises
    ------
    IngestError
        Over :data:`MAX_COLUMNS` columns, a name over :data:`MAX_HEADER_CHARS`
        characters or with a NUL, or the same name twice (a file with two
        columns of one name cannot say which holds the answer).
    """
    if len(columns) > MAX_COLUMNS:
        raise IngestError(f"the file has {len(columns):,} columns, more than the limit of {MAX_COLUMNS:,}",
                          file=str(info.path), line=1, hint="is the first row really the column names?",
                          code="ingest.too_many_columns", params={"count": len(columns), "limit": MAX_COLUMNS})
    names = []
    for i, raw in enumerate(columns, start=1):
        name = "" if raw is None else str(raw)
        if len(name) > MAX_HEADER_CHARS or "\x00" in name:
            what = (f"is {len(name):,} characters long (limit {MAX_HEADER_CHARS:,})" if len(name) > MAX_HEADER_CHARS
                    else "holds a NUL character")
            raise IngestError(f"the name of column {i} {what}, so the first row is not a header",
                              file=str(info.path), line=1, where=f"column {i}",
                              hint="check that the first row holds the column names and export the file again",
                              code="ingest.header_too_long" if len(name) > MAX_HEADER_CHARS
                              else "ingest.header_nul_name",
                              params={"column": i, "length": len(name), "limit": MAX_HEADER_CHARS})
        names.append(_nfc(name) if name.strip() else f"Unnamed: {i - 1}")
    seen: dict[str, int] = {}
    for i, name in enumerate(names, start=1):
        if name in seen:
            raise IngestError(f"columns {seen[name]} and {i} have the same name '{name[:80]}'",
                              file=str(info.path), line=1, where=f"column {i}",
                              hint="rename one of them (or delete the copy) and load the file again",
                              code="ingest.duplicate_column", params={"first": seen[name], "column": i,
                                                                      "name": name[:80]})
        seen[name] = i
    return names


def _cell_problems(row: list, number: int, names: list[str], out: dict) -> None:
    """Note the cells of one row that are too long, hold a NUL, or are formulas without a value."""
    for name, value in zip(names, row):
        if isinstance(value, str):
            if isinstance(value, _Formula):
                out.setdefault(number, []).append((name, "formula_without_value", len(value)))
            elif len(value) > MAX_CELL_CHARS:
                out.setdefault(number, []).append((name, "cell_too_long", len(value)))
            elif "\x00" in value:
                out.setdefault(number, []).append((name, "nul_in_cell", len(value)))


def _ragged(info: FileInfo, width: int, bad: list[tuple[int, int]], last: int, count_extra_empty: int) -> IngestError:
    """The error for rows whose number of fields differs from the header's."""
    row, fields = bad[0]
    data_rows = last - 1
    if len(bad) == 1 and row == last and fields < width:
        return IngestError(f"the file seems cut off: its last row, row {row}, has {fields:,} of the {width:,} columns",
                           file=str(info.path), line=row,
                           hint="the download or copy did not finish; export or download the file again",
                           code="ingest.cut_off", params={"row": row, "fields": fields, "width": width})
    if len(bad) == data_rows and count_extra_empty == data_rows:
        return IngestError(f"every row has one field more than the {width:,} column names: the rows end with an "
                           "extra separator", file=str(info.path), line=2,
                           hint=f"remove the separator '{info.separator}' at the end of each row, or export again",
                           code="ingest.trailing_separator", params={"width": width, "separator": info.separator})
    others = ""
    if len(bad) > 1:
        others = "; so do rows " + ", ".join(str(r) for r, _ in bad[1:6]) + (
            f" and {len(bad) - 6:,} more" if len(bad) > 6 else "")
    return IngestError(
        f"row {row} has {fields:,} fields but the header has {width:,}{others}", file=str(info.path), line=row,
        hint=f"a text that contains the separator '{info.separator}' must be in double quotes; "
             "fix those rows or export the file again. Nothing was loaded",
        code="ingest.ragged" if len(bad) == 1 else "ingest.ragged_others" if len(bad) <= 6 else "ingest.ragged_many",
        params={"row": row, "fields": fields, "width": width, "separator": info.separator,
                "rows": ", ".join(str(r) for r, _ in bad[1:6]), "more": len(bad) - 6})


def scan_csv(info: FileInfo, max_rows: int) -> tuple[RawMeta, int]:
    """Read a CSV once, before any row is used: header, row count, rows that do not line up; and the
    length of its longest record (characters), which the reader's blocks must hold.

    Every row must have the header's number of fields: a row with more or fewer
    is an error before anything is loaded (pandas would otherwise shift the
    columns or fill the gap silently). Cells too long or holding a NUL are noted
    in ``cell_problems``. Only lines longer than a cell may be (or holding a NUL)
    are looked at cell by cell, so the scan costs about as much as reading.
    """
    flagged, size = False, 0
    record: list[str] = []  # the lines of the record being read (the last one's, after the loop)

    def lines(fh) -> Iterator[str]:
        nonlocal flagged, size
        for line in fh:
            size += len(line)  # a quoted cell may span lines: the record's length is what counts
            if size > MAX_CELL_CHARS or "\x00" in line:
                flagged = True
            record.append(line)
            yield line

    problems: dict[int, list] = {}
    bad: list[tuple[int, int]] = []
    extra_empty, number, longest = 0, 1, 0
    with open(info.path, "r", encoding=info.encoding, errors="strict", newline="") as fh:
        try:
            reader = _csv_records(lines(fh), info.separator, info.size)
            header = next(reader, None)
            if not header:
                raise IngestError("the file has no columns", file=str(info.path), code="ingest.no_columns")
            names = check_header(header, info)
            width = len(header)
            flagged, size = False, 0
            last: list[str] | None = None
            for row in reader:
                # a record with an odd number of quotes may end inside a quoted text (see below); most
                # records are one line with an even number, checked by one count
                odd = (len(record) != 1 or record[0].count('"') % 2) and sum(line.count('"') for line in record) % 2
                last = list(record) if odd else None
                record.clear()
                if not row:  # a blank line, skipped as pandas skips it
                    continue
                number += 1
                if number - 1 > max_rows:
                    raise _too_many_rows(info, max_rows)
                if len(row) != width:
                    bad.append((number, len(row)))
                    extra_empty += len(row) == width + 1 and row[-1] == ""
                if flagged:
                    _cell_problems(row, number, names, problems)
                    flagged = False
                if size > longest:
                    longest = size
                size = 0
        except UnicodeDecodeError:
            raise _mixed_encoding(info) from None
        except csv.Error as exc:
            raise IngestError(f"the file cannot be read as CSV after row {number} ({exc})", file=str(info.path),
                              line=number + 1, hint="export the file again", code="ingest.csv_error",
                              params={"row": number, "reason": str(exc)}) from None
    if bad:
        raise _ragged(info, width, bad, number, extra_empty)
    if last and _ends_inside_quotes(last, info.separator):
        raise IngestError("the file seems cut off: a quoted text at its end is never closed",
                          file=str(info.path), hint="export or download the file again",
                          code="ingest.unclosed_quote")
    return RawMeta(info, names, rows=number - 1, cell_problems=problems), longest


def _csv_records(lines: Iterator[str], separator: str, size: int, strict: bool = False):
    """Python's csv reader of the records in ``lines`` (``size`` characters at most: no cell is refused
    as too large, long cells are :func:`scan_csv`'s to note), in the one dialect every CSV is read with:
    quotes ``"``, doubled inside a quoted text (the scan, its header read first, and the check for a
    text left open at the end). The csv module's limit is one for the whole process, so it is only ever
    raised: a smaller file read at the same time must not lower it under a larger one's scan."""
    if csv.field_size_limit() < size:
        csv.field_size_limit(max(size, 1 << 20))
    return csv.reader(lines, delimiter=separator, quotechar='"', doublequote=True, strict=strict)


def _ends_inside_quotes(record: list[str], separator: str) -> bool:
    """Whether the file's last record ends inside a quoted text (the csv module, lenient, reads such a
    record to the end of the file; read strictly, it says "unexpected end of data")."""
    try:
        list(_csv_records(record, separator, sum(map(len, record)), strict=True))
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False


def _mixed_encoding(info: FileInfo) -> IngestError:
    """Part of a CSV does not decode in the encoding found for it (the scan's and the reader's error)."""
    return IngestError(f"part of the file is not {info.encoding} text", file=str(info.path),
                       hint="the file mixes encodings; save it again as 'CSV UTF-8'",
                       code="ingest.mixed_encoding", params={"encoding": info.encoding})


def _too_many_rows(info: FileInfo, max_rows: int) -> IngestError:
    return IngestError(f"the file has more than {max_rows:,} data rows, the limit", file=str(info.path),
                       hint="split the file, or raise the limit with --max-rows", code="ingest.too_many_rows",
                       params={"limit": max_rows})


def _csv_chunks(info: FileInfo, chunksize: int, width: int, longest: int = 0,
                skip: int = 0) -> Iterator[pd.DataFrame]:
    """The data rows of a CSV (every row with the header's ``width`` fields), about ``chunksize`` at a
    time, every cell a text or missing (an empty field). ``longest``: the characters of the longest
    record (from the scan), which one block of the parser must hold; ``skip``: data rows not to yield
    again (read already, before a record too long for the blocks stopped the parser).

    Parsed by Arrow's CSV reader, which makes Arrow strings (pandas' string dtype) straight from
    the bytes in its own threads, beside the caller's work: pandas' parser made a Python string
    per cell and then converted it, holding the interpreter lock (issue 18). Files Arrow cannot
    decode itself (UTF-16, Windows code pages) are transcoded by Python's codecs on the way.
    """
    import pyarrow as pa
    import pyarrow.csv as pcsv

    names = [f"c{i}" for i in range(width)]  # the header was checked by the scan; names are set by the caller
    encoding = codecs.lookup(info.encoding).name
    read = pcsv.ReadOptions(skip_rows=1, column_names=names, block_size=_block_size(longest),
                            encoding="utf8" if encoding in ("utf-8", "utf-8-sig") else info.encoding)
    parse = pcsv.ParseOptions(delimiter=info.separator, quote_char='"', double_quote=True, escape_char=False,
                              newlines_in_values=True, ignore_empty_lines=True)
    convert = pcsv.ConvertOptions(column_types={n: pa.string() for n in names}, null_values=[""],
                                  strings_can_be_null=True, quoted_strings_can_be_null=True)
    dtype = pd.StringDtype("pyarrow", na_value=float("nan"))
    try:
        reader = pcsv.open_csv(info.path, read_options=read, parse_options=parse, convert_options=convert)
        pending: list = []
        held = 0
        for batch in reader:
            if skip:
                if batch.num_rows <= skip:
                    skip -= batch.num_rows
                    continue
                batch, skip = batch.slice(skip), 0
            pending.append(batch)
            held += batch.num_rows
            while held >= chunksize:
                table = pa.Table.from_batches(pending)
                yield _arrow_frame(table.slice(0, chunksize), dtype)
                rest = table.slice(chunksize)
                pending, held = rest.to_batches(), rest.num_rows
        if held:
            yield _arrow_frame(pa.Table.from_batches(pending), dtype)
    except UnicodeDecodeError:
        raise _mixed_encoding(info) from None
    except pa.ArrowInvalid as exc:
        if "UTF8" in str(exc) or "utf8" in str(exc).lower():
            raise _mixed_encoding(info) from None
        raise IngestError(f"the rows do not line up with the header ({exc})".replace("\n", " "),
                          file=str(info.path), hint="a row has more separators than the header; "
                          "check quotes around texts that contain the separator", code="ingest.misaligned",
                          params={"reason": str(exc).replace("\n", " ")}) from None


def _block_size(longest: int) -> int:
    """Bytes Arrow's CSV parser reads at a time: 1 MiB, or more when a record could be longer.

    Arrow refuses a record spanning more than two blocks ("straddles two block boundaries"), so a block
    holds the longest record at 4 bytes a character (UTF-8's most), twice over. Not larger by default: the first
    rows arrive sooner (20,000 rows of a Kobo export: 0.12 s with 4 MiB blocks, 0.02 s with 1 MiB) and
    the whole file parses no slower (issue 18).
    """
    return max(1 << 20, 8 * longest)


def _arrow_frame(table, dtype) -> pd.DataFrame:
    """A chunk of Arrow string columns as a frame of pandas' string dtype (missing as NaN)."""
    return pd.DataFrame({i: pd.Series(dtype.__from_arrow__(table.column(i)), copy=False)
                         for i in range(table.num_columns)}, copy=False)


# ------------------------------------------------------------------ SPSS and Excel

def _sav_error(info: FileInfo, exc: Exception) -> IngestError:
    if info.encoding:
        return IngestError(f"the SPSS file's texts cannot be read as {info.encoding} ({exc})", file=str(info.path),
                           hint="leave out --encoding: the file says which encoding its texts use",
                           code="ingest.sav_encoding", params={"encoding": info.encoding, "reason": str(exc)})
    return IngestError(f"the SPSS file is damaged or incomplete ({exc})", file=str(info.path),
                       hint="it may have been cut off while copying; export it again", code="ingest.sav_damaged",
                       params={"reason": str(exc)})


#: a ``.sav`` chunk holds at most this many cells (rows x columns), fewer rows than asked of a wide file
SAV_CHUNK_CELLS = 3_000_000


def sav_chunk_rows(chunksize: int, columns: int, rows: int | None = None) -> int:
    """Rows per chunk of a ``.sav`` of ``columns`` variables and ``rows`` rows (None: not said in the
    file): ``chunksize``, or fewer, so that

    - a chunk holds at most :data:`SAV_CHUNK_CELLS` cells: after the file's last chunk is read, that
      chunk is still to be checked and written, with nothing left to overlap; the smaller it is, the
      sooner the load ends (a 100,000 x 300 file in chunks of 10,000 rows rather than 20,000: 4.99 ->
      4.69 s, medians of 4; narrower files keep ``chunksize``, 20,000 by default, up to 150 variables);
    - a file of more than half that many cells comes in two chunks at least, the second read while the
      first is checked (10,000 x 300 in two chunks of 5,000 rows, read in a child: 0.78 -> 0.69 s,
      medians of 5; a file as large in one chunk has nothing to overlap).
    """
    largest = SAV_CHUNK_CELLS // max(columns, 1)
    if rows and rows * columns > SAV_CHUNK_CELLS // 2:
        largest = min(largest, -(-rows // 2))
    return max(1, min(chunksize, largest))


def _sav_chunks(info: FileInfo, chunksize: int) -> Iterator[tuple[pd.DataFrame, Any]]:
    try:
        yield from pyreadstat.read_file_in_chunks(
            pyreadstat.read_sav, str(info.path), chunksize=chunksize, user_missing=True,
            encoding=info.encoding, disable_datetime_conversion=False)
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError) as exc:
        raise _sav_error(info, exc) from None
    except OverflowError as exc:  # a date or time value no calendar holds: a damaged value in the file
        raise _sav_error(info, exc) from None


def _codec(name: str | None) -> str | None:
    try:
        return codecs.lookup(name).name if name else None
    except LookupError:
        return None


def _check_sav_encoding(info: FileInfo) -> None:
    """Refuse an ``--encoding`` that contradicts the encoding the .sav file declares.

    Read with the wrong code page, Vietnamese texts become mojibake that would
    be stored as answers; the file's own declaration is right far more often
    than a guess.
    """
    if not info.encoding:
        return
    if _codec(info.encoding) is None:
        raise IngestError(f"unknown encoding {info.encoding!r}", hint="e.g. utf-8, cp1258",
                          code="ingest.unknown_encoding",
                          params={"encoding": repr(info.encoding), "examples": "utf-8, cp1258"})
    try:
        _, declared = pyreadstat.read_sav(str(info.path), metadataonly=True)
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError) as exc:
        raise _sav_error(replace(info, encoding=None), exc) from None
    found = _codec(declared.file_encoding)
    if found and found != _codec(info.encoding):
        raise IngestError(f"the SPSS file says its texts are {declared.file_encoding}, not {info.encoding}; "
                          "read otherwise, Vietnamese letters would be garbled", file=str(info.path),
                          hint="leave out --encoding", code="ingest.sav_declared_encoding",
                          params={"declared": declared.file_encoding, "encoding": info.encoding})


#: read a .sav file's dictionary in a child process (see :func:`_check_sav_survives`); as a dict, not a
#: pandas frame, so that the child does not import pandas (0.1 s instead of 0.4 s)
_SAV_PROBE = ("import pyreadstat, sys; "
              "pyreadstat.read_sav(sys.argv[1], metadataonly=True, user_missing=True, output_format='dict')")


#: whether a .sav's dictionary is first read in a child process (False in a reading child of its own,
#: :mod:`survey.ingest.read_worker`, which is that child already)
SAV_PROBE = True
#: how long the dictionary may take to read in the probe, in seconds (a damaged one could loop)
SAV_PROBE_TIMEOUT = 120.0


def _check_sav_survives(info: FileInfo) -> None:
    """Read the file's dictionary in a child process first: ReadStat, the C library under
    pyreadstat, crashes the whole process (a segmentation fault) on some damaged files, which no
    ``except`` can catch. A crash of the child becomes the ordinary "damaged file" error.

    Found by fuzzing: one flipped byte in the dictionary of a small .sav crashed the reader in about
    3% of the cases; a file whose dictionary reads was never seen to crash while its rows were read.

    The child is a fork of this process where it can be (Linux): it has pyreadstat already, so the probe
    costs a few milliseconds, not the 0.11 s of a new interpreter importing pyreadstat (numpy, narwhals),
    a third of a 10,000-row load (issue 18). Elsewhere, or when the system refuses a fork, a new one.
    """
    if not SAV_PROBE:
        return
    status = _probe_forked(info)
    if status is None:
        try:
            status = subprocess.run([sys.executable, "-c", _SAV_PROBE, str(info.path)], capture_output=True,
                                    timeout=SAV_PROBE_TIMEOUT, stdin=subprocess.DEVNULL).returncode
        except subprocess.TimeoutExpired:
            status = "timeout"
    if status == "timeout":
        raise _sav_error(replace(info, encoding=None), TimeoutError("reading its dictionary did not end")) from None
    if status < 0:  # killed by a signal: the reader crashed
        raise sav_crashed(info) from None


def _probe_forked(info: FileInfo) -> int | str | None:
    """Read ``info``'s dictionary in a fork of this process (:func:`~survey.ingest.read_worker.fork_call`):
    its exit code (negative: the signal that ended it), ``"timeout"`` when it took longer than
    :data:`SAV_PROBE_TIMEOUT` (then killed), or None when the system would not fork."""
    if not read_worker.FORK:
        return None
    path = str(info.path)
    read = pyreadstat.read_sav  # imported here, so that the child has nothing to import
    child = read_worker.fork_call(lambda: read(path, metadataonly=True, user_missing=True, output_format="dict"))
    if child is None:
        return None
    try:
        return child.wait(timeout=SAV_PROBE_TIMEOUT)
    except subprocess.TimeoutExpired:
        return "timeout"
    finally:  # timed out, or interrupted (Ctrl+C): the child must not outlive the load
        if child.returncode is None:
            child.kill()
            child.wait()


def sav_crashed(info: FileInfo) -> IngestError:
    """ReadStat (C) crashed on the file in a child process (the probe, or the reading child of
    :mod:`survey.ingest.read_worker`): the "damaged file" error."""
    return _sav_error(replace(info, encoding=None), RuntimeError("reading it crashed the SPSS reader"))


def _sav_meta(info: FileInfo, max_rows: int) -> RawMeta:
    _check_sav_survives(info)
    _check_sav_encoding(info)
    try:
        _, meta = pyreadstat.read_sav(str(info.path), metadataonly=True, user_missing=True,
                                      encoding=info.encoding)
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError) as exc:
        raise _sav_error(info, exc) from None
    names = list(meta.column_names)
    if any(not isinstance(c, str) or not c.strip() for c in names):
        raise IngestError("the SPSS file is damaged: a variable has no name", file=str(info.path),
                          hint="it may have been cut off or changed while copying; export it again",
                          code="ingest.sav_unnamed")
    if meta.number_rows is not None and meta.number_rows > max_rows:
        raise _too_many_rows(info, max_rows)
    return RawMeta(info, check_header(names, info), meta.number_rows,
                   dict(meta.variable_value_labels), dict(meta.column_names_to_labels))


def _check_xlsx_zip(info: FileInfo, max_bytes: int) -> None:
    """Refuse a workbook that unzips to more than ``max_bytes`` or is packed suspiciously tight.

    Checked from the zip directory, before any part is unpacked. Python's
    zipfile never unpacks a part beyond its declared size, so the declared
    sizes bound the work.
    """
    try:
        with zipfile.ZipFile(info.path) as zf:
            parts = zf.infolist()
    except (zipfile.BadZipFile, OSError):
        raise IngestError("the Excel file cannot be opened (it is not a complete .xlsx)", file=str(info.path),
                          hint="open it in Excel and save it again as .xlsx", code="ingest.xlsx_not_zip") from None
    total = sum(p.file_size for p in parts)
    for part in parts:
        ratio = part.file_size / max(part.compress_size, 1)
        if part.file_size > _XLSX_RATIO_FLOOR and ratio > XLSX_MAX_RATIO:
            raise IngestError(f"the workbook's part {part.filename} unpacks to {part.file_size / 1e6:,.0f} MB, "
                              f"{ratio:,.0f} times its packed size (real workbooks: about 10 times)",
                              file=str(info.path), hint="this is not a normal export; open it in Excel, "
                              "check its content and save it again", code="ingest.xlsx_bomb",
                              params={"part": part.filename, "size": part.file_size / 1e6, "ratio": ratio})
    sheets = sum(p.file_size for p in parts if p.filename.startswith("xl/worksheets/"))
    strings = sum(p.file_size for p in parts if p.filename == "xl/sharedStrings.xml")
    if strings > _XLSX_RATIO_FLOOR and strings > XLSX_STRINGS_RATIO * max(sheets, 1):
        # openpyxl holds every shared text in memory; real sheets cite each of their texts
        raise IngestError(f"the workbook's texts unpack to {strings / 1e6:,.0f} MB for {sheets / 1e6:,.1f} MB of "
                          "sheets: far more text than its cells can use", file=str(info.path),
                          hint="this is not a normal export; open it in Excel, check it and save it again",
                          code="ingest.xlsx_strings", params={"strings": strings / 1e6, "sheets": sheets / 1e6})
    if total > max_bytes:
        raise IngestError(f"the workbook unpacks to {total / 1e6:,.1f} MB, more than the limit of "
                          f"{max_bytes / 1e6:,.1f} MB", file=str(info.path),
                          hint="raise the limit with --max-size, or split the file", code="ingest.xlsx_too_large",
                          params={"size": total / 1e6, "limit": max_bytes / 1e6})


def _open_sheet(info: FileInfo, sheet: str | int | None, data_only: bool = True):
    import openpyxl

    try:
        book = openpyxl.load_workbook(info.path, read_only=True, data_only=data_only)
    except Exception as exc:  # openpyxl raises many kinds on a damaged workbook
        raise IngestError(f"the Excel file cannot be opened ({type(exc).__name__})",
                          file=str(info.path), hint="open it in Excel and save it again as .xlsx",
                          code="ingest.xlsx_open", params={"reason": type(exc).__name__}) from None
    names = book.sheetnames
    if sheet is None or (isinstance(sheet, int) and 0 <= sheet < len(names)):
        return book, book[names[sheet or 0]]
    if isinstance(sheet, str) and sheet in names:
        return book, book[sheet]
    book.close()
    raise IngestError(f"the workbook has no sheet {sheet!r}", file=str(info.path),
                      hint="its sheets: " + ", ".join(names) + "; name one with --sheet", code="ingest.xlsx_no_sheet",
                      params={"sheet": repr(sheet), "sheets": ", ".join(names)})


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _xlsx_chunks(info: FileInfo, sheet: str | int | None, chunksize: int, max_rows: int,
                 max_bytes: int) -> Iterator[tuple[pd.DataFrame, RawMeta]]:
    """Stream a sheet in chunks (openpyxl read-only): memory bounded by the chunk, not the sheet.

    The frame's index is the sheet's own row number; wholly empty rows are skipped.
    """
    _check_xlsx_zip(info, max_bytes)
    book, ws = _open_sheet(info, sheet)
    formulas = None
    try:
        # The sheet's own <dimension> record may be wrong (too small: rows and columns would be
        # dropped; huge: a tiny file would pad a million rows): read the cells that are there.
        ws.reset_dimensions()
        rows = ws.iter_rows(values_only=True)
        if _has_formulas(info, ws):
            formulas, ws_f = _open_sheet(info, sheet, data_only=False)
            ws_f.reset_dimensions()
            rows = _with_formulas(rows, ws_f.iter_rows(values_only=True))
        header = list(next(rows, None) or ())
        while header and _is_empty(header[-1]):
            header.pop()
        if not header:
            raise IngestError("the sheet has no column names in its first row", file=str(info.path), line=1,
                              hint="the first row must hold the column names", code="ingest.xlsx_no_header")
        header = [v.value if isinstance(v, _Formula) else v for v in header]
        meta = RawMeta(info, check_header(header, info), rows=None)  # counted while read, never declared
        yield from _xlsx_blocks(rows, meta, chunksize, max_rows)
    except IngestError:
        raise
    except Exception as exc:  # a damaged sheet found while streaming
        raise IngestError(f"the Excel file cannot be read ({type(exc).__name__})",
                          file=str(info.path), hint="open it in Excel and save it again as .xlsx",
                          code="ingest.xlsx_read", params={"reason": type(exc).__name__}) from None
    finally:
        book.close()
        if formulas is not None:
            formulas.close()


class _Formula(str):
    """A formula cell whose workbook holds no computed value (written by a program, never opened in Excel)."""

    value = None


def _has_formulas(info: FileInfo, ws) -> bool:
    """Whether the sheet's XML holds a formula (``<f>``), read from the zip without parsing it."""
    with zipfile.ZipFile(info.path) as zf, zf.open(ws._worksheet_path.lstrip("/")) as fh:
        tail = b""
        for block in iter(lambda: fh.read(1 << 20), b""):
            if b"<f>" in tail + block or b"<f " in tail + block:
                return True
            tail = block[-3:]
    return False


def _with_formulas(values: Iterator[tuple], formulas: Iterator[tuple]) -> Iterator[tuple]:
    """Rows of computed values, where a formula without a computed value is marked, not read as empty."""
    for row, frow in zip(values, formulas):
        if any(v is None and isinstance(f, str) and f.startswith("=") for v, f in zip(row, frow)):
            row = tuple(_Formula(f) if v is None and isinstance(f, str) and f.startswith("=") else v
                        for v, f in zip(row, frow)) + tuple(row[len(frow):])
        yield row


def _xlsx_blocks(rows: Iterator[tuple], meta: RawMeta, chunksize: int,
                 max_rows: int) -> Iterator[tuple[pd.DataFrame, RawMeta]]:
    width, names = len(meta.columns), meta.columns
    block: list[tuple] = []
    index: list[int] = []
    count = 0
    for number, row in enumerate(rows, start=2):
        if all(_is_empty(v) for v in row):
            continue
        if len(row) > width and not all(_is_empty(v) for v in row[width:]):
            col = width + next(i for i, v in enumerate(row[width:]) if not _is_empty(v)) + 1
            raise IngestError(f"row {number} has a value in column {col}, which has no name in the first row",
                              file=str(meta.info.path), line=number,
                              hint="give that column a name in row 1, or delete it, and load the file again",
                              code="ingest.xlsx_unnamed_column", params={"row": number, "column": col})
        row = tuple(row[:width]) + (None,) * (width - len(row))
        _cell_problems(list(row), number, names, meta.cell_problems)
        count += 1
        if count > max_rows:
            raise _too_many_rows(meta.info, max_rows)
        block.append(row)
        index.append(number)
        if len(block) == chunksize:
            yield pd.DataFrame(block, index=index, columns=names, dtype=object), meta
            block, index = [], []
    if block:
        yield pd.DataFrame(block, index=index, columns=names, dtype=object), meta


# ------------------------------------------------------------------ one entry point

def prepare(path: str | Path | FileInfo, *, format: str | None = None, encoding: str | None = None,
            sep: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES, digest: bool = True) -> FileInfo:
    """Check a file and tell what it is (format, encoding, separator) before reading its rows.

    Every check that needs no row is here (existence, size, format), so a
    caller can refuse a file before reading it, and pass the result to
    :func:`iter_chunks` to read it without checking it again. ``digest``: as for :func:`file_info`.
    """
    if isinstance(path, FileInfo):
        return path
    info = file_info(path, format=format, max_bytes=max_bytes, digest=digest)
    if info.format in ("csv", "kobo_csv"):
        return _csv_info(info, encoding, sep)
    return replace(info, encoding=encoding)


def iter_chunks(path: str | Path | FileInfo, *, format: str | None = None, encoding: str | None = None,
                sep: str | None = None, sheet: str | int | None = None, chunksize: int = 50_000,
                max_bytes: int = DEFAULT_MAX_BYTES,
                max_rows: int = DEFAULT_MAX_ROWS) -> Iterator[tuple[pd.DataFrame, RawMeta]]:
    """Read a file in chunks of ``chunksize`` rows; yield ``(frame, meta)`` for each.

    Every row of the file is in exactly one chunk, whatever its format and
    the chunk size. Memory is bounded by the chunk, not the file.

    Parameters
    ----------
    path : a file, or what :func:`prepare` returned for it.
    format : {"kobo_csv", "csv", "sav", "xlsx"}, optional
        Default: from the content (a CSV with Kobo's ``_uuid`` or
        ``_submission_time`` columns is a Kobo export).
    encoding : str, optional
        Text encoding of a CSV (default: detected) or of an SPSS file's texts
        (default: what the file declares; another one is refused).
    sep : str, optional
        CSV separator (default: detected among ``,`` ``;`` and tab).
    sheet : str or int, optional
        Excel sheet (default: the first).
    max_bytes : int
        Largest file accepted, in bytes (for .xlsx also the unpacked workbook).
    max_rows : int
        Most data rows accepted; a larger file is refused, never cut.

    Raises
    ------
    IngestError
        For a file that cannot be read, with its name and what to do; a CSV
        whose rows do not all have the header's number of fields is refused
        before any row is yielded.
    """
    info = prepare(path, format=format, encoding=encoding, sep=sep, max_bytes=max_bytes)
    if info.format == "sav":
        meta = _sav_meta(info, max_rows)
        offset = 0
        for frame, _ in _sav_chunks(info, sav_chunk_rows(chunksize, len(meta.columns), meta.rows)):
            frame = _nfc_cells(frame)
            frame.columns = meta.columns
            frame.index = pd.RangeIndex(offset + 1, offset + 1 + len(frame))
            offset += len(frame)
            yield frame, meta
        return
    if info.format == "xlsx":
        for frame, meta in _xlsx_chunks(info, sheet, chunksize, max_rows, max_bytes):
            yield _nfc_cells(frame), meta
        return
    if os.name == "posix" and info.size >= SCAN_BESIDE_BYTES:
        yield from _csv_scanned_beside(info, format, chunksize, max_rows)
    else:
        yield from _csv_scanned_first(info, format, chunksize, max_rows)


def _csv_scanned_first(info: FileInfo, format: str | None, chunksize: int,
                       max_rows: int) -> Iterator[tuple[pd.DataFrame, RawMeta]]:
    """The chunks of a CSV scanned first (:func:`scan_csv`): a row that does not line up is refused,
    naming it, before any row is read."""
    meta, longest = scan_csv(info, max_rows)
    _kobo(meta, format)
    offset = 0
    for frame in _csv_chunks(info, chunksize, len(meta.columns), longest):
        offset = yield from _csv_frame(frame, meta, offset)
    _check_agree(info, offset, meta.rows)


def _kobo(meta: RawMeta, format: str | None) -> None:
    """A CSV with Kobo's own columns is a Kobo export (unless the caller said what it is)."""
    if meta.info.format == "csv" and format is None and KOBO_MARKERS & set(meta.columns):
        meta.info = replace(meta.info, format="kobo_csv")


def _csv_frame(frame: pd.DataFrame, meta: RawMeta, offset: int):
    """Yield a CSV chunk with its texts in NFC, its columns named and its rows numbered as in the file
    (row 1 is the header); return the data rows read so far."""
    frame = _nfc_cells(frame)
    frame.columns = meta.columns
    frame.index = pd.RangeIndex(offset + 2, offset + 2 + len(frame))
    yield frame, meta
    return offset + len(frame)


def _check_agree(info: FileInfo, read: int, rows: int) -> None:
    if read != rows:  # two readers that disagree must never pass as a smaller file
        raise IngestError(f"the file was read as {read:,} rows, but it holds {rows:,}", file=str(info.path),
                          hint="was it changed while being loaded? Load it again; if this repeats, "
                               "save it again as 'CSV UTF-8'", code="ingest.rows_disagree",
                          params={"read": read, "rows": rows})


#: a CSV at least this large (bytes) is scanned in a child process while its rows are read (POSIX). A
#: smaller one is scanned first: the child's start (0.05 s to scan 1,000 rows, this module imports neither
#: pandas nor numpy until used) costs what the scan would save below ~30,000 Kobo rows (measured
#: alternately on 2 cores, medians of 5 loads: 2.8 MB 0.168 s first, 0.175 s beside; 8.7 MB 0.425 s,
#: 0.404 s; 29 MB 1.27-1.30 s, 1.18 s)
SCAN_BESIDE_BYTES = 8 * 2**20


def _csv_scanned_beside(info: FileInfo, format: str | None, chunksize: int,
                        max_rows: int) -> Iterator[tuple[pd.DataFrame, RawMeta]]:
    """The chunks of a large CSV, read by Arrow while :func:`scan_csv` runs in a child process
    (:class:`~survey.ingest.read_worker.ScanBeside`), instead of after it: the scan was a serial tenth
    of a CSV load (2.4 s of a 1,000,000-row Kobo export) and delayed its first row as long (issue 18).

    Same chunks, same errors as scanning first. Nothing a load prepares is stored before the whole file
    is read, so the scan's verdict may come last: when the parser fails, or after the last chunk, the
    scan's error is raised if it found one (as it would have been before any row); else the parser's.
    Long and NUL cells are found in each chunk by Arrow's kernels and must be the scan's, row for row,
    as the number of rows must be (else the file was read two ways, an error). ``meta.rows`` is known
    at the end only.
    """
    try:
        header = _csv_header(info)
        names = check_header(header, info) if header else None
    except Exception:  # noqa: BLE001 - a header refused: the scan says why, in its words, as it always has
        names = None
    if names is None:
        yield from _csv_scanned_first(info, format, chunksize, max_rows)
        return
    try:
        scan = read_worker.ScanBeside(info, max_rows)
    except OSError:  # no process could be started (limits, a frozen interpreter): scan first, as before
        yield from _csv_scanned_first(info, format, chunksize, max_rows)
        return
    meta = RawMeta(info, names)
    _kobo(meta, format)
    try:
        chunks, offset, larger = _csv_chunks(info, chunksize, len(names)), 0, False
        while True:
            try:
                frame = next(chunks, None)
            except IngestError as exc:  # Arrow could not parse a record: what did the scan find?
                scanned, longest = scan.result()  # raises the scan's error, if it found one
                if "straddl" not in str(exc.params.get("reason", "")) or larger:
                    raise
                # a record longer than the blocks: read on with blocks that hold it (once)
                chunks, larger = _csv_chunks(info, chunksize, len(names), longest, skip=offset), True
                continue
            if frame is None:
                break
            if offset + len(frame) > max_rows:
                raise _too_many_rows(info, max_rows)
            _long_or_nul_cells(frame, names, offset + 2, meta.cell_problems)
            offset = yield from _csv_frame(frame, meta, offset)
        scanned, _longest = scan.result()
    finally:
        scan.close()
    _check_agree(info, offset, scanned.rows)
    if scanned.cell_problems != meta.cell_problems:  # two readers that disagree: neither is taken
        differ = sorted(set(scanned.cell_problems) ^ set(meta.cell_problems)) or sorted(scanned.cell_problems)
        raise IngestError(f"the file's over-long or NUL cells were read two ways (rows {differ[:6]})",
                          file=str(info.path), hint="save it again as 'CSV UTF-8' and load it again; nothing "
                          "was saved", code="ingest.cells_disagree",
                          params={"rows": ", ".join(str(r) for r in differ[:6])})
    meta.rows = scanned.rows


def _csv_header(info: FileInfo) -> list[str] | None:
    """The CSV's first record (its column names), read as :func:`scan_csv` reads it; None when empty."""
    with open(info.path, "r", encoding=info.encoding, errors="strict", newline="") as fh:
        return next(_csv_records(fh, info.separator, info.size), None)


def _long_or_nul_cells(frame: pd.DataFrame, names: list[str], first_row: int, out: dict) -> None:
    """Note the cells of a chunk (Arrow strings, rows numbered from ``first_row``) that are too long or
    hold a NUL, as :func:`scan_csv` notes them: one Arrow pass per column, rows in order."""
    import pyarrow as pa
    import pyarrow.compute as pc

    found = []
    for i, name in enumerate(names):
        text = pa.array(frame.iloc[:, i])
        if not _may_be_long_or_nul(text):
            continue
        lengths = pc.utf8_length(text)
        long = pc.greater(lengths, MAX_CELL_CHARS).fill_null(False)
        nul = pc.match_substring(text, "\x00").fill_null(False)
        if not (pc.any(long).as_py() or pc.any(nul).as_py()):
            continue
        long, nul = long.to_numpy(zero_copy_only=False), nul.to_numpy(zero_copy_only=False)
        sizes = lengths.to_numpy(zero_copy_only=False)
        found += [(first_row + int(j), i, (name, "cell_too_long" if long[j] else "nul_in_cell", int(sizes[j])))
                  for j in np.flatnonzero(long | nul)]
    for row, _column, problem in sorted(found, key=lambda f: (f[0], f[1])):
        out.setdefault(row, []).append(problem)


def _may_be_long_or_nul(text) -> bool:
    """Whether a cell of an Arrow string array may be too long or hold a NUL, judged from its bytes in
    numpy: a cell has at least as many bytes as characters, and a NUL is the byte 0 in UTF-8. The exact
    kernels (characters counted, NUL searched) then run only on a column where one may be: run on every
    column, they were about a third of the reading thread's profile samples on a Kobo CSV (issue 18)."""
    import pyarrow as pa

    for chunk in text.chunks if isinstance(text, pa.ChunkedArray) else [text]:
        if len(chunk) == 0:
            continue
        found = string_bytes(chunk)
        if found is None:
            return True  # another layout: the exact kernels judge
        ends, data = found
        if np.diff(ends).max() > MAX_CELL_CHARS or not data[ends[0]:ends[-1]].all():
            return True
    return False


#: a file at least this large (bytes) is read in a process of its own, beside the checks
#: (:mod:`survey.ingest.read_worker`): pyreadstat and openpyxl hold the interpreter lock, so in a thread
#: reading and checking take turns. A smaller file is read in a thread: the child and the pipe cost more
#: than the turns would. Measured on 2 cores (issue 18), the child a fork (started in milliseconds): a
#: .sav of 20,000 rows x 42 questions (8.7 MB, one chunk) loads as fast either way (0.36 s); 40,000 x 42
#: (17 MB, two chunks) in 0.53 s in a thread and 0.49 s in a child; 10,000 x 300 (28 MB, two chunks of
#: 5,000 rows, :func:`sav_chunk_rows`) in 0.81 s and 0.69 s. (A new interpreter as the child, importing
#: Python, pandas and the reader, took ~0.45 s until its first chunk: the threshold is 32 MiB where the
#: child is a new interpreter, on macOS.) A ``.sav`` read in a thread has its dictionary read in a child
#: first (:func:`_check_sav_survives`).
PROCESS_READ_BYTES = {"sav": (12 if read_worker.FORK else 32) * 2**20, "xlsx": 128 * 2**20}


def read_ahead(info: FileInfo, **options) -> Iterator[tuple[pd.DataFrame, RawMeta]]:
    """:func:`iter_chunks`, the next chunk read while the caller works on the current one: in a child
    process for a large ``.sav`` or ``.xlsx`` (:data:`PROCESS_READ_BYTES`), else in a thread
    (:func:`prefetch`). Same chunks, same errors, either way."""
    # (POSIX only: the child's pipe is passed to it by descriptor; on Windows, a thread as before)
    if os.name == "posix" and info.size >= PROCESS_READ_BYTES.get(info.format, float("inf")):
        return read_worker.read_in_process(info, options)
    return prefetch(iter_chunks(info, **options))


def prefetch(chunks: Iterator, depth: int = 1) -> Iterator:
    """Read the next chunk in a background thread while the caller works on the current one.

    Storing a chunk (SQLite releases the interpreter lock while it writes)
    then overlaps with reading the next. An error of the reader is raised
    here, in the caller's thread, at the point it occurred.
    """
    import queue
    import threading

    box: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def work() -> None:
        try:
            for item in chunks:
                if stop.is_set():
                    return
                box.put(item)
            box.put(done)
        except BaseException as exc:  # handed to the consumer, raised there
            box.put(exc)

    thread = threading.Thread(target=work, name="pgi-reader", daemon=True)
    thread.start()
    try:
        while (item := box.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a reader waiting on a full queue
            try:
                box.get_nowait()
            except queue.Empty:
                thread.join(0.05)


def read_file(path: str | Path, **options) -> tuple[pd.DataFrame, RawMeta]:
    """Read a whole file (any format); see :func:`iter_chunks` for the options.

    Raises
    ------
    IngestError
        Also when the file has a header but no data rows.
    """
    frames, meta = [], None
    for frame, meta in iter_chunks(path, **options):
        frames.append(frame)
    frame = pd.concat(frames) if frames else pd.DataFrame()
    if meta is None or frame.empty:
        raise IngestError("the file has column names but no data rows", file=str(path),
                          hint="check that the export contains responses", code="ingest.no_rows")
    meta.rows = len(frame)
    return frame, meta


def read_kobo_csv(path: str | Path, **options) -> tuple[pd.DataFrame, RawMeta]:
    """Read a KoboToolbox CSV export (``;`` or ``,``, XML names or labels as headers)."""
    return read_file(path, format="kobo_csv", **options)


def read_csv(path: str | Path, **options) -> tuple[pd.DataFrame, RawMeta]:
    """Read a CSV saved from Excel or Google Forms (answers as codes or labels)."""
    return read_file(path, format="csv", **options)


def read_sav(path: str | Path, **options) -> tuple[pd.DataFrame, RawMeta]:
    """Read an SPSS ``.sav`` file, keeping user-missing codes (98, 99) as values."""
    return read_file(path, format="sav", **options)


def read_xlsx(path: str | Path, **options) -> tuple[pd.DataFrame, RawMeta]:
    """Read the first (or ``sheet``) sheet of an Excel ``.xlsx`` workbook."""
    return read_file(path, format="xlsx", **options)
