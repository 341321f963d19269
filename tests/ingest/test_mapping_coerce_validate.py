"""Column mapping, reading cell values, and the validation rules, each by hand."""
from __future__ import annotations

import datetime as dt
import unicodedata

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from survey.errors import IngestError
from survey.ingest import coerce_answers, map_columns, parse_date, parse_number, read_mapping, validate_answers

# ----------------------------------------------------------------- mapping


def test_mapping_by_id_path_split_spss_and_label(monthly):
    columns = ["had_difficulty", "profile/locality", "difficulties/difficulty_types/3",
               "difficulties/difficulty_types/10", "reported_to_5", "  NGÀNH kinh doanh   chính (VSIC 2018) ",
               unicodedata.normalize("NFD", "Số lao động hiện nay"), "Ownership", "Location of the business premises",
               "severity", "description", "reported", "forward_consent", "_uuid", "_submission_time", "start"]
    cmap = map_columns(columns, monthly)
    assert cmap.single["had_difficulty"] == "had_difficulty"
    assert cmap.single["locality"] == "profile/locality"
    assert cmap.split["difficulty_types"] == {3: "difficulties/difficulty_types/3", 10: "difficulties/difficulty_types/10"}
    assert cmap.split["reported_to"] == {5: "reported_to_5"}
    assert cmap.single["sector"] == "  NGÀNH kinh doanh   chính (VSIC 2018) "
    assert cmap.single["size_class"] == unicodedata.normalize("NFD", "Số lao động hiện nay")
    assert cmap.single["ownership"] == "Ownership" and cmap.single["site"] == "Location of the business premises"
    assert cmap.key == "_uuid" and "_submission_time" in cmap.metadata
    assert cmap.unknown == ["start"]


def test_kobo_both_forms_keep_the_whole_column(monthly):
    cols = ["locality", "sector", "size_class", "ownership", "site", "had_difficulty", "severity", "description",
            "reported", "forward_consent", "reported_to", "d/difficulty_types", "d/difficulty_types/1"]
    cmap = map_columns(cols, monthly)
    assert cmap.single["difficulty_types"] == "d/difficulty_types" and "difficulty_types" not in cmap.split
    assert "d/difficulty_types/1" in cmap.metadata


def test_missing_required_column_names_the_question(monthly):
    with pytest.raises(IngestError) as err:
        map_columns(["locality", "sector"], monthly, file="x.csv")
    text = str(err.value)
    assert "no column for the required question 'size_class' (Số lao động hiện nay / Number of employees now)" in text
    assert "x.csv" in text and "--mapping" in text


def test_mapping_file_yaml_and_csv(tmp_path, monthly):
    (tmp_path / "m.yaml").write_text("Huyện: locality\nNgành: sector\n", encoding="utf-8")
    (tmp_path / "m.csv").write_text("column,question\nHuyện,locality\nNgành,sector\n", encoding="utf-8")
    base = ["size_class", "ownership", "site", "had_difficulty", "severity", "description", "reported",
            "forward_consent", "reported_to", "difficulty_types"]
    for f in ("m.yaml", "m.csv"):
        cmap = map_columns(["Huyện", "Ngành"] + base, monthly, mapping=read_mapping(tmp_path / f))
        assert cmap.single["locality"] == "Huyện" and cmap.single["sector"] == "Ngành"
    with pytest.raises(IngestError, match="unknown question 'nganh'"):
        map_columns(["Ngành"] + base, monthly, mapping={"Ngành": "nganh"})


def test_two_columns_for_one_question(monthly):
    with pytest.raises(IngestError, match="columns 'locality' and 'profile/locality' both hold question 'locality'"):
        map_columns(["locality", "profile/locality"], monthly)


# ----------------------------------------------------------------- cell values

@pytest.mark.parametrize("text, whole, expected", [
    ("12", False, 12.0), ("12,5", False, 12.5), ("12.5", False, 12.5), ("1.250.000", False, 1250000.0),
    ("1,250,000", False, 1250000.0), ("1.234,5", False, 1234.5), ("1,234.5", False, 1234.5),
    ("1.000", True, 1000.0), ("1.000", False, 1.0), (" 2 500 ", True, 2500.0), ("-3", False, -3.0),
    ("abc", False, None), ("1.2.3", False, None), ("", False, None), ("12kg", False, None),
])
def test_parse_number(text, whole, expected):
    assert parse_number(text, whole=whole) == expected


@pytest.mark.parametrize("value, expected", [
    ("2025-11-30", dt.date(2025, 11, 30)), ("30/11/2025", dt.date(2025, 11, 30)),
    ("2025-11-30T08:15:00", dt.date(2025, 11, 30)), (pd.Timestamp("2025-01-02 10:00"), dt.date(2025, 1, 2)),
    (dt.date(2024, 2, 29), dt.date(2024, 2, 29)), ("31/02/2025", None), ("hôm qua", None),
])
def test_parse_date(value, expected):
    assert parse_date(value) == expected


@given(st.integers(-10**9, 10**9))
def test_integers_survive_thousands_dots(n):
    grouped = f"{n:,}".replace(",", ".")
    assert parse_number(grouped, whole=True) == n


def _raw(**cols) -> pd.DataFrame:
    n = len(next(iter(cols.values())))
    return pd.DataFrame(cols, index=range(2, 2 + n), dtype=object)


def test_labels_codes_and_yes_no_words(monthly):
    raw = _raw(locality=["Việt Yên", "viet yen", "2", "2.0", "Hà Nội"],
               had_difficulty=["Có", "no", "1", "TRUE", "maybe"],
               difficulty_types=["1 3", "Thanh tra, kiểm tra; Khác", "Giấy phép, thủ tục hành chính về môi trường, "
                                 "Xử lý khí thải", "3 77", None])
    from survey.ingest.mapping import ColumnMap
    cmap = ColumnMap(single={c: c for c in raw.columns})
    answers, problems = coerce_answers(raw, monthly, cmap)
    assert answers["locality"].tolist()[:4] == [2.0, 2.0, 2.0, 2.0] and np.isnan(answers.loc[6, "locality"])
    assert answers["had_difficulty"].tolist()[:4] == [1.0, 0.0, 1.0, 1.0]
    assert answers["difficulty_types"].tolist()[:4] == ["1 3", "2 10", "1 5", "3"]
    found = {(p["row"], p["question"], p["reason"], p["value"]) for p in problems}
    assert found == {(6, "locality", "unknown_label", "Hà Nội"), (6, "had_difficulty", "unknown_label", "maybe"),
                     (5, "difficulty_types", "unknown_code", "77")}


@pytest.mark.parametrize("texts", [object, "string[pyarrow]"])  # cells as objects (.xlsx), or Arrow strings (CSV)
def test_split_columns_become_one_answer(monthly, texts):
    from survey.ingest.mapping import ColumnMap
    raw = _raw(a=["1", "0", None, "x", "?", "0"], b=["0", "1", None, "Thanh tra, kiểm tra", None, "0"],
               c=["1", "0", None, "?", None, "xử lý NƯỚC THẢI"]).astype(texts)
    cmap = ColumnMap(split={"difficulty_types": {1: "a", 2: "b", 3: "c"}})
    answers, problems = coerce_answers(raw, monthly, cmap)
    assert answers["difficulty_types"].tolist()[:2] == ["1 3", "2"]
    assert pd.isna(answers.loc[4, "difficulty_types"])  # not asked
    assert answers.loc[5, "difficulty_types"] == "1 2"  # "x" marks a choice, and so does the option's label
    assert pd.isna(answers.loc[6, "difficulty_types"])  # only a mark not understood: not an answer of none
    assert answers.loc[7, "difficulty_types"] == "3"  # option 3's own label (any case), in its column
    assert sorted((p["row"], p["column"], p["reason"]) for p in problems) == [(5, "c", "unknown_label"),
                                                                              (6, "a", "unknown_label")]


# ----------------------------------------------------------------- validation rules

def _validate(qn, **cols):
    from survey.ingest.mapping import ColumnMap
    raw = _raw(**cols)
    cmap = ColumnMap(single={c: c for c in raw.columns})
    answers, problems = coerce_answers(raw, qn, cmap)
    problems += validate_answers(answers, qn, cmap, today=dt.date(2026, 11, 28))
    return {(p["row"], p["question"], p["reason"]) for p in problems}, problems


BASE = dict(locality=[1], sector=[3], size_class=[2], ownership=[1], site=[1])


def _rows(n, **cols):
    base = {k: v * n for k, v in BASE.items()}
    return {**base, **cols}


def test_unknown_codes_and_ranges(monthly):
    found, problems = _validate(monthly, **_rows(4, locality=[1, 11, 10, 98], year_established=[1899, 2026, 2027, 2000],
                                                  had_difficulty=[0, 0, 0, 0], forward_consent=[None] * 4))
    assert found == {(3, "locality", "unknown_code"), (5, "locality", "unknown_code"),
                     (2, "year_established", "out_of_range"), (4, "year_established", "out_of_range")}
    msg = next(p for p in problems if p["row"] == 2 and p["reason"] == "out_of_range")["params"]
    assert (msg["low"], msg["high"]) == ("1900", "2026")  # current_year on 2026-11-28


def test_missing_code_passes_a_range_and_whole_numbers(pgi):
    found, _ = _validate(pgi, **_rows(3, hazard_affected=[1, 1, 1], hazard_loss_pct=[98, 100.5, 12.5],
                                      inspected=[1, 1, 1], inspection_count=[2, 2.5, 1]))
    assert (2, "hazard_loss_pct", "out_of_range") not in found  # 98 = don't know
    assert (3, "hazard_loss_pct", "out_of_range") in found
    assert (3, "inspection_count", "not_whole") in found


def test_required_when_shown_and_skipped_when_hidden(monthly):
    found, problems = _validate(monthly, **_rows(3, had_difficulty=[1, 0, 1], severity=[2, 3, None],
                                                  difficulty_types=["1", None, "2"], description=["x", None, "y"],
                                                  reported=[0, None, 0], forward_consent=[1, None, 1]))
    assert (3, "severity", "not_relevant") in found      # answered but skipped by had_difficulty == 0
    assert (4, "severity", "required_missing") in found  # shown and required, empty
    assert (2, "severity", "required_missing") not in found
    text = next(p for p in problems if p["reason"] == "not_relevant")["params"]["condition"]
    assert text == "had_difficulty == 1"


def test_each_question_is_shown_by_its_own_condition(monthly):
    """Questions share conditions ("had_difficulty == 1" shows eight of them): each is still judged by its
    own. Row 2 had a difficulty but did not report it, so where it was reported to is skipped; row 3
    reported it, so the place is required."""
    found, problems = _validate(monthly, **_rows(2, had_difficulty=[1, 1], severity=[2, 3], difficulty_types=["1", "2"],
                                                  description=["x", "y"], reported=[0, 1], reported_to=["1", None],
                                                  forward_consent=[1, 1]))
    assert (2, "reported_to", "not_relevant") in found
    assert (3, "reported_to", "required_missing") in found
    assert not any(q == "severity" for _r, q, _why in found)  # shown by had_difficulty == 1, answered
    skipped = next(p for p in problems if p["question"] == "reported_to" and p["reason"] == "not_relevant")
    assert skipped["params"]["condition"] == "reported == 1"


def test_constraints(monthly, pgi):
    found, _ = _validate(monthly, **_rows(2, had_difficulty=[1, 1], difficulty_types=["1 3", "1 3"],
                                          main_difficulty=[3, 2], severity=[1, 1], description=["a", "b"],
                                          reported=[0, 0], forward_consent=[1, 1],
                                          contact_phone=["0912 345 678", "12ab"]))
    assert (3, "main_difficulty", "constraint") in found and (2, "main_difficulty", "constraint") not in found
    assert (3, "contact_phone", "constraint") in found and (2, "contact_phone", "constraint") not in found
    found, _ = _validate(pgi, **_rows(2, supports_received=["7", "1 7"]))
    assert (3, "supports_received", "constraint") in found and (2, "supports_received", "constraint") not in found


@pytest.mark.parametrize("texts", [object, "string[pyarrow]"])  # texts as objects, or Arrow strings (coercion's)
def test_a_text_of_spaces_is_not_an_answer(monthly, texts):
    """Checked on answers as given (not trimmed by coercion first): a required text holding only spaces
    (or nothing) is missing; one holding a word is answered, and so is not reported."""
    from survey.ingest.mapping import ColumnMap

    raw = _raw(**_rows(4, had_difficulty=[1, 1, 1, 1], severity=[2, 2, 2, 2], difficulty_types=["1"] * 4,
                       reported=[0] * 4, forward_consent=[1] * 4))
    cmap = ColumnMap(single={c: c for c in raw.columns})
    answers, _ = coerce_answers(raw, monthly, cmap)
    answers["description"] = pd.Series(["  ", " ý kiến ", None, "\t"], index=answers.index, dtype=texts)
    found = {(p["row"], p["question"], p["reason"]) for p in validate_answers(answers, monthly, cmap,
                                                                             today=dt.date(2026, 11, 28))}
    assert {(r, q) for r, q, why in found if why == "required_missing" and q == "description"} == \
        {(2, "description"), (4, "description"), (5, "description")}
