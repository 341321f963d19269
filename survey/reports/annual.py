"""The annual report: one reading, Vietnamese first, from one Jinja2 template to HTML and PDF (and its tables to Excel).

Sections, in order: key messages; the indicator shares; the association's index with its
sensitivity; the official record by year and source; the forecast of the official PGI (all of it
in :func:`_forecast_section`, which the forecast's own rework replaces); weighting and method;
notes. Every page carries the unofficial notice. The association's index is never called the
PGI: its total is "Chỉ số của Hiệp hội (thang 0–40)".
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..forecast import ForecastResult
from ..forecast.report import event_label, scenario_label
from ..forecast import round_probability
from ..forecast.panel import wide_panel
from ..i18n import _, format_date, format_number, format_percent
from ..notes import Note, notes_text
from ..reference import data_path, load_provinces, pgi_indicator_benchmarks, pilot_years
from ..scoring import ScoreResult
from ..scoring.run import hidden_text
from ..scoring import province_key
from ..vocabulary import ESTIMATE_NOTICE, FORECAST_NOTICE, MEASURES
from .blocks import Document, Section, Table
from .common import plt
from .digest import labels
from .render import figure, number_ticks, write_html, write_pdf
from .words import reader_log, word as _word
from .xlsx import write_xlsx

__all__ = ["AnnualReport", "build_annual", "write_annual_html", "write_annual_pdf", "write_annual_xlsx",
           "annual_document"]

TEMPLATE = "annual.html.j2"

#: the method in plain words, one catalogue message each
METHOD_NOTES = tuple(f"rpt.annual.method.{k}" for k in ("survey", "weights", "scores", "uncertainty", "forecast"))


@dataclass
class AnnualReport:
    """Everything the annual report shows."""

    province: str
    year: int
    scores: ScoreResult
    forecast: ForecastResult
    history: pd.DataFrame          # official record of the survey's and the forecast's provinces, as published
    diagnostics: Any               # the weighting's Diagnostics (or its text, from older callers)
    issuer: str = ""
    issued: dt.date | None = None
    units_history: pd.DataFrame | None = None   # the forecast province's record on the forecast's units


def build_annual(scores: ScoreResult, forecast: ForecastResult, panel: pd.DataFrame, diagnostics: Any,
                 province: str, year: int, issuer: str = "", issued: dt.date | None = None) -> AnnualReport:
    """Collect the parts; the official history keeps the survey's province and each old province of the
    forecast's province under its own name, with ranks and sources as published (never a constructed
    average under the merged name)."""
    keys = {province_key(province), *map(province_key, forecast.predecessors)}
    hist = panel[panel["province"].map(province_key).isin(keys) & (panel["year"] < forecast.year)].copy()
    return AnnualReport(province, year, scores, forecast, hist, diagnostics, issuer, issued, None)


# ------------------------------------------------------------------ words

def _measure(report: AnnualReport, measure: str, lang: str, official: bool = True) -> str:
    """A measure's name for readers: a sub-index by its short name; the total of the official PGI, or of
    the association's index (never called the PGI)."""
    if measure == "total":
        return _("rpt.annual.official_total" if official else "rpt.annual.association_total", lang)
    t = report.scores.table
    row = t[(t["kind"] == "subindex") & (t["id"] == measure)]
    if len(row):
        return f"{int(row['subindex'].iloc[0])}. {row[f'short_{lang}'].iloc[0]}"
    return _("rpt.annual.subindex", lang, number=measure.removeprefix("sub"))


def _model(name: str, lang: str) -> str:
    return _word("rpt.model", name, lang)


def _province(name: str) -> str:
    """A province with its diacritics ("Bắc Ninh"), from the reference list."""
    provinces = load_provinces()
    hit = provinces[provinces["province"].map(province_key) == province_key(name)]
    return hit["province_vi"].iloc[0] if len(hit) else name


def _n2(v, lang: str) -> str:
    return "" if v is None or pd.isna(v) else format_number(float(v), lang, 2)


def _range(lo, hi, lang: str, digits: int = 2) -> str:
    if lo is None or pd.isna(lo):
        return ""
    return f"{format_number(float(lo), lang, digits)}–{format_number(float(hi), lang, digits)}"


def _p(v, lang: str) -> str:
    return "" if v is None or pd.isna(v) else format_percent(float(v), lang)


def _reader_notes(report: AnnualReport, notes: list, lang: str) -> list[str]:
    """Notes in ``lang``, with every measure code named as readers know it."""
    named = [replace(n, params={k: (_measure(report, v, lang) if k == "measure" and v in MEASURES else v)
                                for k, v in n.params.items()}) if isinstance(n, Note) else n for n in notes
             if n not in (ESTIMATE_NOTICE, FORECAST_NOTICE)]   # every page carries the report's own notice
    return notes_text(named, lang)


def _notes(report: AnnualReport, lang: str) -> list[str]:
    """The notes of the scores and the forecast, in ``lang``."""
    return _reader_notes(report, list(report.scores.notes), lang) + \
        _reader_notes(report, list(report.forecast.notes), lang)


def _title(report: AnnualReport, lang: str) -> str:
    return _("rpt.annual.title", lang, year=report.year, province=_province(report.province))


# ------------------------------------------------------------------ sections

def _key_messages(report: AnnualReport, lang: str) -> Section:
    t = report.scores.table
    lines = []
    shares = t[(t["kind"] == "indicator") & (t["method"] != "mean") & ~t["suppressed"]].sort_values("value")
    if len(shares):  # what the firms said comes first: the lowest and highest shares, with their intervals
        lo, hi = shares.iloc[0], shares.iloc[-1]
        lines.append(_("rpt.annual.key.shares", lang, low_name=lo[f"name_{lang}"], low=_indicator_value(lo, lang)[0],
                       high_name=hi[f"name_{lang}"], high=_indicator_value(hi, lang)[0], n=int(shares["n"].max())))
    total = t[(t["kind"] == "total") & ~t["suppressed"]]
    if len(total):
        r = total.iloc[0]
        lines.append(_("rpt.annual.key.index", lang, name=_("rpt.annual.association_total", lang),
                       estimate=_n2(r["estimate"], lang), ci=_range(r["ci_low"], r["ci_high"], lang)))
    subs = t[(t["kind"] == "subindex") & ~t["suppressed"]].sort_values("estimate")
    if len(subs):
        lines.append(_("rpt.annual.key.weakest", lang, name=subs[f"short_{lang}"].iloc[0],
                       estimate=_n2(subs["estimate"].iloc[0], lang), best=subs[f"short_{lang}"].iloc[-1],
                       best_estimate=_n2(subs["estimate"].iloc[-1], lang)))
    targets = report.forecast.targets
    if len(targets):
        met = int((targets["official"] >= targets["target"]).sum())
        lines.append(_("rpt.annual.key.plan_targets", lang, province=_province(targets["province"].iloc[0]),
                       met=met, total=len(targets), year=int(targets["official_year"].max()),
                       scale_year=int(targets["scale_year"].iloc[0])))
    f = report.forecast
    dev = next(f.deviation.itertuples())
    rs = f.rank_summary().iloc[0]
    lines.append(_("rpt.annual.key.forecast_deviation", lang, province=_province(f.province), year=f.year,
                   n=f.n_provinces, median=_signed(dev.median, lang), low=_signed(dev.pi80_low, lang),
                   high=_signed(dev.pi80_high, lang)))
    events = "; ".join(f"{event_label(r, lang)}: {_p(round_probability(r.p), lang)}" for r in f.probabilities.itertuples())
    lines.append(_("rpt.annual.key.forecast_rank", lang, median=int(rs["median_rank"]), n=f.n_provinces,
                   low=int(rs["rank_80_low"]), high=int(rs["rank_80_high"]), events=events))
    lines.append(_("rpt.annual.key.not_pgi", lang))
    return Section(_("rpt.annual.section.key", lang), tuple(lines), key="key")


def _signed(v, lang: str) -> str:
    text = _n2(v, lang)
    return text if text.startswith("-") or not text else "+" + text


def _indicator_value(row: pd.Series, lang: str) -> tuple[str, Any]:
    """An indicator's own value with its 95% interval: a share as a percentage, a mean in its unit."""
    if row["method"] != "mean":
        lo, hi = max(float(row["value_ci_low"]), 0.0), min(float(row["value_ci_high"]), 1.0)
        text = f"{_p1(row['value'], lang)} ({_p1(lo, lang)}–{_p1(hi, lang)})" if pd.notna(lo) else _p1(row["value"], lang)
        return text, round(100 * float(row["value"]), 1)
    text = format_number(float(row["value"]), lang, 1)
    if pd.notna(row["value_ci_low"]):
        text += f" ({format_number(float(row['value_ci_low']), lang, 1)}–{format_number(float(row['value_ci_high']), lang, 1)})"
    return text, round(float(row["value"]), 1)


def _p1(v, lang: str) -> str:
    return "" if v is None or pd.isna(v) else format_percent(float(v), lang, 1)


def _benchmarks(lang: str) -> dict[str, str]:
    """Indicator id -> VCCI's published figure beside which the association's share can be read (the latest
    national one), with its year; where VCCI's question differs, the text says so."""
    table = pgi_indicator_benchmarks()
    table = table[(table["indicator"] != "") & (table["scope"] == "national")].sort_values("year")
    out = {}
    for r in table.itertuples():
        value = _p(r.value, lang) if r.unit.startswith("share") else format_number(float(r.value), lang, 1)
        out[r.indicator] = _("rpt.annual.benchmark", lang, value=value, year=int(r.year)) + \
            ("" if r.comparability == "same" else " " + _("rpt.annual.benchmark.not_same", lang))
    return out


def _indicators(report: AnnualReport, lang: str) -> Section:
    t = report.scores.table
    t = t[(t["kind"] == "indicator")]
    vcci = _benchmarks(lang)
    rows, values = [], []
    for _i, r in t.iterrows():
        bench = vcci.get(r["id"], _("rpt.annual.benchmark.none", lang))
        if r.get("suppressed"):
            rows.append((f"{int(r['subindex'])}", r[f"name_{lang}"], format_number(int(r["n"]), lang, 0),
                         hidden_text(r, lang, report.scores.config.min_n), bench))
            values.append((int(r["subindex"]), None, int(r["n"]), None, None))
            continue
        text, number = _indicator_value(r, lang)
        rows.append((f"{int(r['subindex'])}", r[f"name_{lang}"], format_number(int(r["n"]), lang, 0), text, bench))
        values.append((int(r["subindex"]), None, int(r["n"]), number, None))
    table = Table(_("rpt.annual.table.indicators", lang),
                  (_("rpt.annual.column.subindex", lang), _("rpt.annual.column.indicator", lang),
                   _("rpt.annual.column.n", lang), _("rpt.annual.column.value_ci", lang),
                   _("rpt.annual.column.vcci", lang)),
                  tuple(rows), _("rpt.annual.note.indicators", lang), tuple(values),
                  ("0", "", "#,##0", "#,##0.0", ""), (True, False, True, True, False),
                  sheet=_("rpt.annual.sheet.indicators", lang))
    return Section(_("rpt.annual.section.indicators", lang), (_("rpt.annual.scope", lang),), (table,),
                   key="indicators")


def _index(report: AnnualReport, lang: str) -> Section:
    t = report.scores.table
    t = t[t["kind"].isin(["subindex", "total"])]
    rows, values = [], []
    for _i, r in t.iterrows():
        name = _measure(report, r["id"], lang, official=False)
        if r["suppressed"]:
            rows.append((name, hidden_text(r, lang, report.scores.config.min_n), "", "", ""))
            values.append((None, None, None, None, None))
            continue
        rows.append((name, _n2(r["estimate"], lang), _n2(r["se"], lang), _range(r["ci_low"], r["ci_high"], lang),
                     _range(r.get("sens_low"), r.get("sens_high"), lang)))
        values.append((None, round(float(r["estimate"]), 2), None if pd.isna(r["se"]) else round(float(r["se"]), 3),
                       None, None))
    table = Table(_("rpt.annual.table.index", lang),
                  (_("annual.column.measure", lang), _("annual.column.estimate", lang), _("rpt.annual.column.se", lang),
                   _("annual.column.ci95", lang), _("rpt.annual.column.sensitivity", lang)),
                  tuple(rows), _("rpt.annual.note.index", lang), tuple(values),
                  ("", "0.00", "0.000", "", ""), (False, True, True, True, True),
                  sheet=_("rpt.annual.sheet.index", lang))
    figures = [_fig_scores(report, lang)]
    tables = [table]
    if report.scores.tornado is not None and len(report.scores.tornado):
        tables.append(_tornado_table(report, lang))
        figures.append(_fig_tornado(report, lang))
    return Section(_("rpt.annual.section.index", lang), (_("rpt.annual.index.explain", lang),
                                                         _("rpt.annual.scope", lang)),
                   tuple(tables), tuple(figures), (_("rpt.annual.note.sensitivity", lang),), key="index")


def _tornado_rows(report: AnnualReport) -> pd.DataFrame:
    tor = report.scores.tornado
    if "domain" in tor.columns or len(tor.columns) > 7:  # scored by a domain: the report shows the whole province
        tor = tor[tor.iloc[:, 0] == tor.iloc[0, 0]] if tor.columns[0] not in ("id",) else tor
    return tor


def _tornado_table(report: AnnualReport, lang: str) -> Table:
    tor = _tornado_rows(report)
    rows, values = [], []
    for m, part in tor.groupby("id", sort=False):
        top = part.sort_values("swing", ascending=False).iloc[0]
        for r in part.itertuples():
            rows.append((_measure(report, m, lang, official=False), _(f"scoring.factor.{r.factor}", lang),
                         _range(r.low, r.high, lang), _n2(r.swing, lang),
                         "●" if r.factor == top["factor"] else ""))
            values.append((None, None, None, round(float(r.swing), 2), None))
    return Table(_("rpt.annual.table.tornado", lang),
                 (_("annual.column.measure", lang), _("rpt.annual.column.choice", lang),
                  _("rpt.annual.column.range", lang), _("rpt.annual.column.swing", lang),
                  _("rpt.annual.column.largest", lang)), tuple(rows), _("rpt.annual.note.tornado", lang),
                 tuple(values), ("", "", "", "0.00", ""), (False, False, True, True, False),
                 sheet=_("rpt.annual.sheet.tornado", lang))


def _fig_tornado(report: AnnualReport, lang: str):
    tor = _tornado_rows(report)
    total = tor[tor["id"] == "total"].sort_values("swing")
    fig, ax = plt.subplots(figsize=(7.5, 3.0))
    y = np.arange(len(total))
    base = float(total["base"].iloc[0]) if len(total) else 0.0
    ax.barh(y, total["high"] - total["low"], left=total["low"], color="#5c6bc0")
    ax.axvline(base, color="#37474f", linewidth=1)
    ax.set_yticks(y, [_(f"scoring.factor.{f}", lang) for f in total["factor"]])
    ax.set_xlabel(_("rpt.annual.axis.score40", lang))
    ax.xaxis.set_major_formatter(number_ticks(lang, 1))
    title = _("rpt.annual.figure.tornado", lang)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return figure(fig, title)


def _fig_scores(report: AnnualReport, lang: str):
    t = report.scores.table
    t = t[(t["kind"] == "subindex") & ~t["suppressed"]]
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    y = np.arange(len(t))
    ax.errorbar(t["estimate"], y, xerr=[t["estimate"] - t["ci_low"], t["ci_high"] - t["estimate"]], fmt="o",
                color="#1565c0", capsize=4, label=_("annual.figure.association_estimate", lang))
    if "sens_low" in t:
        ax.hlines(y + 0.2, t["sens_low"], t["sens_high"], color="#ef6c00", linewidth=3,
                  label=_("rpt.annual.column.sensitivity", lang))
    ax.set_yticks(y, t[f"short_{lang}"])
    ax.set_xlim(0, 10)
    ax.set_xlabel(_("rpt.annual.axis.association10", lang))
    ax.xaxis.set_major_formatter(number_ticks(lang))
    ax.invert_yaxis()
    ax.legend(fontsize=7, loc="lower right")
    title = _("rpt.annual.figure.subindices", lang)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return figure(fig, title)


def _sources() -> dict[str, str]:
    """Source code -> the web site it was read from (SOURCES.md of the reference data)."""
    text = (data_path("data") / "reference" / "SOURCES.md").read_text(encoding="utf-8")
    found = {}
    for code, where in re.findall(r"^\|\s*(S_\w+)\s*\|\s*([^|]+?)\s*\|", text, flags=re.M):
        found[code] = re.sub(r"^https?://(www\.)?", "", where).split("/")[0] if where.startswith("http") else ""
    return found


def _official(report: AnnualReport, lang: str) -> Section:
    h = report.history
    sources = _sources()
    pilots = pilot_years()
    published = h.groupby(["year", "province"])["source"].agg(lambda s: list(s.dropna()))
    rows, values = [], []
    # totals completed from the sub-indices where only they were published (marked *)
    for r in wide_panel(h).sort_values(["year", "province"]).itertuples():
        year, province, rank = r.year, r.province, r.rank
        scores = {m: round(getattr(r, m), 2) if pd.notna(getattr(r, m)) else np.nan for m in MEASURES}
        cells = [_n2(scores[m], lang) for m in MEASURES]
        if r.total_derived:
            cells[-1] += " *"
        src = "; ".join(dict.fromkeys(sources.get(s) or _("rpt.annual.source.document", lang)
                                      for s in published[(year, province)]))
        rows.append((str(int(year)) + (" " + _("rpt.annual.pilot", lang) if int(year) in pilots else ""),
                     _province(province), *cells, "" if pd.isna(rank) else format_number(int(rank), lang, 0), src))
        values.append((int(year), None, *[None if pd.isna(scores[m]) else float(scores[m]) for m in MEASURES],
                       None if pd.isna(rank) else int(rank), None))
    columns = (_("rpt.annual.column.year", lang), _("rpt.annual.column.province", lang),
               *[_measure(report, m, lang) for m in MEASURES], _("rpt.annual.column.rank", lang),
               _("rpt.annual.column.source", lang))
    table = Table(_("rpt.annual.table.official", lang), columns, tuple(rows), _("rpt.annual.note.official", lang),
                  tuple(values), ("0", "", "0.00", "0.00", "0.00", "0.00", "0.00", "0", ""),
                  (True, False, True, True, True, True, True, True, False), sheet=_("rpt.annual.sheet.official", lang))
    tables = [table]
    targets = report.forecast.targets
    if len(targets):
        trow = tuple((_measure(report, r.measure, lang), f"≥ {_n2(r.target, lang)}", _n2(r.official, lang),
                      str(int(r.official_year)) if pd.notna(r.official_year) else "") for r in targets.itertuples())
        tables.append(Table(_("rpt.annual.table.plan", lang, province=_province(targets["province"].iloc[0])),
                            (_("annual.column.measure", lang), _("annual.column.target", lang),
                             _("rpt.annual.column.official", lang), _("rpt.annual.column.year", lang)), trow,
                            _("rpt.annual.note.plan", lang, scale_year=int(targets["scale_year"].iloc[0]),
                              source=str(targets["source"].iloc[0])),
                            tuple((None, float(r.target), float(r.official), None) for r in targets.itertuples()),
                            ("", "0.00", "0.00", ""), (False, True, True, True), sheet=_("rpt.annual.sheet.plan", lang)))
    return Section(_("rpt.annual.section.official", lang), (), tuple(tables), key="official")


def _forecast_section(report: AnnualReport, lang: str) -> Section:
    """Everything the report shows of the forecast: deviation and rank first (the national move cancels
    there), then the level under named scenarios, the sub-indices, the survey's share; probabilities in
    words rounded to 5 points."""
    f = report.forecast
    name = _province(f.province)
    dev = next(f.deviation.itertuples())
    rs = f.rank_summary().iloc[0]
    words = [_("rpt.annual.forecast.deviation", lang, province=name, year=f.year, n=f.n_provinces,
               median=_signed(dev.median, lang), low=_signed(dev.pi80_low, lang), high=_signed(dev.pi80_high, lang),
               low95=_signed(dev.pi95_low, lang), high95=_signed(dev.pi95_high, lang)),
             _("rpt.annual.forecast.rank", lang, median=int(rs["median_rank"]), n=f.n_provinces,
               low=int(rs["rank_80_low"]), high=int(rs["rank_80_high"]))]
    words += [f"{event_label(r, lang)}: {_('rpt.annual.forecast.about', lang, p=_p(round_probability(r.p), lang))}"
              for r in f.probabilities.itertuples()]
    words.append(_("rpt.annual.forecast.survey", lang, share=_p(f.survey_share, lang)))
    scen_rows = tuple((scenario_label(r, lang), _n2(r.median, lang), _range(r.pi80_low, r.pi80_high, lang),
                       _range(r.pi95_low, r.pi95_high, lang)) for r in f.scenarios.itertuples())
    scen = Table(_("rpt.annual.table.scenarios", lang, year=f.year), (
        _("rpt.annual.column.scenario", lang), _("rpt.annual.column.median", lang), _("rpt.annual.column.pi80", lang),
        _("rpt.annual.column.pi95", lang)), scen_rows, _("rpt.annual.note.forecast", lang),
        tuple((None, round(float(r.median), 2), None, None) for r in f.scenarios.itertuples()),
        ("", "0.00", "", ""), (False, True, True, True), sheet=_("rpt.annual.sheet.forecast", lang))
    subs = f.table[f.table["measure"] != "total"].dropna(subset=["median"])
    tables = [scen]
    if len(subs):
        tables.append(Table(_("rpt.annual.table.forecast_subs", lang), (
            _("annual.column.measure", lang), _("rpt.annual.column.median", lang), _("rpt.annual.column.pi80", lang),
            _("rpt.annual.column.pi95", lang)), tuple((_measure(report, r.measure, lang), _n2(r.median, lang),
                                                       _range(r.pi80_low, r.pi80_high, lang),
                                                       _range(r.pi95_low, r.pi95_high, lang))
                                                      for r in subs.itertuples()),
            _("rpt.annual.note.forecast_subs", lang), None, (), (False, True, True, True),
            sheet=_("rpt.annual.sheet.forecast_subs", lang)))
    return Section(_("rpt.annual.section.forecast", lang), tuple(words), tuple(tables),
                   (_fig_fan(report, lang), _fig_ranks(report, lang)), key="forecast")


def _fig_fan(report: AnnualReport, lang: str):
    """Each old province's official totals as published, by its own name, and the forecast's ranges."""
    f = report.forecast
    row = f.table[f.table["measure"] == "total"].iloc[0]
    wide = wide_panel(f.history)  # totals completed from the sub-indices where only they were published
    wide = wide[~wide["year"].isin(pilot_years()) & wide["total"].notna()]  # a pilot was on another scale
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    years = {f.year}
    for (province, part), color in zip(wide.groupby("province"), ("#37474f", "#8d6e63", "#5c6bc0")):
        series = part.set_index("year")["total"].sort_index()
        years |= set(int(y) for y in series.index)
        ax.plot(series.index, series.values, "o-", color=color, label=_province(province))
    for lo, hi, alpha in ((row["pi95_low"], row["pi95_high"], 0.18), (row["pi80_low"], row["pi80_high"], 0.35)):
        ax.fill_between([f.year - 0.25, f.year + 0.25], [lo, lo], [hi, hi], color="#2e7d32", alpha=alpha,
                        linewidth=0)
    ax.plot([f.year], [row["median"]], "D", color="#2e7d32",
            label=_("rpt.annual.figure.forecast_of", lang, province=_province(f.province)))
    ax.set_xticks(sorted(years))
    ax.set_ylim(0, 40)
    ax.set_xlabel(_("rpt.annual.column.year", lang))
    ax.set_ylabel(_("rpt.annual.axis.score40", lang))
    ax.yaxis.set_major_formatter(number_ticks(lang))
    ax.legend(fontsize=8, loc="lower left")
    title = _("rpt.annual.figure.fan", lang, province=_province(f.province))
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return figure(fig, title)


def _fig_ranks(report: AnnualReport, lang: str):
    dist = report.forecast.ranks
    top = int(report.forecast.probabilities.set_index("event").loc["top", "rank_at_most"])
    fig, ax = plt.subplots(figsize=(7.5, 3.0))
    ax.bar(dist.index, dist.values, color=["#2e7d32" if r <= top else "#90a4ae" for r in dist.index])
    ax.set_xlabel(_("annual.figure.rank_among", lang, n=report.forecast.n_provinces))
    ax.set_ylabel(_("annual.figure.probability", lang))
    ax.yaxis.set_major_formatter(number_ticks(lang, percent=True))
    p = round_probability(float(dist[dist.index <= top].sum()))
    title = _("rpt.annual.figure.ranks", lang, top=top, p=_p(p, lang))
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return figure(fig, title)


def _weighting(report: AnnualReport, lang: str) -> Section:
    diag = report.diagnostics
    paragraphs, tables, notes = [], [], []
    if isinstance(diag, str) or diag is None:   # an older caller's text: shown as lines
        paragraphs = [line for line in (diag or "").splitlines() if line.strip()]
    else:
        s = diag.summary
        paragraphs.append(_("weighting.diagnostics.responses", lang, n=s["n"], total=s["sum"]))
        paragraphs.append(_("rpt.annual.weights.summary", lang, min=s["min"], max=s["max"], cv=s["cv"],
                            deff=s["deff_kish"], n_effective=s["n_effective"]))
        if diag.replicates:
            paragraphs.append(_("rpt.annual.weights.replicates", lang, count=diag.replicates[1],
                                kind=_word("rpt.replicates", diag.replicates[0], lang)))
        check = diag.check
        if len(check):
            rows = tuple((_word("rpt.margin", str(r["margin"]), lang).capitalize(),
                          _word("rpt.category", str(r["category"]), lang),
                          format_number(int(r["respondents"]), lang, 0), format_number(float(r["target"]), lang, 0),
                          format_number(float(r["achieved"]), lang, 1)) for _i, r in check.iterrows())
            values = tuple((None, None, int(r["respondents"]), float(r["target"]), round(float(r["achieved"]), 1))
                           for _i, r in check.iterrows())
            tables.append(Table(_("rpt.annual.table.margins", lang),
                                (_("rpt.annual.column.margin", lang), _("rpt.annual.column.category", lang),
                                 _("rpt.annual.column.respondents", lang), _("rpt.annual.column.target_count", lang),
                                 _("rpt.annual.column.achieved", lang)), rows, "", values,
                                ("", "", "#,##0", "#,##0", "#,##0.0"), (False, False, True, True, True),
                                sheet=_("rpt.annual.sheet.margins", lang)))
        if diag.illustrative:
            notes.append(_("rpt.margins.illustrative", lang))
        notes += reader_log(diag.log, lang)
    paragraphs += [_(key, lang) for key in METHOD_NOTES]
    return Section(_("rpt.annual.section.method", lang), tuple(paragraphs), tuple(tables), (), tuple(notes),
                   key="method")


def annual_document(report: AnnualReport, lang: str = "vi") -> Document:
    """The report as a :class:`Document`, every text in ``lang``."""
    sections = (_key_messages(report, lang), _indicators(report, lang), _index(report, lang),
                _official(report, lang), _forecast_section(report, lang), _weighting(report, lang),
                Section(_("rpt.annual.section.notes", lang), (), (), (), tuple(_notes(report, lang)), key="notes"))
    province = _province(report.province)
    if province_key(report.province) != province_key(report.forecast.province):
        province = _("rpt.province.merged", lang, old=province, new=_province(report.forecast.province))
    return Document(_title(report, lang), lang, province,
                    _("rpt.period.year", lang, year=report.year), report.issuer or _("rpt.issuer", lang),
                    format_date(report.issued or dt.date.today(), lang), _("rpt.notice", lang), sections,
                    labels(lang))


def write_annual_html(report: AnnualReport, path: str | Path, lang: str = "vi") -> Path:
    """One offline HTML file (figures embedded), written whole or not at all."""
    return write_html(annual_document(report, lang), TEMPLATE, path)


def write_annual_pdf(report: AnnualReport, path: str | Path, lang: str = "vi") -> Path:
    """The same template as an A4 PDF, written whole or not at all."""
    return write_pdf(annual_document(report, lang), TEMPLATE, path)


def write_annual_xlsx(report: AnnualReport, path: str | Path, lang: str = "vi") -> Path:
    """The report's tables, one sheet each, and a "Ghi chú" sheet; written whole or not at all."""
    return write_xlsx(annual_document(report, lang), path, _("rpt.sheet.notes", lang),
                      _("rpt.sheet.notes_heading", lang))
