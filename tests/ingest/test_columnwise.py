"""Coercion works column by column: one Python call per distinct value, never one per cell (issue 18).

A Kobo CSV of 100,000 rows spent most of its load in a Python call per cell; survey exports repeat a
few answers many times, so reading each distinct value once makes coercion as fast as the column
operations around it. The expected values are computed cell by cell with the public parsers (the
per-cell reading the column-wise one must agree with).
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import survey.ingest.coerce as coerce
import survey.store.staging as staging
from survey.ingest.coerce import cell_text, coerce_answers, parse_date, parse_number
from survey.ingest.ingest import fingerprints
from survey.ingest.mapping import ColumnMap

N = 6_000


def _column(values: list, n: int = N, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    return [values[i] for i in rng.integers(0, len(values), n)]


@pytest.fixture()
def raw() -> pd.DataFrame:
    return pd.DataFrame({
        "had_difficulty": _column(["Có", "Không", "1", "", None, "  ", "maybe"], seed=1),
        "severity": _column(["3", "4,0", "Rất nặng", "", None, "x"], seed=2),
        "cost_estimate": _column(["12,5", "1.250.000", "7", "", None, "abc", " 3 "], seed=3),
        "difficulty_types": _column(["1 3", "2", "Xử lý nước thải, Khác", "", None, "99", "1 zz"], seed=4),
        "difficulty_other": _column(["ghi chú", " e\u0301 ", "", None], seed=5),
    }, index=pd.RangeIndex(2, N + 2))


def _counting(monkeypatch, name: str) -> list:
    calls: list = []
    real = getattr(coerce, name)

    def counted(*args, **kwargs):
        calls.append(args[0] if args else None)
        return real(*args, **kwargs)
    monkeypatch.setattr(coerce, name, counted)
    return calls


def test_each_distinct_value_is_read_once_not_each_cell(raw, monthly, monkeypatch):
    cmap = ColumnMap(single={c: c for c in raw.columns})
    numbers = _counting(monkeypatch, "parse_number")
    texts = _counting(monkeypatch, "cell_text")
    tokens = _counting(monkeypatch, "_tokens_to_codes")
    _answers, problems = coerce_answers(raw, monthly, cmap)
    distinct = sum(raw[c].nunique(dropna=True) for c in raw.columns)
    # every cell read once would be 5 x 6,000 calls; a few per distinct value (and per problem cell) is the bound
    assert len(numbers) <= 2 * distinct
    assert len(tokens) <= raw["difficulty_types"].nunique()
    assert len(texts) <= 3 * distinct + 2 * len(problems)
    assert len(problems) > 100  # the bad cells are still all found (checked value by value below)


def test_column_wise_reading_agrees_cell_by_cell(raw, monthly):
    cmap = ColumnMap(single={c: c for c in raw.columns})
    answers, problems = coerce_answers(raw, monthly, cmap)
    blank = raw.apply(lambda col: col.map(lambda v: cell_text(v).strip() == ""))
    cost = [np.nan if b else (parse_number(str(v)) if parse_number(str(v)) is not None else np.nan)
            for v, b in zip(raw["cost_estimate"], blank["cost_estimate"])]
    np.testing.assert_array_equal(answers["cost_estimate"].to_numpy(), np.array(cost, dtype=float))
    bad_cost = {r for r, v, b in zip(raw.index, raw["cost_estimate"], blank["cost_estimate"])
                if not b and parse_number(str(v)) is None}
    reasons = {(p["row"], p["question"], p["reason"]) for p in problems}
    assert {r for r, q, why in reasons if q == "cost_estimate" and why == "not_a_number"} == bad_cost
    bad_types = {r for r, v in zip(raw.index, raw["difficulty_types"]) if v in ("99", "1 zz")}
    assert {r for r, q, why in reasons if q == "difficulty_types" and why == "unknown_code"} == bad_types
    expected_types = {"1 3": "1 3", "2": "2", "Xử lý nước thải, Khác": "3 10"}  # "1 zz" is one unknown piece
    for row, value in raw["difficulty_types"].items():
        got = answers.at[row, "difficulty_types"]
        want = expected_types.get(value)
        assert (want is None and got is pd.NA) or (got is not pd.NA and got == want), (row, value, got)
    severity = {"3": 3.0, "4,0": 4.0}
    for row, value in raw["severity"].items():
        got = answers.at[row, "severity"]
        assert (np.isnan(got) and value not in severity) or got == severity[value], (row, value, got)
    yes = {"Có": 1.0, "Không": 0.0, "1": 1.0}
    for row, value in raw["had_difficulty"].items():
        got = answers.at[row, "had_difficulty"]
        assert (np.isnan(got) and value not in yes) or got == yes[value], (row, value, got)
    other = answers["difficulty_other"]
    assert set(other.dropna()) == {"ghi chú", "\u00e9"} and other.isna().sum() == blank["difficulty_other"].sum()
    assert parse_date("2025-11-30") is not None  # the date parser is public and read the same way


def test_clean_columns_skip_the_schema_and_a_broken_one_is_still_named(monthly, monkeypatch):
    """Validation clears clean columns with one numpy pass each; the pandera schema checks only the others."""
    import datetime as dt

    import pandera.pandas as pa

    from survey.ingest.validate import validate_answers
    from tests.fixtures import make_answers

    checked: list[list[str]] = []
    real = pa.DataFrameSchema.validate

    def counted(self, frame, *args, **kwargs):
        checked.append(list(frame.columns))
        return real(self, frame, *args, **kwargs)
    monkeypatch.setattr(pa.DataFrameSchema, "validate", counted)
    answers = make_answers(monthly, 200, seed=7)
    today = dt.date.today()  # the fixture draws years up to the current one
    cmap = ColumnMap(single={q.id: q.id for q in monthly.questions})
    before = [p for p in validate_answers(answers, monthly, cmap, today) if p["reason"] in ("unknown_code",
                                                                                            "out_of_range")]
    assert checked == [] and before == []
    answers.loc[5, "severity"] = 7.0  # not a code of the list
    answers.loc[9, "year_established"] = 1500.0  # below the range
    found = {(p["row"], p["question"], p["reason"]) for p in validate_answers(answers, monthly, cmap, today)}
    assert (5, "severity", "unknown_code") in found and (9, "year_established", "out_of_range") in found
    assert sorted(checked[-1]) == ["severity", "year_established"]  # only the broken columns went to pandera


# ---------------------------------------------------------------- answer fingerprints

_CELLS = st.one_of(st.none(), st.just(pd.NA), st.just(np.nan), st.just(""),
                   st.sampled_from(["Có", "Không", "1 3", "Phiếu số 7", "e\u0301", "a\x00b"]), st.text(max_size=12))


@settings(max_examples=60, deadline=None)
@given(texts=st.lists(st.lists(_CELLS, min_size=5, max_size=5), min_size=1, max_size=4),
       numbers=st.lists(st.floats(allow_nan=True, allow_infinity=False), min_size=5, max_size=5))
def test_fingerprints_are_pandas_own_row_hashes(texts, numbers):
    """The stored ``_hash`` of every response ever loaded is ``hash_pandas_object(answers, index=False)``:
    the faster fingerprints must give exactly those values (else a file loaded again would conflict
    with its own rows), missing cells of every kind included."""
    frame = pd.DataFrame({f"t{i}": pd.Series(col, dtype=object) for i, col in enumerate(texts)})
    frame.insert(1, "n", numbers)
    frame["d"] = pd.Series([pd.Timestamp("2025-11-30").date(), None, pd.NA, "x", 3.5], dtype=object)
    expected = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    assert (fingerprints(frame) == expected).all()


@settings(max_examples=40, deadline=None)
@given(texts=st.lists(st.one_of(st.none(), st.text(max_size=12)), min_size=1, max_size=30))
def test_texts_held_as_arrow_strings_keep_their_fingerprints(texts):
    """Coercion now yields text answers as Arrow strings; the fingerprints stored before were made from the
    same texts held as Python objects (missing as pd.NA), and must stay what they were."""
    arrow = pd.DataFrame({"t": pd.Series(texts, dtype="string[pyarrow]"), "n": np.arange(len(texts), dtype=float)})
    objects = pd.DataFrame({"t": pd.Series([pd.NA if t is None else t for t in texts], dtype=object),
                            "n": arrow["n"]})
    assert (fingerprints(arrow) == pd.util.hash_pandas_object(objects, index=False).to_numpy()).all()


def test_fingerprints_of_a_real_chunk_and_of_no_columns(raw, monthly):
    answers, _ = coerce_answers(raw, monthly, ColumnMap(single={c: c for c in raw.columns}))
    assert isinstance(answers["difficulty_other"].dtype, pd.StringDtype)  # a text answer, as Arrow strings
    as_before = answers.astype({c: object for c in answers.columns if isinstance(answers[c].dtype, pd.StringDtype)})
    as_before = as_before.where(as_before.notna(), pd.NA)
    assert (fingerprints(answers) == pd.util.hash_pandas_object(as_before, index=False).to_numpy()).all()
    empty = answers[[]]
    assert (fingerprints(empty) == pd.util.hash_pandas_object(empty, index=False).to_numpy()).all()


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.lists(st.sampled_from(["1", "0", "", None, " 1", "x", "Có", "không", "2", "TRUE"]),
                              min_size=3, max_size=3), min_size=1, max_size=40),
       plain_only=st.booleans())
def test_option_columns_are_read_as_each_cell_alone_is(rows, plain_only, monthly):
    """Option columns (1 chosen, 0 not, blank, a label): read together, each distinct value once, they
    give what each cell read alone gives (``_truthy``; -1, a value not understood, becomes blank and is
    reported)."""
    q = next(x for x in monthly.questions if x.id == "difficulty_types")
    codes = [1, 2, 10]
    if plain_only:
        rows = [[v if v in ("1", "0", "", None) else "1" for v in row] for row in rows]
    index = pd.RangeIndex(2, len(rows) + 2)  # rows as numbered in the file
    frame = pd.DataFrame({f"o{c}": pd.Series([r[i] for r in rows], dtype="string[pyarrow]", index=index)
                          for i, c in enumerate(codes)})
    labels = []
    for c in codes:
        choice = next(ch for ch in monthly.choices(q) if ch.code == c)
        labels.append({coerce.fold(choice.label.vi), coerce.fold(choice.label.en)})
    expected = np.array([[np.nan if v is None else coerce._truthy(v, labels[i]) for i, v in enumerate(r)]
                         for r in rows], dtype=float)
    unknown = int((expected == -1.0).sum())
    expected[expected == -1.0] = np.nan
    out = coerce._Problems()
    got = coerce._split_flags(frame, monthly, q, {c: f"o{c}" for c in codes}, out)
    np.testing.assert_array_equal(got, expected)
    assert len(out) == unknown


def test_a_check_the_fast_path_does_not_know_goes_to_pandera(monthly, monkeypatch):
    """The fast path clears a column only when it knows every check of it; a check added to the schema but
    not to the fast path must send the column to pandera, never pass unchecked."""
    import datetime as dt

    import survey.ingest.validate as validate

    q, today = monthly.question("year_established"), dt.date(2025, 11, 30)
    column = pd.Series([1990.0, 2001.0, np.nan])
    assert validate._check_names(q) == ["out_of_range", "not_whole"]
    assert validate._cleared(column, monthly, q, today)
    assert not validate._cleared(pd.Series([1990.5]), monthly, q, today)
    monkeypatch.setattr(validate, "_check_names", lambda q: ["out_of_range", "a_new_check"])
    assert not validate._cleared(column, monthly, q, today)


# cells of an object column that is not all texts: dates, times, numbers, texts and every kind of missing
_MIXED = st.one_of(st.none(), st.just(np.nan), st.just(pd.NA), st.just(pd.NaT), st.dates(), st.datetimes(),
                   st.integers(-3, 3), st.floats(allow_nan=False, allow_infinity=False, width=16),
                   st.sampled_from(["", "  ", "x", " 1 ", "\u00a0"]), st.booleans())


@settings(max_examples=80, deadline=None)
@given(cells=st.lists(_MIXED, min_size=0, max_size=40))
def test_blank_cells_are_judged_as_each_cell_alone_is(cells):
    """Blankness read once per distinct value (not once per cell) agrees with the cell-by-cell reading,
    for dates, numbers, texts and each kind of missing value mixed in one column."""
    values = np.array(cells + [dt.date(2025, 11, 30)], dtype=object)  # never all texts
    expected = [cell_text(v).strip() == "" for v in values]
    assert coerce.blank_values(values).tolist() == expected


def test_blank_cells_that_cannot_be_hashed_are_judged_one_by_one():
    values = np.empty(4, dtype=object)
    values[:] = [["a"], [], dt.date(2025, 1, 2), "  "]
    assert coerce.blank_values(values).tolist() == [cell_text(v).strip() == "" for v in values]


def test_dates_are_written_once_per_distinct_date(monkeypatch):
    """A date column is staged as ISO text, missing as None, whatever the kind of missing value; the text
    of each distinct date is made once, not once per row."""
    calls = []
    real = staging._iso
    monkeypatch.setattr(staging, "_iso", lambda v: calls.append(v) or real(v))
    days = [dt.date(2025, 11, 1), dt.date(2025, 11, 2), None, pd.NA, dt.datetime(2025, 11, 3, 8, 30), pd.NaT,
            np.nan]
    series = pd.Series([days[i % len(days)] for i in range(7_000)], dtype=object)
    by_hand = ["2025-11-01", "2025-11-02", None, None, "2025-11-03T08:30:00", None, None]
    assert staging.iso_dates(series) == [by_hand[i % len(days)] for i in range(7_000)]
    assert len(calls) <= 3


def test_dates_that_cannot_be_hashed_are_still_written():
    series = pd.Series([dt.date(2025, 1, 2), [], None, pd.NaT], dtype=object)
    assert staging.iso_dates(series) == ["2025-01-02", None, None, None]


_OPTION_CELLS = st.sampled_from(["1", "0", "", None, " 1", "x", "Có", "không", "TRUE"])
# whole-column cells: codes (in any order, repeated), a code with no option column (2), a label, blank, junk
_WHOLE_CELLS = st.sampled_from(["1", "10", "1 10", "10 1", "1 1", "2", "1 2", "", None, "zz", "1 zz", "Khác",
                                " 10 "])


@settings(max_examples=80, deadline=None)
@given(rows=st.lists(st.tuples(_WHOLE_CELLS, st.lists(_OPTION_CELLS, min_size=2, max_size=2)), min_size=1,
                     max_size=40),
       as_texts=st.booleans())
def test_option_columns_that_contradict_the_whole_column_are_the_rows_read_alone_say(rows, as_texts, monthly):
    """A row is refused for its option columns exactly when the set of codes its whole column names
    (each cell read alone by ``_tokens_to_codes``) is not the set of options its columns mark chosen (each
    cell read alone by ``_truthy``); the message shows both. Compared as bits, or (``as_texts``, the way
    past 62 options) as texts: the same rows, the same words."""
    q = next(x for x in monthly.questions if x.id == "difficulty_types")
    codes = [1, 10]
    index = pd.RangeIndex(2, len(rows) + 2)
    raw = pd.DataFrame({"whole": pd.Series([w for w, _ in rows], dtype="string[pyarrow]", index=index)}
                       | {f"o{c}": pd.Series([o[i] for _, o in rows], dtype="string[pyarrow]", index=index)
                          for i, c in enumerate(codes)})
    whole = coerce._coerce_multiple(raw["whole"], monthly, q, "whole", coerce._Problems())
    out = coerce._Problems()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(coerce, "OPTION_BITS", 0 if as_texts else coerce.OPTION_BITS)
        coerce._cross_check(whole, raw, monthly, q, "whole", {10: "o10", 1: "o1"}, out)  # columns out of code order
    expected = []
    for row, (w, options) in zip(index, rows):
        said, _unknown = coerce._tokens_to_codes(w, monthly, q) if w is not None else ([], [])
        marked = {c for c, v in zip(codes, options) if v is not None and coerce._truthy(
            v, {coerce.fold(ch.label.vi) for ch in monthly.choices(q) if ch.code == c}
            | {coerce.fold(ch.label.en) for ch in monthly.choices(q) if ch.code == c}) == 1.0}
        if set(said) != marked:
            expected.append((row, " ".join(str(c) for c in sorted(set(said))) or "-",
                             " ".join(str(c) for c in sorted(marked)) or "-"))
    assert [(p["row"], p["params"]["value"], p["params"]["options"]) for p in out] == expected
    assert all(p["reason"] == "options_disagree" and p["question"] == "difficulty_types" for p in out)
