"""Weights and standard errors against R's survey package (golden values within 1e-6 relative).

The expected values were computed by ``tests/golden/weights.R`` (R 4.2.2, survey 4.1.1) on
``tests/golden/weights_data.csv`` and ``weights_margins.csv``; rerun it to regenerate.
Each test names the R commands it mirrors.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.weights import (
    Category, Margin, PopulationMargins, calibrate, make_design, mean, poststratify, proportion, rake,
    replicate_design, total, trim,
)

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
EXPECTED = json.loads((GOLDEN / "weights_expected.json").read_text())
RTOL = 1e-6


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return pd.read_csv(GOLDEN / "weights_data.csv")


@pytest.fixture(scope="module")
def margins() -> PopulationMargins:
    m = pd.read_csv(GOLDEN / "weights_margins.csv")
    out = []
    for name, part in m.groupby("margin", sort=False):
        cats = tuple(Category(f"{name}{c}", (int(c),), float(k)) for c, k in zip(part["code"], part["count"]))
        out.append(Margin(name, name, cats))
    return PopulationMargins("Test", 2024, "golden fixture", False, tuple(out))


def _scalar(value) -> float:
    return float(np.asarray(value).ravel()[0])


def close(actual, expected) -> None:
    np.testing.assert_allclose(np.asarray(actual, dtype=float).ravel(), np.asarray(expected, dtype=float).ravel(),
                               rtol=RTOL, atol=0)


def check(frame: pd.DataFrame, key: str) -> None:
    exp = EXPECTED[key]
    close(frame["estimate"], exp["estimate"])
    close(frame["se"], exp["se"])


@pytest.fixture(scope="module")
def base(data):
    return make_design(data, "w0")


@pytest.fixture(scope="module")
def raked(base, margins):
    return rake(base, margins, tol=1e-13, maxit=1000)


def test_rake_weights(raked):  # rake(svydesign(ids=~1, weights=~w0), list(~a,~b,~c), pops)
    close(raked.weights, EXPECTED["rake_weights"])


def test_rake_mean_total_and_domains(raked):  # svymean, svytotal, svyby(~y, ~dom, ., svymean)
    check(mean(raked, "y"), "rake_mean_y")
    check(total(raked, "y"), "rake_total_y")
    check(mean(raked, "z"), "rake_mean_z")
    check(mean(raked, "y", by="dom"), "rake_by_dom_y")


def test_logit_interval_for_a_proportion(raked):  # svyciprop(~I(z==1), raked, method="logit")
    p = proportion(raked, "z", codes=[1], method="logit")
    close(p["estimate"], EXPECTED["rake_ciprop_z"]["estimate"])
    close([p["ci_low"].iloc[0], p["ci_high"].iloc[0]], EXPECTED["rake_ciprop_z"]["ci"])


def test_greg(base, margins):  # calibrate(base, ~a+b+c, population=totals)
    greg = calibrate(base, margins, calfun="linear")
    close(greg.weights, EXPECTED["greg_weights"])
    check(mean(greg, "y"), "greg_mean_y")
    check(mean(greg, "y", by="dom"), "greg_by_dom_y")


def test_raking_by_calibration_matches_rake(base, margins, raked):  # calibrate(..., calfun="raking")
    cal = calibrate(base, margins, calfun="raking", tol=1e-12)
    close(cal.weights, EXPECTED["calraking_weights"])
    close(cal.weights, raked.weights)  # two routes, one answer
    check(mean(cal, "y"), "calraking_mean_y")


def test_bounded_calibration(base, margins):  # calfun="logit" / "linear", bounds=c(0.45, 1.9)
    logit = calibrate(base, margins, calfun="logit", bounds=(0.45, 1.9), tol=1e-12)
    close(logit.weights, EXPECTED["logit_weights"])
    g = logit.weights / base.weights
    assert g.min() > 0.45 and g.max() < 1.9
    bounded = calibrate(base, margins, calfun="linear", bounds=(0.45, 1.9), tol=1e-12)
    close(bounded.weights, EXPECTED["bounded_linear_weights"])


def test_poststratify(base, margins):  # postStratify(base, ~a, pop_a)
    ps = poststratify(base, margins.margin("a"))
    close(ps.weights, EXPECTED["ps_weights"])
    check(mean(ps, "y"), "ps_mean_y")


def test_uncalibrated_and_stratified(data, base, margins):  # svydesign(ids=~1, strata=~stratum, ...)
    check(mean(base, "y"), "base_mean_y")
    strat = make_design(data, "w0", strata="stratum")
    check(mean(strat, "y"), "strat_base_mean_y")
    check(mean(rake(strat, margins, tol=1e-13, maxit=1000), "y"), "strat_rake_mean_y")


def test_jk1_replicates_redo_the_raking(base, margins):  # rake(as.svrepdesign(base, type="JK1"), ...)
    jk = rake(replicate_design(base, "JK1"), margins, tol=1e-13, maxit=1000)
    check(mean(jk, "y"), "jk1_rake_mean_y")
    check(mean(jk, "y", by="dom"), "jk1_rake_by_dom_y")
    check(total(jk, "y"), "jk1_rake_total_y")


def test_jkn_replicates(data, margins):  # rake(as.svrepdesign(strat, type="JKn"), ...)
    strat = make_design(data, "w0", strata="stratum")
    jk = rake(replicate_design(strat, "JKn"), margins, tol=1e-13, maxit=1000)
    check(mean(jk, "y"), "jkn_rake_mean_y")


def test_bootstrap_replicates_from_r(base, margins):  # as.svrepdesign(type="subbootstrap", replicates=50)
    mult = pd.read_csv(GOLDEN / "weights_boot_multipliers.csv").to_numpy()
    boot = rake(replicate_design(base, "bootstrap", multipliers=mult), margins, tol=1e-13, maxit=1000)
    check(mean(boot, "y"), "boot_rake_mean_y")
    check(mean(boot, "z"), "boot_rake_mean_z")


def test_trim(raked):  # trimWeights(raked, upper=25, lower=5, strict=TRUE)
    trimmed = trim(raked, 5, 25)
    close(trimmed.weights, EXPECTED["trim_weights"])
    assert trimmed.weights.sum() == pytest.approx(raked.weights.sum())
