"""Scoring: normalisations and the chain by hand, suppression, SEs against brute force, sensitivity."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from survey.errors import EstimationError
from survey.questionnaire import Sensitivity
from survey.scoring import DistanceToTarget, Goalposts, MinMax, ScoringConfig, score
from survey.weights import (
    Design, default_margins_path, load_margins, make_design, prepare_margins, rake, replicate_design,
    replicate_variance,
)
from tests.fixtures import make_answers

# ----------------------------------------------------------------- normalisations by hand


def test_goalposts():
    g = Goalposts(0, 1).fit()
    assert g.transform([0.4, -0.2, 1.3]).tolist() == [4.0, 0.0, 10.0]
    assert Goalposts(0, 1, "negative").fit().transform(0.25) == 7.5
    assert Goalposts(0, 180, "negative").fit().transform(45) == pytest.approx(7.5)


def test_minmax_learns_from_the_benchmark_set():
    m = MinMax().fit([0.2, 0.6, 1.0, np.nan])
    assert (m.min_, m.max_) == (0.2, 1.0)
    assert m.transform([0.2, 0.6, 1.0]).tolist() == pytest.approx([1.0, 5.5, 10.0])
    assert MinMax("negative").fit([0.2, 1.0]).transform([0.2, 1.0]).tolist() == [10.0, 1.0]
    with pytest.raises(EstimationError, match="benchmark set of at least two different values"):
        MinMax().fit([0.5])


def test_distance_to_target():
    assert DistanceToTarget(0, 1, 0.8).fit().transform([0.4, 0.9]).tolist() == [5.0, 10.0]
    assert DistanceToTarget(0, 180, 30, "negative").fit().transform(105) == pytest.approx(5.0)


def test_unfitted_normaliser_is_an_error():
    with pytest.raises(EstimationError, match="not fitted yet"):
        MinMax().transform([1.0])


# ----------------------------------------------------------------- the chain

@pytest.fixture(scope="module")
def design(pgi) -> Design:
    data = make_answers(pgi, 300, seed=21)
    m = load_margins(default_margins_path("bac_giang", 2024)).select(["size_class", "ownership"])
    base = replicate_design(make_design(data, population=m.total), "bootstrap", replicates=40, seed=2)
    return rake(base, prepare_margins(m, data))


def _row(table: pd.DataFrame, rid: str) -> pd.Series:
    return table[table["id"] == rid].iloc[0]


def test_indicator_value_and_score_by_hand(design, pgi):
    t = score(design, pgi, config=ScoringConfig(sensitivity=False)).table
    d, w = design.data, design.weights
    valid = d["env_quality"].notna() & (d["env_quality"] != 98)
    value = np.sum(w * valid * d["env_quality"].isin([4, 5])) / np.sum(w * valid)
    row = _row(t, "i1_env_quality")
    assert row["value"] == pytest.approx(value) and row["estimate"] == pytest.approx(10 * value)
    assert row["n"] == int(valid.sum())
    # a negative indicator among a sub-population: overlap among inspected firms, reversed
    base = (d["inspected"] == 1) & d["inspection_overlap"].isin([0, 1])
    share = np.sum(w * base * (d["inspection_overlap"] == 1)) / np.sum(w * base)
    assert _row(t, "i2_overlap")["estimate"] == pytest.approx(10 - 10 * share)
    # a multiple choice: share selecting code 3 (green credit) among those who answered
    answered = d["supports_received"].notna()
    credit = d["supports_received"].fillna("").str.split().map(lambda t: "3" in t)
    assert _row(t, "i4_green_credit")["value"] == pytest.approx(np.sum(w * credit) / np.sum(w * answered))


def test_subindex_is_the_weighted_mean_and_total_the_sum(design, pgi):
    t = score(design, pgi, config=ScoringConfig(sensitivity=False)).table
    for s in range(1, 5):
        inds = t[(t["level"] == "indicator") & (t["subindex"] == s)]
        w = np.array([next(i.weight for i in pgi.indicators if i.id == x) for x in inds["id"]])
        assert _row(t, f"sub{s}")["estimate"] == pytest.approx(np.sum(w * inds["estimate"]) / w.sum())
    subs = t[t["level"] == "subindex"]["estimate"]
    assert _row(t, "total")["estimate"] == pytest.approx(subs.sum())
    assert 0 <= _row(t, "total")["estimate"] <= 40


def test_intervals_agree_with_brute_force_recomputation(design, pgi):
    """Score each replicate as if it were the only weights; the spread must give the same SE."""
    cfg = ScoringConfig(sensitivity=False)
    t = score(design, pgi, config=cfg).table.set_index("id")
    ids = ["sub1", "sub2", "sub3", "sub4", "total", "i3_dialogue"]
    thetas = []
    for r in range(design.repweights.shape[1]):
        one = Design(design.data, design.repweights[:, r])
        thetas.append(score(one, pgi, config=cfg).table.set_index("id").loc[ids, "estimate"].to_numpy())
    se = np.sqrt(replicate_variance(design, np.array(thetas)))
    np.testing.assert_allclose(t.loc[ids, "se"].to_numpy(), se, rtol=1e-10)
    z95 = 1.959963984540054
    row = t.loc["total"]
    assert (row["ci95_low"], row["ci95_high"]) == pytest.approx((row["estimate"] - z95 * row["se"],
                                                                 row["estimate"] + z95 * row["se"]))
    assert row["ci90_high"] - row["ci90_low"] < row["ci95_high"] - row["ci95_low"]


def test_small_cells_are_suppressed_never_shown(design, pgi):
    t = score(design, pgi, by="ownership", config=ScoringConfig(min_n=60, sensitivity=False)).table
    hidden = t[t["suppressed"]]
    assert len(hidden) > 0
    assert hidden[["estimate", "se", "ci95_low", "ci95_high"]].isna().all().all()
    ind = hidden[hidden["level"] == "indicator"]
    assert (ind["n"] < 60).all() and ind["value"].isna().all()
    # a sub-index using a hidden indicator is hidden too, and so is the total
    for _, row in ind.iterrows():
        sub = t[(t["ownership"] == row["ownership"]) & (t["id"] == f"sub{int(row['subindex'])}")].iloc[0]
        assert sub["suppressed"] and np.isnan(sub["estimate"])
    assert set(hidden["suppressed_reason"]) <= {"too_few", "not_applicable"}


def test_not_applicable_domain(design, pgi):
    t = score(design, pgi, by="site", config=ScoringConfig(sensitivity=False)).table
    outside = t[(t["site"] == 3)]
    infra = outside[outside["id"] == "i2_treatment_infra"].iloc[0]
    assert infra["n"] == 0 and infra["suppressed_reason"] == "not_applicable"
    assert outside[outside["id"] == "sub2"].iloc[0]["suppressed_reason"] == "not_applicable"
    assert outside[outside["id"] == "sub1"].iloc[0]["suppressed"] == False  # noqa: E712
    assert t["domain_en"].iloc[0] == "In an industrial zone"


def test_sensitivity_without_alternatives_is_a_point(design, pgi):
    flat = replace(pgi, sensitivity=Sensitivity(weights=(1.0, 1.0), goalposts=0.0, normalisations=("goalposts",),
                                                draws=20))
    t = score(design, flat).table
    rows = t[t["level"] != "indicator"]
    assert np.allclose(rows["sens_low"], rows["estimate"]) and np.allclose(rows["sens_high"], rows["estimate"])
    wide = score(design, pgi).table
    total = _row(wide, "total")
    assert total["sens_low"] < total["sens_high"]


def test_scoring_config_is_checked():
    with pytest.raises(EstimationError, match="min_n must be at least 1"):
        ScoringConfig(min_n=0)
    with pytest.raises(EstimationError, match="confidence levels"):
        ScoringConfig(levels=(95,))
