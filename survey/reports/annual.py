"""The annual PGI-estimate report: HTML and PDF, Vietnamese first, figures by matplotlib.

Sections: the estimate of each sub-index and the total with intervals against the
targets and the official record; the forecast of the official score as a fan chart;
the distribution of the rank; the weighting diagnostics; the method in plain words.
Every page carries the notice "Ước tính không chính thức / unofficial estimate".
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages

from ..forecast import ForecastResult
from ..forecast.panel import wide_panel
from ..reference import province_name
from ..vocabulary import measure_name
from ..i18n import _
from ..notes import notes_text
from ..outputs import atomic_path
from ..scoring import ScoreResult
from ..vocabulary import MERGER_YEAR
from .common import UNOFFICIAL, figure_png, plt, text_page

__all__ = ["AnnualReport", "build_annual", "write_annual_html", "write_annual_pdf", "METHOD_NOTES"]

METHOD_NOTES = [
    "Khảo sát: doanh nghiệp trên địa bàn tỉnh trả lời bảng hỏi về 4 chỉ số thành phần của PGI "
    "(bộ câu hỏi xây dựng theo mô tả công khai của PGI, không phải bảng hỏi của VCCI). / Survey: firms in the "
    "province answer a questionnaire on the 4 PGI sub-indices (modelled on public descriptions, not VCCI's own).",
    "Trọng số: câu trả lời được gán trọng số để đại diện cho toàn bộ doanh nghiệp của tỉnh theo quy mô, ngành, loại "
    "hình. / Weights: answers are weighted to represent all the province's enterprises by size, sector and type.",
    "Điểm: mỗi chỉ tiêu được quy về thang 10 điểm; chỉ số thành phần là trung bình các chỉ tiêu; tổng điểm là tổng "
    "4 chỉ số (tối đa 40). / Scores: each indicator on a 10-point scale; a sub-index is their mean; the total is "
    "the sum of the four (maximum 40).",
    "Độ tin cậy: khoảng tin cậy tính bằng cách lặp lại toàn bộ quá trình trên các mẫu lặp (bootstrap). / "
    "Uncertainty: intervals come from redoing the whole chain on bootstrap replicates.",
    "Dự báo: kết hợp lịch sử PGI chính thức của các tỉnh với ước tính của Hiệp hội, theo độ chính xác của mỗi "
    "nguồn; thứ hạng mô phỏng đồng thời cho mọi tỉnh. / Forecast: the official record of all provinces combined "
    "with the association's estimate by precision; ranks simulated jointly for every province.",
]


@dataclass
class AnnualReport:
    """Everything the annual report shows."""

    province: str
    year: int
    scores: ScoreResult
    forecast: ForecastResult
    history: pd.DataFrame          # official record of the forecast province: year, measure, score
    diagnostics: str


def build_annual(scores: ScoreResult, forecast: ForecastResult, panel: pd.DataFrame, diagnostics: str,
                 province: str, year: int) -> AnnualReport:
    """Collect the parts; the official history is each old province's own, as published (never a constructed
    average under the merged name), with totals completed from sub-indices where only they are published."""
    wide = wide_panel(panel[panel["province"].isin(forecast.predecessors)])
    hist = wide.melt(id_vars=["year", "province"], value_vars=["sub1", "sub2", "sub3", "sub4", "total"],
                     var_name="measure", value_name="score").dropna()
    return AnnualReport(province, year, scores, forecast, hist[hist["year"] < forecast.year], diagnostics)


def _notes(report: AnnualReport, lang: str) -> list[str]:
    """The notes of the scores and the forecast, in ``lang``."""
    return notes_text(report.scores.notes, lang) + notes_text(report.forecast.notes, lang)


def _title(report: AnnualReport, lang: str) -> str:
    return _("annual.title", lang, year=report.year, province=report.province)


def _shown_model(report: AnnualReport) -> str:
    """The model the forecast used."""
    return report.forecast.model


def _summary_table(report: AnnualReport, lang: str) -> pd.DataFrame:
    t = report.scores.table
    t = t[t["kind"] != "indicator"]
    return pd.DataFrame({
        _("annual.column.measure", lang): t[f"short_{lang}"],
        _("annual.column.estimate", lang): t["estimate"].round(2),
        "SE": t["se"].round(2),
        _("annual.column.ci95", lang): [f"{a:.2f}–{b:.2f}" for a, b in zip(t["ci_low"], t["ci_high"])],
        _("annual.column.sensitivity", lang): [f"{a:.2f}–{b:.2f}" if pd.notna(a) else "" for a, b in
                                               zip(t.get("sens_low", np.nan), t.get("sens_high", np.nan))],
    })


def _forecast_table(report: AnnualReport, lang: str) -> pd.DataFrame:
    f = report.forecast.table
    return pd.DataFrame({
        _("annual.column.measure", lang): [measure_name(m, lang) for m in f["measure"]],
        _("annual.column.forecast", lang): f["median"].round(2),
        "80%": [f"{a:.2f}–{b:.2f}" for a, b in zip(f["pi80_low"], f["pi80_high"])],
        "95%": [f"{a:.2f}–{b:.2f}" for a, b in zip(f["pi95_low"], f["pi95_high"])],
    })


def _fig_scores(report: AnnualReport, lang: str):
    t = report.scores.table
    t = t[t["kind"] == "subindex"]
    fig, ax = plt.subplots(figsize=(7.5, 3.8))
    y = np.arange(len(t))
    ax.errorbar(t["estimate"], y, xerr=[t["estimate"] - t["ci_low"], t["ci_high"] - t["estimate"]], fmt="o",
                color="#1565c0", capsize=4, label=_("annual.figure.association_estimate", lang))
    ax.set_yticks(y, t[f"short_{lang}"])
    ax.set_xlim(0, 10)
    ax.invert_yaxis()
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title(_("annual.figure.subindices", lang, notice=UNOFFICIAL), fontsize=9)
    fig.tight_layout()
    return fig


def _fig_fan(report: AnnualReport, lang: str):
    f = report.forecast.table
    row = f[f["measure"] == "total"].iloc[0]
    hist = report.history[report.history["measure"] == "total"].sort_values("year")
    fig, ax = plt.subplots(figsize=(7.5, 3.8))
    for (name, part), color in zip(hist.groupby("province"), ("#37474f", "#8d6e63", "#5c6bc0")):
        ax.plot(part["year"], part["score"], "o-", color=color, label=province_name(name, 2024, lang))
    year = report.forecast.year
    for lo, hi, alpha in ((row["pi95_low"], row["pi95_high"], 0.18), (row["pi80_low"], row["pi80_high"], 0.35)):
        ax.fill_between([year - 0.2, year + 0.2], [lo, lo], [hi, hi], color="#2e7d32", alpha=alpha, linewidth=0)
    ax.plot([year], [row["median"]], "D", color="#2e7d32", label=_("annual.figure.forecast", lang))
    ax.set_xticks(sorted(set(hist["year"].tolist() + [year])))
    ax.set_ylim(0, 40)
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title(_("annual.figure.total", lang, province=report.forecast.province, notice=UNOFFICIAL), fontsize=9)
    fig.tight_layout()
    return fig


def _fig_ranks(report: AnnualReport, lang: str):
    dist = report.forecast.ranks
    fig, ax = plt.subplots(figsize=(7.5, 3.2))
    top = int(report.forecast.probabilities.set_index("event").loc["top", "rank_at_most"])
    ax.bar(dist.index, dist.values, color=["#2e7d32" if r <= top else "#90a4ae" for r in dist.index])
    ax.set_xlabel(_("annual.figure.rank_among", lang, n=report.forecast.n_provinces))
    ax.set_ylabel(_("annual.figure.probability", lang))
    p_top = dist[dist.index <= top].sum()
    ax.set_title(_("annual.figure.rank_distribution", lang, top=top, p_top=float(p_top)), fontsize=9)
    fig.tight_layout()
    return fig


def _html_table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = "".join("<tr>" + "".join(f"<td>{html.escape('' if pd.isna(v) else str(v))}</td>" for v in r) + "</tr>"
                   for r in frame.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def write_annual_html(report: AnnualReport, path: str | Path, lang: str = "vi") -> Path:
    """A self-contained HTML page (figures embedded), written whole or not at all."""
    path = Path(path)
    title = _title(report, lang)
    imgs = [figure_png(f(report, lang)) for f in (_fig_scores, _fig_fan, _fig_ranks)]
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in _notes(report, lang))
    body = f"""<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:"DejaVu Sans",Arial,sans-serif;max-width:960px;margin:2em auto;color:#222}}
.notice{{background:#fdecea;color:#b00020;padding:.6em 1em;font-weight:bold;border-radius:4px}}
table{{border-collapse:collapse;margin:1em 0;font-size:.9em}}td,th{{border:1px solid #ccc;padding:.3em .6em}}
th{{background:#eef3ee}}pre{{background:#f6f6f6;padding:1em;font-size:.8em;overflow-x:auto}}</style></head><body>
<h1>{html.escape(title)}</h1>
<p class="notice">{UNOFFICIAL}</p>
<h2 id="estimates">{_("annual.heading.estimates", lang)}</h2>
{_html_table(_summary_table(report, lang))}
<img alt="sub-indices" src="data:image/png;base64,{imgs[0]}">
<h2 id="forecast">{_("annual.heading.forecast", lang)}</h2>
{_html_table(_forecast_table(report, lang))}
<img alt="fan chart" src="data:image/png;base64,{imgs[1]}">
<h2 id="rank">{_("annual.heading.rank", lang)}</h2>
{_html_table(report.forecast.rank_summary())}
<img alt="rank distribution" src="data:image/png;base64,{imgs[2]}">
<h2 id="weights">{_("annual.heading.weights", lang)}</h2>
<pre>{html.escape(report.diagnostics)}</pre>
<h2 id="method">{_("annual.heading.method", lang)}</h2>
<ul>{''.join(f'<li>{html.escape(n)}</li>' for n in METHOD_NOTES)}</ul>
<h3>{_("annual.heading.notes", lang)}</h3><ul>{notes}</ul>
<p class="notice">{UNOFFICIAL}</p></body></html>"""
    with atomic_path(path) as tmp:
        tmp.write_text(body, encoding="utf-8")
    return path


def write_annual_pdf(report: AnnualReport, path: str | Path, lang: str = "vi") -> Path:
    """The same content as PDF pages, written whole or not at all."""
    path = Path(path)
    title = _title(report, lang)
    with atomic_path(path) as tmp, PdfPages(tmp) as pdf:
        text_page(pdf, title, [_("annual.heading.estimates", lang)]
                  + [" | ".join(str(v) for v in r) for r in _summary_table(report, lang).itertuples(index=False)]
                  + ["", _("annual.heading.forecast_short", lang)]
                  + [" | ".join(str(v) for v in r) for r in _forecast_table(report, lang).itertuples(index=False)]
                  + [""] + METHOD_NOTES, notice=UNOFFICIAL)
        for make in (_fig_scores, _fig_fan, _fig_ranks):
            fig = make(report, lang)
            fig.text(0.01, 0.01, UNOFFICIAL, fontsize=7, color="#b00020")
            pdf.savefig(fig)
            plt.close(fig)
        text_page(pdf, _("annual.heading.weights", lang), report.diagnostics.splitlines(), notice=UNOFFICIAL)
        text_page(pdf, _("annual.heading.notes", lang), _notes(report, lang), notice=UNOFFICIAL)
    return path
