"""Issue 19: nothing lost, nothing hangs.

Every row of a file is read, whatever its format and the chunk size; rows
that do not line up with the header, a cut-off file, a crafted header or
workbook, a NUL or a huge cell are refused or quarantined with a clear
reason, never stored shifted, cut or silently; limits are checked before
the file is read.
"""
from __future__ import annotations

import io
import time
import tracemalloc
import unicodedata
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyreadstat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from survey.errors import IngestError
from survey.ingest import ingest_file, iter_chunks, read_file
from survey.ingest.readers import MAX_CELL_CHARS
from survey.store import Store, load_responses
from tests.fixtures import make_answers, to_kobo_csv, to_sav

# ------------------------------------------------------------------ every row, every format, every chunk size

_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=12).map(
    lambda t: unicodedata.normalize("NFC", t).strip())


def _write(frame: pd.DataFrame, fmt: str, path: Path) -> Path:
    if fmt == "csv":
        frame.to_csv(path, index=False)
    elif fmt == "xlsx":
        frame.to_excel(path, index=False)
    else:
        pyreadstat.write_sav(frame, str(path))
    return path


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fmt=st.sampled_from(["csv", "xlsx", "sav"]), texts=st.lists(_TEXT, min_size=1, max_size=45),
       chunksize=st.integers(1, 20))
def test_every_row_is_read_whatever_the_format_and_chunk_size(tmp_path, fmt, texts, chunksize):
    if fmt == "xlsx":  # pandas writes "=..." as a formula without a value: not a text to read back
        texts = [t.lstrip("=") for t in texts]
    n = len(texts)
    frame = pd.DataFrame({"id": np.arange(1, n + 1), "text": texts, "x": np.linspace(0, 1, n)})
    path = _write(frame, fmt, tmp_path / f"f.{fmt}")
    pieces = list(iter_chunks(path, chunksize=chunksize))
    assert all(len(p) <= chunksize for p, _ in pieces)
    whole = pd.concat([p for p, _ in pieces])
    first = 1 if fmt == "sav" else 2  # SPSS case numbers; spreadsheet rows after the header
    assert whole.index.tolist() == list(range(first, first + n))
    assert [int(float(v)) for v in whole["id"]] == list(range(1, n + 1))
    got = whole["text"].map(lambda v: "" if v is None or v != v else str(v).strip()).tolist()
    assert got == texts


def test_an_xlsx_of_25001_rows_is_read_whole(tmp_path):
    """The probe's case: chunks after the first were empty, and the counts still balanced."""
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["id", "value"])
    for i in range(25_001):
        sheet.append([i, f"v{i}"])
    book.save(tmp_path / "big.xlsx")
    frame, meta = read_file(tmp_path / "big.xlsx", chunksize=20_000)
    assert len(frame) == 25_001 and frame["value"].iloc[-1] == "v25000" and frame.index[-1] == 25_002


# ------------------------------------------------------------------ rows that do not line up

def _kobo(tmp_path: Path, monthly, n: int = 30) -> Path:
    return to_kobo_csv(make_answers(monthly, n, seed=5), monthly, tmp_path / "k.csv",
                       uuids=[f"u-{i}" for i in range(n)])


def _edit_line(path: Path, number: int, change) -> Path:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[number - 1] = change(lines[number - 1])
    path.write_text("".join(lines), encoding="utf-8")
    return path


def _refused(tmp_path: Path, path: Path, monthly) -> str:
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    with pytest.raises(IngestError) as err:
        ingest_file(path, monthly, "2025-11", db=url)
    assert Store(url).list_loads().empty  # nothing stored
    return str(err.value)


def test_an_unquoted_separator_in_the_first_data_row_is_refused_not_shifted(tmp_path, monthly):
    path = _edit_line(_kobo(tmp_path, monthly), 2, lambda line: line.replace(";", ";extra;", 1))
    message = _refused(tmp_path, path, monthly)
    assert "row 2 has" in message and "double quotes" in message


def test_a_separator_at_the_end_of_every_row_is_refused_with_its_cause(tmp_path, monthly):
    path = _kobo(tmp_path, monthly)
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([lines[0]] + [line + ";" for line in lines[1:]]) + "\n", encoding="utf-8")
    assert "extra separator" in _refused(tmp_path, path, monthly)


def test_a_file_cut_off_in_its_last_row_is_refused_and_the_whole_file_loads_later(tmp_path, monthly):
    whole = _kobo(tmp_path, monthly)
    text = whole.read_text(encoding="utf-8")
    cut = tmp_path / "cut.csv"
    cut.write_text(text[: text.rstrip("\n").rfind("\n") + 40], encoding="utf-8")  # 40 characters of the last row
    message = _refused(tmp_path, cut, monthly)
    assert "seems cut off" in message and "row 31" in message
    result = ingest_file(whole, monthly, "2025-11", db=f"sqlite:///{tmp_path / 's.sqlite'}")
    assert (result.rows_read, result.accepted + result.quarantined) == (30, 30)


def test_a_quoted_text_never_closed_at_the_end_is_a_cut_off_file(tmp_path):
    (tmp_path / "q.csv").write_text('a,b\n1,2\n3,"never closed\n', encoding="utf-8")
    with pytest.raises(IngestError, match="cut off"):
        read_file(tmp_path / "q.csv")


def test_a_column_name_twice_is_refused_naming_both(tmp_path):
    (tmp_path / "d.csv").write_text("a,b,a\n1,2,3\n", encoding="utf-8")
    with pytest.raises(IngestError, match="columns 1 and 3 have the same name 'a'"):
        read_file(tmp_path / "d.csv")


def test_an_xlsx_value_under_a_nameless_column_is_refused(tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["a", "b"])
    book.active.append([1, 2, "lost?"])
    book.save(tmp_path / "x.xlsx")
    with pytest.raises(IngestError, match="row 2 has a value in column 3"):
        read_file(tmp_path / "x.xlsx")


# ------------------------------------------------------------------ crafted cells and headers

def _timed(func, *args, **kwargs):
    start = time.perf_counter()
    out = func(*args, **kwargs)
    return out, time.perf_counter() - start


def test_a_megabyte_header_is_refused_at_once(tmp_path):
    (tmp_path / "h.csv").write_text("a," + "h" * 1_000_000 + "\n1,2\n", encoding="utf-8")
    with pytest.raises(IngestError) as err:
        _timed(read_file, tmp_path / "h.csv")
    assert "column 2" in str(err.value) and "1,000,000 characters" in str(err.value)
    assert len(str(err.value)) < 500  # the name itself is not echoed


def test_a_huge_cell_quarantines_its_row_and_the_rest_is_stored(tmp_path, monthly):
    answers = make_answers(monthly, 30, seed=5)
    answers["description"] = answers["description"].astype(object)
    answers.loc[7, "description"] = "mô tả " * 200_000  # 1.2 million characters
    path = to_kobo_csv(answers, monthly, tmp_path / "k.csv", uuids=[f"u-{i}" for i in range(30)])
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    result, seconds = _timed(ingest_file, path, monthly, "2025-11", db=url)
    assert seconds < 30
    assert result.rows_read == 30 and result.accepted + result.quarantined == 30
    row = result.problems[result.problems.reason == "cell_too_long"]
    assert row["row"].tolist() == [9] and row["column"].tolist() == ["difficulties/description"]
    assert "u-7" not in set(load_responses(monthly, "2025-11", "2025-11", store=Store(url))["response_key"])
    assert "u-7" in set(Store(url).read_quarantine()["response_key"])
    assert f"{MAX_CELL_CHARS:,}" in result.messages("en")[row.index[0]]


def test_a_nul_character_is_refused_with_a_clear_reason_on_both_stores(tmp_path, monthly, any_store):
    store = any_store
    answers = make_answers(monthly, 20, seed=6)
    answers["description"] = answers["description"].astype(object)
    answers.loc[4, "description"] = "nước\x00thải"
    path = to_kobo_csv(answers, monthly, tmp_path / "k.csv", uuids=[f"u-{i}" for i in range(19)] + ["u-\x00"])
    result = ingest_file(path, monthly, "2025-11", store=store)
    nul = result.problems[result.problems.reason == "nul_in_cell"]
    assert sorted(nul["row"].unique().tolist()) == [6, 21]
    assert "NUL" in result.messages("en")[nul.index[0]]
    stored = load_responses(monthly, "2025-11", "2025-11", store=store)
    assert len(stored) == result.accepted and not stored.astype(str).apply(lambda c: c.str.contains("\x00")).any().any()


def test_a_binary_file_named_csv_is_called_binary_not_an_encoding_problem(tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / "photo.csv").write_bytes(bytes(rng.integers(0, 256, 50_000, dtype=np.uint8)))
    with pytest.raises(IngestError, match="binary data") as err:
        read_file(tmp_path / "photo.csv")
    assert "cp1258" not in str(err.value)


# ------------------------------------------------------------------ sizes and rows checked before reading

def _bomb(path: Path, size: int) -> Path:
    """A valid workbook whose sheet unpacks to ``size`` bytes of blanks (a few KB packed)."""
    book = openpyxl.Workbook()
    book.active.append(["a", "b"])
    book.active.append([1, 2])
    buffer = io.BytesIO()
    book.save(buffer)
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<sheetData>", b"<sheetData>" + b" " * size)
            dst.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED)
    return path


def test_an_xlsx_zip_bomb_is_refused_before_it_is_parsed(tmp_path, monkeypatch):
    path = _bomb(tmp_path / "bomb.xlsx", 60_000_000)
    assert path.stat().st_size < 1_000_000

    def never(*args, **kwargs):
        raise AssertionError("the workbook was parsed")
    monkeypatch.setattr(openpyxl, "load_workbook", never)
    with pytest.raises(IngestError, match="times its packed size"):
        read_file(path)


def test_an_xlsx_that_unpacks_beyond_the_size_limit_is_refused(tmp_path):
    path = _bomb(tmp_path / "wide.xlsx", 3_000_000)  # 3 MB unpacked, under the ratio floor
    with pytest.raises(IngestError, match="unpacks to 3.0 MB, more than the limit of 2.0 MB"):
        read_file(path, max_bytes=2_000_000)


def test_the_size_limit_is_checked_before_the_file_is_read(tmp_path, monthly):
    path = tmp_path / "big.csv"
    path.write_bytes(b"a,b\n" + b"1,2\n" * 5_000_000)  # 20 MB
    tracemalloc.start()
    try:
        with pytest.raises(IngestError, match="larger than the limit"):
            ingest_file(path, monthly, "2025-11", db=f"sqlite:///{tmp_path / 's.sqlite'}", max_bytes=1_000_000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "sav"])
def test_a_file_over_the_row_limit_is_refused_not_cut(tmp_path, fmt):
    path = _write(pd.DataFrame({"id": range(50), "t": ["x"] * 50}), fmt, tmp_path / f"f.{fmt}")
    with pytest.raises(IngestError, match="more than 49 data rows"):
        read_file(path, max_rows=49)
    assert len(read_file(path, max_rows=50)[0]) == 50


# ------------------------------------------------------------------ SPSS encodings, periods

def test_an_spss_encoding_that_contradicts_the_file_is_refused(tmp_path, monthly):
    answers = make_answers(monthly, 10, seed=2)
    answers["description"] = "Nước thải"
    path = to_sav(answers, monthly, tmp_path / "m.sav")
    with pytest.raises(IngestError, match="says its texts are UTF-8, not cp1258"):
        read_file(path, encoding="cp1258")
    with pytest.raises(IngestError, match="unknown encoding"):
        read_file(path, encoding="klingon")
    assert read_file(path, encoding="utf-8")[0]["description"].iloc[0] == "Nước thải"


@pytest.mark.parametrize("period", ["0000-01", "9999-12", "2025-13", "2025-1", "25-11"])
def test_implausible_periods_are_refused(tmp_path, monthly, period):
    path = _kobo(tmp_path, monthly, 3)
    with pytest.raises(IngestError, match="period"):
        ingest_file(path, monthly, period, db=f"sqlite:///{tmp_path / 's.sqlite'}")


def test_the_command_line_refuses_a_file_over_max_rows_and_stores_nothing(tmp_path, monthly, capsys):
    from survey.cli import main

    path, url = _kobo(tmp_path, monthly, 5), f"sqlite:///{tmp_path / 's.sqlite'}"
    args = ["ingest", str(path), "--survey", "monthly_difficulties", "--period", "2025-11", "--db", url]
    assert main(args + ["--max-rows", "4", "--lang", "en"]) == 1
    assert "more than 4 data rows" in capsys.readouterr().err
    assert main(args + ["--max-rows", "4"]) == 1  # in Vietnamese unless asked
    assert "tệp có hơn 4 dòng dữ liệu, vượt giới hạn" in capsys.readouterr().err
    assert Store(url).list_loads().empty
    assert main(args + ["--max-rows", "5"]) == 0


# ------------------------------------------------------------------ found by the second probe

def _rewrite_sheet(src: Path, dst: Path, change) -> Path:
    """A copy of a workbook whose first sheet's XML is passed through ``change``."""
    with zipfile.ZipFile(src) as zi, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zo:
        for item in zi.infolist():
            data = zi.read(item.filename)
            zo.writestr(item, change(data) if item.filename == "xl/worksheets/sheet1.xml" else data)
    return dst


def _workbook(path: Path, rows: list[list]) -> Path:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


@pytest.mark.parametrize("dimension", [b"A1:B3", b"A1:A6", b"A1:XFD1048576"])
def test_an_xlsx_is_read_whole_whatever_size_it_declares(tmp_path, dimension):
    """A sheet's <dimension> record may lie: too small dropped rows and columns, huge padded a million rows."""
    import re
    src = _workbook(tmp_path / "a.xlsx", [["id", "note", "email"]] + [[i, f"n{i}", f"e{i}@x.vn"] for i in range(5)])
    path = _rewrite_sheet(src, tmp_path / "b.xlsx",
                          lambda xml: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="' + dimension + b'"', xml))
    frame, _ = _timed(read_file, path)[0]
    assert list(frame.columns) == ["id", "note", "email"] and frame["email"].tolist() == [f"e{i}@x.vn" for i in range(5)]


def test_blank_rows_in_an_xlsx_are_skipped_not_refused(tmp_path, monthly):
    path = _workbook(tmp_path / "a.xlsx", [["id", "note"], [1, "a"], [None, None], [2, "b"], [None, None]])
    frame, _ = read_file(path)
    assert frame["note"].tolist() == ["a", "b"] and frame.index.tolist() == [2, 4]  # the sheet's own rows
    answers = make_answers(monthly, 8, seed=3)
    answers.to_excel(tmp_path / "m.xlsx", index=False)
    book = openpyxl.load_workbook(tmp_path / "m.xlsx")
    book.active.insert_rows(4)  # one blank row between answers, as staff leave them
    book.save(tmp_path / "m.xlsx")
    result = ingest_file(tmp_path / "m.xlsx", monthly, "2025-11", db=f"sqlite:///{tmp_path / 's.sqlite'}")
    assert result.rows_read == 8 and result.accepted + result.quarantined == 8


def test_an_xlsx_formula_without_a_value_is_refused_not_read_as_empty(tmp_path, monthly):
    """A workbook written by a program holds formulas with no computed value: never an empty answer."""
    answers = make_answers(monthly, 6, seed=8)
    path = tmp_path / "f.xlsx"
    answers.to_excel(path, index=False)
    book = openpyxl.load_workbook(path)
    column = list(answers.columns).index("severity") + 1
    book.active.cell(row=3, column=column, value="=1+1")
    book.save(path)
    result = ingest_file(path, monthly, "2025-11", db=f"sqlite:///{tmp_path / 's.sqlite'}")
    formula = result.problems[result.problems.reason == "formula_without_value"]
    assert formula["row"].tolist() == [3] and formula["column"].tolist() == ["severity"]
    assert result.rows_read == 6 and result.accepted + result.quarantined == 6


def test_an_xlsx_with_far_more_shared_text_than_cells_is_refused_before_parsing(tmp_path, monkeypatch):
    src = _workbook(tmp_path / "a.xlsx", [["id", "note"], [1, "a"]])
    with zipfile.ZipFile(src) as zi, zipfile.ZipFile(tmp_path / "b.xlsx", "w", zipfile.ZIP_DEFLATED) as zo:
        for item in zi.infolist():
            zo.writestr(item, zi.read(item.filename))
        strings = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' + \
            b"<si><t>" + bytes(np.random.default_rng(0).integers(97, 123, 30_000_000, dtype=np.uint8)) + \
            b"</t></si></sst>"  # random letters: packed only 1.6 times, under the zip-bomb check
        zo.writestr("xl/sharedStrings.xml", strings)
    monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: (_ for _ in ()).throw(AssertionError("parsed")))
    with pytest.raises(IngestError, match="far more text than its cells can use"):
        read_file(tmp_path / "b.xlsx")


def test_the_cell_limit_holds_for_a_cell_spanning_many_lines(tmp_path, monthly):
    answers = make_answers(monthly, 10, seed=5)
    answers["description"] = answers["description"].astype(object)
    answers.loc[2, "description"] = ("y" * 99 + "\n") * 1_000  # 100,000 characters in 100-character lines
    path = to_kobo_csv(answers, monthly, tmp_path / "k.csv", uuids=[f"u-{i}" for i in range(10)])
    result = ingest_file(path, monthly, "2025-11", db=f"sqlite:///{tmp_path / 's.sqlite'}")
    assert result.problems[result.problems.reason == "cell_too_long"]["row"].tolist() == [4]


def test_a_file_replaced_while_it_loads_is_refused_and_nothing_is_stored(tmp_path, monthly, monkeypatch):
    """The audit log's checksum and archive must be those of the rows stored."""
    import os
    import survey.ingest.ingest as ingest_module
    path = to_kobo_csv(make_answers(monthly, 60, seed=1), monthly, tmp_path / "k.csv",
                       uuids=[f"old-{i}" for i in range(60)])
    other = to_kobo_csv(make_answers(monthly, 60, seed=2), monthly, tmp_path / "new.csv",
                        uuids=[f"new-{i}" for i in range(60)])
    real, calls = ingest_module._prepare_chunk, []

    def swap_after_the_first_chunk(*args, **kwargs):
        real(*args, **kwargs)
        calls.append(1)
        if len(calls) == 1:
            os.replace(other, path)  # as a sync client or a browser finishing a download does
    monkeypatch.setattr(ingest_module, "_prepare_chunk", swap_after_the_first_chunk)
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    with pytest.raises(IngestError, match="changed while it was being loaded"):
        ingest_file(path, monthly, "2025-11", db=url, chunksize=20)
    assert Store(url).list_loads().empty


def test_the_store_itself_is_never_an_output(tmp_path, monthly, capsys):
    from survey.cli import main
    store_file = tmp_path / "store.csv"  # a SQLite store whose name ends like a report
    url = f"sqlite:///{store_file}"
    path = _kobo(tmp_path, monthly, 5)
    assert main(["ingest", str(path), "--survey", "monthly_difficulties", "--period", "2025-11", "--db", url]) == 0
    assert main(["ingest", str(path), "--survey", "monthly_difficulties", "--period", "2025-11", "--db", url,
                 "--report", str(store_file), "--force", "--lang", "en"]) == 1
    assert "input is never overwritten" in capsys.readouterr().err
    assert len(Store(url).list_loads()) == 1  # still a store, with its one load


def test_errors_on_the_console_carry_no_escape_codes(tmp_path, capsys):
    from survey.cli import main
    path = tmp_path / "e.csv"
    path.write_text("a,\x1b[31mb\x1b[0m,\x1b[31mb\x1b[0m\n1,2,3\n", encoding="utf-8")
    assert main(["ingest", str(path), "--survey", "monthly_difficulties", "--period", "2025-11",
                 "--db", f"sqlite:///{tmp_path / 's.sqlite'}", "--lang", "en"]) == 1
    err = capsys.readouterr().err
    assert "same name" in err and "\x1b" not in err


def test_a_firm_text_with_control_characters_does_not_stop_the_digest(tmp_path):
    from survey.reports.common import safe_cells
    cells = safe_cells(pd.DataFrame({"t": ["dòng 1\x0bdòng 2", "\x1b[2Jxoá", "=1+1"]}))["t"].tolist()
    assert cells == ["dòng 1dòng 2", "[2Jxoá", "'=1+1"]


def test_kobo_option_columns_that_contradict_the_whole_column_are_refused_not_dropped(tmp_path, monthly):
    answers = make_answers(monthly, 12, seed=4)
    path = to_kobo_csv(answers, monthly, tmp_path / "k.csv", uuids=[f"u-{i}" for i in range(12)])
    frame = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)
    chosen = frame["difficulties/difficulty_types"] != ""
    row = int(np.flatnonzero(chosen.to_numpy())[0])
    option = "difficulties/difficulty_types/1"
    frame.loc[row, option] = "0" if frame.loc[row, option] == "1" else "1"  # staff edited one 0/1 cell
    frame.to_csv(path, sep=";", index=False)
    result = ingest_file(path, monthly, "2025-11", db=f"sqlite:///{tmp_path / 's.sqlite'}")
    problem = result.problems[result.problems.reason == "options_disagree"]
    assert problem["row"].tolist() == [row + 2] and problem["question"].tolist() == ["difficulty_types"]
    assert result.accepted + result.quarantined == 12 and result.quarantined >= 1


@pytest.mark.parametrize("offset", [553, 749, 896, 973])
def test_an_spss_file_that_crashes_the_reader_is_a_clear_error(tmp_path, monthly, offset):
    """One flipped byte in a .sav's dictionary made ReadStat (C) crash the whole process with a
    segmentation fault (found by fuzzing); the dictionary is now read in a child process first."""
    data = bytearray(to_sav(make_answers(monthly, 30, seed=5), monthly, tmp_path / "m.sav").read_bytes())
    data[offset] ^= 0xFF
    (tmp_path / "d.sav").write_bytes(bytes(data))
    with pytest.raises(IngestError, match="damaged"):
        read_file(tmp_path / "d.sav")


@pytest.mark.parametrize("whole_column", [True, False], ids=["with the whole column", "option columns only"])
def test_option_columns_in_another_order_than_their_codes_give_the_answers_in_code_order(tmp_path, monthly,
                                                                                        whole_column):
    """A form may list its choices out of code order (e.g. "0 = none" last), and its export then has the
    option columns in that order. The answer is the chosen codes in code order either way ("1 10", not
    "10 1"); with the whole column beside them, the two agree and no row is refused for it."""
    answers = make_answers(monthly, 60, seed=6)
    path = to_kobo_csv(answers, monthly, tmp_path / "k.csv", uuids=[f"u-{i}" for i in range(60)])
    frame = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)
    whole = "difficulties/difficulty_types"
    options = [c for c in frame.columns if c.startswith(whole + "/")]
    columns = list(frame.columns)
    for place, column in zip([columns.index(c) for c in options], reversed(options)):
        columns[place] = column  # the option columns from code 10 down to code 1
    frame = frame[columns] if whole_column else frame[columns].drop(columns=[whole])
    frame.to_csv(path, sep=";", index=False)
    result = ingest_file(path, monthly, "2025-11", db=f"sqlite:///{tmp_path / 's.sqlite'}")
    assert result.quarantined == 0 and "options_disagree" not in set(result.problems.get("reason", []))
    stored = load_responses(monthly, "2025-11", "2025-11", store=Store(f"sqlite:///{tmp_path / 's.sqlite'}"))
    got = stored.set_index("response_key")["difficulty_types"].reindex([f"u-{i}" for i in range(60)])
    expected = answers["difficulty_types"]  # the fixture's answers: codes ascending, space-separated
    assert [g if isinstance(g, str) else None for g in got] == [e if isinstance(e, str) and e else None
                                                                for e in expected]
    assert any(" " in e for e in expected if isinstance(e, str))  # answers of several codes are in the test


def test_a_wide_sav_is_read_in_chunks_of_a_bounded_number_of_cells(tmp_path, monkeypatch):
    """A chunk of a .sav holds at most SAV_CHUNK_CELLS cells: fewer rows per chunk for more columns
    (6 columns, 60 cells: 10 rows), the asked chunk size for narrow files; every row read once, in order."""
    import survey.ingest.readers as readers

    assert readers.sav_chunk_rows(20_000, 300) == 10_000 and readers.sav_chunk_rows(20_000, 42) == 20_000
    monkeypatch.setattr(readers, "SAV_CHUNK_CELLS", 60)
    wide = pd.DataFrame({f"v{j}": np.arange(45) * 10 + j for j in range(6)})
    path = _write(wide, "sav", tmp_path / "wide.sav")
    pieces = list(iter_chunks(path, chunksize=20))
    assert [len(p) for p, _ in pieces] == [10, 10, 10, 10, 5]
    assert pd.concat([p for p, _ in pieces])["v3"].tolist() == (np.arange(45) * 10 + 3).tolist()
    narrow = _write(wide[["v0", "v1"]], "sav", tmp_path / "narrow.sav")  # 2 columns: 30 rows would fit
    assert [len(p) for p, _ in iter_chunks(narrow, chunksize=20)] == [20, 20, 5]


def test_a_sav_of_more_than_half_a_chunk_s_cells_comes_in_two_chunks_at_least(tmp_path, monkeypatch):
    """So that the second half is read while the first is checked (10,000 x 300: two chunks of 5,000)."""
    import survey.ingest.readers as readers

    assert readers.sav_chunk_rows(20_000, 300, 10_000) == 5_000
    assert readers.sav_chunk_rows(20_000, 300, 9_999) == 5_000  # 2,999,700 cells: halves of 5,000 and 4,999
    assert readers.sav_chunk_rows(20_000, 300, 100_000) == 10_000  # many chunks already
    assert readers.sav_chunk_rows(20_000, 42, 20_000) == 20_000  # 840,000 cells: one chunk
    assert readers.sav_chunk_rows(20_000, 300, None) == 10_000  # rows not said in the file
    monkeypatch.setattr(readers, "SAV_CHUNK_CELLS", 60)
    frame = pd.DataFrame({f"v{j}": np.arange(9) * 10 + j for j in range(6)})  # 54 cells of at most 60
    pieces = list(iter_chunks(_write(frame, "sav", tmp_path / "w.sav"), chunksize=20))
    assert [len(p) for p, _ in pieces] == [5, 4]
    assert pd.concat([p for p, _ in pieces])["v5"].tolist() == (np.arange(9) * 10 + 5).tolist()
    small = _write(frame.iloc[:4], "sav", tmp_path / "s.sav")  # 24 cells: not more than half of 60
    assert [len(p) for p, _ in iter_chunks(small, chunksize=20)] == [4]
