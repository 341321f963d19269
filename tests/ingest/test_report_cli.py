"""The load report (CSV/XLSX, vi/en, formula-safe) and the ingest and loads commands."""
from __future__ import annotations

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
    assert list(table.columns) == ["Dòng", "Cột", "Câu hỏi", "Giá trị", "Vấn đề", "Mã phiếu", "Mã lỗi"]
    row = table[table["Mã lỗi"] == "unknown_code"].iloc[0]
    assert row["Dòng"] == 3 and row["Cột"] == "profile/locality"
    assert row["Vấn đề"] == "Giá trị '55' không có trong danh sách lựa chọn của câu 'locality'"


def test_xlsx_report_in_english_neutralises_formulas(tmp_path, loaded):
    result, _ = loaded
    path = write_report(result, tmp_path / "r.xlsx", "en")
    sheets = pd.read_excel(path, sheet_name=None)
    assert list(sheets) == ["Summary", "Problems"]
    summary = dict(zip(sheets["Summary"].iloc[:, 0], sheets["Summary"].iloc[:, 1]))
    assert summary["Rows read"] == 6
    assert summary["Accepted"] + summary["Quarantined"] + summary["Already present"] == 6
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
    args = ["ingest", str(path), "--survey", "monthly_difficulties", "--period", "2025-11", "--db", db,
            "--lang", "en", "--report", str(tmp_path / "r.xlsx")]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Rows read: 8 | accepted: 8 | quarantined: 0 | already present: 0" in out
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
    assert "e.csv" in err and "the file is empty" in err


def test_personal_values_are_masked_in_load_reports(tmp_path, monthly):
    answers = make_answers(monthly, 4, seed=13).astype({"contact_phone": object})
    answers.loc[1, "contact_phone"] = "0912-ABC"  # breaks the phone rule: a problem on a personal field
    result = ingest_file(to_kobo_csv(answers, monthly, tmp_path / "k.csv"), monthly, "2025-11",
                         store=Store(f"sqlite:///{tmp_path / 's.sqlite'}"))
    assert result.quarantined == 1
    table = pd.read_csv(write_report(result, tmp_path / "r.csv", "en"), encoding="utf-8-sig")
    assert "0912-ABC" not in table.to_string() and "(personal data)" in table["Value"].tolist()
    shown = pd.read_csv(write_report(result, tmp_path / "r2.csv", "en", include_personal=True), encoding="utf-8-sig")
    assert "0912-ABC" in shown["Value"].tolist()
