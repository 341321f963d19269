"""A large CSV is scanned in a child process while Arrow reads its rows (issue 18): the chunks and the
errors must be those of scanning first, the way every CSV was read before (and small ones still are).

Each case is read both ways, the size threshold lowered so that a small file takes the new path; the
expected values are the scan-first reader's (a separate path, in use since the CSV reader was written).
"""
from __future__ import annotations

import os
import time

import pandas as pd
import pytest

import survey.ingest.readers as readers
from survey.errors import IngestError
from survey.ingest.readers import MAX_CELL_CHARS, iter_chunks

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the scan runs beside the reading on POSIX only")


def _read(path, beside: bool, monkeypatch, **options):
    """Chunks (frames and metas) or the error, read with the scan first or beside."""
    monkeypatch.setattr(readers, "SCAN_BESIDE_BYTES", 0 if beside else 2**62)
    try:
        return [(frame, meta) for frame, meta in iter_chunks(path, **options)]
    except IngestError as exc:
        return exc


def _both(path, monkeypatch, **options):
    return _read(path, False, monkeypatch, **options), _read(path, True, monkeypatch, **options)


def _same_chunks(first, beside) -> None:
    assert not isinstance(first, Exception) and not isinstance(beside, Exception), (first, beside)
    assert [len(f) for f, _ in beside] == [len(f) for f, _ in first]
    pd.testing.assert_frame_equal(pd.concat([f for f, _ in beside]), pd.concat([f for f, _ in first]))
    last_first, last_beside = first[-1][1], beside[-1][1]
    assert last_beside.rows == last_first.rows
    assert last_beside.cell_problems == last_first.cell_problems
    assert last_beside.columns == last_first.columns and last_beside.info.format == last_first.info.format


def _same_error(first, beside) -> None:
    assert isinstance(first, IngestError) and isinstance(beside, IngestError), (first, beside)
    assert (beside.code, str(beside), beside.params) == (first.code, str(first), first.params)


def test_rows_long_and_nul_cells_are_read_as_when_scanned_first(tmp_path, monkeypatch):
    long = "x" * (MAX_CELL_CHARS + 5)
    lines = ["_uuid;b;c"] + [f'u{i};"dòng {i}; ""trích""\nhai";{i}' for i in range(40)]
    lines[7] = f"u6;{long};6"                      # a cell too long
    lines[9] = 'u8;"a\x00b";8'                      # a NUL
    lines[12] = f'u11;"{long}";"c\x00"'             # both kinds, in one row
    path = tmp_path / "k.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    first, beside = _both(path, monkeypatch, chunksize=7)
    _same_chunks(first, beside)
    assert sorted(beside[-1][1].cell_problems) == [8, 10, 13]
    assert beside[0][1].info.format == "kobo_csv"


@pytest.mark.parametrize("text", [
    "a;b;c\n1;2;3\n4;5\n6;7;8\n",                   # a row with a field missing
    "a;b;c\n1;2;3\n4;5;6;7\n",                      # the last row with one more
    'a;b\n1;"đầy đủ"\n2;"dòng một\ndòng hai\n',     # cut off inside a quoted text (which Arrow reads)
    "a;a;b\n1;2;3\n",                               # a header naming a column twice
    "a;b\n" + "1;2\n" * 30,                         # more rows than allowed (below)
])
def test_a_file_refused_is_refused_with_the_same_words(tmp_path, monkeypatch, text):
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    first, beside = _both(path, monkeypatch, chunksize=2, max_rows=25)
    _same_error(first, beside)


def test_a_file_of_two_encodings_is_refused_with_the_same_words(tmp_path, monkeypatch):
    path = tmp_path / "mixed.csv"
    path.write_bytes("a;b\n".encode() + "1;Khó khăn\n".encode("utf-8") * 50 + "2;Khó khăn\n".encode("cp1258"))
    first, beside = _both(path, monkeypatch, chunksize=10, encoding="utf-8")
    _same_error(first, beside)


def test_a_record_longer_than_the_first_blocks_is_read_on(tmp_path, monkeypatch):
    """Without the scan's longest record, Arrow starts with 1 MiB blocks; a record over twice that stops
    it, and the reading goes on with blocks that hold it, from the row after the last one read."""
    long = "Khó khăn đư " * 300_000  # 3.6 million characters, 4.8 MB in UTF-8
    rows = [f"{i};ô {i}" for i in range(3_000)]
    rows[2_500] = f'2500;"{long}"'
    path = tmp_path / "long.csv"
    path.write_text("a;b\n" + "\n".join(rows) + "\n", encoding="utf-8")
    first, beside = _both(path, monkeypatch, chunksize=1_000)
    _same_chunks(first, beside)
    assert beside[-1][0]["b"].tolist()[500] == long


def test_stopping_early_stops_the_scan(tmp_path, monkeypatch):
    """Closing the chunks stops the scan at once (its child killed), not after it has scanned the whole file
    (2,000,000 rows: more than a second of scanning)."""
    path = tmp_path / "k.csv"
    path.write_text("a;b\n" + "1;2\n" * 2_000_000, encoding="utf-8")
    monkeypatch.setattr(readers, "SCAN_BESIDE_BYTES", 0)
    before = set(_children())
    chunks = iter_chunks(path, chunksize=100)
    next(chunks)
    scanning = set(_children()) - before
    assert len(scanning) == 1  # the scan runs beside the reading, in a child
    started = time.perf_counter()
    chunks.close()
    assert time.perf_counter() - started < 0.5
    assert not scanning & set(_children())  # ended and waited for (not even a zombie)


def _children() -> list[int]:
    found = []
    for task in os.listdir(f"/proc/{os.getpid()}/task"):
        with open(f"/proc/{os.getpid()}/task/{task}/children") as fh:
            found += [int(k) for k in fh.read().split()]
    return found




def test_without_a_second_process_the_file_is_scanned_first(tmp_path, monkeypatch):
    import subprocess

    path = tmp_path / "k.csv"
    path.write_text("a;b\n" + "".join(f"{i};ô\n" for i in range(300)), encoding="utf-8")
    first = _read(path, False, monkeypatch, chunksize=100)

    def refused(*args, **kwargs):
        raise OSError("Resource temporarily unavailable")
    monkeypatch.setattr(subprocess, "Popen", refused)
    _same_chunks(first, _read(path, True, monkeypatch, chunksize=100))


def test_the_scanning_child_starts_without_pandas_or_numpy():
    """The child that scans a CSV imports only the readers: with pandas and numpy imported at the top of
    that module, its start took 0.3 s of a core the load was using, and the scan was only worth running
    beside the reading from 64 MiB up (8 MiB now)."""
    import subprocess
    import sys

    code = ("import sys, survey.ingest.read_worker, survey.ingest.readers; "
            "print(sorted(m for m in ('pandas', 'numpy', 'pyarrow') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    assert out.stdout.strip() == "[]"


def test_a_column_s_bytes_tell_whether_a_cell_may_be_too_long_or_hold_a_nul():
    """The screen before the exact per-cell kernels: only the bytes of the array's own cells count (an
    Arrow slice shares its buffers with cells outside it), in every chunk, in both string layouts."""
    import pyarrow as pa

    from survey.ingest.readers import _may_be_long_or_nul

    long = "x" * (MAX_CELL_CHARS + 1)
    for kind in (pa.string(), pa.large_string()):
        assert _may_be_long_or_nul(pa.array(["a", "b\x00c"], kind))
        assert not _may_be_long_or_nul(pa.array(["a", "b\x00c"], kind).slice(0, 1))  # the NUL is outside
        assert not _may_be_long_or_nul(pa.array(["d\x00", "a", None], kind).slice(1))
        assert _may_be_long_or_nul(pa.array([long, "a"], kind))
        assert not _may_be_long_or_nul(pa.array([long, "a"], kind).slice(1))
        assert not _may_be_long_or_nul(pa.array(["x" * MAX_CELL_CHARS, None, ""], kind))  # at the limit: allowed
        assert _may_be_long_or_nul(pa.chunked_array([pa.array(["a"], kind), pa.array(["b", "\x00"], kind)]))
        assert not _may_be_long_or_nul(pa.chunked_array([pa.array(["a"], kind), pa.array([], kind)]))
