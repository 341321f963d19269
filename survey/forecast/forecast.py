"""Forecast a province's official PGI: its deviation from the national mean and its rank first, then its level.

What the record can support comes first. The national mean's move to the forecast year is the same for every
province, and one or two past moves (one of them the pilot's change of method) cannot say how large it will
be, so the province's **deviation from the national mean** and its **rank** (where that move cancels) are
the primary outputs; the **level** is shown under named scenarios for the national move and with its full
interval under an explicit prior (``ForecastConfig.shift_mean``, ``shift_sd``).

See :mod:`survey.forecast.engine` for the model and :mod:`survey.forecast.record` for how partial tables are
read. The association's own survey enters only once at least two years have both its estimate and an
official value for the same old province (``MIN_BRIDGE_YEARS``); until then it carries no weight, and the
result says so (``survey_share`` = 0).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import EstimationError
from ..options import FORECAST_MODELS
from ..notes import Note
from ..reference import (
    TableInfo, Targets, crosswalk, match_province, national_means, official_panel, official_tables, province_names,
)
from ..vocabulary import FORECAST_NOTICE as UNOFFICIAL
from ..vocabulary import MERGER_YEAR, PROVINCES_BEFORE, SUBINDEX_MAX, SUBINDICES
from .engine import Draws, Signal, ranks_of, simulate_units, split_subindices
from .record import YearRecord, table_problems, wide_record, year_record

__all__ = ["ForecastConfig", "ForecastResult", "forecast_province", "resolve_province", "MODELS",
           "MIN_BRIDGE_YEARS", "round_probability"]

#: the model of a province's deviation: estimated mean reversion (falls back to persistence, and says so,
#: with too little history), or persistence by choice
MODELS = FORECAST_MODELS
#: years with both an association estimate and an official value before the survey may weigh in
MIN_BRIDGE_YEARS = 2


@dataclass(frozen=True)
class ForecastConfig:
    """Simulation settings and the forecast's explicit assumptions.

    Attributes
    ----------
    draws, seed : the simulation's size and seed.
    levels : the interval levels (0.80 and 0.95).
    top : the rank of interest (top 10).
    model : ``mean_reversion`` (default) or ``persistence``.
    include_pilot : use the 2022 pilot to fit mean reversion (as a break: its own level and spread); never
        for the national shift.
    shift_mean, shift_sd : the prior of the national mean's move, points of the total per year. The default
        (0 ± 4) says "no move expected, moves as large as 2023→2024's +4.39 are ordinary"; the realistic
        simulation (``forecast simulate``) checks that it gives calibrated intervals.
    concentration : Dirichlet weight per old province of a merged unit when enterprise counts are not
        given (4: equal shares on average, a 60/40 split well inside the range).
    default_sd : a province's own yearly change (SD of the total) when the record has too few pairs.
    """

    draws: int = 10_000
    seed: int = 1
    levels: tuple[float, ...] = (0.80, 0.95)
    top: int = 10
    model: str = "mean_reversion"
    include_pilot: bool = False
    shift_mean: float = 0.0
    shift_sd: float = 4.0
    concentration: float = 4.0
    default_sd: float = 2.0
    min_pairs: int = 8

    def __post_init__(self) -> None:
        if self.draws < 100:
            raise EstimationError("use at least 100 simulation draws", code="forecast.too_few_draws",
                                  params={"draws": self.draws})
        if self.model not in MODELS:
            raise EstimationError(f"unknown model {self.model!r}", code="forecast.unknown_models",
                                  params={"unknown": repr(self.model), "known": ", ".join(MODELS)})
        if not (self.shift_sd > 0 and self.concentration > 0 and self.default_sd > 0):
            raise EstimationError("shift_sd, concentration and default_sd must be positive",
                                  code="forecast.bad_config", params={})


@dataclass
class ForecastResult:
    """The forecast of one province (a unit of the forecast year) and what it rests on.

    Attributes
    ----------
    deviation : one row: the total's deviation from the national mean (mean, median, intervals).
    table : the level of each measure (sub1..sub4, total) under the shift prior: mean, median, intervals,
        the unit's last official value where it has one, ``p_improve``.
    scenarios : the total's level under named national moves (``unchanged``, ``as_last``) and the prior.
    ranks : P(rank = r) of the total among ``n_provinces``.
    probabilities : events (top 10 of 34, top 5 of 34 ...) with their probability and Monte-Carlo SE.
    predecessors : the old provinces the unit was formed from (itself before a merger).
    history : the predecessors' official values as published, by name (never a constructed average).
    targets : the plan's targets beside the official values they are to be compared with.
    survey_share : the share of the survey in the surveyed province's forecast (0 when it is not used).
    problems : disagreements found in the official tables used.
    """

    province: str
    year: int
    deviation: pd.DataFrame
    table: pd.DataFrame
    scenarios: pd.DataFrame
    ranks: pd.Series
    probabilities: pd.DataFrame
    n_provinces: int
    predecessors: list[str]
    history: pd.DataFrame
    targets: pd.DataFrame
    survey_share: float = 0.0
    survey_role: str = "none"
    problems: list[Note] = field(default_factory=list)
    notes: list[Note | str] = field(default_factory=list)  # shown with survey.notes.note_text
    total_draws: np.ndarray | None = None   # (draws,) the total
    sub_draws: np.ndarray | None = None     # (draws, 4) the sub-indices, summing to the total in each draw
    model: str = "mean_reversion"
    last_year: int | None = None

    def rank_summary(self) -> pd.DataFrame:
        """The median rank, its 80% range, and P(top) for the events computed."""
        cum = self.ranks.cumsum()
        row = {"median_rank": int(cum[cum >= 0.5].index[0]), "rank_80_low": int(cum[cum >= 0.10].index[0]),
               "rank_80_high": int(cum[cum >= 0.90].index[0])}
        for r in self.probabilities.itertuples():
            row[f"p_{r.event}"] = r.p
        return pd.DataFrame([row])

    def probability(self, event: str) -> float:
        return float(self.probabilities.set_index("event").loc[event, "p"])


def round_probability(p: float, step: float = 0.05) -> float:
    """A probability as reports print it: to 5 percentage points (the simulation cannot say more)."""
    return round(round(p / step) * step, 2)


def resolve_province(name: str, year: int, units: list[str] | None = None) -> str:
    """The province's name as the reference has it for ``year``; a clear error for a merged one."""
    if units is not None and name in units:
        return name
    found = match_province(name, year)
    if found and (units is None or found in units):
        return found
    old = match_province(name, MERGER_YEAR - 1)
    if old and year >= MERGER_YEAR:
        new = crosswalk()[old]
        raise EstimationError(f"{old} has been part of {new} since 1 July 2025: forecast {new} for {year}",
                              code="forecast.merged_province", params={"old": old, "new": new, "year": year})
    raise EstimationError(f"unknown province {name!r}", code="forecast.unknown_province", params={"name": str(name)})


def _geography(panel: pd.DataFrame, year: int, mapping: Mapping[str, str] | None) -> tuple[list[str], list[str]]:
    """The old provinces the record is kept for, and the unit each belongs to in ``year``."""
    if mapping is not None:
        old = sorted(mapping)
        return old, [mapping[p] for p in old]
    seen = set(panel["province"])
    if seen <= province_names():
        walk = crosswalk()
        old = sorted(walk)
        return old, [walk[p] if year >= MERGER_YEAR else p for p in old]
    old = sorted(seen)
    return old, list(old)


def _records(panel: pd.DataFrame, year: int, old: list[str], tables: Mapping[int, TableInfo],
             means: pd.DataFrame | None, include_pilot: bool) -> tuple[list[YearRecord], list[YearRecord]]:
    """The history's cross-sections used (oldest first) and the pilot ones left out."""
    wide = wide_record(panel[panel["year"] < min(year, MERGER_YEAR)])
    published = {} if means is None else {int(r.year): float(r.mean) for r in
                                           means[means["measure"] == "total"].itertuples()}
    used, left = [], []
    for y in sorted(wide["year"].unique()):
        rec = year_record(wide, int(y), old, tables.get(int(y)), published.get(int(y)))
        if not rec.known.any() and not rec.censored.any():
            continue
        (left if rec.pilot and not include_pilot else used).append(rec)
    if not used:
        raise EstimationError(f"no official history before {year}", code="forecast.no_history",
                              params={"measure": "total", "year": year})
    return used, left


def _signal(estimates, history, survey_province: str | None, old: list[str]) -> tuple[Signal | None, Note]:
    """The survey's estimate as a signal on the official scale, only with enough paired years."""
    if not estimates or "total" not in estimates:
        return None, Note("forecast.survey.none")
    if survey_province not in old:
        return None, Note("forecast.survey.no_province")
    pairs = pd.DataFrame(columns=["year", "measure", "estimate", "official"]) if history is None else history
    pairs = pairs[pairs["measure"] == "total"].dropna(subset=["estimate", "official"])
    years = int(pairs["year"].nunique()) if len(pairs) else 0
    if years < MIN_BRIDGE_YEARS:
        return None, Note("forecast.survey.not_used", {"years": years, "needed": MIN_BRIDGE_YEARS})
    gap = pairs["official"] - pairs["estimate"]
    est, se = estimates["total"]
    variance = se ** 2 + float(gap.var(ddof=1)) * (1 + 1 / len(gap))
    return Signal(old.index(survey_province), float(est + gap.mean()), variance), \
        Note("forecast.survey.used", {"years": years, "offset": float(gap.mean())})


def _interval_row(values: np.ndarray, levels) -> dict:
    row = {"mean": float(values.mean()), "median": float(np.median(values))}
    for lv in levels:
        tag = round(lv * 100)
        row[f"pi{tag}_low"], row[f"pi{tag}_high"] = (float(q) for q in np.quantile(values, [(1 - lv) / 2,
                                                                                           (1 + lv) / 2]))
    return row


def _sub_cov(records: list[YearRecord]) -> np.ndarray | None:
    for rec in reversed(records):
        full = rec.subs[~np.isnan(rec.subs).any(axis=1)]
        if len(full) >= 10:
            return np.cov(full, rowvar=False)
    return None


def _last_move(means: pd.DataFrame | None, records: list[YearRecord]) -> tuple[float, int, int] | None:
    """The last published move of the national mean between two regular years."""
    if means is None:
        return None
    regular = {r.year for r in records if not r.pilot}
    m = {int(r.year): float(r.mean) for r in means[means["measure"] == "total"].itertuples() if int(r.year) in regular}
    years = [y for y in sorted(m) if y - 1 in m]
    return (m[years[-1]] - m[years[-1] - 1], years[-1] - 1, years[-1]) if years else None


def forecast_province(province: str, year: int, *, panel: pd.DataFrame | None = None,
                      estimates: dict[str, tuple[float, float]] | None = None,
                      history: pd.DataFrame | None = None, targets: Targets | None = None,
                      enterprise_weights: pd.Series | None = None, survey_province: str | None = None,
                      crosswalk_map: Mapping[str, str] | None = None,
                      tables: Mapping[int, TableInfo] | None = None, means: pd.DataFrame | None = None,
                      config: ForecastConfig = ForecastConfig()) -> ForecastResult:
    """Forecast a province's official deviation, rank, total and sub-indices for ``year``.

    Parameters
    ----------
    province : a province of ``year`` (a unit of the 34 from 2025), in English or Vietnamese.
    panel : the official record, long (year, province, measure, score[, rank]); default the shipped one.
    estimates : {measure: (estimate, se)}, the association's estimates for ``year`` (its survey).
    history : DataFrame (year, measure, estimate, official): past years with both, for ``survey_province``.
    survey_province : the old province the association surveys (Bac Giang), the one its estimate is of.
    enterprise_weights : enterprises by old province (English name), to combine a merged unit's provinces.
    crosswalk_map, tables : the geography and the tables' structure (pilot, top-K); default the shipped
        reference data.
    means : the published national means (year, measure, mean); default the shipped ones when ``panel`` is
        the shipped record, none for a panel given without them (a simulated record has its own).

    Raises
    ------
    EstimationError
        Unknown or merged province, no official history.
    """
    if panel is None:  # the shipped record, with its published national means
        panel, means = official_panel(), national_means() if means is None else means
    tables = official_tables() if tables is None else tables
    old, unit_of = _geography(panel, year, crosswalk_map)
    units = sorted(set(unit_of))
    province = resolve_province(province, year, units)
    records, pilots = _records(panel, year, old, tables, means, config.include_pilot)
    last = records[-1]
    survey_old = match_province(survey_province, MERGER_YEAR - 1) if survey_province else None
    survey_old = survey_old or survey_province
    signal, survey_note = _signal(estimates, history, survey_old, old)
    weights = None if enterprise_weights is None else enterprise_weights.reindex(old).fillna(0).to_numpy(float)
    draws = simulate_units(records, year, unit_of, draws=config.draws, seed=config.seed,
                           shift_mean=config.shift_mean, shift_sd=config.shift_sd,
                           min_pairs=10 ** 9 if config.model == "persistence" else config.min_pairs,
                           default_sd=config.default_sd, enterprise=weights, concentration=config.concentration,
                           signal=signal)
    k = draws.unit_names.index(province)
    members = [old[i] for i in draws.members[k]]
    notes: list[Note | str] = [UNOFFICIAL, *draws.notes, survey_note]
    if pilots:
        notes.append(Note("forecast.pilot_left_out", {"years": ", ".join(str(r.year) for r in pilots)}))
    elif any(r.pilot for r in records):
        notes.append(Note("forecast.pilot_as_break", {"years": ", ".join(str(r.year) for r in records if r.pilot)}))
    if len(members) > 1:
        notes.append(Note("forecast.merged.enterprises" if weights is not None else "forecast.merged.dirichlet",
                          {"names": ", ".join(members), "concentration": config.concentration}))
    problems = [p for r in records + pilots for p in table_problems(r)]
    total = draws.units[:, k]
    national = draws.units.mean(axis=1)
    deviation = pd.DataFrame([{"measure": "total", **_interval_row(total - national, config.levels)}])
    table, subs = _level_table(draws, records, province, members, old, year, config, notes)
    scenarios = _scenarios(total, draws.delta, year - last.year, means, records, config)
    ranks = ranks_of(draws.units, k)
    n = len(units)
    dist = pd.Series(np.bincount(ranks, minlength=n + 1)[1:] / len(ranks), index=range(1, n + 1))
    probabilities, target_rows = _events(ranks, n, targets, year, config, panel, old)
    history_rows = _history(panel, members if len(members) > 1 or year >= MERGER_YEAR else [province], year)
    result = ForecastResult(province, year, deviation, table, scenarios, dist, probabilities, n, members,
                            history_rows, target_rows, draws.survey_share, "level" if signal else "none",
                            problems, notes, total, subs, draws.model, last.year)
    return result


def _level_table(draws: Draws, records: list[YearRecord], province: str, members: list[str], old: list[str],
                 year: int, config: ForecastConfig, notes: list) -> tuple[pd.DataFrame, np.ndarray | None]:
    """Each measure's level for the unit; sub-indices split from the totals so that they sum in every draw."""
    k = draws.unit_names.index(province)
    last = records[-1]
    rng = np.random.default_rng(config.seed + 1)
    cov = _sub_cov(records)
    if cov is None:
        cov = np.eye(4)
        notes.append(Note("forecast.subindices.equal_split"))
    idx = draws.members[k]
    parts = [split_subindices(draws, last, i, cov, year - last.year, rng) for i in idx]
    rows = []
    unit_total = draws.units[:, k]
    own_last = last.total[old.index(province)] if province in old and len(idx) == 1 else np.nan
    if any(p is None for p in parts):
        subs = None
        notes.append(Note("forecast.subindices.unpublished", {"names": ", ".join(old[i] for i, p in zip(idx, parts)
                                                                                  if p is None)}))
    else:
        w = draws.weights[k]
        subs = sum(w[:, [j]] * part for j, part in enumerate(parts))  # the unit's mean, as its total
    for j, measure in enumerate(SUBINDICES):
        values = None if subs is None else subs[:, j]
        rows.append(_measure_row(measure, values, last.subs[old.index(province), j] if not np.isnan(own_last)
                                 else np.nan, last.year, config))
        if values is not None and np.mean(values > SUBINDEX_MAX) > 0.001:
            notes.append(Note("forecast.subindices.above_max", {"measure": measure,
                                                                "share": float(np.mean(values > SUBINDEX_MAX))}))
    rows.append(_measure_row("total", unit_total, own_last, last.year, config))
    table = pd.DataFrame(rows)
    table.insert(0, "model", draws.model)
    return table, subs


def _measure_row(measure: str, values: np.ndarray | None, last: float, last_year: int, config) -> dict:
    if values is None:
        row = {"mean": np.nan, "median": np.nan}
        for lv in config.levels:
            row[f"pi{round(lv * 100)}_low"] = row[f"pi{round(lv * 100)}_high"] = np.nan
    else:
        row = _interval_row(values, config.levels)
    ok = values is not None and not np.isnan(last)
    return {"measure": measure, **row, "last_official": last, "last_year": last_year if ok else np.nan,
            "p_improve": float(np.mean(values > last)) if ok else np.nan}


def _scenarios(total: np.ndarray, delta: np.ndarray, gap: int, means, records, config) -> pd.DataFrame:
    """The total under named national moves: the shift of each draw replaced by the scenario's."""
    rows = [{"scenario": "unchanged", "shift": 0.0, "from_year": np.nan, "to_year": np.nan}]
    move = _last_move(means, records)
    if move is not None:
        rows.append({"scenario": "as_last", "shift": move[0], "from_year": move[1], "to_year": move[2]})
    out = []
    for r in rows:
        out.append({**r, **_interval_row(total - delta + r["shift"] * gap, config.levels)})
    out.append({"scenario": "prior", "shift": config.shift_mean, "from_year": np.nan, "to_year": np.nan,
                "shift_sd": config.shift_sd, **_interval_row(total, config.levels)})
    return pd.DataFrame(out)


def _events(ranks: np.ndarray, n: int, targets: Targets | None, year: int, config: ForecastConfig,
            panel: pd.DataFrame, old: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """P(rank <= the target) and its share-equivalent among the provinces of the plan's time; the plan's
    score targets beside the official values of the province it was written for."""
    top = int(targets.for_year(year).get("rank", config.top)) if targets is not None else config.top
    rank_of = (targets.rank_of if targets is not None and targets.rank_of else
               (PROVINCES_BEFORE if year >= MERGER_YEAR else n))
    events = [("top", top, n)]
    if rank_of != n:
        events.append(("top_equivalent", max(1, round(top * n / rank_of)), n))
    rows = []
    for name, limit, of in events:
        p = float(np.mean(ranks <= limit))
        rows.append({"event": name, "rank_at_most": limit, "of": of, "p": p,
                     "mc_se": float(np.sqrt(max(p * (1 - p), 1e-12) / len(ranks))),
                     "plan_top": top, "plan_of": rank_of})
    target_rows = []
    if targets is not None:
        values = targets.for_year(year) or targets.for_year(max(targets.years)) if targets.years else {}
        for measure in (*SUBINDICES, "total"):
            if measure not in values:
                continue
            got = panel[(panel["province"] == targets.province) & (panel["measure"] == measure)]
            got = got[got["year"] < year].sort_values("year")
            latest = got.iloc[-1] if len(got) else None
            target_rows.append({"measure": measure, "target": values[measure], "scale_year": targets.scale_year,
                                "province": targets.province,
                                "official": float(latest["score"]) if latest is not None else np.nan,
                                "official_year": int(latest["year"]) if latest is not None else np.nan,
                                "source": targets.source})
    return pd.DataFrame(rows), pd.DataFrame(target_rows, columns=["measure", "target", "scale_year", "province",
                                                                  "official", "official_year", "source"])


def _history(panel: pd.DataFrame, names: list[str], year: int) -> pd.DataFrame:
    """The named provinces' official values as published (their own names, their own sources)."""
    cols = ["year", "province", "measure", "score", "rank", "source"]
    rows = panel[panel["province"].isin(names) & (panel["year"] < year)]
    return rows.reindex(columns=cols).sort_values(["province", "year", "measure"]).reset_index(drop=True)
