"""The expression language: parsing, XPath translation, evaluation on frames."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from survey.questionnaire import evaluate, parse_expression, to_xpath

TYPES = {"a": "yesno", "n": "integer", "m": "multiple", "site": "single", "t": "text"}


def test_names_exclude_value():
    expr = parse_expression("value <= n and selected(m, 3)")
    assert expr.names == {"n", "m"}


@pytest.mark.parametrize("text", [
    "__import__('os')", "a.real == 1", "lambda: 1", "a if n else m", "f(a)", "a < n < 3",
    "a in n", "True", "[x for x in a]", "a + 1 == 2 ** 3",
])
def test_rejects_anything_outside_the_language(text):
    with pytest.raises(ValueError):
        parse_expression(text)


@pytest.mark.parametrize("text, xpath", [
    ("a == 1", "${a} = '1'"),
    ("n >= 2", "${n} >= 2"),
    ("site in [1, 2]", "(${site} = '1' or ${site} = '2')"),
    ("site not in [3]", "not(${site} = '3')"),
    ("a == 1 or n > 3", "${a} = '1' or ${n} > 3"),
    ("a == 1 and (n > 3 or site == 2)", "${a} = '1' and (${n} > 3 or ${site} = '2')"),
    ("selected(m, 7)", "selected(${m}, '7')"),
    ("not (selected(value, 7) and count_selected(value) > 1)",
     "not(selected(., '7') and count-selected(.) > 1)"),
    ("answered(m)", "string-length(string(${m})) > 0"),
    ("regex(value, '^[0-9]{8}$')", "regex(., '^[0-9]{8}$')"),
    ("value <= current_year()", ". <= number(format-date(today(), '%Y'))"),
    ("selected(m, value)", "selected(${m}, .)"),
])
def test_xpath(text, xpath):
    assert to_xpath(parse_expression(text), {**TYPES, "value": "multiple"}) == xpath


FRAME = pd.DataFrame({
    "a": [1, 0, np.nan, 1],
    "n": [5, 1, 3, np.nan],
    "m": ["1 7", "3", None, "2 3"],
    "t": ["0912 345 678", "abc", None, "+84912345678"],
})


@pytest.mark.parametrize("text, expected", [
    ("a == 1", [True, False, False, True]),
    ("a != 1", [False, True, True, False]),       # as in ODK: unanswered is not 1
    ("n > 2", [True, False, True, False]),
    ("3 < n", [True, False, False, False]),
    ("a == 1 and n > 2", [True, False, False, False]),
    ("a == 1 or n == 1", [True, True, False, True]),
    ("not a == 1", [False, True, True, False]),
    ("n in [1, 3]", [False, True, True, False]),
    ("selected(m, 3)", [False, True, False, True]),
    ("count_selected(m) > 1", [True, False, False, True]),
    ("answered(m)", [True, True, False, True]),
    ("regex(t, '^[+]?[0-9 .]{8,15}$')", [True, False, False, True]),
])
def test_evaluate_by_hand(text, expected):
    assert evaluate(parse_expression(text), FRAME).tolist() == expected


def test_evaluate_value_and_current_year():
    frame = pd.DataFrame({"y": [1990, 2026, 2027]})
    got = evaluate(parse_expression("value >= 1900 and value <= current_year()"), frame,
                   self_column="y", today=dt.date(2026, 11, 28))
    assert got.tolist() == [True, True, False]


def test_evaluate_names_a_missing_column():
    with pytest.raises(KeyError, match="no column 'zz'"):
        evaluate(parse_expression("zz == 1"), FRAME)


codes = st.lists(st.one_of(st.none(), st.integers(1, 5)), min_size=1, max_size=30)


@settings(max_examples=60, deadline=None)
@given(values=codes, a=st.integers(1, 5), b=st.integers(1, 5))
def test_in_equals_or_of_equalities(values, a, b):
    frame = pd.DataFrame({"q": pd.array(values, dtype="Float64").astype(float)})
    left = evaluate(parse_expression(f"q in [{a}, {b}]"), frame)
    right = evaluate(parse_expression(f"q == {a} or q == {b}"), frame)
    assert left.tolist() == right.tolist()
    negated = evaluate(parse_expression(f"q not in [{a}, {b}]"), frame)
    assert (negated == ~left).all()


# ----------------------------------------------------------------- regex(): linear-time RE2 (issue 19)

@pytest.mark.parametrize("pattern, why", [
    (r"^(a+)\\1$", "invalid escape sequence"),          # backreference
    ("^(?=.*@).+$", "invalid perl operator"),             # lookahead
    ("^(?!x).+$", "invalid perl operator"),               # negative lookahead
    ("(?<=@)[a-z]+", "invalid perl operator"),           # lookbehind
    ("^[0-9", "missing ]"),                               # not a pattern at all
])
def test_regex_re2_cannot_run_is_refused_when_parsed(pattern, why):
    with pytest.raises(ValueError, match="regex pattern .* cannot be used") as err:
        parse_expression(f"regex(value, '{pattern}')")
    assert why in str(err.value) and "linear" in str(err.value)


@pytest.mark.parametrize("text", ["regex(value, 5)", "regex(value, t)", "regex(value, -1)"])
def test_regex_pattern_must_be_quoted_text(text):
    with pytest.raises(ValueError, match="pattern of regex"):
        parse_expression(text)


def test_regex_pattern_re2_cannot_run_is_a_definition_problem(qdir):
    """Reported when the questionnaire is loaded, with the other definition errors, not at ingest."""
    from survey.errors import QuestionnaireError
    from survey.questionnaire import load_questionnaire
    from tests.conftest import edit_text, line_of

    path = qdir / "monthly_difficulties.yaml"
    edit_text(path, "'^[^@ ]+@[^@ ]+[.][^@ ]+$'", "'^(?=[^@]+@)[^@ ]+@[^@ ]+$'")
    with pytest.raises(QuestionnaireError) as err:
        load_questionnaire("monthly_difficulties", root=qdir)
    [msg] = [str(p) for p in err.value.problems]
    assert msg.startswith(f"{path}:{line_of(path, '(?=[^@]+@)')}: ") and ".constraint: " in msg
    assert "regex pattern '^(?=[^@]+@)[^@ ]+@[^@ ]+$' cannot be used" in msg


EMAIL, PHONE = "^[^@ ]+@[^@ ]+[.][^@ ]+$", "^[+]?[0-9 .]{8,15}$"


@pytest.mark.parametrize("value, email", [
    ("dn1@congty.vn", True), ("a.b@c.d.e", True), ("ngọc@côngty.việt.nam", True), ("a@b", False),
    ("a @b.c", False), ("a@@b.c", False), ("@b.c", False), ("a@b.", False), ("", False), (None, False),
])
def test_regex_email_as_before(value, email):
    got = evaluate(parse_expression(f"regex(value, '{EMAIL}')"), pd.DataFrame({"v": [value]}), self_column="v")
    assert got.tolist() == [email]


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.text("a@. +0912xyzđ", max_size=18), min_size=1, max_size=5),
       pattern=st.sampled_from([EMAIL, PHONE, "[0-9]{3}", "^Đ", "(?i)^XY"]))
def test_regex_agrees_with_python_re_on_declared_patterns(values, pattern):
    """RE2 finds what Python's re found for these patterns (texts are stripped at ingest: no final newline)."""
    import re

    got = evaluate(parse_expression(f"regex(value, '{pattern}')"), pd.DataFrame({"v": values}), self_column="v")
    assert got.tolist() == [re.search(pattern, v) is not None for v in values]


def test_regex_xpath_is_unchanged():
    assert to_xpath(parse_expression(f"regex(value, '{EMAIL}')"), {"value": "text"}) == f"regex(., '{EMAIL}')"


# ----------------------------------------- selected()/count_selected() over whole columns (issue 18)

@settings(max_examples=200, deadline=None)
@given(cells=st.lists(st.one_of(st.none(), st.lists(st.sampled_from(["1", "2", "3", "13", "31", "10"]),
                                                    max_size=4).map(" ".join)), min_size=1, max_size=8),
       codes=st.lists(st.sampled_from([1.0, 3.0, 13.0, float("nan")]), min_size=8, max_size=8))
def test_selected_agrees_with_token_membership(cells, codes):
    """A code is chosen when it is a whole token of the cell ("3" is not in "13"), as Python's split says;
    with a code per row (``selected(m, value)``) each row is checked against its own code."""
    frame = pd.DataFrame({"m": pd.Series(cells, dtype=object), "v": codes[:len(cells)]})
    tokens = [(c or "").split() for c in cells]
    got = evaluate(parse_expression("selected(m, 3)"), frame).tolist()
    assert got == ["3" in t for t in tokens]
    per_row = evaluate(parse_expression("selected(m, value)"), frame, self_column="v").tolist()
    assert per_row == [v == v and str(int(v)) in t for t, v in zip(tokens, frame["v"])]
    counted = evaluate(parse_expression("count_selected(m) == 2"), frame).tolist()
    assert counted == [len(t) == 2 for t in tokens]
