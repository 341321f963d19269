"""Questionnaires that follow the calendar: the locality question of a wave before 2025-07 offers the
districts, from 2025-07 the 99 communes and wards of the new Bac Ninh, in every export."""
from __future__ import annotations

import openpyxl
import pyreadstat
import pytest

from survey.cli import main
from survey.errors import QuestionnaireError
from survey.questionnaire import load_locality, load_questionnaire, render_codebook, sav_layout
from tests.conftest import edit_text, line_of


def _locality_choices(xlsx) -> list[tuple]:
    sheet = openpyxl.load_workbook(xlsx)["choices"]
    return [row for row in sheet.iter_rows(values_only=True) if row[0] == "locality"]


def test_cli_export_for_december_2025_offers_the_99_communes_and_wards(tmp_path, capsys):
    out = tmp_path / "m.xlsx"
    assert main(["questionnaire", "export", "monthly_difficulties", "--format", "xlsform", "--period", "2025-12",
                 "--out", str(out)]) == 0
    rows = _locality_choices(out)
    assert len(rows) == 99
    assert ("locality", "7210", "Phường Bắc Giang", "Bac Giang ward") in rows
    assert ("locality", "7663", "Xã Tuấn Đạo", "Tuan Dao commune") in rows
    assert not any(r[1] in {str(c) for c in range(1, 11)} for r in rows)  # no district code


def test_cli_export_before_july_2025_offers_the_districts(tmp_path):
    out = tmp_path / "m.xlsx"
    assert main(["questionnaire", "export", "monthly_difficulties", "--format", "xlsform", "--period", "2025-06",
                 "--out", str(out)]) == 0
    rows = _locality_choices(out)
    assert [r[1] for r in rows] == [str(c) for c in range(1, 11)]
    assert rows[1][2] == "Việt Yên"


def test_cli_export_of_a_period_without_a_list_fails_with_the_reason(tmp_path, capsys):
    assert main(["--lang", "en", "questionnaire", "export", "monthly_difficulties", "--format", "xlsform",
                 "--period", "2025-12", "--province", "hai_duong", "--out", str(tmp_path / "m.xlsx")]) != 0
    err = capsys.readouterr().err
    assert "hai_duong" in err and "2025-12" in err
    assert not (tmp_path / "m.xlsx").exists()


def test_spss_labels_follow_the_period(tmp_path):
    layout = sav_layout(load_questionnaire("monthly_difficulties", period="2025-12"))
    labels = layout.value_labels["locality"]
    assert labels[7210] == "Phường Bắc Giang" and 3 not in labels and len(labels) == 99
    assert main(["questionnaire", "export", "monthly_difficulties", "--format", "sav", "--period", "2025-03",
                 "--out", str(tmp_path / "m.sav")]) == 0
    _, meta = pyreadstat.read_sav(tmp_path / "m.sav")
    assert meta.variable_value_labels["locality"][3] == "Hiệp Hòa"


def test_codebook_names_the_list_and_its_months():
    december = render_codebook(load_questionnaire("monthly_difficulties", period="2025-12"))
    assert "2025-07.." in december and "`bac_ninh_2025`, 99" in december and "Phường Bắc Giang" in december
    june = render_codebook(load_questionnaire("monthly_difficulties", period="2025-06"))
    assert "..2025-06" in june and "Phường Bắc Giang" not in june


def test_without_a_period_the_province_s_own_list_is_used():
    assert load_questionnaire("monthly_difficulties").locality.key == "bac_giang"
    assert load_questionnaire("monthly_difficulties", period="2025-07").locality.key == "bac_ninh_2025"


@pytest.mark.parametrize("old, new, code", [
    ('valid_until: "2025-06"', 'valid_until: "2025-6"', "questionnaire.locality_month"),
    ('valid_until: "2025-06"', "valid_until: 202506", "questionnaire.locality_month"),
    ('valid_until: "2025-06"', 'valid_from: "2025-08"\nvalid_until: "2025-06"', "questionnaire.locality_months_order"),
    ('valid_until: "2025-06"', 'valid_until: "2025-06"\nfollows: bac_ninh', "questionnaire.locality_follows"),
])
def test_bad_months_or_follows_are_problems_with_their_line(qdir, old, new, code):
    path = qdir / "localities" / "bac_giang.yaml"
    edit_text(path, old, new)
    with pytest.raises(QuestionnaireError) as err:
        load_locality("bac_giang", qdir)
    [problem] = err.value.problems
    assert problem.code == code
    assert problem.line == line_of(path, new.splitlines()[-1])


def test_a_list_that_follows_another_takes_over_from_its_month(qdir):
    """An association's own commune list for Hai Duong (now Hai Phong) is found for waves from its month."""
    edit_text(qdir / "localities" / "bac_ninh_2025.yaml", "follows: [bac_giang, bac_ninh]",
              "follows: [bac_giang, bac_ninh, hai_duong]")
    assert load_locality("hai_duong", qdir, period="2025-06").key == "hai_duong"
    assert load_locality("hai_duong", qdir, period="2025-07").key == "bac_ninh_2025"
    edit_text(qdir / "localities" / "bac_ninh_2025.yaml", 'valid_from: "2025-07"', 'valid_from: "2025-09"')
    with pytest.raises(QuestionnaireError) as err:
        load_locality("hai_duong", qdir, period="2025-08")
    assert err.value.code == "questionnaire.locality_period"
