"""How much to trust a forecast: a rolling-origin backtest and a simulation study with a known truth."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..reference import national_means
from ..vocabulary import MEASURES
from .models import Bridge, MeanReversion, Persistence, precision_weighted
from .panel import wide_panel

__all__ = ["backtest", "simulate_panel", "simulation_study"]


def _score(models: dict, wide: pd.DataFrame, year: int, truth: pd.Series, levels=(0.80, 0.95)) -> list[dict]:
    rows = []
    provinces = list(truth.index)
    for name, model in models.items():
        inputs = model.fit(wide, year, provinces).predict()
        mean, var = inputs.moments()
        if isinstance(model, Bridge):
            k = provinces.index(model.province)
            z, v = model.survey_signal()
            own = var[k] - inputs.shift_var  # given the common shift, as in the joint simulation
            mean[k], combined_var, w0 = precision_weighted(mean[k], own, z, v)
            var[k] = w0 ** 2 * inputs.shift_var + combined_var  # the common shift enters with the prior's share
        err = truth.to_numpy() - mean
        for i, p in enumerate(provinces):
            row = {"model": name, "year": year, "province": p, "error": err[i]}
            for lv in levels:
                z = stats.norm.ppf(0.5 + lv / 2)
                row[f"in{round(lv * 100)}"] = abs(err[i]) <= z * np.sqrt(var[i])
            rows.append(row)
    return rows


def backtest(panel: pd.DataFrame, measures=MEASURES) -> pd.DataFrame:
    """Rolling origin: forecast each official year from the years before it, for every province with a
    value that year and an earlier one. Returns MAE, interval coverage and cases per model and measure,
    with each model's MAE relative to persistence."""
    wide = wide_panel(panel)
    means = national_means()
    rows = []
    for measure in measures:
        years = sorted(wide.dropna(subset=[measure])["year"].unique())
        for year in years[1:]:
            before = wide[wide["year"] < year].dropna(subset=[measure])
            now = wide[(wide["year"] == year)].dropna(subset=[measure]).set_index("province")[measure]
            truth = now[now.index.isin(before["province"])]
            if truth.empty:
                continue
            models = {"persistence": Persistence(measure, means), "mean_reversion": MeanReversion(measure, means)}
            for r in _score(models, wide, year, truth):
                rows.append({**r, "measure": measure})
    detail = pd.DataFrame(rows)
    if detail.empty:
        return pd.DataFrame(columns=["measure", "model", "cases", "mae", "coverage80", "coverage95", "mae_vs_persistence"])
    out = (detail.assign(abs_error=detail["error"].abs())
           .groupby(["measure", "model"], sort=False)
           .agg(cases=("error", "size"), mae=("abs_error", "mean"), coverage80=("in80", "mean"),
                coverage95=("in95", "mean")).reset_index())
    base = out[out["model"] == "persistence"].set_index("measure")["mae"]
    out["mae_vs_persistence"] = out["mae"] / out["measure"].map(base)
    return out


def simulate_panel(rng: np.random.Generator, provinces: int = 20, years: int = 6, rho: float = 0.6,
                   sigma: float = 0.8, drift: float = 0.5, drift_sd: float = 0.4, spread: float = 1.2,
                   survey_sd: float = 0.5, a: float = 1.0, b: float = 0.9) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A known truth: latent provincial quality drives the official score and the association's survey.

    Official: y[p,t] = m_t + d[p,t], d[p,t] = rho d[p,t-1] + e, m_t a random walk with drift.
    Survey: estimate[p,t] = (y[p,t] - a) / b + noise with SD survey_sd (its SE).
    Returns the long official panel and the survey estimates.
    """
    m = 5.0 + np.cumsum(rng.normal(drift, drift_sd, size=years))
    d = np.empty((years, provinces))
    d[0] = rng.normal(0, spread, provinces)
    for t in range(1, years):
        d[t] = rho * d[t - 1] + rng.normal(0, sigma, provinces)
    y = m[:, None] + d
    names = [f"P{i:02d}" for i in range(provinces)]
    official = pd.DataFrame([{"year": 2000 + t, "province": names[p], "measure": "total", "score": y[t, p]}
                             for t in range(years) for p in range(provinces)])
    survey = pd.DataFrame([{"year": 2000 + t, "province": names[p], "estimate": (y[t, p] - a) / b
                            + rng.normal(0, survey_sd), "se": survey_sd} for t in range(years) for p in range(provinces)])
    return official, survey


def simulation_study(panels: int = 30, provinces: int = 20, years: int = 6, seed: int = 7) -> pd.DataFrame:
    """Coverage of the 80% and 95% intervals over ``panels * provinces`` simulated province-years.

    Each simulated panel is fitted on all years but the last, then the last year is forecast
    for every province; the bridge also uses each province's survey estimate, its mapping
    fitted on the earlier years.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(panels):
        official, survey = simulate_panel(rng, provinces, years)
        wide = wide_panel(official)
        last = 2000 + years - 1
        truth = wide[wide["year"] == last].set_index("province")["total"]
        history = survey[survey["year"] < last].merge(
            official[official["year"] < last].rename(columns={"score": "official"}), on=["year", "province"])
        models = {"persistence": Persistence("total"), "mean_reversion": MeanReversion("total")}
        rows += _score(models, wide, last, truth)
        for p in truth.index:  # the bridge for each province in turn, as if the association surveyed it
            s = survey[(survey["year"] == last) & (survey["province"] == p)].iloc[0]
            model = Bridge("total", province=p, estimate=s["estimate"], se=s["se"], history=history)
            rows += [r for r in _score({"bridge": model}, wide, last, truth) if r["province"] == p]
    detail = pd.DataFrame(rows)
    return (detail.assign(abs_error=detail["error"].abs()).groupby("model", sort=False)
            .agg(cases=("error", "size"), mae=("abs_error", "mean"), coverage80=("in80", "mean"),
                 coverage95=("in95", "mean")).reset_index())
