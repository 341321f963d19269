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
from ..forecast.panel import to_units, wide_panel
from ..i18n import _, format_date, format_number, format_percent
from ..notes import Note, notes_text
from ..reference import data_path, load_provinces
from ..scoring import ScoreResult
from ..scoring import province_key
from ..vocabulary import ESTIMATE_NOTICE, FORECAST_NOTICE, MERGER_YEAR, MEASURES
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
    """Collect the parts; the official history keeps the survey's province and the forecast's, with ranks
    and sources as published."""
    keys = {province_key(province), province_key(forecast.province)}
    hist = panel[panel["province"].map(province_key).isin(keys)].copy()
    wide = wide_panel(panel)
    if forecast.year >= MERGER_YEAR:   # the forecast works on today's provinces: its history too
        wide = to_units(wide)
    units = wide[wide["province"] == forecast.province].melt(
        id_vars=["year"], value_vars=list(MEASURES), var_name="measure", value_name="score").dropna()
    return AnnualReport(province, year, scores, forecast, hist, diagnostics, issuer, issued, units)


# ------------------------------------------------------------------ words

def _measure(report: AnnualReport, measure: str, lang: str, official: bool = True) -> str:
    """A measure's name for readers: a sub-index by its short name; the total of the official PGI, or of
    the association's index (never called the PGI)."""
    if measure == "total":
        return _("rpt.annual.official_total" if official else "rpt.annual.association_total", lang)
    t = report.scores.table
    row = t[(t["level"] == "subindex") & (t["id"] == measure)]
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

def _shown_model(report: AnnualReport) -> str:
    """The model the forecast used (one model per result since the forecast's rebuild)."""
    return report.forecast.model


def _forecast_rows(report: AnnualReport) -> pd.DataFrame:
    """The forecast table of the shown model (older results had one block per model)."""
    f = report.forecast.table
    return f[f["model"] == _shown_model(report)] if "model" in f.columns else f


def _top(report: AnnualReport) -> int:
    """The rank the plan aims at (the forecast's "top" event)."""
    return int(report.forecast.probabilities.set_index("event").loc["top", "rank_at_most"])


def _ranks(report: AnnualReport) -> pd.DataFrame:
    """One row per shown model: model, most likely rank, 80% range and P(top)."""
    dist = report.forecast.ranks
    r = report.forecast.rank_summary().iloc[0]
    return pd.DataFrame([{"model": _shown_model(report), "most_likely_rank": int(dist.idxmax()),
                          "rank_80_low": int(r["rank_80_low"]), "rank_80_high": int(r["rank_80_high"]),
                          "p_top": float(r["p_top"])}])


def _key_messages(report: AnnualReport, lang: str) -> Section:
    t = report.scores.table
    lines = []
    total = t[t["level"] == "total"]
    if len(total):
        r = total.iloc[0]
        lines.append(_("rpt.annual.key.index", lang, name=_("rpt.annual.association_total", lang),
                       estimate=_n2(r["estimate"], lang), ci=_range(r["ci95_low"], r["ci95_high"], lang)))
    subs = t[t["level"] == "subindex"].sort_values("estimate")
    if len(subs):
        lines.append(_("rpt.annual.key.weakest", lang, name=subs[f"short_{lang}"].iloc[0],
                       estimate=_n2(subs["estimate"].iloc[0], lang), best=subs[f"short_{lang}"].iloc[-1],
                       best_estimate=_n2(subs["estimate"].iloc[-1], lang)))
        below = subs[subs["target"].notna() & (subs["estimate"] < subs["target"])]
        lines.append(_("rpt.annual.key.targets", lang, below=len(below), total=int(subs["target"].notna().sum())))
    f = _forecast_rows(report)
    row = f[f["measure"] == "total"]
    if len(row):
        r = row.iloc[0]
        rank = _ranks(report)
        lines.append(_("rpt.annual.key.forecast", lang, province=_province(report.forecast.province),
                       year=report.forecast.year, mean=_n2(r["mean"], lang),
                       pi80=_range(r["pi80_low"], r["pi80_high"], lang)))
        if len(rank):
            lines.append(_("rpt.annual.key.rank", lang, top=_top(report),
                           p=_p(rank["p_top"].iloc[0], lang)))
    lines.append(_("rpt.annual.key.not_pgi", lang))
    return Section(_("rpt.annual.section.key", lang), tuple(lines), key="key")


def _indicator_value(row: pd.Series, lang: str) -> tuple[str, Any]:
    """An indicator's own value: a share as a percentage, anything else as a number in its unit."""
    if str(row["name_en"]).startswith("%"):   # the catalogue's indicators name shares "% of firms ..."
        return _p(row["value"], lang), round(100 * float(row["value"]), 1)
    return format_number(float(row["value"]), lang, 1), round(float(row["value"]), 1)


def _indicators(report: AnnualReport, lang: str) -> Section:
    t = report.scores.table
    t = t[(t["level"] == "indicator")]
    rows, values = [], []
    for _i, r in t.iterrows():
        if r.get("suppressed"):
            rows.append((f"{int(r['subindex'])}", r[f"name_{lang}"], format_number(int(r["n"]), lang, 0), "—", "—",
                         _("rpt.annual.suppressed", lang)))
            values.append((int(r["subindex"]), None, int(r["n"]), None, None, None))
            continue
        text, number = _indicator_value(r, lang)
        rows.append((f"{int(r['subindex'])}", r[f"name_{lang}"], format_number(int(r["n"]), lang, 0), text,
                     _n2(r["estimate"], lang), _range(r["ci95_low"], r["ci95_high"], lang)))
        values.append((int(r["subindex"]), None, int(r["n"]), number, round(float(r["estimate"]), 2), None))
    table = Table(_("rpt.annual.table.indicators", lang),
                  (_("rpt.annual.column.subindex", lang), _("rpt.annual.column.indicator", lang),
                   _("rpt.annual.column.n", lang), _("rpt.annual.column.value", lang),
                   _("rpt.annual.column.score10", lang), _("annual.column.ci95", lang)),
                  tuple(rows), _("rpt.annual.note.indicators", lang), tuple(values),
                  ("0", "", "#,##0", "#,##0.0", "0.00", ""), (True, False, True, True, True, True),
                  sheet=_("rpt.annual.sheet.indicators", lang))
    return Section(_("rpt.annual.section.indicators", lang), (), (table,), key="indicators")


def _index(report: AnnualReport, lang: str) -> Section:
    t = report.scores.table
    t = t[t["level"].isin(["subindex", "total"])]
    rows, values = [], []
    for _i, r in t.iterrows():
        name = _measure(report, r["id"], lang, official=False)
        last = "" if pd.isna(r.get("official_last")) else \
            f"{_n2(r['official_last'], lang)} ({int(r['official_year'])})"
        rows.append((name, _n2(r["estimate"], lang), _n2(r["se"], lang), _range(r["ci95_low"], r["ci95_high"], lang),
                     _range(r.get("sens_low"), r.get("sens_high"), lang),
                     "" if pd.isna(r.get("target")) else f"≥ {_n2(r['target'], lang)}", last))
        values.append((None, round(float(r["estimate"]), 2), round(float(r["se"]), 3), None, None,
                       None if pd.isna(r.get("target")) else float(r["target"]), None))
    table = Table(_("rpt.annual.table.index", lang),
                  (_("annual.column.measure", lang), _("annual.column.estimate", lang), _("rpt.annual.column.se", lang),
                   _("annual.column.ci95", lang), _("rpt.annual.column.sensitivity", lang),
                   _("annual.column.target", lang), _("rpt.annual.column.last_official", lang)),
                  tuple(rows), _("rpt.annual.note.index", lang), tuple(values),
                  ("", "0.00", "0.000", "", "", "0.00", ""), (False, True, True, True, True, True, True),
                  sheet=_("rpt.annual.sheet.index", lang))
    return Section(_("rpt.annual.section.index", lang), (_("rpt.annual.index.explain", lang),), (table,),
                   (_fig_scores(report, lang),), (_("rpt.annual.note.sensitivity", lang),), key="index")


def _fig_scores(report: AnnualReport, lang: str):
    t = report.scores.table
    t = t[t["level"] == "subindex"]
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    y = np.arange(len(t))
    ax.errorbar(t["estimate"], y, xerr=[t["estimate"] - t["ci95_low"], t["ci95_high"] - t["estimate"]], fmt="o",
                color="#1565c0", capsize=4, label=_("annual.figure.association_estimate", lang))
    ax.scatter(t["target"], y, marker="|", s=300, color="#c62828", label=_("annual.column.target", lang))
    ax.scatter(t["official_last"], y, marker="D", color="#6d4c41", label=_("rpt.annual.column.last_official", lang))
    ax.set_yticks(y, t[f"short_{lang}"])
    ax.set_xlim(0, 10)
    ax.set_xlabel(_("rpt.annual.axis.score10", lang))
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
    rows, values = [], []
    for (year, province), g in h.sort_values(["year", "province"]).groupby(["year", "province"], sort=True):
        by = g.set_index("measure")
        cells = [_n2(by["score"].get(m), lang) for m in MEASURES]
        rank = by["rank"].get("total") if "total" in by.index else np.nan
        src = "; ".join(dict.fromkeys(sources.get(s) or _("rpt.annual.source.document", lang)
                                      for s in g["source"].dropna()))
        rows.append((str(int(year)), _province(province), *cells,
                     "" if pd.isna(rank) else format_number(int(rank), lang, 0), src))
        values.append((int(year), None, *[None if pd.isna(by["score"].get(m, np.nan)) else float(by["score"].get(m))
                                          for m in MEASURES], None if pd.isna(rank) else int(rank), None))
    columns = (_("rpt.annual.column.year", lang), _("rpt.annual.column.province", lang),
               *[_measure(report, m, lang) for m in MEASURES], _("rpt.annual.column.rank", lang),
               _("rpt.annual.column.source", lang))
    table = Table(_("rpt.annual.table.official", lang), columns, tuple(rows), _("rpt.annual.note.official", lang),
                  tuple(values), ("0", "", "0.00", "0.00", "0.00", "0.00", "0.00", "0", ""),
                  (True, False, True, True, True, True, True, True, False), sheet=_("rpt.annual.sheet.official", lang))
    return Section(_("rpt.annual.section.official", lang), (), (table,), key="official")


def _forecast_section(report: AnnualReport, lang: str) -> Section:
    """Everything the report shows of the forecast, as one section (tables and figures already in ``lang``).

    Kept in this one function so that a new forecast result changes this function only.
    """
    f = _forecast_rows(report)
    model = _shown_model(report)
    rows, values = [], []
    for _i, r in f.iterrows():
        rows.append((_measure(report, r["measure"], lang), _n2(r["mean"], lang),
                     _range(r["pi80_low"], r["pi80_high"], lang), _range(r["pi95_low"], r["pi95_high"], lang),
                     "" if pd.isna(r.get("last_official")) else
                     f"{_n2(r['last_official'], lang)} ({int(r['last_year'])})" if pd.notna(r.get("last_year")) else
                     _n2(r["last_official"], lang), _p(r.get("p_improve"), lang), _p(r.get("p_target"), lang)))
        values.append((None, round(float(r["mean"]), 2), None, None, None if pd.isna(r.get("last_official")) else
                       float(r["last_official"]), None, None))
    table = Table(_("rpt.annual.table.forecast", lang, model=_model(model, lang)),
                  (_("annual.column.measure", lang), _("annual.column.forecast", lang),
                   _("rpt.annual.column.pi80", lang), _("rpt.annual.column.pi95", lang),
                   _("rpt.annual.column.last_official", lang), _("rpt.annual.column.p_improve", lang),
                   _("rpt.annual.column.p_target", lang)), tuple(rows), _("rpt.annual.note.forecast", lang),
                  tuple(values), ("", "0.00", "", "", "0.00", "", ""), (False, True, True, True, True, True, True),
                  sheet=_("rpt.annual.sheet.forecast", lang))
    ranks = _ranks(report)
    rank_rows = tuple((_model(r.model, lang), format_number(r.most_likely_rank, lang, 0),
                       f"{r.rank_80_low}–{r.rank_80_high}", _p(r.p_top, lang)) for r in ranks.itertuples())
    rank_table = Table(_("rpt.annual.table.rank", lang, n=report.forecast.n_provinces),
                       (_("rpt.annual.column.model", lang), _("rpt.annual.column.likely_rank", lang),
                        _("rpt.annual.column.rank80", lang),
                        _("rpt.annual.column.p_top", lang, top=_top(report))), rank_rows,
                       numeric=(False, True, True, True), sheet=_("rpt.annual.sheet.rank", lang))
    words = ()
    shown = ranks[ranks["model"] == model]
    if len(shown):
        r = shown.iloc[0]
        words = (_("rpt.annual.forecast.rank_words", lang, province=_province(report.forecast.province),
                   rank=int(r["most_likely_rank"]), n=report.forecast.n_provinces, low=int(r["rank_80_low"]),
                   high=int(r["rank_80_high"]), top=_top(report), p=_p(r["p_top"], lang)),)
    return Section(_("rpt.annual.section.forecast", lang), words + (_("rpt.annual.forecast.models", lang),),
                   (table, rank_table), (_fig_fan(report, lang), _fig_ranks(report, lang)), key="forecast")


def _fig_fan(report: AnnualReport, lang: str):
    f = _forecast_rows(report)
    row = f[f["measure"] == "total"].iloc[0]
    h = report.units_history if report.units_history is not None else report.history
    hist = h[h["measure"] == "total"]
    if "province" in hist.columns:
        hist = hist[hist["province"].map(province_key) == province_key(report.forecast.province)]
    hist = hist.sort_values("year")
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    ax.plot(hist["year"], hist["score"], "o-", color="#37474f", label=_("annual.figure.official", lang))
    x = [hist["year"].max(), report.forecast.year] if len(hist) else [report.forecast.year - 1, report.forecast.year]
    last = hist["score"].iloc[-1] if len(hist) else row["mean"]
    for lo, hi, alpha in ((row["pi95_low"], row["pi95_high"], 0.18), (row["pi80_low"], row["pi80_high"], 0.35)):
        ax.fill_between(x, [last, lo], [last, hi], color="#2e7d32", alpha=alpha, linewidth=0)
    ax.plot(x, [last, row["mean"]], "--", color="#2e7d32", label=_("annual.figure.forecast", lang))
    ax.set_xticks(sorted(set(hist["year"].astype(int).tolist() + [report.forecast.year])))
    ax.set_ylim(0, 40)
    ax.set_xlabel(_("rpt.annual.column.year", lang))
    ax.set_ylabel(_("rpt.annual.axis.score40", lang))
    ax.legend(fontsize=8, loc="upper left")
    title = _("rpt.annual.figure.fan", lang, province=_province(report.forecast.province))
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return figure(fig, title)


def _fig_ranks(report: AnnualReport, lang: str):
    dist = report.forecast.ranks
    top = _top(report)
    fig, ax = plt.subplots(figsize=(7.5, 3.0))
    ax.bar(dist.index, dist.values, color=["#2e7d32" if r <= top else "#90a4ae" for r in dist.index])
    ax.set_xlabel(_("annual.figure.rank_among", lang, n=report.forecast.n_provinces))
    ax.set_ylabel(_("annual.figure.probability", lang))
    ax.yaxis.set_major_formatter(number_ticks(lang, percent=True))
    title = _("rpt.annual.figure.ranks", lang, top=top, p=_p(dist[dist.index <= top].sum(), lang))
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
