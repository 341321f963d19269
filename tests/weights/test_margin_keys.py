"""A margin's categories are found once per distinct answer, not once per respondent (issue 18), with the
same result as naming each answer in turn (answer_key): codes as numbers or texts, missing of every kind."""
from __future__ import annotations

import numpy as np
import pandas as pd

from survey.weights.margins import _each_distinct, answer_key

MIXED = [1, 1.0, "1", " 2 ", None, np.nan, pd.NA, 2.5, "x", 3, "x", -4, "-4"]


def test_each_distinct_value_is_named_as_each_answer_would_be():
    col = pd.Series(MIXED * 3, dtype=object)
    assert _each_distinct(col, answer_key).tolist() == [answer_key(v) for v in col]
    # by hand, for the first thirteen
    assert _each_distinct(col, answer_key).tolist()[:13] == [1, 1, 1, 2, None, None, None, None, "x", 3, "x", -4, -4]


def test_float_columns_and_the_function_called_once_per_distinct_value():
    calls = []
    col = pd.Series(np.tile([1.0, 2.0, np.nan], 100_000))
    out = _each_distinct(col, lambda v: calls.append(v) or answer_key(v))
    assert out[:3].tolist() == [1, 2, None] and len(out) == 300_000
    assert len(calls) == 3  # 1.0, 2.0 and missing
