"""The pgi-survey command: questionnaire list, validate and export."""
from __future__ import annotations

import pyreadstat
import pytest

from survey.cli import main
from tests.conftest import edit_text, line_of


def test_list(capsys):
    assert main(["questionnaire", "list", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "pgi_feedback" in out and "36 indicators" in out and "monthly_difficulties" in out


def test_validate_all(capsys):
    assert main(["questionnaire", "validate", "--lang", "en"]) == 0
    assert "2 questionnaire(s) valid" in capsys.readouterr().out


def test_validate_reports_the_place_and_fails(qdir, capsys):
    path = qdir / "pgi_feedback.yaml"
    edit_text(path, "choices: agree5\n        missing: [98]\n        required: true",
              "choices: agree6\n        missing: [98]\n        required: true")
    line = line_of(path, "choices: agree6")
    assert main(["questionnaire", "validate", str(path), "--lang", "en"]) == 1
    err = capsys.readouterr().err
    assert f"{path}:{line}: sections[0].questions[6].choices: question 'early_warning': unknown list 'agree6'" in err
    assert "1 problem(s) in 1 file(s)" in err


@pytest.mark.parametrize("fmt, name", [("xlsform", "pgi_feedback.xlsx"), ("sav", "pgi_feedback.sav"),
                                       ("codebook", "pgi_feedback_codebook.md")])
def test_export_to_a_folder(tmp_path, capsys, fmt, name):
    assert main(["--lang", "en", "questionnaire", "export", "pgi_feedback", "--format", fmt,
                 "--out", str(tmp_path)]) == 0
    assert (tmp_path / name).stat().st_size > 0
    assert f"wrote {tmp_path / name}" in capsys.readouterr().out


def test_export_in_another_province(tmp_path):
    out = tmp_path / "hd.sav"
    assert main(["questionnaire", "export", "monthly_difficulties", "--format", "sav",
                 "--out", str(out), "--province", "hai_duong"]) == 0
    _, meta = pyreadstat.read_sav(str(out), metadataonly=True)
    assert meta.variable_value_labels["locality"][12.0] == "Tứ Kỳ"


def test_unknown_questionnaire_is_a_clear_error(capsys):
    assert main(["questionnaire", "export", "no_such", "--format", "sav", "--out", "x", "--lang", "en"]) == 1
    assert "no_such.yaml: file not found" in capsys.readouterr().err
    assert main(["questionnaire", "export", "no_such", "--format", "sav", "--out", "x", "--lang", "vi"]) == 1
    assert "no_such.yaml: không tìm thấy tệp (các bảng hỏi: " in capsys.readouterr().err
