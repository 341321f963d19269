"""Forecast: models on hand-checkable panels, the merger crosswalk, probabilities, backtest, calibration."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from survey.cli import main
from survey.errors import EstimationError
from survey.forecast import (
    Bridge, ForecastConfig, MeanReversion, Persistence, backtest, forecast_province, ranks_of, simulate,
    simulation_study, to_units, wide_panel,
)
from survey.notes import note_text, notes_text
from survey.scoring import load_targets, official_panel


def _panel(rows: list[tuple[int, str, float]], measure: str = "total") -> pd.DataFrame:
    return pd.DataFrame([{"year": y, "province": p, "measure": measure, "score": s} for y, p, s in rows])


HAND = _panel([(2020, "A", 10), (2020, "B", 14), (2020, "C", 12),
               (2021, "A", 12), (2021, "B", 15), (2021, "C", 15),
               (2022, "A", 13), (2022, "B", 18), (2022, "C", 17)])


def test_persistence_by_hand():
    """Shifts: 2020->21 mean change (2+1+3)/3 = 2, 2021->22 (1+3+2)/3 = 2; last values + 2."""
    inputs = Persistence("total").fit(wide_panel(HAND), 2023, ["A", "B", "C", "D"]).predict()
    mean, var = inputs.moments()
    assert inputs.shift == pytest.approx(2.0) and inputs.shift_var == pytest.approx(0.0)
    assert mean[:3] == pytest.approx([15.0, 20.0, 19.0])
    # deviation changes from the year means: 2021 (12,15,15 mean 14): (-2,1,1) - (-2,2,0) = (0,-1,1);
    # 2022 (mean 16): (-3,2,1) - (-2,1,1) = (-1,1,0): variance (ddof 1) of the six = 0.8
    assert inputs.sigma2 == pytest.approx(0.8)
    assert var[:3] == pytest.approx([0.8] * 3)
    # D has no record: the national level plus shift, with the spread of 2022 as extra uncertainty
    assert mean[3] == pytest.approx(18.0) and var[3] == pytest.approx(0.8 + np.var([13, 18, 17], ddof=1))


def test_mean_reversion_by_hand():
    rows = [(2000 + t, f"P{p}", 10 + 0.5 ** t * (p - 4) + t) for t in range(4) for p in range(9)]
    inputs = MeanReversion("total").fit(wide_panel(_panel(rows)), 2004, [f"P{p}" for p in range(9)]).predict()
    assert inputs.rho == pytest.approx(0.5)  # deviations halve each year exactly
    assert inputs.shift == pytest.approx(1.0) and inputs.sigma2 == pytest.approx(0.0, abs=1e-20)
    mean, _ = inputs.moments()
    assert mean == pytest.approx([14 + 0.5 ** 4 * (p - 4) for p in range(9)])


def test_mean_reversion_with_too_little_history_says_so():
    model = MeanReversion("total").fit(wide_panel(HAND), 2023, ["A", "B", "C"])
    assert model.predict().rho == 1.0
    assert any("too little history to estimate mean reversion" in note_text(n, "en") for n in model.predict().notes)


def test_bridge_weights_prior_and_survey_by_precision():
    bridge = Bridge("total", province="A", estimate=17.0, se=1.0).fit(wide_panel(HAND), 2023, ["A", "B", "C"])
    z, v = bridge.survey_signal()
    assert (z, v) == (17.0, 1.0 + 8.0 ** 2)  # no common years: same scale, wide mapping variance
    hist = pd.DataFrame({"estimate": [10, 12, 14, 16.0], "official": [12, 14, 16, 18.0]})
    mapped = Bridge("total", province="A", estimate=15.0, se=0.5, history=hist).fit(wide_panel(HAND), 2023, ["A", "B"])
    z, v = mapped.survey_signal()
    assert z == pytest.approx(17.0) and v == pytest.approx(0.25, abs=1e-9)  # official = 2 + est, exact fit
    draws = simulate(mapped.predict(), 40_000, 3, (0, z, v))
    prior_mean, prior_var = 15.0, 0.8
    post = (prior_mean / prior_var + z / v) / (1 / prior_var + 1 / v)
    assert draws[:, 0].mean() == pytest.approx(post, abs=0.02)
    assert draws[:, 0].var() == pytest.approx(1 / (1 / prior_var + 1 / v), rel=0.05)


def test_unfitted_model_is_an_error():
    with pytest.raises(EstimationError, match="not fitted yet"):
        Persistence().predict()


def test_ranks_and_probabilities_by_simulation():
    values = np.array([[3.0, 2.0, 1.0], [1.0, 2.0, 3.0], [2.0, 3.0, 1.0]])
    assert ranks_of(values, 0).tolist() == [1, 3, 2]
    inputs = Persistence("total").fit(wide_panel(HAND), 2023, ["A", "B", "C"]).predict()
    draws = simulate(inputs, 50_000, 1)
    # B (mean 20) vs C (mean 19), independent shocks with variance 0.8 each: P(B > C) = Phi(1 / sqrt(1.6))
    assert np.mean(draws[:, 1] > draws[:, 2]) == pytest.approx(stats.norm.cdf(1 / np.sqrt(1.6)), abs=0.01)
    assert np.mean(draws[:, 0] >= 15.0) == pytest.approx(0.5, abs=0.01)


def test_merger_crosswalk():
    wide = wide_panel(_panel([(2024, "Bac Giang", 20.0), (2024, "Bac Ninh", 28.0), (2024, "Hai Duong", 24.0)]))
    units = to_units(wide).set_index("province")
    assert units.loc["Bac Ninh", "total"] == 24.0 and units.loc["Bac Ninh", "n_old"] == 2
    assert units.loc["Hai Phong", "total"] == 24.0  # Hai Duong joined Hai Phong; Hai Phong itself has no value
    weighted = to_units(wide, pd.Series({"Bac Giang": 1.0, "Bac Ninh": 3.0})).set_index("province")
    assert weighted.loc["Bac Ninh", "total"] == pytest.approx((20 + 3 * 28) / 4)


def test_forecast_for_merged_and_old_provinces():
    with pytest.raises(EstimationError, match="Bac Giang has been part of Bac Ninh since 1 July 2025"):
        forecast_province("Bắc Giang", 2025)
    result = forecast_province("Bắc Ninh", 2025, models=("persistence",), config=ForecastConfig(draws=2000))
    assert result.n_provinces == 34 and result.ranks["persistence"].sum() == pytest.approx(1.0)
    total = result.table.set_index("measure").loc["total"]
    assert total["pi80_low"] < total["mean"] < total["pi80_high"]
    assert total["pi95_low"] <= total["pi80_low"] and total["pi95_high"] >= total["pi80_high"]
    assert result.table[result.table["measure"] != "total"]["pi95_high"].max() <= 10.0  # within the scale


def test_target_probabilities_use_the_plan():
    result = forecast_province("Bac Giang", 2024, models=("persistence", "bridge"), targets=load_targets("bac_giang"),
                               estimates={"sub1": (4.1, 0.3)}, config=ForecastConfig(draws=4000))
    t = result.table.set_index(["model", "measure"])
    assert t.loc[("persistence", "sub1"), "target"] == 3.95
    assert 0 <= t.loc[("persistence", "sub1"), "p_target"] <= 1
    assert t.loc[("persistence", "total"), "last_official"] == 16.43  # Bac Giang 2022, from the plan
    assert np.isnan(t.loc[("persistence", "total"), "p_target"])
    assert "rank target: top 10" in notes_text(result.notes, "en")
    assert any("no association estimate" in n for n in notes_text(result.notes, "en"))  # only sub1 was given


def test_backtest_on_the_official_record():
    table = backtest(official_panel())
    total = table[table["measure"] == "total"].set_index("model")
    assert total.loc["persistence", "mae_vs_persistence"] == 1.0
    assert total.loc["persistence", "cases"] == total.loc["mean_reversion", "cases"] > 0
    assert ((table["coverage80"] >= 0) & (table["coverage95"] >= table["coverage80"])).all()


def test_intervals_are_calibrated_on_a_known_truth():
    """500 simulated province-years: 80% intervals cover 75-85%, 95% cover 92-98%."""
    study = simulation_study(panels=25, provinces=20, seed=11).set_index("model")
    assert (study["cases"] >= 500).all()
    for model in ("persistence", "mean_reversion", "bridge"):
        assert 0.75 <= study.loc[model, "coverage80"] <= 0.85, model
        assert 0.92 <= study.loc[model, "coverage95"] <= 0.98, model
    assert study.loc["bridge", "mae"] < study.loc["mean_reversion", "mae"]  # the survey helps


def test_forecast_commands(capsys, tmp_path):
    db = f"sqlite:///{tmp_path / 's.sqlite'}"
    assert main(["forecast", "backtest", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "mean_reversion" in out and "coverage80" in out and "cases" in out
    assert main(["forecast", "--province", "Bac Ninh", "--year", "2025", "--model", "persistence", "--draws",
                 "1000", "--db", db, "--lang", "en", "--out", str(tmp_path / "f.csv")]) == 0
    out = capsys.readouterr().out
    assert "unofficial forecast" in out and "of 34" in out
    assert {"p_top", "most_likely_rank", "pi95_high"} <= set(pd.read_csv(tmp_path / "f.csv").columns)


def test_precision_weighting_by_hand():
    """Issue 11: one precision weighting for the bridge (simulation and backtest used two forms)."""
    from survey.forecast.models import precision_weighted
    mean, var, w = precision_weighted(20.0, 4.0, 26.0, 12.0)  # precisions 1/4 and 1/12: weights 3/4 and 1/4
    assert (mean, var, w) == pytest.approx((21.5, 3.0, 0.75))
