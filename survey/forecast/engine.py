"""The forecast's joint simulation: every province, every draw, one model.

For the last official year T and the forecast year Y = T + g, each draw

1. **completes year T's table**: a top-``K`` province without a printed total gets a value inside its block
   (:mod:`survey.forecast.record`), in an order that follows its earlier standing plus noise; a province
   with no record gets its earlier deviation carried forward, or the spread of provinces;
2. **fits mean reversion** on the completed tables: ``y[p,t] = a_t + rho * y[p,t-1] + e`` pooled over the
   consecutive regular years (a pilot year only when asked, with its own level and spread: a break), and
   draws ``rho`` and the shock variance ``sigma2`` from their posterior (flat prior: ``sigma2 ~ RSS /
   chi2(df)``, ``rho ~ N(rho_hat, sigma2 / Sxx)``); with fewer than ``min_pairs`` pairs it uses
   persistence (``rho = 1``) and says so;
3. **forecasts each old province**: ``y[p,Y] = m_T + delta + rho^g * d[p,T] + e[p]`` with ``m_T`` the national
   level of T (the completed table's mean; the published mean when the table is too partial to give it),
   ``d[p,T]`` the province's deviation from it, ``e[p] ~ N(0, sigma2 * (1 + rho^2 + ... + rho^(2(g-1))))``
   and ``delta`` the common national shift, drawn from an explicit prior (``ForecastConfig.shift_mean``,
   ``shift_sd`` per year): one or two past national moves cannot estimate its variance;
4. **conditions on the association's survey** (the bridge) only when a signal is given, for its own old
   province, by Gaussian conditioning of the draw (Matheron's rule), so that the signal moves the common
   shift and the province's own shock each by its share of the variance;
5. **aggregates into the units of the forecast year** (34 from 2025): each unit is a weighted mean of its
   old provinces, with enterprise-count weights when a table is given, else weights drawn from a
   Dirichlet distribution around equal shares, so the unknown weighting shows in the intervals.

Deviations from the national mean and ranks are computed within each draw, where ``delta`` cancels.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..notes import Note
from .record import YearRecord

__all__ = ["Signal", "Draws", "simulate_units", "split_subindices", "ranks_of", "geometric"]


@dataclass(frozen=True)
class Signal:
    """The association's estimate of one old province's total on the official scale, and its variance."""

    province: int        # index into the old provinces
    value: float
    variance: float


@dataclass
class Draws:
    """What the simulation returns: draws by old province and by unit, and the fitted components."""

    old: np.ndarray          # (draws, old provinces) totals in the forecast year
    units: np.ndarray        # (draws, units)
    unit_names: list[str]
    members: list[np.ndarray]  # per unit: indices of its old provinces
    weights: list[np.ndarray]  # per unit: (draws, members) weights
    delta: np.ndarray        # (draws,) the common national shift
    level: np.ndarray        # (draws,) m_T
    rho: np.ndarray
    sigma2: np.ndarray
    last: np.ndarray         # (draws, old provinces) the completed table of year T
    pairs: int
    mean_reversion: bool
    survey_share: float = 0.0
    notes: list[Note] = field(default_factory=list)

    @property
    def model(self) -> str:
        """The model the draws used: mean reversion when it could be (and was asked to be) fitted."""
        return "mean_reversion" if self.mean_reversion else "persistence"


def geometric(rho: np.ndarray | float, gap: int) -> np.ndarray:
    """1 + rho^2 + ... + rho^(2(g-1)): how a province's yearly shocks add up over ``gap`` years."""
    r2 = np.asarray(rho, dtype=float) ** 2
    return np.sum([r2 ** j for j in range(gap)], axis=0)


def ranks_of(values: np.ndarray, k: int) -> np.ndarray:
    """Rank (1 = highest) of column ``k`` in each row of ``values``."""
    return 1 + np.sum(values > values[:, [k]], axis=1)


def _spread(values: np.ndarray) -> float:
    v = values[~np.isnan(values)]
    return float(np.std(v, ddof=1)) if v.size > 2 else 3.0


def _complete(rec: YearRecord, hint: np.ndarray, rng: np.random.Generator, draws: int) -> np.ndarray:
    """(draws, provinces): the year's totals, the censored drawn inside their blocks, the unknown left NaN."""
    out = np.tile(rec.total, (draws, 1))
    idx = np.flatnonzero(rec.censored)
    if idx.size == 0:
        return out
    key = hint[idx][None, :] + rng.normal(0.0, _spread(rec.total), (draws, idx.size))
    order = np.argsort(-key, axis=1)           # the censored provinces, highest first, in each draw
    values = np.concatenate([-np.sort(-rng.uniform(b.low, b.high, (draws, b.count)), axis=1)
                             for b in rec.blocks], axis=1)  # the blocks' values, highest first
    placed = np.empty((draws, idx.size))
    np.put_along_axis(placed, order, values, axis=1)
    out[:, idx] = placed
    return out


def _hints(records: list[YearRecord]) -> list[np.ndarray]:
    """For each year, each province's standing the year before (deviation from that year's mean; 0 if none)."""
    out = [np.zeros(len(records[0].provinces))]
    for prev in records[:-1]:
        dev = prev.total - np.nanmean(prev.total) if prev.known.any() else np.zeros(len(prev.total))
        out.append(np.nan_to_num(dev))
    return out


def _fit(tables: list[np.ndarray], records: list[YearRecord], min_pairs: int, rng: np.random.Generator,
         draws: int, default_sd: float) -> tuple[np.ndarray, np.ndarray, int, bool, list[Note]]:
    """Draws of ``rho`` and ``sigma2`` from the pooled regression of each year on the year before."""
    sxx = sxy = syy = sdd = 0.0
    n = k = 0
    for (a, ra), (b, rb) in zip(zip(tables, records), zip(tables[1:], records[1:])):
        if rb.year != ra.year + 1:
            continue
        both = ~np.isnan(a[0]) & ~np.isnan(b[0])
        if both.sum() < 2:
            continue
        x, y = a[:, both], b[:, both]
        if ra.pilot:  # a break: the pilot's own level (intercept) and its own spread
            x = x * (np.std(y, axis=1, ddof=1) / np.std(x, axis=1, ddof=1))[:, None]
        x = x - x.mean(axis=1, keepdims=True)
        y = y - y.mean(axis=1, keepdims=True)
        sxx, sxy, syy = sxx + (x * x).sum(1), sxy + (x * y).sum(1), syy + (y * y).sum(1)
        sdd = sdd + ((y - x) ** 2).sum(1)
        n, k = n + int(both.sum()), k + 1
    notes = []
    if n >= min_pairs and n - k - 1 >= 2:
        rho_hat = sxy / sxx
        df = n - k - 1
        sigma2 = (syy - rho_hat * sxy) / rng.chisquare(df, draws)
        rho = rng.normal(rho_hat, np.sqrt(sigma2 / sxx))
        notes.append(Note("forecast.fit.mean_reversion", {"pairs": n, "rho": float(np.median(rho)),
                                                          "sd": float(np.sqrt(np.median(sigma2)))}))
        return rho, sigma2, n, True, notes
    rho = np.ones(draws)
    if n - k >= 2:
        sigma2 = sdd / rng.chisquare(n - k, draws)
        notes.append(Note("forecast.fit.persistence", {"pairs": n, "needed": min_pairs,
                                                       "sd": float(np.sqrt(np.median(sigma2)))}))
    else:
        sigma2 = np.full(draws, default_sd ** 2)
        notes.append(Note("forecast.fit.default_sd", {"pairs": n, "sd": default_sd}))
    return rho, sigma2, n, False, notes


def simulate_units(records: list[YearRecord], year: int, unit_of: list[str], *, draws: int, seed: int,
                   shift_mean: float, shift_sd: float, min_pairs: int = 8, default_sd: float = 2.0,
                   enterprise: np.ndarray | None = None, concentration: float = 4.0,
                   signal: Signal | None = None) -> Draws:
    """Joint draws of every old province and every unit in ``year`` (see the module's text).

    Parameters
    ----------
    records : the history's cross-sections, oldest first, all on the same list of old provinces.
    unit_of : for each old province, the unit it belongs to in ``year`` (itself before a merger).
    shift_mean, shift_sd : the prior of the national shift, points of the total per year.
    enterprise : enterprises per old province (weights within a unit); None draws Dirichlet weights
        with ``concentration`` per old province.
    """
    rng = np.random.default_rng(seed)
    last = records[-1]
    gap = year - last.year
    tables = [_complete(r, h, rng, draws) for r, h in zip(records, _hints(records))]
    rho, sigma2, pairs, reverting, notes = _fit(tables, records, min_pairs, rng, draws, default_sd)
    table = tables[-1].copy()
    observed = ~np.isnan(table[0])
    if last.unknown.any() and last.published_mean is not None:
        level = np.full(draws, float(last.published_mean))   # the printed part is not a random part
    else:
        level = np.nanmean(table, axis=1)
    for i in np.flatnonzero(~observed):   # no record in T: carry the latest earlier deviation, or the spread
        earlier = [(last.year - r.year, t[:, i] - np.nanmean(t, axis=1)) for r, t in zip(records[:-1], tables[:-1])
                   if not np.isnan(t[0, i])]
        if earlier:
            g, dev = earlier[-1]
            table[:, i] = level + rho ** g * dev + rng.standard_normal(draws) * np.sqrt(sigma2 * geometric(rho, g))
        else:
            table[:, i] = level + rng.normal(0.0, _spread(last.total), draws)
    if not (last.unknown.any() and last.published_mean is not None):
        level = table.mean(axis=1)
    dev = table - level[:, None]
    delta = rng.normal(shift_mean * gap, shift_sd * np.sqrt(gap), draws)
    own_var = sigma2 * geometric(rho, gap)
    old = (level + delta)[:, None] + rho[:, None] ** gap * dev + rng.standard_normal(dev.shape) * np.sqrt(own_var)[:, None]
    share = 0.0
    if signal is not None:
        common = shift_sd ** 2 * gap
        total_var = common + own_var + signal.variance
        innovation = signal.value - (old[:, signal.province] + rng.normal(0.0, np.sqrt(signal.variance), draws))
        delta = delta + common / total_var * innovation
        old = old + (common / total_var * innovation)[:, None]
        old[:, signal.province] += own_var / total_var * innovation
        share = float(np.mean((common + own_var) / total_var))
    names = sorted(set(unit_of))
    members = [np.flatnonzero(np.asarray(unit_of) == u) for u in names]
    weights, units = [], np.empty((draws, len(names)))
    for j, idx in enumerate(members):
        if idx.size == 1:
            w = np.ones((draws, 1))
        elif enterprise is not None:
            w = np.tile(enterprise[idx] / enterprise[idx].sum(), (draws, 1))
        else:
            g = rng.gamma(concentration, 1.0, (draws, idx.size))
            w = g / g.sum(axis=1, keepdims=True)
        weights.append(w)
        units[:, j] = np.sum(w * old[:, idx], axis=1)
    return Draws(old, units, names, members, weights, delta, level, rho, sigma2, table, pairs, reverting,
                 share, notes)


def split_subindices(result: Draws, last: YearRecord, province: int, cov: np.ndarray, gap: int,
                     rng: np.random.Generator) -> np.ndarray | None:
    """(draws, 4) sub-index draws of one old province whose four sub-indices of year T are published,
    summing exactly to its total draw.

    The change of the total is shared among the sub-indices as they co-vary across provinces
    (``cov``: the cross-section's covariance of the sub-indices): ``s = s_T + (y - sum(s_T)) * b + r`` with
    ``b = cov 1 / (1' cov 1)`` and ``r`` a draw of ``N(0, k (cov - cov 1 1' cov / (1' cov 1)))``, which sums
    to 0; ``k`` scales ``cov`` to the province's own shock variance. Returns None when the province's
    sub-indices are not all published in T.
    """
    base = last.subs[province]
    if np.isnan(base).any():
        return None
    ones = np.ones(4)
    denom = ones @ cov @ ones
    b = cov @ ones / denom
    k = result.sigma2 * geometric(result.rho, gap) / denom
    e = rng.multivariate_normal(np.zeros(4), cov, size=len(k)) * np.sqrt(k)[:, None]
    r = e - np.outer(e.sum(axis=1), b)
    change = result.old[:, province] - base.sum()
    return base[None, :] + change[:, None] * b[None, :] + r
