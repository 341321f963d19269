"""How much to trust the forecast: a backtest against a naive baseline, and a realistic simulation with a known truth.

:func:`backtest` forecasts each official year from the years before it and scores the model against the
naive "same as last year" forecast: errors per year on levels and on deviations from the national mean, the
intervals' coverage, Spearman's correlation of the forecast order with the published one, and a Brier score
for "in the top 10". With one pair of regular years (2023 → 2024) it has one origin: a year, not 63
independent cases, which the output says.

:func:`simulation_study` draws whole PGI-like worlds (:func:`realistic_panel`): 63 provinces merging into the
34 units of 2025, three years of history of which the first is a pilot on another scale, national swings of
the size seen (the national mean moves by a normal amount with mean 1.5 and SD 3.5 points a year), a last
table that publishes only a top 30 (14 of them without a printed total) and lists the rest with sub-indices,
no year with an association estimate (no bridge), and merged units whose true enterprise weights are
unknown to the model. It forecasts every unit of each world and counts how often the 80% and 95% intervals
hold the truth; the panels, not the units within one, are the independent replications.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..notes import Note
from ..vocabulary import MERGER_YEAR
from ..reference import TableInfo, crosswalk, official_tables
from .engine import ranks_of, simulate_units
from .forecast import ForecastConfig, _geography, _records
from .record import year_record, wide_record

__all__ = ["backtest", "realistic_panel", "simulation_study"]


def _top_status(rec, limit: int) -> np.ndarray:
    """1/0 where a province's membership of the top ``limit`` is certain from the published table, else NaN."""
    out = np.full(len(rec.provinces), np.nan)
    if rec.unknown.any():
        return out
    values = rec.total
    lows = np.concatenate([values[rec.known]] + [np.full(b.count, b.low) for b in rec.blocks])
    highs = np.concatenate([values[rec.known]] + [np.full(b.count, b.high) for b in rec.blocks])
    for i in np.flatnonzero(rec.known):
        best = 1 + np.sum(lows > values[i]) - 0        # others certainly above
        worst = 1 + np.sum(highs > values[i])          # others possibly above
        out[i] = 1.0 if worst <= limit else (0.0 if best > limit else np.nan)
    return out


def backtest(panel: pd.DataFrame, config: ForecastConfig = ForecastConfig(draws=2000),
             tables: dict[int, TableInfo] | None = None, means: pd.DataFrame | None = None) -> pd.DataFrame:
    """Rolling origin over the official record: per forecast year, the model and the naive baseline.

    Returns one row per (year, model) with ``cases``, ``mae_level``, ``mae_deviation``, the coverage of the
    80% and 95% intervals (levels and deviations; the naive forecast has none), ``spearman`` and
    ``brier_top10``; ``attrs["notes"]`` says what the backtest cannot show (the bridge: no year has both an
    association estimate and an official value).
    """
    tables = official_tables() if tables is None else tables
    means = pd.DataFrame(columns=["year", "measure", "mean"]) if means is None else means
    old, _units = _geography(panel, MERGER_YEAR - 1, None)  # the provinces of a year before the merger
    wide = wide_record(panel)
    published = {int(r.year): float(r.mean) for r in means[means["measure"] == "total"].itertuples()}
    years = [int(y) for y in sorted(wide["year"].unique())
             if config.include_pilot or not (tables.get(int(y)) and tables[int(y)].pilot)]
    rows = []
    for year in years[1:]:
        truth = year_record(wide, year, old, tables.get(year), published.get(year))
        try:
            records, _ = _records(panel, year, old, tables, means, config.include_pilot)
        except Exception:  # noqa: BLE001  (no usable history before this year)
            continue
        draws = simulate_units(records, year, old, draws=config.draws, seed=config.seed,
                               shift_mean=config.shift_mean, shift_sd=config.shift_sd, min_pairs=config.min_pairs,
                               default_sd=config.default_sd)
        last = np.full(len(old), np.nan)
        for rec in records:
            last = np.where(rec.known, rec.total, last)
        ok = truth.known & ~np.isnan(last)
        level_truth = truth.published_mean if truth.published_mean is not None else float(np.nanmean(truth.total))
        sims = draws.old
        national = sims.mean(axis=1, keepdims=True)
        dev_sims = sims - national
        dev_truth = truth.total - level_truth
        last_level = records[-1].published_mean if records[-1].published_mean is not None else \
            float(np.nanmean(records[-1].total))
        status = _top_status(truth, 10)
        p_top = np.mean(np.stack([ranks_of(sims, i) for i in range(len(old))], axis=1) <= 10, axis=0)
        naive_rank = np.array([1 + np.sum(last[ok] > last[i]) for i in range(len(old))])
        scored = ok & ~np.isnan(status)
        for model, point, dev_point in (
                (draws.model, sims.mean(axis=0), dev_sims.mean(axis=0)),
                ("naive", last, last - last_level)):
            row = {"year": year, "origin": records[-1].year, "model": model, "cases": int(ok.sum()),
                   "mae_level": float(np.mean(np.abs(truth.total[ok] - point[ok]))),
                   "mae_deviation": float(np.mean(np.abs(dev_truth[ok] - dev_point[ok])))}
            for lv in (0.80, 0.95):
                tag = round(lv * 100)
                if model == "naive":
                    row[f"coverage{tag}_level"] = row[f"coverage{tag}_deviation"] = np.nan
                    continue
                for name, s, t in (("level", sims, truth.total), ("deviation", dev_sims, dev_truth)):
                    lo, hi = np.quantile(s[:, ok], [(1 - lv) / 2, (1 + lv) / 2], axis=0)
                    row[f"coverage{tag}_{name}"] = float(np.mean((t[ok] >= lo) & (t[ok] <= hi)))
            from scipy import stats  # here: SciPy's statistics take half a second to import

            row["spearman"] = float(stats.spearmanr(point[ok], truth.total[ok]).statistic) if ok.sum() > 2 else np.nan
            prob = p_top if model != "naive" else (naive_rank <= 10).astype(float)
            row["brier_top10"] = float(np.mean((prob[scored] - status[scored]) ** 2)) if scored.any() else np.nan
            row["cases_top10"] = int(scored.sum())
            rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs["notes"] = [Note("forecast.backtest.origins", {"origins": int(out["year"].nunique()) if len(out) else 0}),
                          Note("forecast.backtest.no_bridge")]
    return out


# ------------------------------------------------------------------ realistic simulation

PILOT, FIRST, LAST, TARGET = 2022, 2023, 2024, 2025


def realistic_panel(rng: np.random.Generator, swing_mean: float = 1.5, swing_sd: float = 3.5
                    ) -> tuple[pd.DataFrame, pd.DataFrame, dict[int, TableInfo], pd.DataFrame]:
    """One PGI-like world: ``(panel, truth, tables, means)``.

    ``panel`` is the official record of 2022 (pilot: another level and spread, 12 totals printed), 2023 (19
    totals printed) and 2024 (top 30 by total: 16 printed, 6 of them with ranks and the 30th too; the 33
    outside listed with sub-indices only) for the 63 provinces; ``truth`` the 34 units' totals in 2025
    (enterprise-weighted means of their provinces, weights unknown to the model), ``tables`` the tables'
    structure, ``means`` the published national means of 2023 and 2024.
    """
    walk = crosswalk()
    old = sorted(walk)
    n = len(old)
    rho, sigma, spread = rng.uniform(0.4, 0.9), rng.uniform(0.8, 1.8), rng.uniform(1.5, 2.5)
    d = {PILOT: rng.normal(0, spread, n)}
    for year in (FIRST, LAST, TARGET):
        d[year] = rho * d[year - 1] + rng.normal(0, sigma, n)
    level = {FIRST: rng.normal(21, 1.5)}
    level[LAST] = level[FIRST] + rng.normal(swing_mean, swing_sd)
    level[TARGET] = level[LAST] + rng.normal(swing_mean, swing_sd)
    pilot = rng.normal(15, 1) + rng.uniform(0.5, 0.9) * d[PILOT]
    values = {PILOT: pilot, FIRST: level[FIRST] + d[FIRST], LAST: level[LAST] + d[LAST]}
    rows = []
    for year, count in ((PILOT, 12), (FIRST, 19)):
        for i in rng.choice(n, count, replace=False):
            rows.append({"year": year, "province": old[i], "measure": "total", "score": round(values[year][i], 2),
                         "rank": np.nan})
    order = np.argsort(-values[LAST])
    top, rest = order[:30], order[30:]
    printed = set(top[:6]) | {top[29]} | set(rng.choice(top[6:29], 9, replace=False))
    for r, i in enumerate(top, start=1):
        if i in printed:
            rank = r if r <= 6 or r == 30 or rng.random() < 0.3 else np.nan
            rows.append({"year": LAST, "province": old[i], "measure": "total", "score": round(values[LAST][i], 2),
                         "rank": rank})
    for i in rest:
        parts = values[LAST][i] / 4 + rng.normal(0, 0.6, 4)
        parts += (values[LAST][i] - parts.sum()) / 4
        for j, part in enumerate(np.round(parts, 2), start=1):
            rows.append({"year": LAST, "province": old[i], "measure": f"sub{j}", "score": float(part), "rank": np.nan})
    panel = pd.DataFrame(rows)
    enterprises = rng.lognormal(0, 0.5, n)
    y25 = level[TARGET] + d[TARGET]
    units = sorted(set(walk.values()))
    truth = []
    for u in units:
        idx = [i for i, p in enumerate(old) if walk[p] == u]
        w = enterprises[idx] / enterprises[idx].sum()
        truth.append({"province": u, "total": float(np.sum(w * y25[idx]))})
    truth = pd.DataFrame(truth)
    tables = {PILOT: TableInfo(PILOT, pilot=True), FIRST: TableInfo(FIRST),
              LAST: TableInfo(LAST, top=30, outside_top_listed=True)}
    means = pd.DataFrame([{"year": FIRST, "measure": "total", "mean": round(float(values[FIRST].mean()), 2)},
                          {"year": LAST, "measure": "total", "mean": round(float(values[LAST].mean()), 2)}])
    return panel, truth, tables, means


def simulation_study(panels: int = 200, draws: int = 1000, seed: int = 7,
                     config: ForecastConfig | None = None) -> pd.DataFrame:
    """Coverage of the forecast's 80% and 95% intervals in ``panels`` realistic worlds (:func:`realistic_panel`).

    Every unit of each world is forecast (level, deviation from the national mean, and rank with its 80%
    range); returns one row per quantity: ``panels``, ``cases``, ``coverage80``, ``coverage95`` and their
    standard errors over panels (the panels are the independent replications), and the mean absolute error.
    """
    config = config or ForecastConfig(draws=draws)
    rng = np.random.default_rng(seed)
    old, unit_of = _geography(pd.DataFrame({"province": []}), TARGET, crosswalk())
    per_panel = []
    for p in range(panels):
        panel, truth, tables, means = realistic_panel(rng)
        records, _ = _records(panel, TARGET, old, tables, means, config.include_pilot)
        sim = simulate_units(records, TARGET, unit_of, draws=draws, seed=seed + p, shift_mean=config.shift_mean,
                             shift_sd=config.shift_sd, min_pairs=config.min_pairs, default_sd=config.default_sd,
                             concentration=config.concentration)
        t = truth.set_index("province").loc[sim.unit_names, "total"].to_numpy()
        units = sim.units
        dev_s = units - units.mean(axis=1, keepdims=True)
        dev_t = t - t.mean()
        rank_t = np.array([1 + np.sum(t > t[k]) for k in range(len(t))])
        rank_s = np.stack([ranks_of(units, k) for k in range(len(t))], axis=1)
        row = {}
        for name, s, truth_values in (("level", units, t), ("deviation", dev_s, dev_t), ("rank", rank_s, rank_t)):
            for lv in (0.80, 0.95):
                # ranks: the range the report prints (the first rank whose cumulative share reaches each end)
                method = "inverted_cdf" if name == "rank" else "linear"
                lo, hi = np.quantile(s, [(1 - lv) / 2, (1 + lv) / 2], axis=0, method=method)
                row[(name, round(lv * 100))] = float(np.mean((truth_values >= lo) & (truth_values <= hi)))
            row[(name, "mae")] = float(np.mean(np.abs(np.median(s, axis=0) - truth_values)))
        per_panel.append(row)
    frame = pd.DataFrame(per_panel)
    out = []
    for name in ("level", "deviation", "rank"):
        c80, c95 = frame[(name, 80)], frame[(name, 95)]
        out.append({"quantity": name, "panels": panels, "cases": panels * len(set(unit_of)),
                    "coverage80": float(c80.mean()), "se80": float(c80.std(ddof=1) / np.sqrt(panels)),
                    "coverage95": float(c95.mean()), "se95": float(c95.std(ddof=1) / np.sqrt(panels)),
                    "mae": float(frame[(name, "mae")].mean())})
    return pd.DataFrame(out)
