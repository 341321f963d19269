"""XLSForm export: pyxform accepts it, and reading it back gives the definition."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import openpyxl
import pytest

from survey.errors import ExportError
from survey.questionnaire import convert_xlsform, read_xlsform, to_xpath, write_xlsform
from survey.questionnaire.xlsform import xlsform_list_name

NS = {"h": "http://www.w3.org/1999/xhtml", "x": "http://www.w3.org/2002/xforms"}
VI, EN = "label::Vietnamese (vi)", "label::English (en)"


@pytest.fixture(params=["pgi_feedback", "monthly_difficulties"])
def exported(request, tmp_path, pgi, monthly):
    qn = pgi if request.param == "pgi_feedback" else monthly
    path = write_xlsform(qn, tmp_path / f"{qn.id}.xlsx")
    return qn, path


def test_pyxform_converts_it_with_both_languages(exported):
    qn, path = exported
    root = ET.fromstring(convert_xlsform(path))
    langs = [t.get("lang") for t in root.iter("{http://www.w3.org/2002/xforms}translation")]
    assert langs == ["Vietnamese (vi)", "English (en)"]
    binds = {b.get("nodeset").rsplit("/", 1)[-1]: b for b in root.iter("{http://www.w3.org/2002/xforms}bind")}
    for q in qn.questions:
        assert q.id in binds, q.id
        assert (binds[q.id].get("required") == "true()") == q.required
        assert (binds[q.id].get("relevant") is not None) == (q.relevant is not None)
    # the Vietnamese text reaches the form intact (diacritics, NFC)
    texts = {v.text for v in root.iter("{http://www.w3.org/2002/xforms}value")}
    assert qn.questions[1].label.vi in texts


def test_round_trip_of_questions(exported):
    qn, path = exported
    sheets = read_xlsform(path)
    rows = sheets["survey"]
    questions = rows[~rows["type"].isin(["begin_group", "end_group"])]
    types = {q.id: q.type for q in qn.questions}
    assert questions["name"].tolist() == [q.id for q in qn.questions]
    for (_, row), q in zip(questions.iterrows(), qn.questions):
        assert row["pgi_type"] == q.type
        assert row[VI] == q.label.vi and row[EN] == q.label.en
        assert row["required"] == ("yes" if q.required else "")
        assert row["relevant"] == (to_xpath(q.relevant, types) if q.relevant else "")
        assert row["pgi_missing"] == " ".join(map(str, q.missing))
        assert row["pgi_personal"] == ("yes" if q.personal else "")
        if q.is_select:
            kind, list_name = row["type"].split()
            assert kind == ("select_multiple" if q.type == "multiple" else "select_one")
            listed = sheets["choices"][sheets["choices"]["list_name"] == list_name]
            assert listed["name"].tolist() == [str(c.code) for c in qn.choices(q)]
            assert listed[VI].tolist() == [c.label.vi for c in qn.choices(q)]
            assert listed[EN].tolist() == [c.label.en for c in qn.choices(q)]
    groups = rows[rows["type"] == "begin_group"]
    assert groups["name"].tolist() == [s.id for s in qn.sections]
    settings = sheets["settings"].iloc[0]
    assert settings["form_id"] == qn.id and settings["version"] == qn.version


def test_range_and_missing_codes_in_constraints(pgi, tmp_path):
    rows = read_xlsform(write_xlsform(pgi, tmp_path / "f.xlsx"))["survey"].set_index("name")
    assert rows.loc["hazard_loss_pct", "constraint"] == "(. >= 0 and . <= 100) or . = 98"
    assert rows.loc["year_established", "constraint"] == \
        ". >= 1900 and . <= number(format-date(today(), '%Y'))"
    assert rows.loc["hazard_loss_pct", "constraint_message::English (en)"] == "The value must be between 0 and 100"
    assert rows.loc["supports_received", "constraint"] == "not(selected(., '7') and count-selected(.) > 1)"
    assert rows.loc["env_quality", "type"] == "select_one quality5_m98"
    assert rows.loc["env_quality", "appearance"] == "likert"


def test_list_names_keep_missing_variants_apart(pgi):
    assert xlsform_list_name(pgi.question("inspected")) == "yesno"
    assert xlsform_list_name(pgi.question("informal_charge")) == "yesno_m98_99"
    assert xlsform_list_name(pgi.question("inspection_count")) is None


def test_convert_rejects_a_broken_form(pgi, tmp_path):
    path = write_xlsform(pgi, tmp_path / "f.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["survey"]
    header = [c.value for c in ws[1]]
    ws.cell(row=3, column=header.index("relevant") + 1, value="${no_such_question} = '1'")
    wb.save(path)
    with pytest.raises(ExportError, match="pyxform rejects the form"):
        convert_xlsform(path)


def test_read_names_a_missing_sheet(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "survey"
    wb.save(tmp_path / "x.xlsx")
    with pytest.raises(ExportError, match="no 'choices' sheet"):
        read_xlsform(tmp_path / "x.xlsx")
