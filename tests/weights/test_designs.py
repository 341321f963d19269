"""Sampling designs, replicate designs built from them, and the estimators, against R's survey (within 1e-6).

The expected values were computed by ``tests/golden/designs.R`` (R 4.2.2, survey 4.1.1) on R's own
``data(api)`` (apistrat, apiclus1, apiclus2) and ``data(scd)``, exported to ``tests/golden/api_*.csv`` and
``scd.csv``; rerun it to regenerate. Each test names the R commands it mirrors.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.errors import EstimationError, WeightingError
from survey.weights import (
    Category, Margin, PopulationMargins, calibrate, load_margins, margin_check, prepare_margins, rake,
    RESULT_COLUMNS, chisq, degrees_of_freedom, glm, hadamard, make_design, mean, proportion, quantile, ratio,
    replicate_design, subset, table, total, weighted_quantile,
)

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
EXPECTED = json.loads((GOLDEN / "designs_expected.json").read_text())
RTOL = 1e-6


def close(actual, expected, rtol: float = RTOL) -> None:
    np.testing.assert_allclose(np.asarray(actual, dtype=float).ravel(), np.asarray(expected, dtype=float).ravel(),
                               rtol=rtol, atol=0)


def check(frame: pd.DataFrame, key: str) -> None:
    close(frame["estimate"], EXPECTED[key]["estimate"])
    close(frame["se"], EXPECTED[key]["se"])


def api(name: str) -> pd.DataFrame:
    return pd.read_csv(GOLDEN / f"api_{name}.csv")


@pytest.fixture(scope="module")
def dstrat():  # svydesign(id=~1, strata=~stype, weights=~pw, data=apistrat, fpc=~fpc)
    return make_design(api("strat"), "pw", strata="stype", fpc="fpc")


@pytest.fixture(scope="module")
def dclus1():  # svydesign(id=~dnum, weights=~pw, data=apiclus1, fpc=~fpc)
    return make_design(api("clus1"), "pw", ids="dnum", fpc="fpc")


@pytest.fixture(scope="module")
def dclus2():  # svydesign(id=~dnum+snum, fpc=~fpc1+fpc2, data=apiclus2): weights from the fpc
    return make_design(api("clus2"), ids=["dnum", "snum"], fpc=["fpc1", "fpc2"])


# ----------------------------------------------------------------- linearised variance

def test_stratified_with_fpc(dstrat):  # svymean(~api00+enroll), svytotal(~enroll), svyratio(~api00, ~api99)
    check(mean(dstrat, ["api00", "enroll"]), "strat_mean")
    check(total(dstrat, "enroll"), "strat_total_enroll")
    check(ratio(dstrat, "api00", "api99"), "strat_ratio")
    assert degrees_of_freedom(dstrat) == EXPECTED["strat_degf"]


def test_one_stage_clusters_with_fpc(dclus1):  # the cluster design: SE 23.54 with fpc, not 7.99 per school
    check(mean(dclus1, ["api00", "api99"]), "clus1_mean")
    check(total(dclus1, "enroll"), "clus1_total_enroll")
    check(mean(dclus1, "api00", by="stype"), "clus1_by_stype")  # svyby(~api00, ~stype, dclus1, svymean)
    check(ratio(dclus1, "api00", "api99"), "clus1_ratio")
    assert degrees_of_freedom(dclus1) == EXPECTED["clus1_degf"]


def test_one_stage_clusters_without_fpc():  # svydesign(id=~dnum, weights=~pw, data=apiclus1): SE 23.78
    check(mean(make_design(api("clus1"), "pw", ids="dnum"), "api00"), "clus1_nofpc_mean")


def test_two_stage_clusters(dclus2):  # svydesign(id=~dnum+snum, fpc=~fpc1+fpc2, data=apiclus2)
    close(dclus2.weights, EXPECTED["clus2_weights"])
    check(mean(dclus2, "api00"), "clus2_mean_api00")
    check(total(dclus2, "enroll"), "clus2_total_enroll")  # svytotal(~enroll, na.rm=TRUE)
    check(mean(dclus2, "api00", by="stype"), "clus2_by_stype")
    # without fpc only the first stage counts (ultimate cluster), as R
    check(mean(make_design(api("clus2"), "pw", ids=["dnum", "snum"]), "api00"), "clus2_nofpc_mean_api00")


@pytest.mark.parametrize("how", ["certainty", "remove", "adjust", "average"])
def test_lonely_psu(how):  # options(survey.lonely.psu=how); svymean(~api00+enroll) with one middle school
    d = make_design(api("lonely"), "pw", strata="stype", lonely_psu=how)
    check(mean(d, ["api00", "enroll"]), f"lonely_{how}")


def test_lonely_psu_fails_by_default():
    d = make_design(api("lonely"), "pw", strata="stype")
    with pytest.raises(EstimationError, match="single primary sampling unit"):
        mean(d, "api00")
    with pytest.raises(WeightingError, match="unknown lonely_psu"):
        make_design(api("lonely"), "pw", strata="stype", lonely_psu="ignore")


def test_fpc_errors():
    data = api("clus1")
    with pytest.raises(WeightingError, match="one fpc per sampling stage"):
        make_design(data, "pw", ids="dnum", fpc=["fpc", "fpc"])
    with pytest.raises(WeightingError, match="more units sampled"):
        make_design(data, "pw", ids="dnum", fpc=np.full(len(data), 3.0))
    with pytest.raises(WeightingError, match="no column"):
        make_design(data, "pw", ids="district")


def test_fpc_as_sampling_fraction_equals_population_size(dclus1):
    data = api("clus1")
    frac = make_design(data, "pw", ids="dnum", fpc=15 / data["fpc"])
    close(mean(frac, "api00")["se"], mean(dclus1, "api00")["se"], rtol=1e-12)


# ----------------------------------------------------------------- replicate designs built from the design

def test_jk1_on_clusters_with_fpc(dclus1):  # as.svrepdesign(dclus1, type="JK1")
    jk = replicate_design(dclus1, "JK1")
    assert jk.repweights.shape[1] == 15 and jk.scale == pytest.approx(EXPECTED["jk1_clus1_scale"], rel=1e-12)
    check(mean(jk, ["api00", "api99"]), "jk1_clus1_mean")
    check(total(jk, "enroll"), "jk1_clus1_total_enroll")
    assert degrees_of_freedom(jk) == EXPECTED["jk1_clus1_degf"]


def test_jkn_by_stratum_with_fpc(dstrat):  # as.svrepdesign(dstrat, type="JKn")
    jk = replicate_design(dstrat, "JKn")
    check(mean(jk, ["api00", "enroll"]), "jkn_strat_mean")
    check(ratio(jk, "api00", "api99"), "jkn_strat_ratio")


def test_brr_where_strata_have_two_psus():  # as.svrepdesign(scdnofpc, type="BRR", hadamard.matrix=H)
    scd = pd.read_csv(GOLDEN / "scd.csv")
    d = make_design(scd, np.ones(len(scd)), strata="ESA", ids="ambulance")
    brr = replicate_design(d, "BRR")
    close(brr.repweights, EXPECTED["brr_scd_repweights"], rtol=0)
    check(mean(brr, ["arrests", "alive"]), "brr_scd_mean")
    check(total(brr, "arrests"), "brr_scd_total")
    with pytest.raises(WeightingError, match="exactly two primary units"):
        replicate_design(make_design(api("strat"), "pw", strata="stype"), "BRR")


def test_sylvester_hadamard_is_orthogonal():
    h = hadamard(5)
    assert h.shape == (8, 8) and np.array_equal(h @ h.T, 8 * np.eye(8))


def test_bootstrap_by_cluster_with_r_multipliers_and_r_scale(dclus1):
    # as.svrepdesign(dclus1, type="bootstrap", replicates=50): R's multipliers; scale mbar/((mbar-1)(R-1))
    mult = pd.read_csv(GOLDEN / "designs_boot_clus1.csv").to_numpy()
    boot = replicate_design(dclus1, "bootstrap", multipliers=mult, scale="bootstrap")
    assert boot.scale == pytest.approx(EXPECTED["boot_clus1_scale"], rel=1e-12)
    check(mean(boot, ["api00", "api99"]), "boot_clus1_mean")
    # the Rao-Wu scale on the same multipliers is too small by sqrt((m - 1)/m), m = 15 districts
    rao_wu = replicate_design(dclus1, "bootstrap", multipliers=mult)
    close(mean(rao_wu, "api00")["se"], np.array(EXPECTED["boot_clus1_mean"]["se"][:1]) * np.sqrt(14 / 15))


def test_subbootstrap_with_r_multipliers(dstrat):  # as.svrepdesign(dstrat, type="subbootstrap", replicates=50)
    mult = pd.read_csv(GOLDEN / "designs_subboot_strat.csv").to_numpy()
    check(mean(replicate_design(dstrat, "subbootstrap", multipliers=mult), ["api00", "enroll"]), "subboot_strat_mean")


def test_own_bootstrap_resamples_whole_clusters(dclus1):
    for scale in ("rao-wu", "bootstrap"):
        boot = replicate_design(dclus1, "bootstrap", replicates=30, seed=1, scale=scale)
        mult = boot.repweights / dclus1.weights[:, None]
        per_cluster = pd.DataFrame(mult).groupby(dclus1.data["dnum"].to_numpy()).nunique()
        assert (per_cluster == 1).all().all()  # every school of a district shares its district's multiplier
        draws = np.unique(mult, axis=0) * (14 / 15 if scale == "rao-wu" else 1)  # one row per district
        close(draws.sum(axis=0), np.full(30, 14.0 if scale == "rao-wu" else 15.0), rtol=1e-12)
    assert replicate_design(dclus1, "bootstrap", replicates=30, scale=0.5).scale == 0.5


# ----------------------------------------------------------------- proportions: svyciprop

@pytest.mark.parametrize("design", ["strat", "clus1", "jk1", "boot"])
@pytest.mark.parametrize("method", ["logit", "beta", "mean", "asin", "xlogit"])
def test_ciprop_methods(design, method, dstrat, dclus1):  # svyciprop(~I(sch.wide=="Yes"), design, method)
    d = {"strat": dstrat, "clus1": dclus1}.get(design)
    if design == "jk1":
        d = replicate_design(dclus1, "JK1")
    elif design == "boot":
        d = replicate_design(dclus1, "bootstrap", scale="bootstrap",
                            multipliers=pd.read_csv(GOLDEN / "designs_boot_clus1.csv").to_numpy())
    p = proportion(d, "sch.wide", codes=["Yes"], method=method)
    exp = EXPECTED[f"{design}_ciprop_{method}"]
    close(p["estimate"], exp["estimate"])
    close([p["ci_low"].iloc[0], p["ci_high"].iloc[0]], exp["ci"])


@pytest.mark.parametrize("design", ["strat", "clus1"])
def test_ciprop_likelihood(design, dstrat, dclus1):  # svyciprop(..., method="likelihood"): profile, spline
    d = {"strat": dstrat, "clus1": dclus1}[design]
    p = proportion(d, "sch.wide", codes=["Yes"], method="likelihood")
    # R's own steps (IRLS, grid, spline) are followed, so the match is far inside 1e-6
    close([p["ci_low"].iloc[0], p["ci_high"].iloc[0]], EXPECTED[f"{design}_ciprop_likelihood"]["ci"], rtol=1e-9)
    with pytest.raises(EstimationError, match="linearised design"):  # R gives NA on replicate designs
        proportion(replicate_design(d, "JKn" if design == "strat" else "JK1"), "sch.wide", codes=["Yes"],
                   method="likelihood")


def test_fmm_spline_is_exact_for_cubics():
    from survey.weights.profile import fmm_spline
    x = np.array([0.0, 0.5, 1.3, 2.0, 3.1, 4.0])
    cubic = lambda t: 1 - 2 * t + 0.5 * t ** 2 - 0.3 * t ** 3  # noqa: E731
    grid = np.linspace(0, 4, 17)
    close(fmm_spline(x, cubic(x), grid), cubic(grid), rtol=1e-10)  # FMM ends reproduce a cubic exactly


# ----------------------------------------------------------------- one result shape

def test_every_estimator_returns_the_one_result_shape(dclus1):
    frames = {"mean": mean(dclus1, ["api00", "api99"], by="stype"), "total": total(dclus1, "enroll"),
              "ratio": ratio(dclus1, "api00", "api99"), "proportion": proportion(dclus1, "sch.wide")}
    for name, frame in frames.items():
        assert tuple(frame.columns[-len(RESULT_COLUMNS):]) == RESULT_COLUMNS, name
        assert (frame["level"] == 0.95).all() and not frame["suppressed"].any()
    few = mean(dclus1, "api00", by="stype", min_n=40)
    assert few["suppressed"].tolist() == [False, True, True] and few["reason"].tolist() == [None, "min_n", "min_n"]


def test_many_variables_equal_one_at_a_time(dclus1):
    jk = replicate_design(dclus1, "JK1")
    for d in (dclus1, jk):
        together = mean(d, ["api00", "api99", "enroll"], by="stype")
        apart = pd.concat([mean(d, v, by="stype") for v in ["api00", "api99", "enroll"]], ignore_index=True)
        close(together["se"], apart["se"], rtol=1e-12)


# ----------------------------------------------------------------- subset, quantiles, tables, regression

def test_subset_keeps_the_whole_design(dclus1):  # subset(dclus1, stype == "E"); subset(jk1, stype == "E")
    e = subset(dclus1, "stype == 'E'")
    check(mean(e, ["api00", "api99"]), "subset_clus1_mean")
    assert degrees_of_freedom(e) == EXPECTED["subset_clus1_degf"]
    assert mean(e, "api00")["n"].iloc[0] == int((dclus1.data["stype"] == "E").sum())
    check(mean(subset(replicate_design(dclus1, "JK1"), (dclus1.data["stype"] == "E").to_numpy()), "api00"),
          "subset_jk1_mean")
    with pytest.raises(WeightingError, match="cannot evaluate"):
        subset(dclus1, "no_such_column > 1")


def _quantile_check(frame: pd.DataFrame, key: str) -> None:
    exp = EXPECTED[key]
    for col in ("estimate", "ci_low", "ci_high", "se"):
        close(frame[col], exp[col])


def test_quantiles_as_r_default(dclus1, dstrat, dclus2):  # svyquantile(~x, design, p): qrule math, Woodruff
    _quantile_check(quantile(dclus1, "api00", [0.25, 0.5, 0.9]), "quantile_clus1")
    _quantile_check(quantile(dstrat, "enroll", [0.1, 0.5]), "quantile_strat")
    _quantile_check(quantile(replicate_design(dclus1, "JK1"), "api00", [0.5, 0.75]), "quantile_jk1")
    _quantile_check(quantile(dclus2, "enroll", 0.5), "quantile_clus2")  # na.rm=TRUE
    by = quantile(dclus1, "api00", 0.5, by="stype")  # svyby(~api00, ~stype, dclus1, svyquantile, quantiles=0.5)
    assert by["stype"].tolist() == ["E", "H", "M"]
    check(by, "quantile_by_stype")


def test_weighted_quantile_by_hand():
    x, w = np.array([3.0, 1.0, 2.0, 4.0]), np.array([1.0, 1.0, 1.0, 1.0])
    assert weighted_quantile(x, w, 0.5) == 2.0  # the share reaches 0.5 exactly at 2: the lower value
    assert weighted_quantile(x, w, 0.51) == 3.0
    assert weighted_quantile(x, np.array([0.0, 1.0, 1.0, 2.0]), 0.5) == 2.0  # a zero weight is ignored
    assert weighted_quantile(x, w, 0.1) == 2.0  # R: below the first share, the second answer (survey:::last)


def test_table_and_rao_scott(dclus1, dstrat):  # svytable, svytotal(~interaction()), svychisq(~sch.wide + stype)
    t = table(dclus1, "sch.wide", "stype")
    close(t["estimate"], EXPECTED["table_clus1"]["estimate"])
    check(t, "table_total_clus1")
    assert t[["sch.wide", "stype"]].iloc[1].tolist() == ["Yes", "E"]
    one = table(dclus1, "stype")
    close(one["estimate"], [t["estimate"].iloc[2 * i:2 * i + 2].sum() for i in range(3)])
    for design, key in ((dclus1, "chisq_clus1_F"), (dstrat, "chisq_strat_F"),
                        (replicate_design(dclus1, "JK1"), "chisq_jk1_F")):
        test = chisq(design, "sch.wide", "stype").iloc[0]
        close([test["statistic"], test["ndf"], test["ddf"], test["p_value"]],
              [EXPECTED[key]["statistic"], *EXPECTED[key]["parameter"], EXPECTED[key]["p"]])
    first = chisq(dclus1, "sch.wide", "stype", statistic="Chisq").iloc[0]
    close([first["statistic"], first["ndf"], first["p_value"]],
          [EXPECTED["chisq_clus1_Chisq"]["statistic"], EXPECTED["chisq_clus1_Chisq"]["parameter"],
           EXPECTED["chisq_clus1_Chisq"]["p"]])


def _glm_check(frame: pd.DataFrame, key: str) -> None:
    check(frame, key)
    ci = np.asarray(EXPECTED[key]["ci"]).reshape(2, -1)
    # an interval end near zero is b + t se with cancellation: compare it to 1e-6 of the standard error
    for got, want in ((frame["ci_low"], ci[0]), (frame["ci_high"], ci[1])):
        assert np.all(np.abs(got.to_numpy() - want) <= 1e-6 * np.maximum(np.abs(want), frame["se"].to_numpy()))


def test_glm_linear_and_logistic(dclus1, dstrat):  # svyglm(y ~ ..., design[, family=quasibinomial])
    _glm_check(glm(dclus1, "api00", ["ell", "meals", "stype"]), "glm_clus1_gaussian")
    data = dclus1.data.assign(yes=(dclus1.data["sch.wide"] == "Yes").astype(float))
    d = make_design(data, "pw", ids="dnum", fpc="fpc")
    _glm_check(glm(d, "yes", ["meals", "stype"], family="binomial"), "glm_clus1_binomial")
    _glm_check(glm(dstrat, "api00", ["api99", "stype"]), "glm_strat_gaussian")
    _glm_check(glm(replicate_design(d, "JK1"), "yes", ["meals"], family="binomial"), "glm_jk1_binomial")
    assert glm(dclus1, "api00", ["ell"])["term"].tolist() == ["(Intercept)", "ell"]


# ----------------------------------------------------------------- calibration: numeric auxiliaries, labels, cells

def _stype_and_api99() -> PopulationMargins:
    t = EXPECTED["cal_totals"]
    stype = Margin("stype", "stype", (Category("E", ("E",), t["N"] - t["H"] - t["M"]), Category("H", ("H",), t["H"]),
                                      Category("M", ("M",), t["M"])))  # categories named by their text labels
    return PopulationMargins("api", 2000, "R data(api)", False, (stype, Margin("api99", "api99", (), t["api99"])))


def test_calibration_with_a_numeric_auxiliary(dclus1):  # calibrate(dclus1, ~stype + api99, c(pop.totals, api99=...))
    m = _stype_and_api99()
    g3 = calibrate(dclus1, m)
    close(g3.weights, EXPECTED["cal_numeric_weights"])
    check(mean(g3, "api00"), "cal_numeric_mean")
    check(total(g3, "enroll"), "cal_numeric_total")
    assert (g3.weights @ dclus1.data["api99"]) == pytest.approx(EXPECTED["cal_totals"]["api99"], rel=1e-10)
    raking = calibrate(dclus1, m, calfun="raking", tol=1e-12)  # calfun="raking"
    close(raking.weights, EXPECTED["cal_numeric_raking_weights"])
    check(mean(raking, "api00"), "cal_numeric_raking_mean")
    jk = calibrate(replicate_design(dclus1, "JK1"), m)  # calibrate(jk1, ...): redone on every replicate
    close(mean(jk, "api00")["se"], EXPECTED["cal_numeric_jk1_mean"]["se"][:1])
    check_rows = margin_check(g3, m)
    assert check_rows["achieved"].to_numpy() == pytest.approx(check_rows["target"].to_numpy(), rel=1e-9)
    with pytest.raises(WeightingError, match="only calibration uses it"):
        rake(dclus1, m)


def test_calibration_to_the_cells_of_an_interaction(dstrat):
    # calibrate(dstrat, ~interaction(sch.wide, stype), population=c(N, cells[-1])): a census cross-table
    counts = EXPECTED["cal_cells"]["counts"]
    cells = [(w, s) for s in ("E", "H", "M") for w in ("No", "Yes")]
    margin = Margin("wide_by_type", ("sch.wide", "stype"),
                    tuple(Category(f"{w}.{s}", ((w, s),), float(k)) for (w, s), k in zip(cells, counts)))
    pm = PopulationMargins("api", 2000, "R data(apipop)", False, (margin,))
    cal = calibrate(dstrat, pm)
    close(cal.weights, EXPECTED["cal_interaction_weights"])
    check(mean(cal, ["api00", "enroll"]), "cal_interaction_mean")
    close(rake(dstrat, pm).weights, EXPECTED["cal_interaction_weights"])  # one margin: raking is poststratifying


def test_margins_file_with_labels_cells_and_a_numeric_total(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("""province: X
year: 2024
source: test
margins:
  type:
    question: stype
    categories:
      elementary: {codes: [E], count: 4421}
      other: {codes: [H, M], count: 1773}
  cells:
    question: [sch.wide, stype]
    categories:
      no_e: {codes: [["No", E]], count: 472}      # quoted: YAML reads a bare No as false
      rest: {codes: [["Yes", E], ["No", H], ["Yes", H], ["No", M], ["Yes", M]], count: 5722}
  api99:
    question: api99
    total: 3914069
""", encoding="utf-8")
    m = load_margins(path)
    assert m.total == 6194 and m.margin("api99").is_numeric
    assert m.margin("cells").categories[1].codes[0] == ("Yes", "E")
    data = api("clus1")
    prepared = prepare_margins(m, data)
    cal = calibrate(make_design(data, "pw", ids="dnum", fpc="fpc"), prepared)
    assert cal.weights @ data["api99"] == pytest.approx(3914069, rel=1e-10)
    assert cal.weights[(data["stype"] == "E").to_numpy()].sum() == pytest.approx(4421, rel=1e-10)
    bad = data.assign(api99=data["api99"].where(data.index > 2))
    with pytest.raises(WeightingError, match="cannot be weighted"):
        prepare_margins(m, bad)


# ----------------------------------------------------------------- the project's own fixture with clusters

def test_project_fixture_with_clusters_raked():
    # svydesign(ids=~c, strata=~stratum, weights=~w0, nest=TRUE) on tests/golden/weights_data.csv; rake to a, b
    data = pd.read_csv(GOLDEN / "weights_data.csv")
    table = pd.read_csv(GOLDEN / "weights_margins.csv")
    margins = tuple(Margin(v, v, tuple(Category(f"{v}{c}", (int(c),), float(k)) for c, k in zip(p["code"], p["count"])))
                    for v, p in table.groupby("margin", sort=False) if v in ("a", "b"))
    pm = PopulationMargins("Test", 2024, "golden fixture", False, margins)
    clus = make_design(data, "w0", strata="stratum", ids="c")
    check(mean(clus, ["y", "z"]), "project_clus_mean")
    raked = rake(clus, pm, tol=1e-13, maxit=1000)
    check(mean(raked, ["y", "z"]), "project_clus_rake_mean")
    check(mean(raked, "y", by="dom"), "project_clus_rake_by_dom")
    jk = rake(replicate_design(clus, "JKn"), pm, tol=1e-13, maxit=1000)  # one replicate per cluster
    assert jk.repweights.shape[1] == 8
    check(mean(jk, ["y", "z"]), "project_jkn_clus_rake_mean")
