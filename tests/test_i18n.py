"""One error tree with codes, one message catalogue (vi, en), locale formats, the command line's language."""
from __future__ import annotations

import ast
import datetime as dt
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from survey import errors, i18n, outputs
from survey.cli import main
from survey.errors import (
    CheckFailedError, ExpressionError, LanguageError, MissingColumnError, QuestionnaireError, SurveyError,
    UnknownMarginError, WeightingError,
)
from survey.i18n import _, error_text, format_date, format_number, format_percent

ROOT = Path(__file__).resolve().parents[1]
SURVEY = ROOT / "survey"
SOURCES = sorted(SURVEY.rglob("*.py"))


@pytest.fixture(autouse=True)
def _no_language_from_the_environment(monkeypatch):
    monkeypatch.delenv("PGI_LANG", raising=False)


# ---------------------------------------------------------------- the catalogue


def _literal_ids() -> set[str]:
    """Every message id written literally in the code: ``_("id", ...)`` and the digest's ``_t("key", ...)``."""
    ids = set()
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        ids |= {m[1] for m in re.findall(r"""\b_\(\s*(["'])([^"'{}]+)\1""", text)}
        if path.name == "digest.py":
            ids |= {"digest." + m[1] for m in re.findall(r"""\b_t\(\s*(["'])([^"'{}]+)\1""", text)}
    return ids


def _dynamic_ids() -> set[str]:
    """The ids the code builds from a prefix and a known list."""
    from survey.ingest import REASON_CODES
    from survey.ingest import report
    from survey.reports import digest

    ids = {f"ingest.reason.{r}" for r in REASON_CODES}
    ids |= {f"ingest.report.column.{c}" for c in report._COLUMNS}
    ids |= {f"ingest.report.summary.{r}" for r in report._SUMMARY_ROWS}
    ids |= {f"digest.sector_group.{g}" for g in digest._SECTOR_GROUPS}
    ids |= {"digest.method.jackknife", "digest.method.bootstrap", "digest.title", "digest.notes"}
    ids |= {f"digest.{key}" for key in ("overview", "categories", "sector", "locality", "severity", "cases")}
    ids |= {"scoring.suppressed.not_applicable", "scoring.suppressed.too_few"}
    ids |= {f"output.kind.{kind}" for kind in outputs.KINDS}  # {kind:@output.kind} in the output errors
    return ids


def _code_constants(value: ast.expr) -> set[str]:
    """The codes a ``code=`` expression may take: a string, or either side of ``a if test else b``."""
    if isinstance(value, ast.IfExp):
        return _code_constants(value.body) | _code_constants(value.orelse)
    return {value.value} if isinstance(value, ast.Constant) and isinstance(value.value, str) else set()


def _error_codes() -> set[str]:
    """Every specific error code given when raising (``code="..."``, also ``code="a" if ... else "b"``), and
    those of the errors that were built-ins."""
    given = {m[1] for path in SOURCES for m in re.findall(r"""\bcode=(["'])([a-z0-9_.]+)\1""",
                                                          path.read_text(encoding="utf-8"))}
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                given |= {c for k in node.keywords if k.arg == "code" for c in _code_constants(k.value)}
    return given | {cls.code for cls in (LanguageError, MissingColumnError, UnknownMarginError, CheckFailedError)}


def test_the_code_uses_message_ids_and_finds_them():
    ids = _literal_ids()
    assert len(ids) > 120 and "ingest.summary" in ids and "cli.ingest.file" in ids  # the scan sees the code
    assert {"period.format", "period.order", "expression.chained", "expression.regex"} <= _error_codes()
    assert {"ingest.decode", "ingest.decode_cp1258", "output.suffix", "output.no_suffix"} <= _error_codes()


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_message_id_used_in_the_code_is_in_the_catalogue(lang):
    known = i18n.message_ids(lang)
    used = _literal_ids() | _dynamic_ids() | {f"error.{code}" for code in _error_codes()}
    assert sorted(used - known) == []


def test_both_catalogues_hold_the_same_messages():
    assert i18n.message_ids("vi") == i18n.message_ids("en")


def test_every_template_fills_in_both_languages():
    """A message written with fields the formatter cannot fill would show unfilled."""
    fields = re.compile(r"(?<!\{)\{(\w+)(?::[^}]*)?\}(?!\})")
    for lang in ("vi", "en"):
        for msgid in i18n.message_ids(lang):
            template = i18n.translations(lang).gettext(msgid)
            if "%(" in template or msgid.startswith("cli.") and "%" in template:
                continue
            params = {name: 1234.5 for name in fields.findall(template)}
            text = _(msgid, lang, **params)
            assert "{" not in text.replace("{8}", ""), (lang, msgid, text)


def test_no_language_branches_left_in_the_code():
    branch = re.compile(r"""lang\s*[!=]=\s*["'](vi|en)["']""")
    found = [f"{path.relative_to(ROOT)}:{n}" for path in SOURCES
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if branch.search(line)]
    assert found == []


def test_the_old_texts_are_kept():
    assert _("ingest.summary", "vi", read=8, accepted=8, quarantined=0, present=0) == \
        "Số dòng đọc: 8 | đã nhận: 8 | cách ly: 0 | đã có sẵn: 0"
    assert _("ingest.summary", "en", read=8, accepted=8, quarantined=0, present=0) == \
        "Rows read: 8 | accepted: 8 | quarantined: 0 | already present: 0"


def test_the_language_is_vietnamese_unless_asked(monkeypatch):
    assert _("cli.wrote", None, path="x") == "đã ghi x"
    monkeypatch.setenv("PGI_LANG", "en")
    assert _("cli.wrote", None, path="x") == "wrote x"
    with pytest.raises(LanguageError) as err:
        _("cli.wrote", "fr", path="x")
    assert err.value.code == "language" and isinstance(err.value, ValueError)


# ---------------------------------------------------------------- numbers and dates


def test_numbers_and_dates_follow_the_locale():
    assert format_number(1234.5, "vi") == "1.234,5" and format_number(1234.5, "en") == "1,234.5"
    assert format_number(1234567, "vi") == "1.234.567" and format_number(6.5, "vi", 2) == "6,50"
    assert format_percent(0.453, "vi", 1) == "45,3%" and format_percent(0.453, "en") == "45%"
    assert format_date(dt.date(2025, 11, 3), "vi") == "03/11/2025"
    assert format_date(dt.date(2025, 11, 3), "en") == "3 Nov 2025"


def test_messages_write_their_numbers_per_locale():
    assert _("ingest.summary", "vi", read=12345, accepted=12000, quarantined=345, present=0).startswith(
        "Số dòng đọc: 12.345 | đã nhận: 12.000 |")
    assert _("ingest.summary", "en", read=12345, accepted=12000, quarantined=345, present=0).startswith(
        "Rows read: 12,345 | accepted: 12,000 |")
    assert "Kish 1,23." in _("digest.note.weighting", "vi", deff=1.2345, method="bootstrap")
    assert "effect 1.23." in _("digest.note.weighting", "en", deff=1.2345, method="the bootstrap")
    assert _("digest.note.respondents", "vi", n=500, total=11000) == \
        "Số DN trả lời: 500; đại diện cho 11.000 doanh nghiệp"
    assert _("digest.note.respondents", "en", n=500, total=11000) == "Respondents: 500, representing 11,000 enterprises"


# ---------------------------------------------------------------- the error tree


def test_every_error_has_a_code():
    assert SurveyError("x").code == "survey" and WeightingError("x").code == "weighting"
    codes = [cls.code for cls in errors.ERROR_CLASSES.values()]
    assert len(codes) == len(set(codes)) and all(issubclass(c, SurveyError) for c in errors.ERROR_CLASSES.values())
    err = SurveyError("the period must be...", code="period.format", params={"text": "'2025-13'"})
    assert err.code == "period.format" and err.params == {"text": "'2025-13'"}
    assert SurveyError.code == "survey"  # the instance's code is its own


def test_official_error_lives_in_errors_and_is_still_importable_from_scoring():
    from survey.errors import OfficialError
    from survey.scoring import OfficialError as FromScoring
    from survey.scoring.official import OfficialError as FromOfficial

    assert OfficialError is FromScoring is FromOfficial and OfficialError.code == "official"
    assert OfficialError.__module__ == "survey.errors"


def test_an_unknown_margin_is_a_weighting_error():
    from survey.weights import default_margins_path
    from survey.weights.margins import load_margins

    with pytest.raises(UnknownMarginError) as err:
        load_margins(default_margins_path("bac_giang", 2024)).margin("no_such_margin")
    assert isinstance(err.value, WeightingError) and isinstance(err.value, KeyError)
    assert err.value.code == "weighting.unknown_margin" and err.value.params["name"] == "no_such_margin"
    assert "size_class" in err.value.params["known"]
    assert error_text(err.value, "vi").endswith(
        "bac_giang_2024.yaml: không có biên 'no_such_margin' trong tệp biên (các biên có: " + err.value.params["known"] + ")")


def test_a_missing_column_in_an_expression_is_a_survey_error():
    from survey.questionnaire import evaluate, parse_expression

    with pytest.raises(MissingColumnError) as err:
        evaluate(parse_expression("zz == 1"), pd.DataFrame({"a": [1]}))
    assert isinstance(err.value, SurveyError) and isinstance(err.value, KeyError)
    assert err.value.code == "missing_column" and str(err.value) == \
        "the data have no column 'zz' needed by an expression"  # not KeyError's quoted repr
    assert error_text(err.value, "vi") == "dữ liệu không có cột 'zz' mà một biểu thức cần"


def test_an_unreadable_expression_is_a_questionnaire_error():
    from survey.questionnaire import parse_expression

    with pytest.raises(ExpressionError) as err:
        parse_expression("a < b < c")
    assert isinstance(err.value, QuestionnaireError) and isinstance(err.value, ValueError)
    assert err.value.code == "expression.chained"
    with pytest.raises(ExpressionError) as err:
        parse_expression("regex(value, '(?=a)')")
    assert err.value.code == "expression.regex"


def test_an_unknown_language_of_a_label_is_a_survey_error():
    from survey.questionnaire import Label

    with pytest.raises(LanguageError) as err:
        Label("a", "b").get("fr")
    assert isinstance(err.value, ValueError) and err.value.code == "language"
    assert Label("a", "b").get("vi") == "a" and Label("a", "b").get("en") == "b"


def test_a_validation_check_that_fails_to_run_stops_the_load(monkeypatch):
    import pandera.pandas as pa

    from survey.ingest import validate

    def broken(series):
        raise ZeroDivisionError("a bug in a check")

    from survey.questionnaire import load_questionnaire

    qn = load_questionnaire("monthly_difficulties", period="2025-11")
    schema = pa.DataFrameSchema({"size_class": pa.Column(float, pa.Check(broken, error="unknown_code"),
                                                         nullable=True)})
    monkeypatch.setattr(validate, "answer_schema", lambda qn, today: schema)
    with pytest.raises(CheckFailedError) as err:  # 99 is no size class: the column goes to the schema
        validate._column_problems(pd.DataFrame({"size_class": [1.0, 99.0]}), qn, None, dt.date(2025, 11, 30))
    assert isinstance(err.value, RuntimeError) and isinstance(err.value, errors.IngestError)
    assert err.value.code == "ingest.check_failed" and err.value.params["column"] == "size_class"


def test_an_error_reads_in_either_language_from_its_code():
    from survey.period import Period

    with pytest.raises(SurveyError) as err:
        Period.parse("1999-01")
    assert err.value.code == "period.implausible"
    assert error_text(err.value, "vi").startswith("kỳ 1999-01 không phải là một tháng khảo sát hợp lý (năm 2000–")
    assert error_text(err.value, "vi").endswith("(kiểm tra lại năm)")
    assert error_text(err.value, "en") == str(err.value)
    plain = SurveyError("no translation for this one", code="no.such.code")
    assert error_text(plain, "vi") == "no translation for this one"  # as written when the catalogue lacks it


# ---------------------------------------------------------------- the command line


def _run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    import os

    environ = {k: v for k, v in os.environ.items() if k != "PGI_LANG"} | (env or {})
    return subprocess.run([sys.executable, "-m", "survey.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          env=environ)


def test_help_is_in_vietnamese_with_lang_vi():
    run = _run("--lang", "vi", "ingest", "--help")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("cách dùng: pgi-survey ingest")
    assert "tùy chọn:" in run.stdout and "tệp cần nạp" in run.stdout and "hiện trợ giúp này rồi thoát" in run.stdout
    assert "the export to load" not in run.stdout


def test_help_is_in_english_with_lang_en_before_or_after_the_command():
    for args in (("--lang", "en", "ingest", "--help"), ("ingest", "--lang=en", "--help")):
        run = _run(*args)
        assert run.returncode == 0, run.stderr
        assert run.stdout.startswith("usage: pgi-survey ingest") and "the export to load" in run.stdout
        assert "tệp cần nạp" not in run.stdout


def test_the_language_may_come_from_the_environment(capsys, monkeypatch):
    monkeypatch.setenv("PGI_LANG", "en")
    with pytest.raises(SystemExit):
        main(["weights", "--help"])
    assert "weight stored responses" in capsys.readouterr().out
    monkeypatch.setenv("PGI_LANG", "fr")
    assert main(["loads"]) == 1
    assert "language must be one of vi, en, not 'fr'" in capsys.readouterr().err


def test_argparse_errors_are_in_the_chosen_language(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["ingest", "f.csv", "--survey", "monthly_difficulties"])
    assert exit_.value.code == 2
    assert "pgi-survey ingest: lỗi: thiếu các tham số bắt buộc: --period" in capsys.readouterr().err


@pytest.mark.parametrize("lang, expected", [
    ("vi", "lỗi: kỳ phải viết dạng YYYY-MM, ví dụ 2025-11; nhận được '2025-13'\n"),
    ("en", "error: the period must be written YYYY-MM, e.g. 2025-11; got '2025-13'\n")])
def test_a_bad_period_is_an_error_in_the_chosen_language(tmp_path, lang, expected):
    run = _run("ingest", str(tmp_path / "k.csv"), "--survey", "monthly_difficulties", "--period", "2025-13",
               "--db", f"sqlite:///{tmp_path / 's.sqlite'}", "--lang", lang)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert run.stderr == expected


def test_cli_output_is_in_the_chosen_language(capsys):
    assert main(["questionnaire", "validate"]) == 0
    assert "2 bảng hỏi hợp lệ: " in capsys.readouterr().out
    assert main(["questionnaire", "validate", "--lang", "en"]) == 0
    assert "2 questionnaire(s) valid: " in capsys.readouterr().out
