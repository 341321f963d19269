"""Issue 15: ingest for the exports staff really get.

A wrong optional field keeps the firm's complaint (accepted with corrections); a load can be
removed or replaced; a wrong period, encoding or separator is caught before anything is stored;
the console summary names the right question and rule in words; ids under the names real tools
use; the store in one per-user place; messages in Vietnamese; no traceback on a closed pipe.
Expected values are written by hand from the files the tests build.
"""
from __future__ import annotations

import io
import sqlite3
import warnings

import pandas as pd
import pytest

from survey import jobs
from survey.cli import main
from survey.errors import IngestError, StoreError
from survey.ingest import PeriodWarning, console_summary, ingest_file
from survey.store import Store, load_responses
from tests.fixtures import make_answers, to_kobo_csv, to_label_csv

MONTHLY = "monthly_difficulties"


@pytest.fixture(autouse=True)
def _vietnamese_and_no_store_from_the_environment(monkeypatch):
    monkeypatch.delenv("PGI_LANG", raising=False)
    monkeypatch.delenv("PGI_SURVEY_DB", raising=False)
    monkeypatch.delenv("PGI_DB", raising=False)


@pytest.fixture()
def store(tmp_path):
    s = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    yield s
    s.dispose()


def complaints(monthly, n=6, seed=21):
    """``n`` answers where every firm had a difficulty and wrote it down (a complaint to keep)."""
    answers = make_answers(monthly, 40, seed=seed)
    answers = answers[answers["had_difficulty"] == 1].head(n).reset_index(drop=True).astype(object)
    assert len(answers) == n and answers["description"].notna().all()
    return answers


def count_rows(store: Store, table: str) -> int:
    with sqlite3.connect(store.file) as conn:
        return conn.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]


# ------------------------------------------------------------------ 1. field-level repair

def test_a_bad_phone_keeps_the_complaint(tmp_path, any_store, monthly):
    store = any_store
    answers = complaints(monthly)
    answers.loc[2, "contact_phone"] = "0912-345-678"  # dashes: breaks the phone rule, not critical
    path = to_kobo_csv(answers, monthly, tmp_path / "k.csv")
    result = ingest_file(path, monthly, "2025-11", store=store)
    assert (result.rows_read, result.accepted, result.corrected, result.quarantined, result.already_present) \
        == (6, 5, 1, 0, 0)
    stored = load_responses(monthly, store=store).set_index("response_key")
    assert len(stored) == 6
    kept = stored.loc["uuid-00002"]
    assert kept["description"] == answers.loc[2, "description"]  # the complaint is there
    assert pd.isna(kept["contact_phone"])  # the wrong phone is not
    corrections = store.read_corrections(result.load_id)
    assert corrections[["row_number", "response_key", "question", "value", "reason"]].values.tolist() == [
        [4, "uuid-00002", "contact_phone", "0912-345-678", "constraint"]]  # row 4: header, then rows 0, 1, 2
    problem = result.problems.iloc[0]
    assert (problem["question"], problem["action"]) == ("contact_phone", "corrected")


def test_a_bad_critical_answer_still_quarantines_the_response(tmp_path, store, monthly):
    answers = complaints(monthly)
    answers.loc[1, "severity"] = 7.0  # not a severity code; severity is critical (the digest counts it)
    answers.loc[3, "contact_email"] = "khong-co-email"  # not critical: corrected
    result = ingest_file(to_kobo_csv(answers, monthly, tmp_path / "k.csv"), monthly, "2025-11", store=store)
    assert (result.accepted, result.corrected, result.quarantined) == (4, 1, 1)
    assert store.read_quarantine()["response_key"].tolist() == ["uuid-00001"]


def test_a_correction_that_breaks_another_rule_is_checked_again(tmp_path, store, monthly):
    # main_difficulty is not critical; once a wrong one is set to missing, nothing else fails
    answers = complaints(monthly, n=6, seed=5)
    two = answers["difficulty_types"].map(lambda v: len(str(v).split()) > 1)
    row = int(two.idxmax())
    assert two[row]
    chosen = {int(c) for c in answers.loc[row, "difficulty_types"].split()}
    answers.loc[row, "main_difficulty"] = float(next(c for c in range(1, 11) if c not in chosen))
    result = ingest_file(to_kobo_csv(answers, monthly, tmp_path / "k.csv"), monthly, "2025-11", store=store)
    assert (result.accepted, result.corrected, result.quarantined) == (5, 1, 0)
    assert result.problems["question"].tolist() == ["main_difficulty"]


def test_the_counts_of_a_wave_are_available_for_the_digest(tmp_path, any_store, monthly):
    store = any_store  # June 2025: the district list the fixture answers in (July on: communes and wards)
    answers = complaints(monthly)
    answers.loc[0, "contact_phone"] = "0912-345-678"
    answers.loc[1, "severity"] = 7.0
    path = to_kobo_csv(answers, monthly, tmp_path / "k.csv")
    jobs.load_export(store, path, MONTHLY, "2025-06")
    jobs.load_export(store, path, MONTHLY, "2025-06")  # again: everything already present
    counts = jobs.load_counts(store, MONTHLY, "2025-06").value
    assert (counts.loads, counts.read, counts.accepted, counts.corrected, counts.quarantined,
            counts.already_present) == (2, 12, 4, 1, 1, 6)
    assert counts.read == counts.accepted + counts.corrected + counts.quarantined + counts.already_present
    assert store.list_loads()["corrected"].tolist() == [0, 1]


# ------------------------------------------------------------------ 2. undo and replace

def test_remove_then_reload_succeeds_and_the_log_keeps_who_and_why(tmp_path, store, monthly, capsys):
    path = to_kobo_csv(complaints(monthly), monthly, tmp_path / "k.csv")
    first = ingest_file(path, monthly, "2025-12", store=store, user="lan")  # the wrong month
    db = f"sqlite:///{store.file}"
    assert main(["loads", "remove", str(first.load_id), "--reason", "sai kỳ", "--db", db]) == 0
    assert f"Đã gỡ lần nạp #{first.load_id}" in capsys.readouterr().out
    assert load_responses(monthly, store=store).empty
    again = ingest_file(path, monthly, "2025-11", store=store)  # once refused as "loaded as 2025-12"
    assert (again.accepted, again.already_present) == (6, 0)
    log = store.list_loads().set_index("load")
    assert log.loc[first.load_id, "removed_reason"] == "sai kỳ" and log.loc[first.load_id, "removed_by"]
    assert pd.isna(log.loc[again.load_id, "removed_at"])
    with pytest.raises(StoreError) as err:
        jobs.remove_load(store, first.load_id)
    assert err.value.code == "store.load_removed"


def test_replace_swaps_a_load_in_one_transaction(tmp_path, any_store, monthly):
    store = any_store
    answers = complaints(monthly)
    first = ingest_file(to_kobo_csv(answers, monthly, tmp_path / "a.csv"), monthly, "2025-06", store=store)
    fixed = answers.copy()
    fixed["description"] = fixed["description"] + " (đã sửa)"  # same ids, other answers
    fixed_path = to_kobo_csv(fixed, monthly, tmp_path / "b.csv")
    conflict = ingest_file(fixed_path, monthly, "2025-06", store=store)
    assert conflict.quarantined == 6  # without --replace: "same id, different answers"
    jobs.remove_load(store, conflict.load_id, reason="thử lại")
    result = jobs.load_export(store, fixed_path, MONTHLY, "2025-06", replace=first.load_id,
                              reason="mã hóa sai").value
    assert (result.accepted, result.quarantined, result.already_present) == (6, 0, 0)
    assert result.replaced["load"] == first.load_id and result.replaced["responses"] == 6
    stored = load_responses(monthly, store=store)
    assert len(stored) == 6 and stored["description"].str.endswith("(đã sửa)").all()
    log = store.list_loads().set_index("load")
    assert log.loc[first.load_id, "replaced_by"] == result.load_id
    assert log.loc[first.load_id, "removed_reason"] == "mã hóa sai"


def test_a_failed_replacement_changes_nothing(tmp_path, any_store, monthly):
    store = any_store
    first = ingest_file(to_kobo_csv(complaints(monthly), monthly, tmp_path / "a.csv"), monthly, "2025-11",
                        store=store)
    (tmp_path / "empty.csv").write_text("a,b\n", encoding="utf-8")
    with pytest.raises(IngestError):
        ingest_file(tmp_path / "empty.csv", monthly, "2025-11", store=store, replace=first.load_id)
    assert len(load_responses(monthly, store=store)) == 6
    assert store.list_loads()["removed_at"].isna().all()


def test_replacing_an_unknown_load_is_refused(tmp_path, store, monthly):
    path = to_kobo_csv(complaints(monthly), monthly, tmp_path / "a.csv")
    with pytest.raises(StoreError) as err:
        ingest_file(path, monthly, "2025-11", store=store, replace=99)
    assert err.value.code == "store.no_load" and count_rows(store, "loads") == 0


# ------------------------------------------------------------------ 3. guards before anything is stored

def test_a_november_file_loaded_as_december_warns(tmp_path, store, monthly, capsys):
    path = to_kobo_csv(complaints(monthly), monthly, tmp_path / "k.csv")  # submitted 2025-11-20
    with pytest.warns(PeriodWarning, match="6 of 6 submissions"):
        result = ingest_file(path, monthly, "2025-12", store=store)
    assert result.warnings[0][0] == "ingest.warning.period_outside"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the right month: no warning at all
        ingest_file(to_kobo_csv(complaints(monthly, seed=3), monthly, tmp_path / "n.csv"), monthly, "2025-11",
                    store=Store(f"sqlite:///{tmp_path / 'other.sqlite'}"))


def test_strict_refuses_the_wrong_month_before_storing(tmp_path, monthly, capsys):
    path = to_kobo_csv(complaints(monthly), monthly, tmp_path / "k.csv")
    db = tmp_path / "s.sqlite"
    code = main(["ingest", str(path), "--survey", MONTHLY, "--period", "2025-12", "--strict",
                 "--db", f"sqlite:///{db}"])
    err = capsys.readouterr().err
    assert code == 1 and "6 trong 6 phiếu (100%) được nộp ngoài kỳ 2025-12" in err and "2025-11" in err
    assert count_rows(Store(f"sqlite:///{db}"), "loads") == 0


def test_a_latin9_decoded_utf8_file_is_refused_with_the_right_suggestion(tmp_path, monthly, capsys):
    path = to_label_csv(complaints(monthly), monthly, tmp_path / "nhan.csv")  # UTF-8, Vietnamese labels
    db = tmp_path / "s.sqlite"
    code = main(["ingest", str(path), "--survey", MONTHLY, "--period", "2025-11", "--encoding", "latin9",
                 "--db", f"sqlite:///{db}"])
    err = capsys.readouterr().err
    assert code == 1 and "--encoding utf-8" in err and "tệp không phải văn bản latin9" in err
    assert "Ã" in err  # what the wrong encoding would have stored, shown beside the right reading
    assert count_rows(Store(f"sqlite:///{db}"), "loads") == 0


def test_a_windows_1258_file_read_as_latin9_is_refused(tmp_path, monthly):
    path = to_label_csv(complaints(monthly), monthly, tmp_path / "nhan.csv", encoding="cp1258")
    with pytest.raises(IngestError) as err:
        ingest_file(path, monthly, "2025-11", db=f"sqlite:///{tmp_path / 's.sqlite'}", encoding="latin9")
    assert err.value.code == "ingest.wrong_encoding" and err.value.params["suggested"] == "cp1258"
    result = ingest_file(path, monthly, "2025-11", db=f"sqlite:///{tmp_path / 's.sqlite'}")  # detected: fine
    assert result.accepted == 6


def test_a_separator_that_is_not_in_the_header_is_named(tmp_path, monthly, capsys):
    path = to_kobo_csv(complaints(monthly), monthly, tmp_path / "k.csv", sep=",")
    code = main(["ingest", str(path), "--survey", MONTHLY, "--period", "2025-11", "--sep", "|",
                 "--db", f"sqlite:///{tmp_path / 's.sqlite'}"])
    err = capsys.readouterr().err
    assert code == 1 and "dấu phân cách '|' không có trong dòng đầu" in err and "--sep ','" in err
    assert err.count("\n") <= 3  # one message, not a line per missing column


def test_a_bad_report_name_is_refused_before_the_load(tmp_path, monthly, capsys):
    path = to_kobo_csv(complaints(monthly), monthly, tmp_path / "k.csv")
    db = tmp_path / "s.sqlite"
    assert main(["ingest", str(path), "--survey", MONTHLY, "--period", "2025-11", "--report",
                 str(tmp_path / "loi.docx"), "--db", f"sqlite:///{db}"]) == 1
    assert ".docx" in capsys.readouterr().err
    assert count_rows(Store(f"sqlite:///{db}"), "loads") == 0


def test_digest_refuses_a_year_as_a_month(tmp_path, capsys):
    assert main(["digest", "--period", "2025", "--db", f"sqlite:///{tmp_path / 's.sqlite'}"]) == 1
    assert "YYYY-MM" in capsys.readouterr().err


# ------------------------------------------------------------------ 4. a correct summary

def test_the_summary_names_the_right_question_for_each_problem(tmp_path, store, monthly):
    answers = complaints(monthly, n=6)
    answers.loc[0, "contact_phone"] = "0912-345-678"
    answers.loc[1, "contact_phone"] = "0912 ABC"
    answers.loc[2, "contact_phone"] = "12"
    answers.loc[3, "contact_phone"] = "+84-912"
    answers.loc[4, "cost_estimate"] = "nhiều"
    result = ingest_file(to_kobo_csv(answers, monthly, tmp_path / "k.csv"), monthly, "2025-11", store=store)
    out = console_summary(result, "vi")
    lines = out.split("\n")
    [phone] = [n for n, line in enumerate(lines) if "(contact_phone):" in line]
    [cost] = [n for n, line in enumerate(lines) if "(cost_estimate):" in line]
    assert lines[phone].strip().startswith(
        "4 × câu «Số điện thoại» (contact_phone): số điện thoại phải có 8–15 chữ số")
    assert "dòng 2: '(dữ liệu cá nhân)'; dòng 3:" in lines[phone + 1] and "(+1 dòng khác)" in lines[phone + 1]
    assert lines[phone + 1].count("dòng ") == 4  # three examples, then the count of the others
    assert lines[cost].strip().startswith("1 × câu «Chi phí phát sinh ước tính do khó khăn này (triệu đồng)»")
    assert "không phải là số" in lines[cost] and "dòng 6: 'nhiều'" in lines[cost + 1]
    assert "regex(" not in out and "selected(" not in out and "difficulty_types" not in out


def test_no_raw_expression_in_the_report_either(tmp_path, store, monthly):
    from survey.ingest import write_report

    answers = complaints(monthly, n=6, seed=5)
    two = answers["difficulty_types"].map(lambda v: len(str(v).split()) > 1)
    row = int(two.idxmax())
    chosen = {int(c) for c in answers.loc[row, "difficulty_types"].split()}
    answers.loc[row, "main_difficulty"] = float(next(c for c in range(1, 11) if c not in chosen))
    answers.loc[0, "contact_email"] = "khong-co"
    result = ingest_file(to_kobo_csv(answers, monthly, tmp_path / "k.csv"), monthly, "2025-11", store=store)
    table = pd.read_csv(write_report(result, tmp_path / "r.csv", "vi"), encoding="utf-8-sig")
    text = " ".join(table["Vấn đề"])
    assert "khó khăn lớn nhất phải là một trong các khó khăn đã chọn" in text
    assert "email phải có dạng" in text
    assert "regex(" not in text and "selected(" not in text


def test_the_report_shows_what_the_firm_typed_and_its_summary_has_headers(tmp_path, store, monthly):
    import openpyxl
    from survey.ingest import write_report

    answers = complaints(monthly, n=6, seed=5)
    two = answers["difficulty_types"].map(lambda v: len(str(v).split()) > 1)
    row = int(two.idxmax())
    chosen = {int(c) for c in answers.loc[row, "difficulty_types"].split()}
    other = next(c for c in range(1, 10) if c not in chosen)
    answers.loc[row, "main_difficulty"] = float(other)  # written as its label in the file
    label = next(c.label.vi for c in monthly.choices("main_difficulty") if c.code == other)
    result = ingest_file(to_label_csv(answers, monthly, tmp_path / "nhan.csv"), monthly, "2025-11", store=store)
    book = openpyxl.load_workbook(write_report(result, tmp_path / "r.xlsx", "vi"))
    first = [c.value for c in next(book["Tóm tắt"].iter_rows(max_row=1))]
    assert first == ["Mục", "Giá trị"]  # not a blank row
    values = [row[3].value for row in book["Vấn đề"].iter_rows(min_row=2)]
    assert values == [label]  # the label the firm chose, not its code


# ------------------------------------------------------------------ 5. ids and places

@pytest.mark.parametrize("name", ["uuid", "instanceID", "meta/instanceID", "KEY", "ResponseId"])
def test_ids_under_the_names_real_tools_use(tmp_path, store, monthly, name):
    answers = complaints(monthly, n=4)
    answers = pd.concat([answers, answers.iloc[[0]]], ignore_index=True)  # two firms answering alike
    frame = pd.read_csv(to_kobo_csv(answers, monthly, tmp_path / "k.csv"), sep=";", dtype=str,
                        keep_default_na=False).drop(columns=["_uuid", "_id"])
    frame[name] = [f"id-{i}" for i in range(len(frame))]
    frame.to_csv(tmp_path / "x.csv", index=False)
    result = ingest_file(tmp_path / "x.csv", monthly, "2025-11", store=store)
    assert result.id_column == name and (result.accepted, result.quarantined) == (5, 0)
    assert sorted(load_responses(monthly, store=store)["response_key"]) == [f"id-{i}" for i in range(5)]


def test_an_id_column_may_be_named(tmp_path, store, monthly, capsys):
    answers = complaints(monthly, n=3)
    frame = pd.read_csv(to_kobo_csv(answers, monthly, tmp_path / "k.csv"), sep=";", dtype=str,
                        keep_default_na=False).drop(columns=["_uuid"])
    frame["ma_phieu"] = ["A1", "A2", "A3"]
    frame.to_csv(tmp_path / "x.csv", index=False)
    result = ingest_file(tmp_path / "x.csv", monthly, "2025-11", store=store, id_column="ma_phieu")
    assert sorted(load_responses(monthly, store=store)["response_key"]) == ["A1", "A2", "A3"]
    assert "ma_phieu" not in result.unknown_columns
    with pytest.raises(IngestError) as err:
        ingest_file(tmp_path / "x.csv", monthly, "2025-11", store=store, id_column="khong_co")
    assert err.value.code == "ingest.no_id_column"


def test_the_default_store_is_one_per_user_folder_and_is_said(tmp_path, monkeypatch, capsys):
    from survey.store import default_url

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "home" / "data"))
    monkeypatch.chdir(tmp_path)
    expected = tmp_path / "home" / "data" / "pgi-survey" / "pgi_survey.sqlite"
    assert default_url() == f"sqlite:///{expected}"
    assert main(["loads"]) == 0
    captured = capsys.readouterr()
    assert f"Kho dữ liệu: {expected}" in captured.err and "Chưa có lần nạp nào" in captured.out
    assert not expected.exists() and not (tmp_path / "data").exists()  # listing creates no store anywhere
    monkeypatch.setenv("PGI_SURVEY_DB", str(tmp_path / "chung.sqlite"))
    assert default_url() == f"sqlite:///{tmp_path / 'chung.sqlite'}"
    assert Store("rieng.sqlite").file == tmp_path / "rieng.sqlite"  # --db may be a plain file path


def test_a_report_is_never_written_over_silently(tmp_path, store, monthly):
    from survey.errors import OutputError

    path = to_kobo_csv(complaints(monthly), monthly, tmp_path / "k.csv")
    (tmp_path / "loi.xlsx").write_bytes(b"last month")
    with pytest.raises(OutputError):
        jobs.load_export(store, path, MONTHLY, "2025-11", report=tmp_path / "loi.xlsx")
    assert (tmp_path / "loi.xlsx").read_bytes() == b"last month" and store.list_loads().empty


# ------------------------------------------------------------------ 6. messages

def test_a_bad_survey_id_lists_the_known_ids_without_a_path(tmp_path, capsys):
    (tmp_path / "k.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    assert main(["ingest", str(tmp_path / "k.csv"), "--survey", "monthly", "--period", "2025-11",
                 "--db", f"sqlite:///{tmp_path / 's.sqlite'}"]) == 1
    err = capsys.readouterr().err
    assert "không có bảng hỏi 'monthly'" in err and "monthly_difficulties, pgi_feedback" in err
    assert ".yaml" not in err


def test_official_import_of_a_missing_file_says_so(tmp_path, capsys):
    assert main(["official", "import", str(tmp_path / "khong_co.csv"), "--year", "2024",
                 "--db", f"sqlite:///{tmp_path / 's.sqlite'}"]) == 1
    err = capsys.readouterr().err
    assert "khong_co.csv: không tìm thấy tệp" in err and "Errno" not in err


def test_ingest_help_and_new_options_are_in_vietnamese(capsys):
    with pytest.raises(SystemExit):
        main(["ingest", "--help"])
    out = capsys.readouterr().out
    assert "thay lần nạp số N bằng tệp này" in out and "cột chứa mã phiếu" in out


def test_a_closed_pipe_ends_quietly(tmp_path, monthly, monkeypatch, capsys):
    path = to_kobo_csv(complaints(monthly), monthly, tmp_path / "k.csv")

    class ClosedPipe(io.StringIO):
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr("sys.stdout", ClosedPipe())
    code = main(["ingest", str(path), "--survey", MONTHLY, "--period", "2025-11",
                 "--db", f"sqlite:///{tmp_path / 's.sqlite'}"])
    assert code == 141 and "Traceback" not in capsys.readouterr().err


def test_the_xlsform_shows_the_current_year_in_words(tmp_path, monthly):
    import openpyxl
    from survey.questionnaire import write_xlsform

    book = openpyxl.load_workbook(write_xlsform(monthly, tmp_path / "f.xlsx"))
    rows = list(book["survey"].iter_rows(values_only=True))
    head = rows[0]
    year = next(r for r in rows if r[head.index("name")] == "year_established")
    assert year[head.index("constraint_message::Vietnamese (vi)")] == \
        "Giá trị phải nằm trong khoảng 1900 đến năm hiện tại"
    assert year[head.index("constraint_message::English (en)")] == "The value must be between 1900 and the current year"


def test_google_forms_timestamps_are_read_day_first(tmp_path, monthly):
    path = to_label_csv(complaints(monthly, n=4), monthly, tmp_path / "gf.csv")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.insert(0, "Dấu thời gian", ["03/11/2025 09:15:00", "05/11/2025 10:00:00", "12/11/2025 08:00:00",
                                     "28/11/2025 17:45:10"])  # 3 and 5 November, not 11 March and May
    frame.to_csv(path, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ingest_file(path, monthly, "2025-11", db=f"sqlite:///{tmp_path / 'a.sqlite'}")
    with pytest.warns(PeriodWarning, match="4 of 4 submissions"):
        ingest_file(path, monthly, "2025-10", db=f"sqlite:///{tmp_path / 'b.sqlite'}")


def test_an_spss_uuid_variable_keys_the_responses(tmp_path, store, monthly):
    import pyreadstat
    from tests.fixtures import to_sav

    answers = complaints(monthly, n=4)
    answers = pd.concat([answers, answers.iloc[[0]]], ignore_index=True)  # two firms answering alike
    frame, meta = pyreadstat.read_sav(to_sav(answers, monthly, tmp_path / "a.sav"), user_missing=True)
    frame.insert(0, "uuid", [f"8f1c-{i}" for i in range(len(frame))])
    pyreadstat.write_sav(frame, tmp_path / "b.sav", variable_value_labels=meta.variable_value_labels)
    result = ingest_file(tmp_path / "b.sav", monthly, "2025-11", store=store)
    assert result.id_column == "uuid" and (result.accepted, result.quarantined) == (5, 0)
    again = ingest_file(tmp_path / "b.sav", monthly, "2025-11", store=store)
    assert again.already_present == 5  # by id: the same responses, not new ones
    assert sorted(load_responses(monthly, store=store)["response_key"]) == [f"8f1c-{i}" for i in range(5)]
