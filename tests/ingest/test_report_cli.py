"""The load report (CSV/XLSX, vi/en, formula-safe) and the ingest and loads commands."""
from __future__ import annotations

import csv

import pandas as pd
import pytest

from survey.cli import main
from survey.ingest import ingest_file, neutralise_formula, write_report
from survey.store import Store
from tests.fixtures import make_answers, to_kobo_csv


@pytest.fixture()
def loaded(tmp_path, monthly):
    answers = make_answers(monthly, 6, seed=11).astype({"locality": object, "sector": object, "description": object})
    answers.loc[1, "locality"] = 55.0
    answers.loc[2, "sector"] = "=cmd|' /C calc'!A0"
    answers.loc[3, "had_difficulty"] = 1.0
    answers.loc[3, "description"] = "=HYPERLINK(\"http://x\")"
    answers.loc[3, "severity"] = None
    path = to_kobo_csv(answers, monthly, tmp_path / "k.csv")
    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    return ingest_file(path, monthly, "2025-11", store=store), store


def test_csv_report_in_vietnamese(tmp_path, loaded):
    result, _ = loaded
    path = write_report(result, tmp_path / "r.csv", "vi")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM so Excel shows Vietnamese
    table = pd.read_csv(path, encoding="utf-8-sig")
    assert list(table.columns) == ["Dòng", "Cột", "Câu hỏi", "Giá trị", "Vấn đề", "Mã phiếu", "Mã lỗi", "Xử lý"]
    row = table[table["Mã lỗi"] == "unknown_code"].iloc[0]
    assert row["Dòng"] == 3 and row["Cột"] == "profile/locality"
    assert row["Vấn đề"] == "Giá trị '55' không có trong danh sách lựa chọn của câu 'locality'"
    assert row["Xử lý"] == "cách ly cả phiếu"  # locality is critical: the whole response is refused


def test_xlsx_report_in_english_neutralises_formulas(tmp_path, loaded):
    result, _ = loaded
    path = write_report(result, tmp_path / "r.xlsx", "en")
    sheets = pd.read_excel(path, sheet_name=None)
    assert list(sheets) == ["Summary", "Problems"]
    summary = dict(zip(sheets["Summary"].iloc[:, 0], sheets["Summary"].iloc[:, 1]))
    assert summary["Rows read"] == 6
    assert summary["Accepted"] + summary["Accepted with corrections"] + summary["Quarantined"] \
        + summary["Already present"] == 6
    problems = sheets["Problems"]
    assert "'=cmd|' /C calc'!A0" in problems["Value"].tolist()
    import openpyxl
    ws = openpyxl.load_workbook(path)["Problems"]
    assert not any(c.data_type == "f" for row in ws.iter_rows() for c in row)  # no cell is a formula


def test_neutralise_formula():
    assert neutralise_formula("=1+1") == "'=1+1" and neutralise_formula("@SUM") == "'@SUM"
    assert neutralise_formula("-5") == "'-5" and neutralise_formula("Bắc Giang") == "Bắc Giang"
    assert neutralise_formula(5) == 5


def test_report_must_be_csv_or_xlsx(tmp_path, loaded):
    from survey.errors import ExportError
    with pytest.raises(ExportError, match="a report is .csv or .xlsx"):
        write_report(loaded[0], tmp_path / "r.pdf")


def test_cli_ingest_and_loads(tmp_path, monthly, capsys):
    db = f"sqlite:///{tmp_path / 'c.sqlite'}"
    path = to_kobo_csv(make_answers(monthly, 8, seed=12), monthly, tmp_path / "k.csv")
    args = ["ingest", str(path), "--survey", "monthly_difficulties", "--period", "2025-06", "--db", db,
            "--lang", "en", "--report", str(tmp_path / "r.xlsx")]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Rows read: 8 | accepted: 8 | accepted with corrections: 0 | quarantined: 0 | already present: 0" in out
    assert (tmp_path / "r.xlsx").exists()
    assert main(args) == 1  # the report exists: not written over without --force, and nothing loaded
    assert "--force" in capsys.readouterr().err
    assert main(args + ["--force"]) == 0
    assert "already present: 8" in capsys.readouterr().out
    assert main(["loads", "--db", db]) == 0
    log = capsys.readouterr().out
    assert log.count("monthly_difficulties") == 2 and "k.csv" in log


def test_cli_failed_load_exits_non_zero(tmp_path, capsys):
    (tmp_path / "e.csv").write_bytes(b"")
    code = main(["ingest", str(tmp_path / "e.csv"), "--survey", "monthly_difficulties", "--period", "2025-11",
                 "--db", f"sqlite:///{tmp_path / 'c.sqlite'}"])
    assert code == 1
    err = capsys.readouterr().err
    assert "e.csv" in err and "tệp trống (0 byte)" in err  # in Vietnamese unless asked (--lang en: "the file is empty")


def test_personal_values_are_masked_in_load_reports(tmp_path, monthly):
    answers = make_answers(monthly, 4, seed=13).astype({"contact_phone": object})
    answers.loc[1, "contact_phone"] = "0912-ABC"  # breaks the phone rule: a problem on a personal field
    result = ingest_file(to_kobo_csv(answers, monthly, tmp_path / "k.csv"), monthly, "2025-11",
                         store=Store(f"sqlite:///{tmp_path / 's.sqlite'}"))
    assert (result.corrected, result.quarantined) == (1, 0)  # the phone is not critical: set to missing
    table = pd.read_csv(write_report(result, tmp_path / "r.csv", "en"), encoding="utf-8-sig")
    assert "0912-ABC" not in table.to_string() and "(personal data)" in table["Value"].tolist()
    shown = pd.read_csv(write_report(result, tmp_path / "r2.csv", "en", include_personal=True), encoding="utf-8-sig")
    assert "0912-ABC" in shown["Value"].tolist()


# ----------------------------------------------------------------- hostile values in written reports (issue 19)

@pytest.fixture()
def hostile_values(tmp_path, monthly):
    """A load whose refused values hold control characters and formulas hidden behind them."""
    answers = make_answers(monthly, 5, seed=5).astype(object)
    answers.loc[0, "sector"] = "\x01=cmd|' /C calc'!A0"  # \x01 is dropped in .xlsx: the formula must not come out
    answers.loc[1, "sector"] = "\t=1+1"
    answers.loc[2, "sector"] = " =2+2"
    answers.loc[3, "sector"] = "a\tb\nc\x1b[2J"
    path = to_kobo_csv(answers, monthly, tmp_path / "h.csv")
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    rows[5][rows[0].index("profile/sector")] = "\r@SUM(A1)"  # a lone CR: pandas would not quote it
    rows[2][rows[0].index("profile/size_class")] = "3\r=1+2"  # a row break, then a formula
    with path.open("w", newline="", encoding="utf-8") as fh:  # CRLF rows: fields with a CR are quoted
        csv.writer(fh, delimiter=";", lineterminator="\r\n").writerows(
            [rows[0] + ["\x1b[2Jextra\x07"]] + [r + ["1"] for r in rows[1:]])
    return ingest_file(path, "monthly_difficulties", "2025-11", db=f"sqlite:///{tmp_path}/h.sqlite")


@pytest.mark.parametrize("value, expected", [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1+1", "'\t=1+1"), ("\r=1+1", "'\r=1+1"), ("\n=1+1", "'\n=1+1"), ("\tplain", "'\tplain"),
    (" =1+1", "' =1+1"), ("  \t @x", "'  \t @x"), ("\u00a0+1", "'\u00a0+1"), ("\x01=1", "'\x01=1"),
    ("a=1", "a=1"), (" a", " a"), ("", ""), ("Bắc Giang", "Bắc Giang"), (5, 5), (None, None),
])
def test_neutralise_formula_after_white_space_and_line_breaks(value, expected):
    assert neutralise_formula(value) == expected


def test_csv_report_neutralises_formulas_behind_white_space(tmp_path, hostile_values):
    path = write_report(hostile_values, tmp_path / "r.csv", "en")
    with path.open(newline="", encoding="utf-8-sig") as fh:  # as a spreadsheet reads it
        rows = list(csv.reader(fh))
    assert len(rows) == 1 + len(hostile_values.problems)  # a CR inside a value does not start a row
    table = pd.DataFrame(rows[1:], columns=rows[0])
    values = table.loc[table["Reason code"] == "unknown_label", "Value"].tolist()
    assert sorted(values) == sorted(["'\x01=cmd|' /C calc'!A0", "'\t=1+1", "' =2+2", "a\tb\nc\x1b[2J", "'\r@SUM(A1)",
                                     "3\r=1+2"])
    assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r", "\n") for row in rows for cell in row)


def test_xlsx_report_drops_characters_a_workbook_cannot_hold(tmp_path, hostile_values):
    import openpyxl

    path = write_report(hostile_values, tmp_path / "r.xlsx", "en")
    wb = openpyxl.load_workbook(path)
    values = [row[3].value for row in wb["Problems"].iter_rows(min_row=2) if row[6].value == "unknown_label"]
    # (XML turns the CR into LF)
    assert sorted(values) == sorted(["'=cmd|' /C calc'!A0", "'\t=1+1", "' =2+2", "a\tb\nc[2J", "'\n@SUM(A1)", "3\n=1+2"])
    summary = {row[0].value: row[1].value for row in wb["Summary"].iter_rows(min_row=2)}
    assert summary["Unknown columns (kept in the raw archive)"] == "[2Jextra"
    assert not any(c.data_type == "f" for ws in wb for row in ws.iter_rows() for c in row)
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".xlsx"] == ["r.xlsx"]  # no temporary file left


@pytest.mark.parametrize("suffix, writer", [(".csv", "to_csv"), (".xlsx", "to_excel")])
def test_a_failed_write_leaves_the_old_report_and_no_temporary_file(tmp_path, loaded, monkeypatch, suffix, writer):
    import os

    out = tmp_path / "reports"
    out.mkdir()
    path = out / f"r{suffix}"
    path.write_bytes(b"the previous report")

    def half_then_fail(self, target, *args, **kwargs):
        with open(os.fspath(target), "wb") as fh:  # to_excel gets an ExcelWriter, which is path-like
            fh.write(b"half a rep")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, writer, half_then_fail)
    with pytest.raises(Exception):  # noqa: B017 - what matters is the state of the folder afterwards
        write_report(loaded[0], path, "en")
    assert path.read_bytes() == b"the previous report"
    assert [p.name for p in out.iterdir()] == [f"r{suffix}"]


def test_xlsx_cells_are_cut_to_what_excel_holds(tmp_path, loaded):
    import dataclasses
    import warnings

    import openpyxl

    result = dataclasses.replace(loaded[0], unknown_columns=["=" + "x" * 1_000_000])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # cut on purpose, not by pandas with a "too long, truncated" warning
        path = write_report(result, tmp_path / "r.xlsx", "en")
    summary = {row[0].value: row[1].value for row in openpyxl.load_workbook(path)["Summary"].iter_rows(min_row=2)}
    cell = summary["Unknown columns (kept in the raw archive)"]
    assert len(cell) == 32_767 and cell.startswith("'=xxx")


def test_cli_loads_lists_each_load_in_its_row_with_its_status(tmp_path, monthly, capsys):
    """The terminal's audit log: one row per load, newest first, counts under their column, a removed
    load's status in words (built without pandas, so `loads` starts fast)."""
    db = f"sqlite:///{tmp_path / 'l.sqlite'}"
    first = to_kobo_csv(make_answers(monthly, 5, seed=1), monthly, tmp_path / "thang11.csv")
    second = to_kobo_csv(make_answers(monthly, 3, seed=2), monthly, tmp_path / "thang11b.csv")
    store = Store(db)
    ingest_file(first, monthly, "2025-11", store=store, user="lan")
    ingest_file(second, monthly, "2025-11", store=store, user="minh")
    store.dispose()
    assert main(["loads", "remove", "1", "--reason", "sai kỳ", "--db", db]) == 0
    capsys.readouterr()
    assert main(["loads", "--db", db]) == 0
    header, newest, oldest = capsys.readouterr().out.splitlines()
    assert header.split()[:3] == ["Lần", "nạp", "Bảng"] and header.rstrip().endswith("Tình trạng")
    assert newest.split()[:4] == ["2", "monthly_difficulties", "2025-11", "thang11b.csv"]
    assert oldest.split()[:4] == ["1", "monthly_difficulties", "2025-11", "thang11.csv"]
    assert " minh " in newest and " lan " in oldest
    assert "đã gỡ " in oldest and oldest.rstrip().endswith(": sai kỳ") and "đã gỡ" not in newest
    # columns line up: each value ends where its column's name ends
    end = header.index("Đọc") + len("Đọc")
    assert newest[end - 1] == "3" and oldest[end - 1] == "5"
