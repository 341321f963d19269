"""Margins files, cell checks and merges, errors, replicates, diagnostics and estimators by hand."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from survey.errors import EstimationError, WeightingError
from survey.weights.margins import Collapse
from survey.weights import (
    Category, Margin, PopulationMargins, calibrate, default_margins_path, load_margins, make_design, margin_check,
    mean, prepare_margins, proportion, rake, replicate_design, total, weight_summary, with_replicates,
    replicate_variance, format_diagnostics, diagnose,
)


def _margins(**cats) -> PopulationMargins:
    ms = tuple(Margin(name, name, tuple(Category(f"{name}{c}", (c,), float(k)) for c, k in counts.items()))
               for name, counts in cats.items())
    return PopulationMargins("Test", 2024, "test", False, ms)


# ----------------------------------------------------------------- margins files

def test_shipped_demo_margins_are_labelled_illustrative():
    m = load_margins(default_margins_path("bac_giang", 2024))
    assert m.illustrative and "not a published statistic" in m.source
    assert [x.name for x in m.margins] == ["sector_group", "size_class", "ownership", "locality"]
    assert {x.total for x in m.margins} == {11000.0}


def test_margins_file_errors(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("""province: X
year: 2024
margins:
  a: {question: a, categories: {one: {codes: [1], count: 10}, two: {codes: [1, 2], count: 5}}}
  b: {question: b, categories: {one: {codes: [1], count: 30}, bad: {codes: [], count: 1}}}
collapse:
  - {margin: a, merge: [one, three], into: x}
""", encoding="utf-8")
    with pytest.raises(WeightingError) as err:
        load_margins(path)
    text = str(err.value)
    assert "'source' is missing" in text
    assert "code 1 is in both 'one' and 'two'" in text
    assert "category 'bad': codes must be a list" in text
    assert "do not add up to the same number of enterprises: a 15, b 30" in text
    assert "merge names unknown categories ['three'] of 'a'" in text
    assert str(path) in text


def test_prepare_merges_sparse_categories_with_a_log():
    data = pd.DataFrame({"a": [1] * 10 + [2] * 2 + [3] * 1, "b": [1, 2] * 6 + [1]})
    m = _margins(a={1: 60, 2: 25, 3: 15}, b={1: 50, 2: 50})
    m = PopulationMargins(m.province, m.year, m.source, False, m.margins,
                          collapse=(Collapse("a", ("a2", "a3"), "a23"),),
                          min_respondents=3)
    prepared = prepare_margins(m, data)
    assert [c.name for c in prepared.margin("a").categories] == ["a1", "a23"]
    assert prepared.margin("a").categories[1] == Category("a23", (2, 3), 40.0)
    assert tuple(map(str, prepared.log)) == ("a: merged a2 (2), a3 (1) into 'a23' (respondents in brackets; minimum 3)",)


def test_empty_category_without_a_merge_is_an_error():
    data = pd.DataFrame({"a": [1] * 10, "b": [1, 2] * 5})
    with pytest.raises(WeightingError) as err:
        prepare_margins(_margins(a={1: 60, 2: 40}, b={1: 50, 2: 50}), data)
    assert "category 'a2' of margin 'a' has 40 enterprises but no respondent, and no merge covers it" in str(err.value)


def test_respondent_outside_every_category_is_an_error():
    data = pd.DataFrame({"a": [1, 2, 98, np.nan], "b": [1, 2, 1, 2]})
    with pytest.raises(WeightingError, match="2 response\\(s\\) have no category in margin 'a'"):
        prepare_margins(_margins(a={1: 60, 2: 40}, b={1: 50, 2: 50}), data)


# ----------------------------------------------------------------- convergence and cells

def test_rake_meets_every_margin():
    rng = np.random.default_rng(1)
    data = pd.DataFrame({"a": rng.integers(1, 4, 300), "b": rng.integers(1, 3, 300), "c": rng.integers(1, 5, 300)})
    m = _margins(a={1: 500, 2: 300, 3: 200}, b={1: 600, 2: 400}, c={1: 100, 2: 200, 3: 300, 4: 400})
    d = rake(make_design(data), m)
    check = margin_check(d, m)
    assert np.allclose(check["achieved"], check["target"], rtol=1e-8)
    assert d.weights.sum() == pytest.approx(1000)


def test_rake_that_cannot_converge_names_the_margins():
    # a and b are the same variable with contradicting margins: no weights can meet both
    data = pd.DataFrame({"a": [1, 1, 2, 2], "b": [1, 1, 2, 2]})
    m = _margins(a={1: 30, 2: 70}, b={1: 60, 2: 40})
    with pytest.raises(WeightingError) as err:
        rake(make_design(data), m, maxit=50)
    text = str(err.value)
    assert "raking did not converge" in text
    assert "margin 'a' is off by" in text or "margin 'b' is off by" in text


def test_empty_cell_found_before_calibration():
    data = pd.DataFrame({"a": [1, 1, 1], "b": [1, 2, 1]})
    with pytest.raises(WeightingError, match="categories \\['a2'\\] have population but no weighted respondent"):
        rake(make_design(data), _margins(a={1: 5, 2: 5}, b={1: 5, 2: 5}))
    with pytest.raises(WeightingError, match="no weighted respondent"):
        calibrate(make_design(data), _margins(a={1: 5, 2: 5}, b={1: 5, 2: 5}))


def test_rake_with_trimming_keeps_weights_within_limits_and_margins_met():
    rng = np.random.default_rng(2)
    n = 400
    data = pd.DataFrame({"a": rng.choice([1, 2, 3], n, p=[.7, .2, .1]), "b": rng.choice([1, 2], n, p=[.8, .2])})
    m = _margins(a={1: 300, 2: 300, 3: 400}, b={1: 500, 2: 500})
    free = rake(make_design(data), m)
    assert free.weights.max() > 10  # raking alone produces large weights here
    capped = rake(make_design(data), m, trim_limits=(0.5, 15))
    assert capped.weights.max() <= 15 * (1 + 1e-6) and capped.weights.min() >= 0.5 * (1 - 1e-6)
    assert capped.weights.max() < free.weights.max() - 5  # the largest weights were brought down
    assert np.allclose(margin_check(capped, m)["achieved"], margin_check(capped, m)["target"], rtol=1e-6)
    with pytest.raises(WeightingError, match="raking with weights kept within \\[0.5, 1.5\\] did not converge: no weights within these limits meet the margins a, b"):
        rake(make_design(data), m, trim_limits=(0.5, 1.5))  # impossible: 1000 enterprises, 400 responses


def test_unknown_calfun():
    data = pd.DataFrame({"a": [1, 2], "b": [1, 2]})
    with pytest.raises(WeightingError, match="unknown calibration function 'probit'"):
        calibrate(make_design(data), _margins(a={1: 1, 2: 1}, b={1: 1, 2: 1}), calfun="probit")
    with pytest.raises(WeightingError, match="logit calibration needs finite bounds"):
        calibrate(make_design(data), _margins(a={1: 1, 2: 1}, b={1: 1, 2: 1}), calfun="logit")


# ----------------------------------------------------------------- replicates

@settings(max_examples=30, deadline=None)
@given(sizes=st.lists(st.integers(2, 12), min_size=1, max_size=4), reps=st.integers(2, 30), seed=st.integers(0, 999))
def test_rao_wu_multipliers_sum_to_stratum_size(sizes, reps, seed):
    strata = np.repeat(np.arange(len(sizes)), sizes)
    d = replicate_design(make_design(pd.DataFrame({"s": strata}), strata="s"), "bootstrap", replicates=reps, seed=seed)
    for h, nh in enumerate(sizes):
        # n_h - 1 draws, each multiplied by n_h / (n_h - 1): every replicate keeps the stratum's weight
        assert np.allclose(d.repweights[strata == h].sum(axis=0), nh)
    assert d.scale == pytest.approx(1 / (reps - 1))


def test_replicates_must_come_before_adjustment():
    data = pd.DataFrame({"a": [1, 2, 1, 2], "b": [1, 1, 2, 2]})
    raked = rake(make_design(data), _margins(a={1: 5, 2: 5}, b={1: 5, 2: 5}))
    with pytest.raises(WeightingError, match="make replicates before adjusting"):
        replicate_design(raked, "JK1")
    with pytest.raises(WeightingError, match="JKn replicates need strata"):
        replicate_design(make_design(data), "JKn")


def test_with_replicates_hook_equals_the_estimator():
    rng = np.random.default_rng(3)
    data = pd.DataFrame({"y": rng.normal(size=50), "a": rng.integers(1, 3, 50), "b": rng.integers(1, 3, 50)})
    d = rake(replicate_design(make_design(data), "bootstrap", replicates=40, seed=1),
             _margins(a={1: 60, 2: 40}, b={1: 30, 2: 70}))
    y = data["y"].to_numpy()
    res = with_replicates(d, lambda W: (W.T @ y) / W.sum(axis=0))
    direct = mean(d, "y")
    assert res.estimate[0] == pytest.approx(direct["estimate"].iloc[0])
    assert np.sqrt(res.variance[0]) == pytest.approx(direct["se"].iloc[0])
    # an independent formula: Rao-Wu bootstrap variance, 1/(R-1) * sum over replicates of (theta_r - mean)^2
    thetas = [np.sum(d.repweights[:, r] * y) / d.repweights[:, r].sum() for r in range(40)]
    assert res.variance[0] == pytest.approx(np.var(thetas, ddof=1), rel=1e-12)
    assert np.sqrt(replicate_variance(d, res.replicates))[0] == pytest.approx(direct["se"].iloc[0])


def test_linearised_and_replicate_se_agree_on_a_large_sample():
    rng = np.random.default_rng(4)
    n = 4000
    data = pd.DataFrame({"a": rng.integers(1, 4, n), "b": rng.integers(1, 3, n)})
    data["y"] = 2 + data["a"] + rng.normal(0, 2, n)
    m = _margins(a={1: 3000, 2: 4000, 3: 3000}, b={1: 5000, 2: 5000})
    lin = mean(rake(make_design(data), m), "y")["se"].iloc[0]
    rep = mean(rake(replicate_design(make_design(data), "bootstrap", replicates=400, seed=5), m), "y")["se"].iloc[0]
    assert rep == pytest.approx(lin, rel=0.12)  # two routes to one answer, up to bootstrap noise


# ----------------------------------------------------------------- estimators and diagnostics by hand

def test_mean_total_proportion_by_hand():
    data = pd.DataFrame({"y": [1.0, 2.0, 3.0, np.nan], "z": [1, 0, 1, 98], "g": ["x", "x", "y", "y"]})
    d = make_design(data, np.array([1.0, 1.0, 2.0, 4.0]))
    assert mean(d, "y")["estimate"].iloc[0] == pytest.approx((1 + 2 + 6) / 4)  # NaN left out
    assert total(d, "y")["estimate"].iloc[0] == pytest.approx(9)
    p = proportion(d, "z", codes=[1], exclude=[98])
    assert p["estimate"].iloc[0] == pytest.approx(3 / 4) and p["n"].iloc[0] == 3
    by = mean(d, "y", by="g")
    assert by["g"].tolist() == ["x", "y"] and by["estimate"].tolist() == [1.5, 3.0]
    # unstratified, no calibration: var = n/(n-1) * sum((w (y - m) / sum w)^2), as svymean
    y, w = np.array([1, 2, 3.0]), np.array([1, 1, 2.0])
    m = np.sum(w * y) / w.sum()
    z = w * (y - m) / w.sum()
    assert mean(make_design(data.iloc[:3], w), "y")["se"].iloc[0] == pytest.approx(np.sqrt(3 / 2 * np.sum((z - z.mean()) ** 2)))


def test_intervals_for_proportions_stay_in_0_1():
    data = pd.DataFrame({"z": [1] * 29 + [0]})
    for method in ("logit", "wilson"):
        p = proportion(make_design(data), "z", codes=[1], method=method).iloc[0]
        assert 0 <= p["ci_low"] < p["estimate"] < p["ci_high"] <= 1
    with pytest.raises(EstimationError, match="unknown interval method"):
        proportion(make_design(data), "z", codes=[1], method="exact")


def test_wilson_equals_the_textbook_formula_for_srs():
    z = np.array([1] * 12 + [0] * 28)
    p = proportion(make_design(pd.DataFrame({"z": z})), "z", codes=[1], method="wilson").iloc[0]
    n_eff = 0.3 * 0.7 / p["se"] ** 2
    q = 1.959963984540054
    centre = (0.3 + q ** 2 / (2 * n_eff)) / (1 + q ** 2 / n_eff)
    half = q / (1 + q ** 2 / n_eff) * np.sqrt(0.3 * 0.7 / n_eff + q ** 2 / (4 * n_eff ** 2))
    assert (p["ci_low"], p["ci_high"]) == pytest.approx((centre - half, centre + half))


def test_weight_summary_by_hand():
    s = weight_summary(make_design(pd.DataFrame({"x": range(4)}), np.array([1.0, 1.0, 2.0, 4.0])))
    assert s["sum"] == 8 and s["max_min_ratio"] == 4
    assert s["n_effective"] == pytest.approx(64 / 22)
    assert s["deff_kish"] == pytest.approx(4 * 22 / 64)  # n * sum w^2 / (sum w)^2 = 1 + CV^2
    assert s["cv"] == pytest.approx(np.sqrt(4 * 22 / 64 - 1))


def test_diagnostics_text_mentions_illustrative_margins():
    data = pd.DataFrame({"a": [1, 2, 1, 2], "b": [1, 1, 2, 2]})
    m = _margins(a={1: 5, 2: 5}, b={1: 5, 2: 5})
    m = PopulationMargins(m.province, m.year, m.source, True, m.margins)
    text = format_diagnostics(rake(make_design(data), m), m, lang="en")
    assert "Kish design effect" in text and "illustrative" in text and "raked on a, b" in text


def test_dropped_replicates_change_the_scale_not_the_answer():
    """Replicates left out (a weighting that did not converge on them) are not counted in the scale:
    the bootstrap variance is the sample variance of the replicates kept, 1/(R'-1) sum (theta_r - mean)^2."""
    rng = np.random.default_rng(8)
    data = pd.DataFrame({"y": rng.normal(size=80), "g": rng.integers(0, 2, 80)})
    d = replicate_design(make_design(data), "bootstrap", replicates=30, seed=2)
    reps = d.repweights.copy()
    reps[:, [3, 11, 17]] = np.nan  # three replicates given up
    d = replace(d, repweights=reps)
    y = data["y"].to_numpy()
    kept = [np.sum(reps[:, r] * y) / reps[:, r].sum() for r in range(30) if r not in (3, 11, 17)]
    res = with_replicates(d, lambda W: (W.T @ y) / W.sum(axis=0))
    assert res.dropped.tolist() == [3]
    assert res.variance[0] == pytest.approx(np.var(kept, ddof=1), rel=1e-12)
    assert mean(d, "y")["se"].iloc[0] == pytest.approx(np.std(kept, ddof=1), rel=1e-12)
    # the jackknife: the kept replicates' sum, times R/R' (their average contribution)
    jk = replicate_design(make_design(data), "JK1")
    reps = jk.repweights.copy()
    reps[:, [0, 5]] = np.nan
    jk = replace(jk, repweights=reps)
    kept = np.array([np.sum(reps[:, r] * y) / reps[:, r].sum() for r in range(80) if r not in (0, 5)])
    expected = 79 / 80 * 80 / 78 * np.sum((kept - kept.mean()) ** 2)
    assert mean(jk, "y")["se"].iloc[0] ** 2 == pytest.approx(expected, rel=1e-12)


def _skewed():
    data = pd.DataFrame({"a": [1] * 10 + [2] * 2, "b": [1, 2] * 6, "y": np.arange(12.0)})
    return data, _margins(a={1: 900, 2: 100}, b={1: 150, 2: 850})


def test_linear_calibration_refuses_weights_at_or_below_zero():
    from survey.i18n import error_text
    data, m = _skewed()
    base = make_design(data, population=1000)
    with pytest.raises(WeightingError) as caught:
        calibrate(base, m, calfun="linear")
    assert caught.value.code == "weighting.negative_weights"
    assert "--method logit --bounds" in error_text(caught.value, "en") and "below zero" in error_text(caught.value, "en")
    assert "dưới 0" in error_text(caught.value, "vi") and "--bounds" in error_text(caught.value, "vi")
    # the same margins by bounded (logit) calibration: every weight positive, every margin met
    bounded = calibrate(base, m, calfun="logit", bounds=(0.05, 5))
    assert np.all(bounded.weights > 0)
    assert np.allclose(margin_check(bounded, m)["achieved"], margin_check(bounded, m)["target"])


def test_replicates_that_do_not_converge_are_counted_and_left_out():
    rng = np.random.default_rng(5)
    data = pd.DataFrame({"a": rng.choice([1, 2], 40, p=[0.85, 0.15]), "b": rng.integers(1, 3, 40),
                         "y": rng.normal(size=40)})
    m = _margins(a={1: 600, 2: 400}, b={1: 500, 2: 500})
    boot = replicate_design(make_design(data, population=1000), "bootstrap", replicates=60, seed=1)
    cal = calibrate(boot, m, calfun="logit", bounds=(0.3, 4.2))
    dropped = cal.dropped_replicates
    assert 0 < dropped < 60
    assert cal.log[-1].code == "calibrated_dropped" and cal.log[-1].params["dropped"] == dropped
    text = diagnose(cal, m).text("en")
    assert f"{dropped} of 60 replicates left out" in text
    y = data["y"].to_numpy()
    kept = [np.sum(w * y) / w.sum() for w in cal.repweights.T if np.all(np.isfinite(w))]
    assert len(kept) == 60 - dropped
    assert mean(cal, "y")["se"].iloc[0] == pytest.approx(np.std(kept, ddof=1), rel=1e-12)
