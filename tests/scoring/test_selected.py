"""A multiple-choice indicator counts a firm when its answer holds one of the indicator's codes as a whole
space-separated token, the rule of selected() (issue 18: one RE2 search over the column, no Python call
per row); the SPSS export's 0/1 columns use it too."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from survey.questionnaire.expressions import holds_codes as _selected  # what scoring calls

ANSWERS = ["1 3", "13", "31 2", "3", None, "", " 3 ", "2\t3", "10 30"]


@pytest.mark.parametrize("dtype", [object, "string[pyarrow]", "string[python]"])
def test_codes_are_whole_tokens(dtype):
    col = pd.Series(ANSWERS, dtype=dtype)
    # by hand: "3" is a token of "1 3", "3", " 3 ", "2\t3"; not of "13", "31 2", "10 30"; missing is not
    assert _selected(col, (3,)).tolist() == [True, False, False, True, False, False, True, True, False]
    assert _selected(col, (2, 10)).tolist() == [False, False, True, False, False, False, False, True, True]
    assert _selected(col, (13,)).tolist() == [False, True, False, False, False, False, False, False, False]


def test_an_all_missing_column_selects_nothing():
    assert not _selected(pd.Series([None, np.nan, None], dtype=object), (1,)).any()
