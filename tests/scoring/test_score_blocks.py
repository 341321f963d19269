"""The score by domain on replicate weights held as float32 and read in blocks of a few columns (issue 18)
gives the plain per-domain weighted ratios and their replicate standard errors, written out here in numpy."""
from __future__ import annotations

import sys
import numpy as np
import pytest

from survey.scoring import ScoringConfig, indicator_matrices, score
from survey.weights import default_margins_path, load_margins, make_design, prepare_margins, rake, replicate_design
from tests.fixtures import make_answers


@pytest.fixture
def small_blocks(monkeypatch):
    for module in ("design", "replicates", "calibrate", "estimate"):  # modules: survey.weights.calibrate is a function
        monkeypatch.setattr(sys.modules[f"survey.weights.{module}"], "BLOCK_BYTES", 4096)
    monkeypatch.setattr(sys.modules["survey.weights.design"], "VIEW_COLUMNS", 3)  # the score's views


def test_domain_values_and_ses_in_blocks_equal_plain_ratios(pgi, small_blocks):
    data = make_answers(pgi, 600, seed=5)
    data["district"] = np.random.default_rng(1).integers(0, 4, len(data))
    m = load_margins(default_margins_path("bac_giang", 2024)).select(["size_class", "ownership"])
    design = rake(replicate_design(make_design(data, population=m.total), "bootstrap", replicates=20, seed=3,
                                   dtype="float32"), prepare_margins(m, data))
    table = score(design, pgi, by="district", config=ScoringConfig(sensitivity=False, min_n=1)).table
    num, den = indicator_matrices(design, pgi)
    W = np.nan_to_num(np.column_stack([design.weights, design.repweights.astype(float)]))
    for ind in ("i1_env_quality", "i1_hazard_loss"):  # a share (0/1) and a mean of amounts (20.5, 99.5 ...)
        j = [i.id for i in pgi.indicators].index(ind)
        for district in range(4):
            rows = data["district"].to_numpy() == district
            v = (W[rows].T @ num[rows, j]) / (W[rows].T @ den[rows, j])
            se = np.sqrt(design.scale * np.sum((v[1:] - v[1:].mean()) ** 2))
            got = table[(table["id"] == ind) & (table["district"] == district)].iloc[0]
            assert got["value"] == pytest.approx(v[0], rel=1e-12)
            assert got["value_se"] == pytest.approx(se, rel=1e-9)
    assert np.any(num[:, [i.id for i in pgi.indicators].index("i1_hazard_loss")] % 1 != 0)  # not whole numbers


def test_a_missing_replicate_weight_counts_as_zero(pgi, small_blocks):
    """A replicate weight that is NaN (a row the replicate's raking could not weight) leaves that row out of
    that replicate only, in whichever block it falls: the value is the ratio with the weight taken as 0."""
    data = make_answers(pgi, 300, seed=8)
    data["district"] = np.arange(len(data)) % 3
    design = replicate_design(make_design(data), "bootstrap", replicates=12, seed=4)
    design.repweights[[5, 40], 9] = np.nan           # rows 5 (district 2) and 40 (district 1), replicate 10
    table = score(design, pgi, by="district", config=ScoringConfig(sensitivity=False, min_n=1)).table
    num, den = indicator_matrices(design, pgi)
    j = [i.id for i in pgi.indicators].index("i1_env_quality")
    W = np.column_stack([design.weights, np.nan_to_num(design.repweights)])
    for district in range(3):
        rows = data["district"].to_numpy() == district
        v = (W[rows].T @ num[rows, j]) / (W[rows].T @ den[rows, j])
        se = np.sqrt(design.scale * np.sum(design.rscales * (v[1:] - v[1:].mean()) ** 2))
        got = table[(table["id"] == "i1_env_quality") & (table["district"] == district)].iloc[0]
        assert got["value_se"] == pytest.approx(se, rel=1e-9)


def test_a_multiple_choice_is_searched_once_per_distinct_answer(pgi):
    """The score searches each distinct answer of a multiple-choice question once and spreads the result:
    the same as searching every response (selected()'s rule), missing and blank answers included."""
    import pandas as pd
    from survey.questionnaire.expressions import holds_codes
    from survey.scoring.score import _Answers
    rng = np.random.default_rng(2)
    pool = ["1 3", "3", "7", "", "13", "1 13 7", None, "3 1", "  3  "]
    col = pd.Series([pool[k] for k in rng.integers(0, len(pool), 500)], dtype="str")
    col[0], col[1] = None, "1 3"                    # missing first; the first distinct answer holds 1 and 3
    answers = _Answers(pd.DataFrame({"supports_received": col}))
    q = pgi.question("supports_received")
    for codes in ((3,), (1, 7), (13,), (2,)):
        np.testing.assert_array_equal(answers.holds(q, codes), holds_codes(col, codes))
    assert answers.holds(q, (3,))[col.isna().to_numpy()].sum() == 0 and answers.holds(q, (3,)).sum() > 0


def test_indicators_of_one_question_do_not_narrow_each_other(pgi):
    """A question's valid answers are worked out once per run: an indicator restricted to a sub-population
    (``among``) must not restrict the next indicator of the same question."""
    from dataclasses import replace

    from survey.questionnaire.expressions import parse_expression
    data = make_answers(pgi, 300, seed=9)
    plain = next(i for i in pgi.indicators if i.question == "supports_received" and i.among is None)
    narrowed = replace(plain, id="i4_narrowed", among=parse_expression("size_class == 1"))
    qn = replace(pgi, indicators=(narrowed, plain))
    num, den = indicator_matrices(make_design(data), qn)
    col = data["supports_received"]
    answered = (col.notna() & (col.astype("string").str.strip() != "")).fillna(False).to_numpy()
    np.testing.assert_array_equal(den[:, 1], answered.astype(float))
    np.testing.assert_array_equal(den[:, 0], (answered & (data["size_class"] == 1).to_numpy()).astype(float))
    assert 0 < den[:, 0].sum() < den[:, 1].sum()
