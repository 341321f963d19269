"""The monthly digest of firms' difficulties in environmental protection, for the People's Committee.

Vietnamese by default (``lang="en"`` for English; every text from the message catalogue,
ids ``digest.*``). Weighted shares of firms with
each kind of difficulty, by sector and district, the change from the previous
month, the severity, the list of cases the firms agreed to forward (never with
their names or contacts), and notes on the weighting. Written as XLSX and PDF.
Estimates come from the weights module; this module only lays them out.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages

from ..i18n import _
from ..outputs import atomic_path
from ..questionnaire import Questionnaire
from ..weights import Design, proportion, weight_summary
from .common import drop_personal, plt, safe_cells, table_page, text_page

__all__ = ["Digest", "build_digest", "write_digest_xlsx", "write_digest_pdf"]

#: Sector groups when the weighting's margins define none: group -> the sector codes (VSIC sections)
#: it holds. The digest groups sectors as the margins file does (its margin on ``sector``), so the
#: table matches the groups the weights were calibrated to; a group is named by
#: ``digest.sector_group.<group>`` in the catalogue, or by its own name.
_SECTOR_GROUPS = {"agriculture": (1,), "industry_construction": tuple(range(2, 7)), "services": tuple(range(7, 22))}


def _group_label(group: str, lang: str) -> str:
    text = _(f"digest.sector_group.{group}", lang)
    return group.replace("_", " ") if text == f"digest.sector_group.{group}" else text


def _t(key: str, lang: str, **kw) -> str:
    """The digest's text ``key`` (``digest.<key>`` in the catalogue)."""
    return _(f"digest.{key}", lang, **kw)


@dataclass
class Digest:
    """The digest's tables, ready to write."""

    month: str
    lang: str
    tables: dict[str, pd.DataFrame]
    notes: list[str]


def _with_flags(design: Design, qn: Questionnaire, groups: Mapping[str, Sequence[int]]) -> Design:
    """Add 0/1 columns: had each kind of difficulty (0 for firms without difficulty); and the sector group."""
    data = design.data.copy()
    asked = data["had_difficulty"].notna()
    for c in qn.choices("difficulty_types"):
        chosen = data["difficulty_types"].fillna("").astype(str).str.split().map(lambda t, k=str(c.code): k in t)
        data[f"dt_{c.code}"] = np.where(asked, chosen.astype(float), np.nan)
    group = {float(code): g for g, codes in groups.items() for code in codes}
    data["sector_group"] = data["sector"].map(group)
    return replace(design, data=data)


def _pct(frame: pd.DataFrame) -> tuple[float, str]:
    row = frame.iloc[0]
    return 100 * row["estimate"], f"{100 * row['ci_low']:.0f}–{100 * row['ci_high']:.0f}"


def _share(design: Design, var: str, by: str | None = None) -> pd.DataFrame:
    return proportion(design, var, codes=[1], by=by)


def build_digest(design: Design, qn: Questionnaire, month: str, previous: Design | None = None,
                 lang: str = "vi", min_n: int = 10, include_personal: bool = False,
                 weighting_notes: list[str] | None = None,
                 sector_groups: Mapping[str, Sequence[int]] | None = None) -> Digest:
    """The digest of one month (with the previous month for changes).

    ``sector_groups`` (group -> sector codes) are the margins file's groups of sectors; default
    :data:`_SECTOR_GROUPS`.
    """
    groups = sector_groups or _SECTOR_GROUPS
    d = _with_flags(design, qn, groups)
    p = _with_flags(previous, qn, groups) if previous is not None else None
    tables = {}
    est, ci = _pct(_share(d, "had_difficulty"))
    prev = _pct(_share(p, "had_difficulty"))[0] if p is not None else np.nan
    tables["overview"] = pd.DataFrame({
        _t("item", lang): [_t("responding", lang), _t("with_difficulty", lang)],
        _t("share", lang): [d.n, round(est, 1)], _t("ci", lang): ["", ci],
        _t("prev", lang): ["" if p is None else p.n, round(prev, 1)],
        _t("change", lang): ["", round(est - prev, 1)]})
    rows = []
    for c in qn.choices("difficulty_types"):
        e, ci = _pct(_share(d, f"dt_{c.code}"))
        pe = _pct(_share(p, f"dt_{c.code}"))[0] if p is not None else np.nan
        rows.append({_t("item", lang): c.label.get(lang), _t("share", lang): round(e, 1), _t("ci", lang): ci,
                     _t("prev", lang): round(pe, 1), _t("change", lang): round(e - pe, 1)})
    tables["categories"] = pd.DataFrame(rows).sort_values(_t("share", lang), ascending=False)
    tables["sector"] = _by_domain(d, "sector_group", {g: _group_label(g, lang) for g in groups}, lang, min_n)
    tables["locality"] = _by_domain(d, "locality", {c.code: c.label.get(lang) for c in qn.choices("locality")},
                                    lang, min_n)
    sev = proportion(d, "severity", exclude=[98])
    labels = {c.code: c.label.get(lang) for c in qn.choices("severity")}
    tables["severity"] = pd.DataFrame({_t("item", lang): sev["answer"].map(lambda v: labels.get(int(v), v)),
                                       _t("share", lang): (100 * sev["estimate"]).round(1)})
    tables["cases"] = _cases(design.data, qn, lang, include_personal)
    s = weight_summary(design)
    method = {"JK1": "jackknife", "JKn": "jackknife", "bootstrap": "bootstrap"}.get(design.rep_type)
    notes = [_t("note.respondents", lang, n=d.n, total=round(float(s["sum"]))),
             _t("note.weighting", lang, deff=float(s["deff_kish"]),
                method=_t(f"method.{method}", lang) if method else ""),
             _t("note.hidden", lang, min_n=min_n),
             _t("note.cases", lang)]
    notes += weighting_notes or []
    return Digest(month, lang, tables, notes)


def _by_domain(design: Design, by: str, labels: dict, lang: str, min_n: int) -> pd.DataFrame:
    """Shares by a domain; ``labels`` name its codes in ``lang``."""
    t = _share(design, "had_difficulty", by=by)
    name = t[by].map(lambda v: labels.get(v, labels.get(int(v), str(v)) if isinstance(v, (int, float)) else str(v)))
    shown = t["n"] >= min_n
    return pd.DataFrame({_t("item", lang): name,
                         _t("share", lang): np.where(shown, (100 * t["estimate"]).round(1), np.nan),
                         _t("ci", lang): np.where(shown, [f"{100 * a:.0f}–{100 * b:.0f}" for a, b in
                                                         zip(t["ci_low"], t["ci_high"])], _t("hidden", lang)),
                         _t("n", lang): t["n"]})


def _cases(data: pd.DataFrame, qn: Questionnaire, lang: str, include_personal: bool) -> pd.DataFrame:
    cases = data[data["forward_consent"] == 1].copy()
    cases = drop_personal(cases, qn, include_personal)
    out = pd.DataFrame(index=cases.index)
    for qid in ("locality", "sector", "difficulty_types", "severity", "description", "proposal", "reported_to",
                "resolution", "wants_dialogue"):
        q = qn.question(qid)
        col = cases[qid]
        if q.is_select:
            names = {str(c.code): c.label.get(lang) for c in qn.choices(q)}
            col = col.map(lambda v: "; ".join(names.get(t, t) for t in str(v).split()) if isinstance(v, str) else
                          (names.get(str(int(v)), v) if pd.notna(v) else ""))
        out[q.label.get(lang)] = col
    if include_personal:
        for qid in qn.personal_questions:
            if qid in cases.columns:
                out[qn.question(qid).label.get(lang)] = cases[qid]
    return out.reset_index(drop=True)


def write_digest_xlsx(digest: Digest, path: str | Path) -> Path:
    """One sheet per table, texts neutralised against formulas; written whole or not at all."""
    path = Path(path)
    with atomic_path(path) as tmp, pd.ExcelWriter(tmp, engine="openpyxl") as xw:
        for key, table in digest.tables.items():
            safe_cells(table).to_excel(xw, sheet_name=_t(key, digest.lang)[:31], index=False)
        safe_cells(pd.DataFrame({_t("notes", digest.lang): digest.notes})).to_excel(
            xw, sheet_name=_t("notes", digest.lang)[:31], index=False)
    return path


def write_digest_pdf(digest: Digest, path: str | Path) -> Path:
    """Title and overview, a chart of difficulties, the tables, the cases and the notes.

    Free text (a firm's description) is printed as typed, never read as mathtext; the file is
    written whole or not at all.
    """
    path = Path(path)
    lang = digest.lang
    with atomic_path(path) as tmp, PdfPages(tmp) as pdf:
        text_page(pdf, _t("title", lang, m=digest.month), [
            f"{_t('overview', lang)}:"] + [" | ".join(f"{c}: {v}" for c, v in row.items() if v != "")
                                           for row in digest.tables["overview"].fillna("").to_dict("records")]
            + [""] + digest.notes)
        cat = digest.tables["categories"]
        fig, ax = plt.subplots(figsize=(8.27, 5.5))
        ax.barh(cat[_t("item", lang)], cat[_t("share", lang)], color="#2e7d32")
        ax.invert_yaxis()
        ax.set_xlabel(_t("share", lang))
        ax.set_title(_t("categories", lang))
        fig.tight_layout()
        pdf.savefig(fig)
        plt.close(fig)
        for key in ("categories", "sector", "locality", "severity", "cases"):
            table_page(pdf, _t(key, lang), digest.tables[key])
    return path
