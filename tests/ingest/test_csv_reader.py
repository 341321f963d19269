"""The CSV reader (Arrow's parser, issue 18) reads what Python's csv module reads: every cell as text,
an empty field as missing, quotes, separators and line breaks inside quoted texts, in chunks whose
row numbers follow the file."""
from __future__ import annotations

import csv
import io
import unicodedata

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from survey.errors import IngestError
from survey.ingest.readers import iter_chunks, read_file

# no bare CR inside a cell: the scan reads lines as Python splits them, and refuses such a file as cut off
CELL = st.text(alphabet=st.sampled_from(list('ab ;,"\n\tđếỹ0.-')), max_size=8)


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.lists(CELL, min_size=3, max_size=3), min_size=1, max_size=25),
       sep=st.sampled_from([";", ","]), crlf=st.booleans(), chunk=st.integers(1, 7))
def test_cells_are_read_as_the_csv_module_reads_them(tmp_path_factory, rows, sep, crlf, chunk):
    rows = [r for r in rows if any(c.strip() for c in r)] or [["x", "y", "z"]]  # a blank line is no row
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=sep, lineterminator="\r\n" if crlf else "\n", quoting=csv.QUOTE_MINIMAL) \
        .writerows([["a", "b", "c"]] + rows)
    path = tmp_path_factory.mktemp("csv") / "f.csv"
    path.write_bytes(buffer.getvalue().encode("utf-8"))
    expected = list(csv.reader(io.StringIO(buffer.getvalue(), newline=""), delimiter=sep))[1:]
    expected = [[None if cell == "" else cell for cell in row] for row in expected if row]
    chunks = [frame for frame, _meta in iter_chunks(path, sep=sep, chunksize=chunk)]
    got = pd.concat(chunks)
    assert [len(f) for f in chunks[:-1]] == [chunk] * (len(chunks) - 1)  # chunks of the size asked
    assert got.index.tolist() == list(range(2, len(expected) + 2))  # row numbers of the file (1: header)
    assert [[None if pd.isna(v) else v for v in row] for row in got.itertuples(index=False)] == expected


def test_a_stray_quote_in_the_last_row_is_a_character_not_a_cut_off_file(tmp_path):
    (tmp_path / "s.csv").write_text('a,b\n1,màn hình 12" rộng\n', encoding="utf-8")
    frame, _meta = read_file(tmp_path / "s.csv")
    assert frame["b"].tolist() == ['màn hình 12" rộng']


def test_a_quoted_text_open_at_the_end_is_refused_even_after_lines(tmp_path):
    (tmp_path / "q.csv").write_text('a,b\n1,"đầy đủ"\n2,"dòng một\ndòng hai\n', encoding="utf-8")
    with pytest.raises(IngestError, match="cut off") as err:
        read_file(tmp_path / "q.csv")
    assert err.value.code == "ingest.unclosed_quote"


def test_windows_1258_and_bom_files_read_as_texts(tmp_path):
    (tmp_path / "w.csv").write_bytes(_cp1258("tên;tỉnh\nCông ty A;Bắc Ninh\n"))
    frame, _meta = read_file(tmp_path / "w.csv", encoding="cp1258")
    assert frame.columns.tolist() == ["tên", "tỉnh"] and frame.iloc[0].tolist() == ["Công ty A", "Bắc Ninh"]
    (tmp_path / "b.csv").write_bytes("\ufefftên;số\nA;01\n\nB;\n".encode("utf-8"))
    frame, _meta = read_file(tmp_path / "b.csv")
    assert frame.columns.tolist() == ["tên", "số"] and frame["số"].tolist()[0] == "01"  # texts, not numbers
    assert frame["tên"].tolist() == ["A", "B"] and pd.isna(frame["số"].tolist()[1])


def _cp1258(text: str) -> bytes:
    """Text as Vietnamese Windows writes it: each letter as much composed as the code page allows, the
    remaining marks (tones) as combining characters."""
    out = b""
    for ch in text:
        nfd = unicodedata.normalize("NFD", ch)
        for cut in range(len(nfd), 0, -1):
            try:
                out += unicodedata.normalize("NFC", nfd[:cut]).encode("cp1258") + nfd[cut:].encode("cp1258")
                break
            except UnicodeEncodeError:
                continue
    return out


@pytest.mark.parametrize("encoding", ["utf-8", "cp1258"])
def test_a_record_longer_than_the_parsers_blocks_is_read_whole(tmp_path, encoding):
    """Arrow's parser refuses a record that spans more than two of its blocks ("straddles two block
    boundaries"), so the blocks must fit the file's longest record: here 11 MB (over twice the 4 MiB
    blocks of before, which refused it as misaligned), in a cell the load refuses as too long; the rows
    around it are read as they are."""
    long = "Khó khăn đư " * 700_000  # 8.4 million characters, 11 MB in UTF-8
    path = tmp_path / "long.csv"
    path.write_bytes(f'a;b;c\n1;x;y\n2;"{long}";w\n3;"{long[:40_000]}";r\n4;q;s\n'.encode(encoding))
    chunks = list(iter_chunks(path, sep=";", encoding=encoding, chunksize=2))
    frame = pd.concat([f for f, _meta in chunks])
    assert frame.index.tolist() == [2, 3, 4, 5]
    assert frame["b"].tolist() == ["x", long, long[:40_000], "q"]
    assert frame["c"].tolist() == ["y", "w", "r", "s"]
    problems = chunks[-1][1].cell_problems  # both long cells are named, for the load to refuse those rows
    assert sorted(problems) == [3, 4] and problems[3][0][:2] == ("b", "cell_too_long")


@settings(max_examples=80, deadline=None)
@given(cells=st.lists(st.one_of(st.none(), st.text(alphabet=st.sampled_from(
    list("aeouAđ\n \u0301\u0300\u0303\u0309\u0323\u0302\u0306\u031b\u1100\u1161\u00e9\u1ebf\u0344")), max_size=6)),
    max_size=12))
def test_a_column_is_found_in_nfc_exactly_when_each_of_its_cells_is(cells):
    """The one-text check (cells joined by line breaks) against Python's test of each cell alone: base
    letters and combining marks that would compose across two cells, Hangul jamo, marks out of order."""
    import pyarrow as pa

    from survey.ingest.readers import _all_nfc, _nfc_arrow

    expected = all(unicodedata.is_normalized("NFC", c) for c in cells if c is not None)
    series = pd.Series(cells, dtype="string[pyarrow]")
    assert _all_nfc(pa.array(series)) == expected
    assert [None if pd.isna(v) else v for v in _nfc_arrow(series)] == \
        [None if c is None else unicodedata.normalize("NFC", c) for c in cells]
