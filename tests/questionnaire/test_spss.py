"""SPSS export: written and read back by pyreadstat with the same metadata and values."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from hypothesis import given
from hypothesis import strategies as st

from survey.errors import ExportError
from survey.questionnaire import load_questionnaire, sav_layout, write_sav
from tests.conftest import edit_text
from survey.questionnaire.spss import VALUE_LABEL_BYTES, VARIABLE_LABEL_BYTES, fit_bytes


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_empty_file_round_trip(pgi, tmp_path, lang):
    path = write_sav(pgi, tmp_path / "p.sav", lang=lang)
    df, meta = pyreadstat.read_sav(str(path), user_missing=True)
    layout = sav_layout(pgi, lang)
    assert len(df) == 0
    assert meta.column_names == layout.columns
    assert meta.column_names_to_labels == layout.labels
    assert meta.variable_value_labels == layout.value_labels
    assert meta.variable_measure == layout.measure
    got_missing = {k: [r["lo"] for r in v] for k, v in meta.missing_ranges.items()}
    assert got_missing == layout.missing
    # independent of the layout: the texts of the definition
    q = pgi.question("env_quality")
    assert meta.column_names_to_labels["env_quality"] == q.label.get(lang)
    assert meta.variable_value_labels["env_quality"][98.0] == pgi.missing_codes[98].get(lang)
    assert meta.missing_ranges["informal_charge"] == [{"lo": 98.0, "hi": 98.0}, {"lo": 99.0, "hi": 99.0}]
    assert meta.variable_measure["env_quality"] == "ordinal"
    assert meta.variable_measure["permit_days"] == "scale"


def test_multiple_choice_becomes_dichotomies(pgi):
    layout = sav_layout(pgi, "en")
    names = [c for c in layout.columns if c.startswith("supports_received_")]
    assert names == [f"supports_received_{i}" for i in range(1, 8)]
    assert "supports_received" not in layout.columns
    assert layout.labels["supports_received_3"].endswith(": Green credit or concessional loans for environmental projects")
    assert layout.value_labels["supports_received_3"] == {0.0: "Not selected", 1.0: "Selected"}


def _answers() -> pd.DataFrame:
    return pd.DataFrame({
        "firm_name": ["Công ty TNHH Xanh Bắc Giang", "HTX Lục Ngạn"],
        "locality": [1, 6], "sector": [3, 1], "size_class": [2, 1], "ownership": [1, 1], "site": [1, 3],
        "year_established": [2005, np.nan],
        "had_difficulty": [1, 0],
        "difficulty_types": ["1 3 10", None],
        "difficulty_other": ["Chi phí kết nối quan trắc tự động quá cao", None],
        "severity": [98, np.nan],
        "cost_estimate": [125.5, np.nan],
        "description": ["Thủ tục cấp giấy phép môi trường kéo dài; =cmd|' /C calc'!A0", None],
        "reported": [1, np.nan], "reported_to": ["1 5", None],
        "reported_date": [dt.date(2026, 10, 3), None],
        "contact_name": ["Nguyễn Văn An", "Trần Thị Bình"], "contact_phone": ["0912 345 678", None],
    })


def test_rows_round_trip(monthly, tmp_path):
    data = _answers()
    path = write_sav(monthly, tmp_path / "m.sav", data, lang="vi")
    df, meta = pyreadstat.read_sav(str(path), user_missing=True)
    assert len(df) == 2
    assert df["locality"].tolist() == [1.0, 6.0]
    assert df["year_established"].iloc[0] == 2005 and np.isnan(df["year_established"].iloc[1])
    assert df["severity"].iloc[0] == 98.0  # user-missing kept as its code with user_missing=True
    assert [df[f"difficulty_types_{c}"].iloc[0] for c in (1, 2, 3, 10)] == [1.0, 0.0, 1.0, 1.0]
    assert np.isnan(df["difficulty_types_1"].iloc[1])  # not asked: missing, not "not selected"
    assert df["difficulty_other"].iloc[0] == "Chi phí kết nối quan trắc tự động quá cao"
    assert df["description"].iloc[0] == data["description"].iloc[0]
    assert df["reported_date"].iloc[0] == dt.date(2026, 10, 3)
    assert meta.original_variable_types["reported_date"] == "DATE11"
    assert df["cost_estimate"].iloc[0] == 125.5
    # SPSS itself reads 98 as missing:
    plain, _ = pyreadstat.read_sav(str(path))
    assert np.isnan(plain["severity"].iloc[0])


def test_personal_data_left_out_of_answers_unless_asked(monthly, tmp_path):
    data = _answers()
    df, _ = pyreadstat.read_sav(str(write_sav(monthly, tmp_path / "a.sav", data)))
    assert not {"firm_name", "contact_name", "contact_phone", "contact_email"} & set(df.columns)
    df, _ = pyreadstat.read_sav(str(write_sav(monthly, tmp_path / "b.sav", data, include_personal=True)))
    assert df["contact_name"].tolist() == ["Nguyễn Văn An", "Trần Thị Bình"]
    template, _ = pyreadstat.read_sav(str(write_sav(monthly, tmp_path / "c.sav")))
    assert "contact_phone" in template.columns  # an empty entry template keeps every variable


def test_a_bad_answer_is_an_export_error(monthly, tmp_path):
    data = _answers().astype({"locality": object})
    data.loc[0, "locality"] = "Việt Yên"
    with pytest.raises(ExportError, match="does not fit its SPSS variable type"):
        write_sav(monthly, tmp_path / "bad.sav", data)


def test_long_vietnamese_labels_fit_spss_limits(qdir, tmp_path):
    long_text = "Rất nghiêm trọng, đe dọa trực tiếp đến hoạt động sản xuất kinh doanh của doanh nghiệp " * 3
    edit_text(qdir / "monthly_difficulties.yaml", 'vi: "Nhỏ"', f'vi: "{long_text.strip()}"')
    edit_text(qdir / "monthly_difficulties.yaml", 'vi: "Mô tả cụ thể khó khăn, vướng mắc"',
              f'vi: "{(long_text * 2).strip()}"')
    qn = load_questionnaire("monthly_difficulties", root=qdir)
    layout = sav_layout(qn, "vi")
    cut_value = layout.value_labels["severity"][1.0]
    assert cut_value.endswith("…") and len(cut_value.encode()) <= VALUE_LABEL_BYTES
    assert long_text.startswith(cut_value[:-1])
    cut_var = layout.labels["description"]
    assert cut_var.endswith("…") and len(cut_var.encode()) <= VARIABLE_LABEL_BYTES
    _, meta = pyreadstat.read_sav(str(write_sav(qn, tmp_path / "p.sav")), metadataonly=True)
    assert meta.variable_value_labels["severity"][1.0] == cut_value
    assert meta.column_names_to_labels["description"] == cut_var


@given(st.text(min_size=0, max_size=200), st.integers(4, 300))
def test_fit_bytes_property(text, limit):
    out = fit_bytes(text, limit)
    assert len(out.encode("utf-8")) <= limit
    if len(text.encode("utf-8")) <= limit:
        assert out == text
    else:
        assert out.endswith("…") and text.startswith(out[:-1].rstrip())
