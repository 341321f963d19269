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
import hashlib
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterator

import pandas as pd
import pyreadstat

from ..errors import IngestError

__all__ = [
    "FORMATS", "FileInfo", "RawMeta", "file_info", "detect_encoding", "read_file", "iter_chunks",
    "read_kobo_csv", "read_csv", "read_sav", "read_xlsx", "DEFAULT_MAX_BYTES", "prefetch",
]

FORMATS = ("kobo_csv", "csv", "sav", "xlsx")
DEFAULT_MAX_BYTES = 1024 ** 3  # 1 GiB
KOBO_MARKERS = {"_uuid", "_submission_time", "_id", "_index", "__version__"}
_SAMPLE = 256 * 1024
_MAGIC = {b"$FL2": "sav", b"$FL3": "sav", b"PK\x03\x04": "xlsx", b"\xd0\xcf\x11\xe0": "xls"}
_FORMAT_NAMES = {"kobo_csv": "KoboToolbox CSV", "csv": "CSV", "sav": "SPSS .sav", "xlsx": "Excel .xlsx"}


@dataclass(frozen=True)
class FileInfo:
    """What is known of an input file before reading its rows."""

    path: Path
    size: int
    sha256: str
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
    """

    info: FileInfo
    columns: list[str]
    rows: int | None = None
    value_labels: dict[str, dict[Any, str]] = field(default_factory=dict)
    variable_labels: dict[str, str] = field(default_factory=dict)


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


def file_info(path: str | Path, *, format: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> FileInfo:
    """Check that a file exists, is not empty or too large, and tell its format.

    The format comes from the file's content, not its name: an SPSS file
    renamed ``.csv`` is reported, not read as garbage.

    Raises
    ------
    IngestError
        Missing, empty, too large, an old ``.xls``, or content that does not match
        its extension or the requested format.
    """
    path = Path(path)
    if not path.is_file():
        raise IngestError("file not found", file=str(path))
    size = path.stat().st_size
    if size == 0:
        raise IngestError("the file is empty (0 bytes)", file=str(path),
                          hint="export the survey again and check the download finished")
    if size > max_bytes:
        raise IngestError(f"the file is {size / 1e6:.1f} MB, larger than the limit of "
                          f"{max_bytes / 1e6:.1f} MB", file=str(path),
                          hint="raise the limit with --max-size, or split the file")
    with path.open("rb") as fh:
        head = fh.read(8)
    found = _sniff_format(path, head)
    if found == "xls":
        raise IngestError("this is an old Excel .xls workbook", file=str(path),
                          hint="open it in Excel and save it as .xlsx")
    _check_extension(path, found)
    if format is not None:
        wanted = "csv" if format in ("kobo_csv", "csv") else format
        if wanted not in ("csv", "sav", "xlsx"):
            raise IngestError(f"unknown format {format!r}", hint="one of " + ", ".join(FORMATS))
        if wanted != found:
            raise IngestError(f"the file holds {_FORMAT_NAMES[found]} data, not "
                              f"{_FORMAT_NAMES[wanted]}", file=str(path))
        found = format
    return FileInfo(path, size, _sha256(path), found)


def _check_extension(path: Path, found: str) -> None:
    ext = path.suffix.lower()
    expected = {".csv": "csv", ".txt": "csv", ".sav": "sav", ".zsav": "sav", ".xlsx": "xlsx", ".xlsm": "xlsx"}
    if ext in expected and expected[ext] != found:
        raise IngestError(
            f"the name ends with {ext} but the file is {_FORMAT_NAMES[found]}",
            file=str(path), hint=f"rename it to end with .{'csv' if found == 'csv' else found} "
                                 "or check that it is the right file")


def detect_encoding(sample: bytes) -> str:
    """Guess a CSV's text encoding from its first bytes.

    Byte-order marks decide first (UTF-8 with BOM, UTF-16); then UTF-16
    without BOM (many zero bytes); then UTF-8 if the bytes decode; else
    Windows-1258, the Vietnamese Windows code page.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if sample and sample.count(0) > len(sample) // 4:
        return "utf-16-le" if sample[1:2] == b"\x00" else "utf-16-be"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return "cp1258"


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def _nfc_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells in Unicode NFC (Windows-1258 and macOS files use combining marks)."""
    for col in frame.columns:
        series = frame[col]
        if series.dtype != object and not pd.api.types.is_string_dtype(series):
            continue
        values = pd.unique(series.dropna())
        fix = {v: unicodedata.normalize("NFC", v) for v in values
               if isinstance(v, str) and not unicodedata.is_normalized("NFC", v)}
        if fix:
            frame[col] = series.map(lambda v: fix.get(v, v) if isinstance(v, str) else v)
    return frame


# ------------------------------------------------------------------ CSV

def _decode_sample(info: FileInfo, encoding: str) -> str:
    with info.path.open("rb") as fh:
        sample = fh.read(_SAMPLE)
    try:
        return codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
    except UnicodeDecodeError as exc:
        line = sample[: exc.start].count(b"\n") + 1
        raise IngestError(
            f"line {line} cannot be read as {encoding} text", file=str(info.path), line=line,
            hint="the file is in another encoding; try --encoding cp1258 (Vietnamese Windows) or utf-16, "
                 "or save it from Excel as 'CSV UTF-8'") from None
    except LookupError:
        raise IngestError(f"unknown encoding {encoding!r}", hint="e.g. utf-8, utf-16, cp1258") from None


def _sniff_separator(info: FileInfo, text: str) -> str:
    header = next(iter(text.splitlines()), "")
    if "\x00" in text:
        raise IngestError("the file is not text", file=str(info.path),
                          hint="is it really a CSV export?")
    counts = {sep: _count_outside_quotes(header, sep) for sep in (",", ";", "\t")}
    sep, count = max(counts.items(), key=lambda kv: kv[1])
    if count == 0:
        other = next((c for c in "|:^#" if c in header), None)
        raise IngestError(
            "the first line has a single column, so its separator is not recognised",
            file=str(info.path), line=1,
            hint=(f"it seems to use '{other}'; " if other else "")
            + "save the file with comma, semicolon or tab separators")
    return sep


def _count_outside_quotes(line: str, sep: str) -> int:
    count, quoted = 0, False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif ch == sep and not quoted:
            count += 1
    return count


def _csv_info(info: FileInfo, encoding: str | None, sep: str | None) -> FileInfo:
    if encoding is None:
        with info.path.open("rb") as fh:
            encoding = detect_encoding(fh.read(_SAMPLE))
    text = _decode_sample(info, encoding)
    return replace(info, encoding=encoding, separator=sep or _sniff_separator(info, text))


def _csv_chunks(info: FileInfo, chunksize: int) -> Iterator[pd.DataFrame]:
    fh = open(info.path, "r", encoding=info.encoding, errors="strict", newline="")
    try:
        reader = pd.read_csv(fh, sep=info.separator, dtype=str, keep_default_na=False, na_values=[""],
                             chunksize=chunksize, engine="c", skip_blank_lines=True)
        yield from reader
    except UnicodeDecodeError:
        raise IngestError(f"part of the file is not {info.encoding} text", file=str(info.path),
                          hint="the file mixes encodings; save it again as 'CSV UTF-8'") from None
    except pd.errors.EmptyDataError:
        raise IngestError("the file has no columns", file=str(info.path)) from None
    except pd.errors.ParserError as exc:
        raise IngestError(f"the rows do not line up with the header ({exc})".replace("\n", " "),
                          file=str(info.path), hint="a row has more separators than the header; "
                          "check quotes around texts that contain the separator") from None
    finally:
        fh.close()


# ------------------------------------------------------------------ SPSS and Excel

def _sav_chunks(info: FileInfo, chunksize: int) -> Iterator[tuple[pd.DataFrame, Any]]:
    try:
        yield from pyreadstat.read_file_in_chunks(
            pyreadstat.read_sav, str(info.path), chunksize=chunksize, user_missing=True,
            encoding=info.encoding, disable_datetime_conversion=False)
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError) as exc:
        raise IngestError(f"the SPSS file is damaged or incomplete ({exc})", file=str(info.path),
                          hint="it may have been cut off while copying; export it again") from None


def _sav_meta(info: FileInfo) -> RawMeta:
    try:
        _, meta = pyreadstat.read_sav(str(info.path), metadataonly=True, user_missing=True,
                                      encoding=info.encoding)
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError) as exc:
        raise IngestError(f"the SPSS file is damaged or incomplete ({exc})", file=str(info.path),
                          hint="it may have been cut off while copying; export it again") from None
    names = list(meta.column_names)
    if any(not isinstance(c, str) or not c.strip() for c in names):
        raise IngestError("the SPSS file is damaged: a variable has no name", file=str(info.path),
                          hint="it may have been cut off or changed while copying; export it again")
    return RawMeta(info, [_nfc(c) for c in names], meta.number_rows,
                   dict(meta.variable_value_labels), dict(meta.column_names_to_labels))


def _xlsx_frame(info: FileInfo, sheet: str | int | None) -> pd.DataFrame:
    try:
        frame = pd.read_excel(info.path, sheet_name=sheet if sheet is not None else 0, dtype=object,
                              engine="openpyxl")
    except ValueError as exc:
        raise IngestError(f"{exc}", file=str(info.path), hint="name the sheet with --sheet") from None
    except Exception as exc:  # openpyxl raises many kinds on a damaged workbook
        raise IngestError(f"the Excel file cannot be opened ({type(exc).__name__})",
                          file=str(info.path), hint="open it in Excel and save it again as .xlsx") from None
    return frame.dropna(how="all")


# ------------------------------------------------------------------ one entry point

def _prepare(path: str | Path, format: str | None, encoding: str | None, sep: str | None,
             max_bytes: int) -> FileInfo:
    info = file_info(path, format=format, max_bytes=max_bytes)
    if info.format in ("csv", "kobo_csv"):
        return _csv_info(info, encoding, sep)
    return replace(info, encoding=encoding)


def iter_chunks(path: str | Path, *, format: str | None = None, encoding: str | None = None,
                sep: str | None = None, sheet: str | int | None = None, chunksize: int = 50_000,
                max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[tuple[pd.DataFrame, RawMeta]]:
    """Read a file in chunks of ``chunksize`` rows; yield ``(frame, meta)`` for each.

    Parameters
    ----------
    format : {"kobo_csv", "csv", "sav", "xlsx"}, optional
        Default: from the content (a CSV with Kobo's ``_uuid`` or
        ``_submission_time`` columns is a Kobo export).
    encoding : str, optional
        Text encoding of a CSV (default: detected) or of an SPSS file's texts.
    sep : str, optional
        CSV separator (default: detected among ``,`` ``;`` and tab).
    sheet : str or int, optional
        Excel sheet (default: the first).

    Raises
    ------
    IngestError
        For a file that cannot be read, with its name and what to do.
    """
    info = _prepare(path, format, encoding, sep, max_bytes)
    offset = 0
    if info.format == "sav":
        meta = _sav_meta(info)
        for frame, _ in _sav_chunks(info, chunksize):
            frame = _nfc_cells(frame)
            frame.columns = meta.columns
            frame.index = pd.RangeIndex(offset + 1, offset + 1 + len(frame))
            offset += len(frame)
            yield frame, meta
        return
    if info.format == "xlsx":
        frame = _xlsx_frame(info, sheet)
        frames: Iterator[pd.DataFrame] = (frame.iloc[i:i + chunksize] for i in range(0, max(len(frame), 1), chunksize))
    else:
        frames = _csv_chunks(info, chunksize)
    meta = None
    for frame in frames:
        if meta is None:
            columns = [_nfc(str(c)) for c in frame.columns]
            fmt = info.format
            if fmt == "csv" and format is None and KOBO_MARKERS & set(columns):
                fmt = "kobo_csv"
            meta = RawMeta(replace(info, format=fmt), columns)
        frame = _nfc_cells(frame.copy() if info.format == "xlsx" else frame)
        frame.columns = meta.columns
        frame.index = pd.RangeIndex(offset + 2, offset + 2 + len(frame))  # row 1 is the header
        offset += len(frame)
        yield frame, meta


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
                          hint="check that the export contains responses")
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
