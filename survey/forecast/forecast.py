"""Forecast a province's official PGI (sub-indices, total, rank) with predictive intervals and probabilities."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import EstimationError
from ..notes import Note
from ..reference import Targets, crosswalk, match_province, national_means, official_panel, provinces_of, targets_for
from ..vocabulary import FORECAST_NOTICE as UNOFFICIAL
from ..vocabulary import MEASURES, MERGER_YEAR, SCALE
from .models import MODELS, Bridge, MeanReversion
from .panel import to_units, wide_panel
from .simulate import ranks_of, simulate

__all__ = ["ForecastConfig", "ForecastResult", "forecast_province", "resolve_province"]


@dataclass(frozen=True)
class ForecastConfig:
    """Simulation settings: draws, seed, interval levels, the rank threshold of interest."""

    draws: int = 10_000
    seed: int = 1
    levels: tuple[float, ...] = (0.80, 0.95)
    top: int = 10

    def __post_init__(self) -> None:
        if self.draws < 100:
            raise EstimationError("use at least 100 simulation draws", code="forecast.too_few_draws",
                                  params={"draws": self.draws})


@dataclass
class ForecastResult:
    """Per model and measure: the forecast table; per model: the rank distribution of the total."""

    province: str
    year: int
    table: pd.DataFrame
    ranks: dict[str, pd.Series]
    n_provinces: int
    notes: list[Note | str] = field(default_factory=list)  # shown with survey.notes.note_text

    def rank_summary(self) -> pd.DataFrame:
        rows = []
        for model, dist in self.ranks.items():
            cum = dist.cumsum()
            rows.append({"model": model, "p_top": float(dist[dist.index <= self._top].sum()),
                         "most_likely_rank": int(dist.idxmax()),
                         "rank_80_low": int(cum[cum >= 0.10].index[0]), "rank_80_high": int(cum[cum >= 0.90].index[0])})
        return pd.DataFrame(rows)

    _top: int = 10


def resolve_province(name: str, year: int) -> str:
    """The province's name as the reference has it for ``year``; a clear error for a merged one."""
    found = match_province(name, year)
    if found:
        return found
    old = match_province(name, MERGER_YEAR - 1)
    if old and year >= MERGER_YEAR:
        new = crosswalk()[old]
        raise EstimationError(f"{old} has been part of {new} since 1 July 2025: forecast {new} for {year}",
                              code="forecast.merged_province", params={"old": old, "new": new, "year": year})
    raise EstimationError(f"unknown province {name!r}", code="forecast.unknown_province", params={"name": str(name)})


def _provinces(year: int) -> list[str]:
    return provinces_of(year)


def _model(name: str, measure: str, means, province, estimates, history):
    if name == "bridge":
        if not estimates or measure not in estimates:
            return MeanReversion(measure, means), Note("forecast.no_association_estimate")
        est, se = estimates[measure]
        hist = None if history is None else history[history["measure"] == measure]
        return Bridge(measure, means, province=province, estimate=est, se=se, history=hist), None
    return MODELS[name](measure, means), None


def forecast_province(province: str, year: int, *, models: tuple[str, ...] = ("persistence", "mean_reversion", "bridge"),
                      panel: pd.DataFrame | None = None, estimates: dict[str, tuple[float, float]] | None = None,
                      history: pd.DataFrame | None = None, targets: Targets | None = None,
                      enterprise_weights: pd.Series | None = None,
                      config: ForecastConfig = ForecastConfig()) -> ForecastResult:
    """Forecast a province's official sub-indices, total and rank for ``year``.

    Parameters
    ----------
    estimates : {measure: (estimate, se)}, optional
        The association's estimates for ``year`` (for the bridge).
    history : DataFrame (measure, estimate, official), optional
        Past years with both an association estimate and an official value.
    targets : the province's targets (see :func:`survey.reference.load_targets`).

    Raises
    ------
    EstimationError
        Unknown or merged province, unknown model, or no official history.
    """
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise EstimationError(f"unknown model(s) {unknown}", code="forecast.unknown_models",
                              params={"unknown": str(unknown), "known": ", ".join(MODELS)},
                              hint="one of " + ", ".join(MODELS))
    province = resolve_province(province, year)
    wide = wide_panel(panel if panel is not None else official_panel())
    notes: list[Note | str] = [UNOFFICIAL]
    if year >= MERGER_YEAR:
        wide = to_units(wide, enterprise_weights)
        notes.append(Note("forecast.merged_history.enterprises" if enterprise_weights is not None
                          else "forecast.merged_history.equal"))
    provinces = _provinces(year)
    k = provinces.index(province)
    means = national_means()
    in_force = targets_for(targets, year)
    rows, ranks = [], {}
    for model_name in models:
        for measure in MEASURES:
            model, note = _model(model_name, measure, means, province, estimates, history)
            model.fit(wide, year, provinces)
            inputs = model.predict()
            signal = (k, *model.survey_signal()) if isinstance(model, Bridge) else None
            draws = np.clip(simulate(inputs, config.draws, config.seed, signal), 0.0, SCALE[measure])
            own = draws[:, k]
            row = {"model": model_name, "measure": measure, "mean": float(own.mean()),
                   "median": float(np.median(own)), "n_pairs": inputs.n_pairs}
            for lv in config.levels:
                tag = round(lv * 100)
                row[f"pi{tag}_low"], row[f"pi{tag}_high"] = np.quantile(own, [(1 - lv) / 2, (1 + lv) / 2])
            last = inputs.last.get(province)
            row["last_official"], row["last_year"] = (last if last else (np.nan, np.nan))
            row["p_improve"] = float(np.mean(own > last[0])) if last else np.nan
            row["target"] = in_force.get(measure, np.nan)
            row["p_target"] = float(np.mean(own >= in_force[measure])) if measure in in_force else np.nan
            rows.append(row)
            notes += [n for n in inputs.notes + ([note] if note else []) if n not in notes]
            if measure == "total":
                r = ranks_of(draws, k)
                ranks[model_name] = pd.Series(np.bincount(r, minlength=len(provinces) + 1)[1:] / len(r),
                                              index=range(1, len(provinces) + 1))
    if "rank" in in_force:
        notes.append(Note("forecast.rank_target", {"top": int(in_force["rank"])}))
    result = ForecastResult(province, year, pd.DataFrame(rows), ranks, len(provinces), notes)
    result._top = int(in_force.get("rank", config.top))
    return result
