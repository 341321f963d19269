"""Scoring: normalisations and the chain by hand, suppression, SEs against brute force, sensitivity."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from survey.errors import EstimationError
from survey.scoring import DistanceToTarget, Goalposts, MinMax, ScoringConfig, complementary_suppression, score
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
        inds = t[(t["kind"] == "indicator") & (t["subindex"] == s)]
        w = np.array([next(i.weight for i in pgi.indicators if i.id == x) for x in inds["id"]])
        assert _row(t, f"sub{s}")["estimate"] == pytest.approx(np.sum(w * inds["estimate"]) / w.sum())
    subs = t[t["kind"] == "subindex"]["estimate"]
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
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((row["estimate"] - z95 * row["se"],
                                                             row["estimate"] + z95 * row["se"]))
    assert row["level"] == 0.95
    narrow = score(design, pgi, config=ScoringConfig(sensitivity=False, level=0.90)).table.set_index("id")
    assert narrow.loc["total", "ci_high"] - narrow.loc["total", "ci_low"] < row["ci_high"] - row["ci_low"]


def test_small_cells_are_suppressed_never_shown(design, pgi):
    t = score(design, pgi, by="ownership", config=ScoringConfig(min_n=60, sensitivity=False)).table
    hidden = t[t["suppressed"]]
    assert len(hidden) > 0
    assert hidden[["estimate", "se", "ci_low", "ci_high"]].isna().all().all()
    ind = hidden[(hidden["kind"] == "indicator") & (hidden["reason"] != "complementary")]
    assert (ind["n"] < 60).all() and ind["value"].isna().all()
    # a sub-index using a hidden indicator is hidden too, and so is the total
    for _, row in ind.iterrows():
        sub = t[(t["ownership"] == row["ownership"]) & (t["id"] == f"sub{int(row['subindex'])}")].iloc[0]
        assert sub["suppressed"] and np.isnan(sub["estimate"])
    assert set(hidden["reason"]) <= {"min_n", "not_applicable", "complementary"}


def test_not_applicable_domain(design, pgi):
    t = score(design, pgi, by="site", config=ScoringConfig(sensitivity=False)).table
    outside = t[(t["site"] == 3)]
    infra = outside[outside["id"] == "i2_treatment_infra"].iloc[0]
    assert infra["n"] == 0 and infra["reason"] == "not_applicable"
    assert outside[outside["id"] == "sub2"].iloc[0]["reason"] == "not_applicable"
    assert outside[outside["id"] == "sub1"].iloc[0]["suppressed"] == False  # noqa: E712
    assert t["domain_en"].iloc[0] == "In an industrial zone"


def _lenient(pgi):
    """The questionnaire with "agree" counted as 3-5 wherever it is 4-5: the coding alternative, built apart."""
    inds = tuple(replace(i, codes=(3, 4, 5)) if i.method != "mean" and tuple(i.codes or ()) == (4, 5) else i
                 for i in pgi.indicators)
    return replace(pgi, indicators=inds)


def test_the_coding_of_agree_is_in_the_sensitivity_and_its_swing_is_exact(design, pgi):
    result = score(design, pgi)
    lenient = score(design, _lenient(pgi), config=ScoringConfig(sensitivity=False)).table.set_index("id")
    base = result.table.set_index("id")
    coding = result.tornado[result.tornado["factor"] == "coding"].set_index("id")
    for m in ("sub1", "sub3", "total"):
        assert coding.loc[m, "high"] == pytest.approx(max(lenient.loc[m, "estimate"], base.loc[m, "estimate"]))
        assert coding.loc[m, "low"] == pytest.approx(min(lenient.loc[m, "estimate"], base.loc[m, "estimate"]))
    # counting neutral as agreeing moves the total; the range includes it
    assert lenient.loc["total", "estimate"] > base.loc["total", "estimate"] + 1.0
    assert base.loc["total", "sens_high"] >= base.loc["total", "estimate"]
    assert set(result.tornado["factor"]) == {"coding", "indicator_set", "normalisation", "weights", "goalposts"}


def test_leaving_one_indicator_out_is_in_the_tornado(design, pgi):
    result = score(design, pgi)
    t = result.table.set_index("id")
    subs3 = [i for i in pgi.indicators if i.subindex == 3]
    scores3 = t.loc[[i.id for i in subs3], "estimate"].to_numpy()
    w = np.array([i.weight for i in subs3])
    without = [(np.sum(w * scores3) - w[j] * scores3[j]) / (w.sum() - w[j]) for j in range(len(subs3))]
    row = result.tornado.query("factor == 'indicator_set' and id == 'sub3'").iloc[0]
    assert row["low"] == pytest.approx(min(without + [t.loc["sub3", "estimate"]]))
    assert row["high"] == pytest.approx(max(without + [t.loc["sub3", "estimate"]]))


def test_minmax_is_fitted_on_every_replicate(design, pgi):
    """Min-max rescaling against the domains, scored per replicate as if each were the only weights: the SE
    of the scoring must match, which it cannot if min and max are learned once from the point estimates."""
    mm = replace(pgi, indicators=tuple(replace(i, normalisation="minmax") for i in pgi.indicators))
    cfg = ScoringConfig(sensitivity=False, min_n=1)
    t = score(design, mm, by="size_class", config=cfg).table
    ids = ["i1_env_quality", "sub1", "total"]
    key = t["size_class"] == t["size_class"].iloc[0]
    got = t[key].set_index("id").loc[ids, "se"].to_numpy()
    thetas = []
    for r in range(design.repweights.shape[1]):
        one = Design(design.data, design.repweights[:, r])
        tr = score(one, mm, by="size_class", config=cfg).table
        thetas.append(tr[tr["size_class"] == t["size_class"].iloc[0]].set_index("id").loc[ids, "estimate"].to_numpy())
    np.testing.assert_allclose(got, np.sqrt(replicate_variance(design, np.array(thetas))), rtol=1e-9)


def _groups(design, sizes):
    grp = np.repeat(np.arange(len(sizes)), sizes).astype(float)
    return replace(design, data=design.data.assign(grp=grp))


def test_no_hidden_cell_can_be_worked_out_by_subtraction(design, pgi):
    """An attacker with the published province value, the published groups and the groups' weighted sizes
    (the margins a report prints) recovers a hidden group's share exactly when it is the only one hidden."""
    d = _groups(design, [150, 100, 42, 8])
    cfg = ScoringConfig(sensitivity=False, min_n=10)
    whole = score(d, pgi, config=cfg).table.set_index("id")
    parts = score(d, pgi, by="grp", config=cfg).table
    w = d.weights
    for ind in [i for i in pgi.indicators if i.among is None and i.method != "mean"][:5]:
        rows = parts[parts["id"] == ind.id].set_index("grp")
        base = d.data[ind.question].notna().to_numpy() & ~d.data[ind.question].isin([98, 99]).to_numpy()
        size = {g: np.sum(w * base * (d.data["grp"] == g)) for g in rows.index}
        shown = rows[~rows["suppressed"]]
        hidden = rows[rows["suppressed"] & (rows["n"] > 0)]
        assert len(hidden) != 1, ind.id             # never a single hidden group
        if len(hidden):
            rest = sum(size[g] for g in hidden.index)
            recovered = (whole.loc[ind.id, "value"] * sum(size.values())
                         - sum(size[g] * shown.loc[g, "value"] for g in shown.index)) / rest
            for g in hidden.index:   # the true hidden value, by hand
                mine = (d.data["grp"] == g).to_numpy() & base
                truth = np.sum(w * mine * d.data[ind.question].isin(list(ind.codes))) / np.sum(w * mine)
                assert recovered != pytest.approx(truth, abs=1e-6)


def test_the_complementary_rule_by_hand():
    from survey.scoring import complementary_suppression
    counts = np.array([[50, 0, 9], [8, 30, 40], [30, 5, 12]])
    primary = counts < 10
    extra = complementary_suppression(counts, primary)
    # column 0: one hidden (8) -> the smallest shown (30) too; column 1: 0 respondents is not a value and 5 is
    # the one hidden -> the smallest shown (30); column 2: one hidden (9) -> 12
    assert extra.tolist() == [[False, False, False], [False, True, False], [True, False, True]]


def test_scoring_config_is_checked():
    with pytest.raises(EstimationError, match="min_n must be at least 1"):
        ScoringConfig(min_n=0)
    with pytest.raises(EstimationError, match="confidence levels"):
        ScoringConfig(level=95)


def _table_row_by_row(qn, labels, sizes, shaped, counts, primary, extra, sens, level):
    """The score table written out one row at a time from its definition: the oracle of the column-wise
    ``_table`` (each domain: its indicators, its sub-indices, its total)."""
    from scipy import stats
    z = stats.norm.ppf(0.5 + level / 2)
    (val, val_se), (sc, sc_se), (sub, sub_se), (tot, tot_se) = shaped

    def reason(idx, d):
        if any(primary[d, i] and counts[d, i] == 0 for i in idx):
            return "not_applicable"
        if any(primary[d, i] for i in idx):
            return "min_n"
        return "complementary" if any(extra[d, i] for i in idx) else None

    def numbers(why, est, se, bound):
        lo, hi = est - z * se, est + z * se
        if bound is not None:
            lo, hi = min(max(lo, 0.0), bound), min(max(hi, 0.0), bound)
        return [np.nan] * 4 if why else [est, se, lo, hi]

    rows = []
    for d, label in enumerate(labels):
        for i, ind in enumerate(qn.indicators):
            why = reason([i], d)
            rows.append([label, "indicator", ind.id, ind.subindex, ind.label.vi, ind.label.en, ind.label.vi,
                         ind.label.en, ind.method, *numbers(why, val[d, i], val_se[d, i], None),
                         *numbers(why, sc[d, i], sc_se[d, i], 10.0), counts[d, i], why, np.nan, np.nan])
        for k, s in enumerate(qn.subindices):
            why = reason([i for i, ind in enumerate(qn.indicators) if ind.subindex == s.number], d)
            rows.append([label, "subindex", f"sub{s.number}", s.number, s.label.vi, s.label.en, s.short.vi,
                         s.short.en, "subindex", *[np.nan] * 4, *numbers(why, sub[d, k], sub_se[d, k], 10.0),
                         sizes[d], why, *([np.nan] * 2 if why else [sens[0][d, k], sens[1][d, k]])])
        why = reason(range(len(qn.indicators)), d)
        rows.append([label, "total", "total", np.nan, "Chỉ số của Hiệp hội (tổng, thang 0–40)",
                     "Association's index (total, 0–40)", "Tổng (0–40)", "Total (0–40)", "total", *[np.nan] * 4,
                     *numbers(why, tot[d, 0], tot_se[d, 0], 40.0), sizes[d], why,
                     *([np.nan] * 2 if why else [sens[0][d, -1], sens[1][d, -1]])])
    return pd.DataFrame(rows, columns=["grp", "kind", "id", "subindex", "name_vi", "name_en", "short_vi", "short_en",
                                       "method", "value", "value_se", "value_ci_low", "value_ci_high", "estimate",
                                       "se", "ci_low", "ci_high", "n", "reason", "sens_low", "sens_high"])


def test_the_table_is_each_domain_row_by_row(pgi):
    """The table is made a column at a time over every domain (a million responses are 128,000 rows);
    it must say, row by row, what the definition says: order, names, hidden rows and why, bounded intervals."""
    from survey.scoring.score import _table
    rng = np.random.default_rng(4)
    I, S, D = len(pgi.indicators), len(pgi.subindices), 7
    counts = rng.integers(0, 40, (D, I))
    counts[:2] = rng.integers(100, 200, (2, I))        # two domains shown whole (their totals too)
    counts[2, :] = 0                                   # a domain where no one answered: not applicable
    primary = counts < 10
    extra = complementary_suppression(counts, primary)
    assert extra.any() and (primary & (counts == 0)).any() and (primary & (counts > 0)).any()
    assert not (primary[:2] | extra[:2]).any()
    shaped = [(rng.uniform(0, 1, (D, I)), rng.uniform(0, 0.2, (D, I))),
              (rng.uniform(0, 10, (D, I)), rng.uniform(0, 3, (D, I))),   # intervals that leave 0-10: clipped
              (rng.uniform(0, 10, (D, S)), rng.uniform(0, 3, (D, S))),
              (rng.uniform(0, 40, (D, 1)), rng.uniform(0, 12, (D, 1)))]
    sens = (rng.uniform(0, 10, (D, S + 1)), rng.uniform(0, 10, (D, S + 1)))
    doms = [(10.0 + d, np.arange(5 + d)) for d in range(D)]
    got = _table(pgi, doms, "grp", shaped, counts, primary, extra, sens, ScoringConfig(level=0.9))
    want = _table_row_by_row(pgi, [10.0 + d for d in range(D)], [5 + d for d in range(D)], shaped, counts,
                             primary, extra, sens, 0.9)
    assert got["suppressed"].tolist() == want["reason"].notna().tolist()
    assert set(want["reason"].dropna()) == {"not_applicable", "min_n", "complementary"}
    assert (got["level"] == 0.9).all()
    got = got.drop(columns=["suppressed", "level"])[want.columns]
    pd.testing.assert_frame_equal(got, want, check_dtype=False, rtol=1e-13)
