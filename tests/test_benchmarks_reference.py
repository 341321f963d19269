"""Issue 13 item 2: the VCCI indicator benchmarks shipped beside the association's indicators.

The checks are one function, ``_problems``, run on the shipped file (it must find nothing) and on copies
broken one way at a time (it must find each breakage), so every check is seen to fail. Its inputs are read
independently of :func:`survey.reference.pgi_indicator_benchmarks`: the indicator ids from the questionnaire
YAML, the source keys from the benchmark section of ``SOURCES.md``, the provinces from ``provinces.csv``.
"""
from __future__ import annotations

import csv
import math
import re

import pandas as pd
import pytest
import yaml

from survey.reference import data_path, pgi_indicator_benchmarks, questionnaires_path, sources_text

COLUMNS = ["indicator", "vcci_indicator_vi", "vcci_indicator_en", "year", "scope", "value", "unit",
           "comparability", "source", "note"]
#: each unit's admissible values: (low, high, must be a whole number)
UNITS = {"share": (0.0, 1.0, False), "days": (0.0, math.inf, False), "million VND": (0.0, math.inf, False),
         "count": (0.0, math.inf, True)}
COMPARABILITY = {"same", "similar", "different"}
PGI_YEARS = range(2022, 2025)  # the editions before the 2025 merger: 2022 pilot, 2023, 2024


def _indicator_ids() -> set[str]:
    data = yaml.safe_load((questionnaires_path() / "pgi_feedback.yaml").read_text(encoding="utf-8"))
    return {item["id"] for item in data["indicators"]}


def _documented_keys() -> set[str]:
    """Source keys with a row in the benchmark section of SOURCES.md (not merely in the official-figures table)."""
    text = sources_text()
    section = text[text.index("## Indicator benchmarks"):]
    return set(re.findall(r"^\| (S_[A-Z0-9]+) \|", section, flags=re.M))


def _provinces() -> set[str]:
    with data_path("data", "reference", "provinces.csv").open(encoding="utf-8", newline="") as fh:
        return {row["province"] for row in csv.DictReader(fh)}


def _problems(frame: pd.DataFrame, ids: set[str], keys: set[str], provinces: set[str]) -> list[str]:
    """Every rule the benchmark file breaks, one line each (empty when it keeps them all)."""
    found: list[str] = []
    if list(frame.columns) != COLUMNS:
        return [f"columns {list(frame.columns)} != {COLUMNS}"]
    for i, row in frame.iterrows():
        where = f"row {i}"
        if row["indicator"] and row["indicator"] not in ids:
            found.append(f"{where}: indicator {row['indicator']!r} is not in pgi_feedback.yaml")
        if row["source"] not in keys:
            found.append(f"{where}: source {row['source']!r} is not described in SOURCES.md")
        if row["scope"] != "national" and row["scope"] not in provinces:
            found.append(f"{where}: scope {row['scope']!r} is neither 'national' nor a province")
        if int(row["year"]) not in PGI_YEARS:
            found.append(f"{where}: year {row['year']} is not a PGI edition")
        if row["comparability"] not in COMPARABILITY:
            found.append(f"{where}: comparability {row['comparability']!r}")
        elif row["comparability"] != "same" and not str(row["note"]).strip():
            found.append(f"{where}: a {row['comparability']} row must say in its note how it differs")
        if not str(row["vcci_indicator_vi"]).strip() or not str(row["vcci_indicator_en"]).strip():
            found.append(f"{where}: VCCI's indicator needs its Vietnamese and English wording")
        if row["unit"] not in UNITS:
            found.append(f"{where}: unit {row['unit']!r}")
            continue
        low, high, whole = UNITS[row["unit"]]
        value = float(row["value"])
        if not (low <= value <= high) or (whole and value != int(value)):
            found.append(f"{where}: value {value} outside its unit {row['unit']!r}")
    return found


@pytest.fixture(scope="module")
def shipped() -> pd.DataFrame:
    return pgi_indicator_benchmarks()


def test_the_file_has_the_agreed_columns_and_rows(shipped):
    assert list(shipped.columns) == COLUMNS
    assert len(shipped) > 0


def test_the_shipped_file_keeps_every_rule(shipped):
    assert _problems(shipped, _indicator_ids(), _documented_keys(), _provinces()) == []


def _broken(frame: pd.DataFrame, column: str, value) -> pd.DataFrame:
    copy = frame.copy()
    copy[column] = copy[column].astype(object)
    copy.loc[copy.index[0], column] = value
    return copy


@pytest.mark.parametrize("column, value, words", [
    ("indicator", "i9_not_an_indicator", "not in pgi_feedback.yaml"),
    ("source", "S_NOWHERE", "not described in SOURCES.md"),
    ("scope", "Atlantis", "neither 'national' nor a province"),
    ("year", 2021, "not a PGI edition"),
    ("value", 1.5, "outside its unit"),
    ("value", -0.1, "outside its unit"),
    ("unit", "percent", "unit 'percent'"),
    ("comparability", "close", "comparability 'close'"),
    ("vcci_indicator_en", "", "Vietnamese and English wording"),
])
def test_each_rule_catches_its_breakage(shipped, column, value, words):
    problems = _problems(_broken(shipped, column, value), _indicator_ids(), _documented_keys(), _provinces())
    assert len(problems) == 1 and words in problems[0], problems


def test_other_units_have_their_own_ranges(shipped):
    ids, keys, provinces = _indicator_ids(), _documented_keys(), _provinces()
    days = _broken(_broken(shipped, "unit", "days"), "value", 45.0)
    assert _problems(days, ids, keys, provinces) == []  # days are not capped at 1
    assert "outside its unit" in _problems(_broken(days, "value", -3.0), ids, keys, provinces)[0]
    count = _broken(_broken(shipped, "unit", "count"), "value", 2.5)
    assert "outside its unit" in _problems(count, ids, keys, provinces)[0]


def test_a_row_that_differs_must_say_how(shipped):
    row = shipped.index[shipped["comparability"] != "same"][0]
    broken = shipped.copy()
    broken.loc[row, "note"] = " "
    problems = _problems(broken, _indicator_ids(), _documented_keys(), _provinces())
    assert problems == [f"row {row}: a {shipped.loc[row, 'comparability']} row must say in its note how it differs"]


def test_the_reader_returns_the_file_as_written(shipped):
    """A round trip against the csv module: same rows, empty indicator kept as "", numbers parsed."""
    with data_path("data", "reference", "pgi_indicator_benchmarks.csv").open(encoding="utf-8", newline="") as fh:
        raw = list(csv.DictReader(fh))
    assert len(raw) == len(shipped)
    for got, want in zip(shipped.to_dict("records"), raw):
        assert got["year"] == int(want["year"]) and got["value"] == pytest.approx(float(want["value"]))
        for column in COLUMNS:
            if column not in ("year", "value"):
                assert got[column] == want[column], column
    assert "" in set(shipped["indicator"])  # VCCI indicators without a counterpart are kept, not dropped
    guidance = shipped[(shipped["indicator"] == "i3_green_guidance") & (shipped["scope"] == "Quang Ninh")]
    assert guidance["value"].tolist() == [0.86]  # "86% doanh nghiệp đã nhận được hỗ trợ" (S_VTP24)
