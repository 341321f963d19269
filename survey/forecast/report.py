"""The forecast in words and numbers, for the terminal (and as the plain parts reports reuse).

Order follows what the record supports: deviation from the national mean and rank first; the level only under
named scenarios for the national mean and with its full interval; probabilities rounded to 5 percentage points
(the table keeps full precision with a Monte-Carlo SE); the survey's weight as a share; the plan's targets
beside the official values they were set against; the official history of each old province by its own name.
"""
from __future__ import annotations

import pandas as pd

from ..i18n import _
from ..notes import note_text
from ..reference import pilot_years, province_name
from ..vocabulary import measure_name, unofficial
from .forecast import ForecastResult, round_probability
from .panel import wide_panel

__all__ = ["forecast_text", "backtest_text", "simulation_text", "province_label", "scenario_label", "event_label"]


def province_label(name: str, year: int, lang: str) -> str:
    """A province as a reader knows it: Vietnamese with diacritics, or the English name."""
    return province_name(name, year, lang)


def scenario_label(row, lang: str) -> str:
    """Words for a scenario row of :attr:`ForecastResult.scenarios`."""
    if row.scenario == "as_last":
        return _("forecast.scenario.as_last", lang, shift=float(row.shift), first=int(row.from_year),
                 last=int(row.to_year))
    if row.scenario == "prior":
        return _("forecast.scenario.prior", lang, mean=float(row.shift), sd=float(row.shift_sd))
    return _("forecast.scenario.unchanged", lang)


def event_label(row, lang: str) -> str:
    """Words for an event of :attr:`ForecastResult.probabilities`."""
    if row.event == "top_equivalent":
        return _("forecast.event.top_equivalent", lang, top=int(row.rank_at_most), n=int(row.of),
                 plan_top=int(row.plan_top), plan_of=int(row.plan_of))
    return _("forecast.event.top", lang, top=int(row.rank_at_most), n=int(row.of))


def _interval(row, lang: str, signed: bool = False) -> str:
    key = "forecast.interval.signed" if signed else "forecast.interval"
    return _(key, lang, mean=float(row.median), low80=float(row.pi80_low), high80=float(row.pi80_high),
             low95=float(row.pi95_low), high95=float(row.pi95_high))


def _history_lines(result: ForecastResult, lang: str) -> list[str]:
    wide = wide_panel(result.history)  # totals completed from the sub-indices where only they were published
    pilots = pilot_years()
    out = []
    for name in result.predecessors:
        rows = wide[(wide["province"] == name) & wide["total"].notna()].sort_values("year")
        parts = [_("forecast.history.year", lang, year=int(r.year), value=float(r.total)) +
                 (_("forecast.history.derived", lang) if r.total_derived else "") +
                 (_("forecast.history.pilot", lang) if int(r.year) in pilots else "") for r in rows.itertuples()]
        if parts:
            out.append(f"  {province_label(name, 2024, lang)}: " + "; ".join(parts))
    return out


def forecast_text(result: ForecastResult, lang: str = "vi") -> str:
    """The whole forecast for a reader, in ``lang``."""
    name = province_label(result.province, result.year, lang)
    lines = [_("forecast.title", lang, province=name, year=result.year) + " — " + unofficial("forecast", lang)]
    dev = next(result.deviation.itertuples())
    lines.append(_("forecast.deviation", lang, n=result.n_provinces) + " " + _interval(dev, lang, signed=True))
    rs = result.rank_summary().iloc[0]
    lines.append(_("forecast.rank.median", lang, median=int(rs["median_rank"]), n=result.n_provinces,
                   low=int(rs["rank_80_low"]), high=int(rs["rank_80_high"])))
    for r in result.probabilities.itertuples():
        lines.append("  " + _("forecast.event.line", lang, event=event_label(r, lang), p=round_probability(r.p)))
    lines.append(_("forecast.level.heading", lang, year=result.year))
    for r in result.scenarios.itertuples():
        lines.append(f"  - {scenario_label(r, lang)}: {_interval(r, lang)}")
    subs = [r for r in result.table.itertuples() if r.measure != "total" and not pd.isna(r.median)]
    if subs:
        lines.append(_("forecast.subindices.heading", lang))
    for r in subs:
        lines.append(f"  {measure_name(r.measure, lang):<60} {_interval(r, lang)}")
    lines.append(_("forecast.survey.share", lang, share=result.survey_share))
    if len(result.targets):
        t = result.targets.iloc[0]
        lines.append(_("forecast.targets.heading", lang, province=province_label(t["province"], 2024, lang),
                       scale_year=int(t["scale_year"]) if pd.notna(t["scale_year"]) else "?"))
        for r in result.targets.itertuples():
            lines.append("  " + _("forecast.targets.line", lang, measure=measure_name(r.measure, lang),
                                  target=float(r.target), official=float(r.official),
                                  year=int(r.official_year) if pd.notna(r.official_year) else "?"))
    history = _history_lines(result, lang)
    if history:
        lines.append(_("forecast.history.heading", lang))
        lines += history
    lines += [f"- {note_text(n, lang)}" for n in result.notes[1:] + result.problems]
    return "\n".join(lines)


def backtest_text(table: pd.DataFrame, lang: str = "vi") -> str:
    """The backtest per forecast year: the model beside the naive baseline, then what it cannot show."""
    lines = [_("forecast.backtest.heading", lang)]
    for r in table.itertuples():
        lines.append(_("forecast.backtest.row", lang, year=int(r.year), origin=int(r.origin),
                       model=_(f"forecast.model.{r.model}", lang), cases=int(r.cases), mae_level=float(r.mae_level),
                       mae_deviation=float(r.mae_deviation), spearman=float(r.spearman),
                       brier=float(r.brier_top10), cases_top10=int(r.cases_top10)))
        if r.model != "naive":
            lines.append(_("forecast.backtest.coverage", lang, c80l=float(r.coverage80_level),
                           c80d=float(r.coverage80_deviation), c95l=float(r.coverage95_level),
                           c95d=float(r.coverage95_deviation)))
    lines += [f"- {note_text(n, lang)}" for n in table.attrs.get("notes", [])]
    return "\n".join(lines)


def simulation_text(table: pd.DataFrame, lang: str = "vi") -> str:
    """The realistic simulation's coverage, per quantity."""
    lines = [_("forecast.simulate.heading", lang, panels=int(table["panels"].iloc[0]))]
    for r in table.itertuples():
        lines.append("  " + _("forecast.simulate.row", lang, quantity=_(f"forecast.quantity.{r.quantity}", lang),
                              c80=float(r.coverage80), se80=float(r.se80), c95=float(r.coverage95),
                              se95=float(r.se95), mae=float(r.mae)))
    return "\n".join(lines)
