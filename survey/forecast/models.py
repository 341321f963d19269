"""Forecast models for a PGI measure (a sub-index or the total) of every province.

All models share one structure, so that they can be simulated jointly:

    y[p, T+1] = m_T + delta + rho**g_p * D_p + e_p

- ``m_T``: the national level in the last official year T (published average, or the
  mean of the provinces observed);
- ``delta``: the common national shift to T+1, the same for every province; its mean
  and variance come from past year-to-year shifts (with one shift only, its variance
  is set to its square, and the output says so);
- ``D_p``: the province's deviation from the national level in its last official
  year, ``g_p`` years before T+1 (0 for a province with no record: it gets the
  spread of provinces as extra uncertainty);
- ``e_p``: the province's own shock, variance ``sigma2 * (1 + rho^2 + ... )`` over g_p years.

Models differ in ``rho``:

- :class:`Persistence`: rho = 1 (the last value plus the average national shift);
- :class:`MeanReversion`: rho estimated by pooled OLS ``y_t ~ C(year) + y_{t-1}``
  (statsmodels) with its standard error; with too little history it is not fitted
  and says so;
- :class:`Bridge`: mean reversion combined, for the province the association
  surveys, with the association's own estimate mapped to the official scale
  (``official = a + b * estimate``), each weighted by its precision (empirical
  Bayes, as Fay-Herriot). The mapping is estimated from years with both; with
  none, ``a = 0, b = 1`` and a wide mapping variance ``tau2`` that the output states.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf

from ..errors import EstimationError
from ..notes import Note

__all__ = ["ForecastInputs", "Persistence", "MeanReversion", "Bridge", "MODELS", "DEFAULT_TAU", "precision_weighted"]

#: mapping standard deviation when no year has both an association estimate and an official value
DEFAULT_TAU = {"sub1": 2.5, "sub2": 2.5, "sub3": 2.5, "sub4": 2.5, "total": 8.0}
MIN_PAIRS = 8


@dataclass
class ForecastInputs:
    """What a fitted model hands to the simulation, for one measure and forecast year."""

    provinces: list[str]
    level: float                 # m_T
    shift: float                 # mean of delta
    shift_var: float             # variance of delta
    deviation: np.ndarray        # D_p
    gap: np.ndarray              # g_p (years from the last official value to the forecast year)
    extra_var: np.ndarray        # for provinces without a record: the spread of provinces
    rho: float
    rho_var: float
    sigma2: float
    last: dict[str, tuple[float, int]] = field(default_factory=dict)  # province -> (last value, year)
    notes: list[Note] = field(default_factory=list)
    n_pairs: int = 0

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Marginal mean and variance of each province's forecast (normal approximation)."""
        rg = self.rho ** self.gap
        mean = self.level + self.shift + rg * self.deviation
        own = self.sigma2 * _geometric(self.rho, self.gap)
        drho = self.gap * self.rho ** np.maximum(self.gap - 1, 0) * self.deviation
        return mean, self.shift_var + own + drho ** 2 * self.rho_var + self.extra_var


def precision_weighted(prior_mean, prior_var, signal, signal_var):
    """Combine a forecast with an independent signal, each weighted by its precision (1 / variance).

    Returns ``(mean, variance, prior_weight)``: the combined mean
    ``w * prior_mean + (1 - w) * signal`` with ``w = (1 / prior_var) / (1 / prior_var + 1 / signal_var)``,
    its variance ``1 / (1 / prior_var + 1 / signal_var)``, and ``w``. The one place the bridge
    combines the association's estimate with the official record (in the joint simulation and
    in the backtest alike).
    """
    precision = 1.0 / prior_var + 1.0 / signal_var
    weight = (1.0 / prior_var) / precision
    return weight * prior_mean + (1.0 - weight) * signal, 1.0 / precision, weight


def _geometric(rho: float, gap: np.ndarray) -> np.ndarray:
    """1 + rho^2 + ... + rho^(2(g-1)): how a province's shocks add up over g years."""
    gap = np.asarray(gap, dtype=float)
    r2 = rho ** 2
    if np.isclose(r2, 1.0):
        return gap
    return (1 - r2 ** gap) / (1 - r2)


def _year_levels(wide: pd.DataFrame, measure: str, means: pd.DataFrame | None) -> dict[int, float]:
    levels = wide.dropna(subset=[measure]).groupby("year")[measure].mean().to_dict()
    if means is not None and levels:
        last = max(levels)
        for r in means[(means["measure"] == measure) & (means["year"] <= last)].itertuples():
            levels[int(r.year)] = float(r.mean)  # a published national average beats a partial mean
    return levels


def _shifts(wide: pd.DataFrame, measure: str, levels: dict[int, float], means: pd.DataFrame | None) -> list[float]:
    published = set() if means is None else set(means.loc[means["measure"] == measure, "year"].astype(int))
    years = sorted(wide.dropna(subset=[measure])["year"].unique())
    out = []
    for a, b in zip(years, years[1:]):
        if b != a + 1:
            continue
        if a in published and b in published:
            out.append(levels[b] - levels[a])
            continue
        both = wide[wide["year"].isin([a, b])].pivot_table(index="province", columns="year", values=measure).dropna()
        if len(both):
            out.append(float((both[b] - both[a]).mean()))
    return out


class _Base:
    """Shared fitting: national levels, the common shift, last values and deviations."""

    name = "base"

    def __init__(self, measure: str = "total", means: pd.DataFrame | None = None) -> None:
        self.measure, self.means = measure, means

    def _check(self) -> None:
        if not hasattr(self, "inputs_"):
            raise EstimationError(f"{type(self).__name__} is not fitted yet: call fit() first",
                                  code="estimation.not_fitted", params={"name": type(self).__name__})

    def _common(self, wide: pd.DataFrame, year: int, provinces: list[str]) -> ForecastInputs:
        hist = wide[(wide["year"] < year)].dropna(subset=[self.measure])
        if hist.empty:
            raise EstimationError(f"no official history of {self.measure} before {year}",
                                  code="forecast.no_history", params={"measure": self.measure, "year": year})
        levels = _year_levels(hist, self.measure, self.means)
        last_year = int(max(levels))
        shifts = _shifts(hist, self.measure, levels, self.means)
        notes = []
        steps = year - last_year
        if len(shifts) >= 2:
            shift, shift_var = float(np.mean(shifts)), float(np.var(shifts, ddof=1))
        elif len(shifts) == 1:
            shift, shift_var = shifts[0], shifts[0] ** 2
            notes.append(Note("forecast.one_shift", {"measure": self.measure, "shift": float(shifts[0])}))
        else:
            shift, shift_var = 0.0, (0.25 * levels[last_year]) ** 2
            notes.append(Note("forecast.no_consecutive_years",
                              {"measure": self.measure, "spread": float(0.25 * levels[last_year])}))
        last = hist.sort_values("year").groupby("province").tail(1).set_index("province")
        deviation = np.array([last.loc[p, self.measure] - levels[int(last.loc[p, "year"])] if p in last.index else 0.0
                              for p in provinces])
        gap = np.array([year - int(last.loc[p, "year"]) if p in last.index else 1 for p in provinces])
        spread = hist[hist["year"] == last_year][self.measure].var(ddof=1)
        spread = float(spread) if np.isfinite(spread) else float(np.nan_to_num(hist[self.measure].var(ddof=1)))
        extra = np.array([0.0 if p in last.index else spread for p in provinces])
        return ForecastInputs(list(provinces), levels[last_year], shift * steps, shift_var * steps,
                              deviation, gap, extra, 1.0, 0.0, 0.0,
                              {p: (float(last.loc[p, self.measure]), int(last.loc[p, "year"])) for p in last.index},
                              notes)

    def _pairs(self, wide: pd.DataFrame, year: int) -> pd.DataFrame:
        hist = wide[wide["year"] < year][["year", "province", self.measure]].dropna()
        lagged = hist.assign(year=hist["year"] + 1).rename(columns={self.measure: "y_lag"})
        pairs = hist.merge(lagged, on=["year", "province"]).rename(columns={self.measure: "y"})
        return pairs

    def predict(self) -> ForecastInputs:
        self._check()
        return self.inputs_


class Persistence(_Base):
    """The last official value plus the average national shift (rho = 1)."""

    name = "persistence"

    def fit(self, wide: pd.DataFrame, year: int, provinces: list[str]) -> "Persistence":
        inputs = self._common(wide, year, provinces)
        pairs = self._pairs(wide, year)
        levels = _year_levels(wide[wide["year"] < year].dropna(subset=[self.measure]), self.measure, self.means)
        if len(pairs) >= 2:
            dev_change = (pairs["y"] - pairs["year"].map(levels)) - (pairs["y_lag"] - (pairs["year"] - 1).map(levels))
            inputs.sigma2 = float(np.var(dev_change, ddof=1))
        else:
            inputs.sigma2 = float(np.var(wide[self.measure].dropna(), ddof=1))
            inputs.notes.append(Note("forecast.few_consecutive", {"measure": self.measure}))
        inputs.n_pairs = len(pairs)
        self.inputs_ = inputs
        return self


class MeanReversion(_Base):
    """Pooled mean reversion with a common year effect: ``y_t ~ C(year) + y_{t-1}`` by OLS."""

    name = "mean_reversion"

    def fit(self, wide: pd.DataFrame, year: int, provinces: list[str]) -> "MeanReversion":
        inputs = self._common(wide, year, provinces)
        pairs = self._pairs(wide, year)
        inputs.n_pairs = len(pairs)
        if len(pairs) < MIN_PAIRS or pairs["y_lag"].nunique() < 3:
            inputs.notes.append(Note("forecast.mean_reversion.too_little",
                                     {"measure": self.measure, "pairs": len(pairs), "needed": MIN_PAIRS}))
            return self._persistence(wide, year, provinces, inputs.notes)
        formula = "y ~ C(year) + y_lag" if pairs["year"].nunique() > 1 else "y ~ y_lag"
        res = smf.ols(formula, data=pairs).fit()
        if res.df_resid < 2 or not np.isfinite(res.bse["y_lag"]):
            inputs.notes.append(Note("forecast.mean_reversion.few_df", {"measure": self.measure, "pairs": len(pairs)}))
            return self._persistence(wide, year, provinces, inputs.notes)
        inputs.rho = float(res.params["y_lag"])
        inputs.rho_var = float(res.bse["y_lag"] ** 2)
        inputs.sigma2 = float(res.scale)
        inputs.notes.append(Note("forecast.mean_reversion", {"measure": self.measure, "rho": inputs.rho,
                                                             "se": float(np.sqrt(inputs.rho_var)), "pairs": len(pairs)}))
        self.inputs_ = inputs
        return self

    def _persistence(self, wide: pd.DataFrame, year: int, provinces: list[str], notes: list[Note]) -> "MeanReversion":
        """Fall back to persistence, keeping the notes that say why."""
        fallback = Persistence(self.measure, self.means).fit(wide, year, provinces).inputs_
        fallback.notes = notes + fallback.notes
        self.inputs_ = fallback
        return self


class Bridge(MeanReversion):
    """Mean reversion, combined for one province with the association's estimate by precision.

    Parameters
    ----------
    province : the province the association surveys.
    estimate, se : the association's estimate of the measure for the forecast year, and its SE.
    history : DataFrame with columns estimate, official (years where both exist), optional.
    """

    name = "bridge"

    def __init__(self, measure: str = "total", means: pd.DataFrame | None = None, *, province: str,
                 estimate: float, se: float, history: pd.DataFrame | None = None) -> None:
        super().__init__(measure, means)
        self.province, self.estimate, self.se, self.history = province, estimate, se, history

    def fit(self, wide: pd.DataFrame, year: int, provinces: list[str]) -> "Bridge":
        super().fit(wide, year, provinces)
        h = self.history
        if h is not None and len(h) >= 3:
            res = smf.ols("official ~ estimate", data=h).fit()
            self.a_, self.b_, self.tau2_ = float(res.params["Intercept"]), float(res.params["estimate"]), float(res.scale)
            self.inputs_.notes.append(Note("forecast.bridge.mapping", {"measure": self.measure, "years": len(h),
                                                                       "a": self.a_, "b": self.b_}))
        else:
            self.a_, self.b_, self.tau2_ = 0.0, 1.0, DEFAULT_TAU[self.measure] ** 2
            self.inputs_.notes.append(Note("forecast.bridge.wide_prior",
                                           {"measure": self.measure, "tau": float(DEFAULT_TAU[self.measure])}))
        return self

    def survey_signal(self) -> tuple[float, float]:
        """The association's estimate on the official scale, and its variance (sampling + mapping)."""
        self._check()
        return self.a_ + self.b_ * self.estimate, self.b_ ** 2 * self.se ** 2 + self.tau2_


MODELS = {"persistence": Persistence, "mean_reversion": MeanReversion, "bridge": Bridge}
