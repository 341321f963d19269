"""The monthly digest of firms' difficulties in environmental protection, for the People's Committee.

Vietnamese by default (``lang="en"`` for English; every text from the message catalogue). The
digest says, in this order: the key messages; how many responses came in, were accepted and were
excluded (and why); the share of firms with each kind of difficulty, with n, interval and whether
the change since last month is larger than noise; the trend of the last months; shares by sector
and district (cells under ``min_n`` firms hidden); the severity (every level, with n, hidden under
``min_n``); the main difficulty and its estimated cost; the firms asking for a dialogue; the cases
staff approved for the People's Committee (masked, with a reference number and follow-up status);
and the notes on the method, the weighting actually used and its margins.

Estimates come from :mod:`survey.weights`; this module only lays them out as
:class:`~survey.reports.blocks.Document` sections, written as HTML, PDF (one template) and XLSX.
A month in which no firm reports a difficulty gives a digest that says so.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import EstimationError
from ..i18n import _, format_date, format_number
from ..places import crosswalk_rule, to_former_district
from ..questionnaire import Questionnaire
from ..text import printable
from ..weights import Design, mean, proportion, weight_summary
from .blocks import Document, Figure, Section, Table
from .common import plt
from .redact import mask_text
from .render import figure, number_ticks, write_html, write_pdf
from .words import word
from .xlsx import write_xlsx

__all__ = ["Digest", "DigestContext", "build_digest", "write_digest_xlsx", "write_digest_pdf",
           "write_digest_html", "period_words"]

#: Sector groups when the weighting's margins define none: group -> the sector codes (VSIC sections)
#: it holds. The digest groups sectors as the margins file does (its margin on ``sector``), so the
#: table matches the groups the weights were calibrated to; a group is named by
#: ``digest.sector_group.<group>`` in the catalogue, or by the sectors it holds.
_SECTOR_GROUPS = {"agriculture": (1,), "industry_construction": tuple(range(2, 7)), "services": tuple(range(7, 22))}
_Z = 1.959964  # two-sided 95% normal quantile, for "larger than noise"
TEMPLATE = "digest.html.j2"


@dataclass(frozen=True)
class DigestContext:
    """What the digest says besides the estimates, read from the store by the job.

    Attributes
    ----------
    province : the province as written for readers, with its diacritics ("Bắc Giang").
    issuer : who issues the digest.
    issued : the date of issue.
    counts : what the month's loads did (:meth:`Store.load_counts`: read, accepted, with corrections,
        quarantined, already present; a quarantined row later corrected and accepted counted once).
    excluded_reasons : reason code -> number of rows excluded for it.
    cases : the approved cases (reference, response_key, description, proposal, follow_up), masked.
    pending : the number of cases still waiting for review.
    margins : the margins used to weight: name, source, illustrative, and the names of the margins used.
    trend : earlier weighted months, period -> design (oldest first).
    open_cases : approved cases of earlier months not yet resolved (reference, period, follow_up).
    invited : firms invited to answer this month, when staff give it (for the response rate).
    """

    province: str = ""
    issuer: str = ""
    issued: dt.date = field(default_factory=dt.date.today)
    counts: Any = None  # a survey.store.LoadCounts (not imported here: reports do not read the store)
    excluded_reasons: Mapping[str, int] = field(default_factory=dict)
    cases: pd.DataFrame | None = None
    pending: int = 0
    margins_source: str = ""
    margins_illustrative: bool = True
    margins_used: tuple[str, ...] = ()
    trend: Mapping[str, Design] = field(default_factory=dict)
    open_cases: pd.DataFrame | None = None
    invited: int | None = None


@dataclass
class Digest:
    """The digest as a document, ready to write."""

    month: str
    lang: str
    document: Document

    @property
    def notes(self) -> list[str]:
        """The notes on the method, the weighting's log last."""
        return [n for s in self.document.sections if s.key == "notes" for n in s.notes]

    @property
    def tables(self) -> dict[str, Table]:
        """The tables by key: responses, categories, trend, sector, locality, severity, main, cases."""
        return {t.key or t.title: t for t in self.document.tables()}


def _t(key: str, lang: str, **kw) -> str:
    """The digest's text ``key`` (``digest.<key>`` in the catalogue)."""
    return _(f"digest.{key}", lang, **kw)


def period_words(month: str, lang: str) -> str:
    """A month in words: "tháng 12/2025" (vi), "December 2025" (en)."""
    year, number = (int(p) for p in month.split("-"))
    return _("rpt.period.month", lang, month=number, year=year, name=_(f"rpt.month.{number}", lang))


def _group_label(group: str, codes: Sequence[int], qn: Questionnaire, lang: str) -> str:
    text = _(f"digest.sector_group.{group}", lang)
    return group.replace("_", " ") if text == f"digest.sector_group.{group}" else text


def _pct(value: float, lang: str, digits: int = 1) -> str:
    return "" if value is None or pd.isna(value) else format_number(100 * value, lang, digits)


def _ci(row, lang: str) -> str:
    return f"{format_number(100 * row['ci_low'], lang, 1)}–{format_number(100 * row['ci_high'], lang, 1)}"


def _with_flags(design: Design, qn: Questionnaire, groups: Mapping[str, Sequence[int]]) -> Design:
    """Add 0/1 columns: had each kind of difficulty (0 for firms without), the main difficulty (the only one
    when a firm chose one), wants a dialogue; and the sector group."""
    data = design.data.copy()
    asked = data["had_difficulty"].notna()
    chosen_lists = data["difficulty_types"].fillna("").astype(str).str.split()
    for c in qn.choices("difficulty_types", with_missing=False):
        chosen = chosen_lists.map(lambda t, k=str(c.code): k in t)
        data[f"dt_{c.code}"] = np.where(asked, chosen.astype(float), np.nan)
    single = chosen_lists.map(lambda t: float(t[0]) if len(t) == 1 else np.nan)
    data["main"] = data["main_difficulty"].where(data["main_difficulty"].notna(), single)
    group = {float(code): g for g, codes in groups.items() for code in codes}
    data["sector_group"] = data["sector"].map(group)
    return replace(design, data=data)


def _share(design: Design, var: str, by: str | None = None, exclude: list | None = None) -> pd.DataFrame | None:
    """The share answering 1, or None when nobody answered (a month without difficulties)."""
    try:
        return proportion(design, var, codes=[1], by=by, exclude=exclude)
    except EstimationError:
        return None


def _had(design: Design | None) -> pd.Series | None:
    if design is None:
        return None
    share = _share(design, "had_difficulty")
    return None if share is None else share.iloc[0]


def _noise(cur, prev, lang: str) -> str:
    """Whether the change since last month is larger than sampling noise (95%, independent months)."""
    if prev is None or cur is None:
        return ""
    gap = abs(cur["estimate"] - prev["estimate"])
    return _("rpt.yes", lang) if gap > _Z * float(np.hypot(cur["se"], prev["se"])) else _("rpt.no", lang)


# ------------------------------------------------------------------ sections

def _key_messages(d: Design, p: Design | None, qn: Questionnaire, ctx: DigestContext, lang: str) -> Section:
    cur, prev = _had(d), _had(p)
    lines = []
    if cur is None or cur["estimate"] == 0:
        lines.append(_("rpt.digest.key.none", lang, n=d.n))
    else:
        lines.append(_("rpt.digest.key.share", lang, share=_pct(cur["estimate"], lang),
                       ci=_ci(cur, lang), n=d.n))
        top = _categories(d, p, qn, lang, raw=True)
        if top:
            lines.append(_("rpt.digest.key.top", lang, label=top[0][0], share=_pct(top[0][1], lang)))
    if prev is not None and cur is not None:
        key = "rpt.digest.key.change_real" if _noise(cur, prev, lang) == _("rpt.yes", lang) else \
            "rpt.digest.key.change_noise"
        lines.append(_(key, lang, prev=_pct(prev["estimate"], lang)))
    cases = 0 if ctx.cases is None else len(ctx.cases)
    lines.append(_("rpt.digest.key.cases", lang, approved=cases, pending=ctx.pending))
    return Section(_("rpt.digest.section.key", lang), tuple(lines), key="key")


def _responses(d: Design, ctx: DigestContext, lang: str, represented: float) -> Section:
    c = ctx.counts
    known = c is not None and c.loads > 0
    received, accepted = (c.read, c.accepted) if known else (d.n, d.n)
    corrected, excluded, repeated = (c.corrected, c.quarantined, c.already_present) if known else (0, 0, 0)
    rows = [(_("rpt.digest.responses.received", lang), received), (_("rpt.digest.responses.accepted", lang),
            accepted), (_("rpt.digest.responses.corrected", lang), corrected),
            (_("rpt.digest.responses.excluded", lang), excluded),
            (_("rpt.digest.responses.repeated", lang), repeated), (_("rpt.digest.responses.used", lang), d.n)]
    rows += [(_("rpt.digest.responses.reason", lang, reason=_(f"ingest.reason.{code}", lang)), count)
             for code, count in ctx.excluded_reasons.items()]
    table = Table(_("rpt.digest.table.responses", lang),
                  (_("digest.item", lang), _("rpt.digest.column.count", lang)),
                  tuple((label, format_number(v, lang, 0)) for label, v in rows),
                  values=tuple((None, v) for _l, v in rows), formats=("", "#,##0"), numeric=(False, True),
                  key="responses")
    rate = _("rpt.digest.responses.rate", lang, received=received, invited=ctx.invited,
             rate=format_number(100 * received / ctx.invited, lang, 1)) if ctx.invited else \
        _("rpt.digest.responses.no_rate", lang)
    paragraphs = (_("rpt.digest.responses.represented", lang, n=d.n, total=format_number(represented, lang, 0)), rate)
    return Section(_("rpt.digest.section.responses", lang), paragraphs, (table,), key="responses")


def _categories(d: Design, p: Design | None, qn: Questionnaire, lang: str, raw: bool = False):
    """The kinds of difficulty, most frequent first: a Table (or, ``raw``, (label, share) pairs)."""
    rows, values, bounds = [], [], []
    for c in qn.choices("difficulty_types", with_missing=False):
        cur = _share(d, f"dt_{c.code}")
        if cur is None:
            return [] if raw else None
        cur = cur.iloc[0]
        prev = _share(p, f"dt_{c.code}") if p is not None else None
        prev = None if prev is None else prev.iloc[0]
        n = int((d.data[f"dt_{c.code}"] == 1).sum())
        bounds.append((float(cur["ci_low"]), float(cur["ci_high"])))
        change = None if prev is None else cur["estimate"] - prev["estimate"]
        rows.append((c.label.get(lang), format_number(n, lang, 0), _pct(cur["estimate"], lang), _ci(cur, lang),
                     _pct(prev["estimate"], lang) if prev is not None else "—",
                     "—" if change is None else format_number(100 * change, lang, 1),
                     _noise(cur, prev, lang) or "—", cur["estimate"]))
        values.append((None, n, round(100 * cur["estimate"], 1), None,
                       None if prev is None else round(100 * prev["estimate"], 1),
                       None if change is None else round(100 * change, 1), None))
    order = sorted(range(len(rows)), key=lambda i: -rows[i][-1])
    if raw:
        return [(rows[i][0], rows[i][-1]) + bounds[i] for i in order]
    return Table(_("digest.categories", lang),
                 (_("rpt.digest.column.area", lang), _("rpt.digest.column.firms", lang), _("digest.share", lang),
                  _("digest.ci", lang), _("digest.prev", lang), _("digest.change", lang),
                  _("rpt.digest.column.beyond_noise", lang)),
                 tuple(rows[i][:-1] for i in order), note=_("rpt.digest.note.categories", lang, n=d.n),
                 values=tuple(values[i] for i in order), formats=("", "#,##0", "0.0", "", "0.0", "+0.0;-0.0;0.0", ""),
                 numeric=(False, True, True, True, True, True, False), sheet=_("digest.categories", lang),
                 key="categories")


def _fig_categories(shown: list[tuple], lang: str) -> Figure:
    """Bars of the shares (``shown``: label, share, ci_low, ci_high as fractions), with their 95% intervals."""
    labels = [r[0] for r in shown]
    shares = np.array([100 * r[1] for r in shown])
    err = np.array([[100 * (r[1] - r[2]) for r in shown], [100 * (r[3] - r[1]) for r in shown]]).clip(min=0)
    fig, ax = plt.subplots(figsize=(7.2, 3.6))
    ax.barh(labels, shares, xerr=err, color="#2e7d32", ecolor="#37474f", capsize=2, error_kw={"linewidth": 0.8})
    ax.invert_yaxis()
    ax.set_xlabel(_("rpt.digest.axis.share", lang))
    ax.set_ylabel(_("rpt.digest.column.area", lang))
    ax.set_xlim(0, min(100, 10 * np.ceil(1.1 * max([100 * r[3] for r in shown] or [0]) / 10) or 10))
    ax.xaxis.set_major_formatter(number_ticks(lang))
    title = _("rpt.digest.figure.categories", lang)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return figure(fig, title, _("rpt.digest.figure.categories_alt", lang))


def _difficulties(d: Design, p: Design | None, qn: Questionnaire, lang: str) -> Section:
    table = _categories(d, p, qn, lang)
    if table is None or not any(v[1] for v in table.values):
        return Section(_("rpt.digest.section.difficulties", lang), (_("rpt.digest.no_difficulty", lang),),
                       key="difficulties")
    return Section(_("rpt.digest.section.difficulties", lang), (), (table,),
                   (_fig_categories(_categories(d, p, qn, lang, raw=True), lang),),
                   key="difficulties")


def _trend(d: Design, month: str, ctx: DigestContext, lang: str) -> Section:
    months = list(ctx.trend.items()) + [(month, d)]
    rows, values, band = [], [], []
    for period, design in months:
        had = _had(design)
        band.append((0.0, 0.0) if had is None else (100 * had["ci_low"], 100 * had["ci_high"]))
        rows.append((period_words(period, lang), format_number(design.n, lang, 0),
                     _pct(0.0 if had is None else had["estimate"], lang), "" if had is None else _ci(had, lang)))
        values.append((None, design.n, None if had is None else round(100 * had["estimate"], 1), None))
    table = Table(_("rpt.digest.table.trend", lang), (_("rpt.digest.column.month", lang), _("digest.n", lang),
                  _("digest.with_difficulty", lang), _("digest.ci", lang)), tuple(rows), values=tuple(values),
                  formats=("", "#,##0", "0.0", ""), numeric=(False, True, True, True), key="trend",
                  sheet=_("rpt.digest.sheet.trend", lang))
    figures = ()
    if len(months) > 1:
        fig, ax = plt.subplots(figsize=(7.2, 2.8))
        x = np.arange(len(rows))
        ax.fill_between(x, [b[0] for b in band], [b[1] for b in band], color="#2e7d32", alpha=0.15, linewidth=0,
                        label=_("digest.ci", lang))
        ax.plot(x, [v[2] or 0 for v in values], "o-", color="#2e7d32", label=_("digest.with_difficulty", lang))
        ax.set_xticks(x, [r[0] for r in rows])
        ax.legend(fontsize=7, loc="upper left")
        ax.set_ylim(0, 100)
        ax.yaxis.set_major_formatter(number_ticks(lang))
        ax.set_xlabel(_("rpt.digest.column.month", lang))
        ax.set_ylabel(_("rpt.digest.axis.share", lang))
        title = _("rpt.digest.figure.trend", lang)
        ax.set_title(title, fontsize=10)
        fig.tight_layout()
        figures = (figure(fig, title),)
    notes = () if len(months) > 1 else (_("rpt.digest.trend.one_month", lang),)
    return Section(_("rpt.digest.section.trend", lang), (), (table,), figures, notes, key="trend")


def _by_domain(d: Design, by: str, labels: Mapping, title: str, heading: str, lang: str, min_n: int,
               key: str = "") -> Table:
    """Shares of firms with a difficulty by a domain; cells under ``min_n`` firms hidden."""
    t = _share(d, "had_difficulty", by=by)
    rows, values = [], []
    for r in (t.itertuples(index=False) if t is not None else []):
        r = r._asdict()
        name = labels.get(r[by], str(r[by]))
        shown = r["n"] >= min_n
        rows.append((name, format_number(r["n"], lang, 0), _pct(r["estimate"], lang) if shown else "—",
                     _ci(r, lang) if shown else _("digest.hidden", lang)))
        values.append((None, int(r["n"]), round(100 * r["estimate"], 1) if shown else None, None))
    return Table(title, (heading, _("digest.n", lang), _("digest.with_difficulty", lang), _("digest.ci", lang)),
                 tuple(rows), note=_("digest.note.hidden", lang, min_n=min_n), values=tuple(values),
                 formats=("", "#,##0", "0.0", ""), numeric=(False, True, True, True), key=key or by)


def _domains(d: Design, qn: Questionnaire, groups: Mapping, lang: str, min_n: int) -> Section:
    sectors = {g: _group_label(g, codes, qn, lang) for g, codes in groups.items()}
    sector_table = _by_domain(d, "sector_group", sectors, _("digest.sector", lang),
                              _("rpt.digest.column.sector", lang), lang, min_n, "sector")
    loc = qn.locality
    former = to_former_district(d.data["locality"], loc) if loc is not None and loc.level != "district" else None
    if former is not None and former["former_district"].notna().any():
        # communes and wards (from 1 July 2025) are too many for the month's firms: shown by the former
        # district each belongs to, the level both lists support (survey.places), with the rule said
        grouped = replace(d, data=d.data.assign(former_district=former["former_district"].astype(float)))
        names = dict(zip(former["former_district"].dropna().astype(float), former[f"former_district_{lang}"].dropna()))
        place_table = _by_domain(grouped, "former_district", names, _("digest.locality", lang),
                                 _("rpt.digest.column.former_district", lang), lang, min_n, "locality")
        notes = (_("rpt.digest.note.communes", lang), crosswalk_rule(lang))
    else:
        places = {float(c.code): c.label.get(lang) for c in qn.choices("locality", with_missing=False)}
        place_table = _by_domain(d, "locality", places, _("digest.locality", lang),
                                 _("rpt.digest.column.district", lang), lang, min_n)
        notes = (_("rpt.digest.note.districts", lang),)
    return Section(_("rpt.digest.section.domains", lang), (), (sector_table, place_table), notes=notes,
                   key="domains")


def _severity(d: Design, qn: Questionnaire, lang: str, min_n: int) -> Section:
    """Every level of severity, with its n; the whole table hidden when fewer than ``min_n`` firms answered."""
    data = d.data["severity"]
    answered = int(data.notna().sum() - data.isin([98]).sum())
    shares = None
    if answered:
        try:
            shares = proportion(d, "severity", exclude=[98])
        except EstimationError:
            shares = None
    shown = shares is not None and answered >= min_n
    rows, values = [], []
    for c in qn.choices("severity", with_missing=False):
        n = int((data == c.code).sum())
        hit = shares[shares["answer"] == c.code] if shares is not None else pd.DataFrame()
        est = float(hit["estimate"].iloc[0]) if len(hit) else 0.0
        rows.append((c.label.get(lang), format_number(n, lang, 0), _pct(est, lang) if shown else "—",
                     (_ci(hit.iloc[0], lang) if len(hit) else "") if shown else _("digest.hidden", lang)))
        values.append((None, n, round(100 * est, 1) if shown else None, None))
    rows.append((_("rpt.digest.total", lang), format_number(answered, lang, 0),
                 format_number(100, lang, 1) if shown else "—", ""))
    values.append((None, answered, 100.0 if shown else None, None))
    note = _("rpt.digest.note.severity", lang, min_n=min_n) if shown else \
        _("rpt.digest.note.severity_hidden", lang, n=answered, min_n=min_n)
    table = Table(_("digest.severity", lang), (_("rpt.digest.column.level", lang), _("rpt.digest.column.firms",
                  lang), _("rpt.digest.column.share_difficulty", lang), _("digest.ci", lang)), tuple(rows), note,
                  tuple(values), ("", "#,##0", "0.0", ""), (False, True, True, True), key="severity")
    return Section(_("rpt.digest.section.severity", lang), (), (table,), key="severity")


def _main_and_cost(d: Design, qn: Questionnaire, lang: str, min_n: int) -> Section:
    base = d.data["main"].notna()
    if base.sum() == 0:
        return Section(_("rpt.digest.section.main", lang), (_("rpt.digest.no_difficulty", lang),), key="main")
    shares = proportion(d, "main")
    shown = base.sum() >= min_n
    rows, values = [], []
    for c in qn.choices("difficulty_types", with_missing=False):
        hit = shares[shares["answer"] == c.code]
        n = int((d.data["main"] == c.code).sum())
        if not n:
            continue
        est = float(hit["estimate"].iloc[0])
        rows.append((c.label.get(lang), format_number(n, lang, 0), _pct(est, lang) if shown else "—"))
        values.append((None, n, round(100 * est, 1) if shown else None))
    order = sorted(range(len(rows)), key=lambda i: -(values[i][1]))
    main = Table(_("rpt.digest.table.main", lang), (_("rpt.digest.column.area", lang),
                 _("rpt.digest.column.firms", lang), _("rpt.digest.column.share_difficulty", lang)),
                 tuple(rows[i] for i in order),
                 # the shares are of all firms naming a main difficulty: that base is what min_n checks
                 _("rpt.digest.note.main" if shown else "rpt.digest.note.main_hidden", lang,
                   base=int(base.sum()), min_n=min_n),
                 tuple(values[i] for i in order), ("", "#,##0", "0.0"), (False, True, True), key="main")
    paragraphs = [_cost_line(d, lang, min_n)]
    dialogue = _share(d, "wants_dialogue")
    if dialogue is not None:
        r = dialogue.iloc[0]
        paragraphs.append(_("rpt.digest.dialogue", lang, n=int((d.data["wants_dialogue"] == 1).sum()),
                            base=int(r["n"]), share=_pct(r["estimate"], lang), ci=_ci(r, lang))
                          if r["n"] >= min_n else _("rpt.digest.dialogue_hidden", lang,
                                                    n=int((d.data["wants_dialogue"] == 1).sum()), min_n=min_n))
    return Section(_("rpt.digest.section.main", lang), tuple(paragraphs), (main,), key="main")


def _cost_line(d: Design, lang: str, min_n: int) -> str:
    cost = d.data["cost_estimate"]
    valid = cost.notna() & (cost != 98)
    if valid.sum() < min_n:
        return _("rpt.digest.cost_hidden", lang, n=int(valid.sum()), min_n=min_n)
    data = d.data.assign(cost_known=cost.where(valid))
    m = mean(replace(d, data=data), "cost_known").iloc[0]
    return _("rpt.digest.cost", lang, n=int(valid.sum()), mean=format_number(m["estimate"], lang, 0),
             low=format_number(max(m["ci_low"], 0), lang, 0), high=format_number(m["ci_high"], lang, 0))


# ------------------------------------------------------------------ the cases

def _place(case: pd.Series, data: pd.DataFrame, min_n: int) -> tuple[bool, bool]:
    """Show (district, sector) of a case only where the firms sharing it number ``min_n`` or more: the
    pair if that combination is large enough, else the district alone, else the sector alone, else neither."""
    same_d = data["locality"] == case["locality"]
    same_s = data["sector_group"] == case["sector_group"]
    if (same_d & same_s).sum() >= min_n:
        return True, True
    if same_d.sum() >= min_n:
        return True, False
    if same_s.sum() >= min_n:
        return False, True
    return False, False


def _labels(qn: Questionnaire, qid: str, value, lang: str) -> str:
    names = {str(c.code): c.label.get(lang) for c in qn.choices(qid)}
    if isinstance(value, str):
        return "; ".join(names.get(t, t) for t in value.split())
    return "" if value is None or pd.isna(value) else names.get(str(int(value)), str(value))


def _cases(d: Design, qn: Questionnaire, groups: Mapping, ctx: DigestContext, lang: str, min_n: int,
           include_personal: bool = False) -> Section:
    """The approved cases (masked again here, so no path shows a firm's own words); the contact columns
    only when ``include_personal`` (for staff following a case up, never to forward)."""
    title = _("digest.cases", lang)   # also the sheet's name
    approved = ctx.cases if ctx.cases is not None else pd.DataFrame(columns=["reference", "response_key"])
    data = d.data.set_index("response_key", drop=False)
    rows, hidden = [], 0
    personal = [q for q in qn.personal_questions if q in data.columns] if include_personal else []
    sectors = {g: _group_label(g, codes, qn, lang) for g, codes in groups.items()}
    for case in approved.itertuples(index=False):
        if case.response_key not in data.index:
            continue
        firm = data.loc[case.response_key]
        show_d, show_s = _place(firm, d.data, min_n)
        hidden += (not show_d) + (not show_s)
        contacts = tuple(printable(firm.get(q), None) for q in personal)
        rows.append(contacts + (case.reference, _labels(qn, "locality", firm["locality"], lang) if show_d else "—",
                     sectors.get(firm["sector_group"], "") if show_s else "—",
                     _labels(qn, "difficulty_types", firm["difficulty_types"], lang),
                     _labels(qn, "severity", firm["severity"], lang), mask_text(case.description),
                     mask_text(case.proposal), _labels(qn, "reported_to", firm["reported_to"], lang),
                     _labels(qn, "resolution", firm["resolution"], lang),
                     _(f"rpt.follow_up.{case.follow_up}", lang)))
    columns = tuple(qn.question(q).label.get(lang) for q in personal) + (
               _("rpt.digest.column.reference", lang), _("rpt.digest.column.district", lang),
               _("rpt.digest.column.sector", lang), _("rpt.digest.column.area", lang),
               _("rpt.digest.column.level", lang), qn.question("description").label.get(lang),
               qn.question("proposal").label.get(lang), qn.question("reported_to").label.get(lang),
               qn.question("resolution").label.get(lang), _("rpt.digest.column.follow_up", lang))
    table = Table(title, columns, tuple(rows), _("rpt.digest.note.place", lang, min_n=min_n), sheet=title,
                  key="cases")
    paragraphs = [_("rpt.digest.cases.count", lang, approved=len(rows), pending=ctx.pending)]
    if not rows:
        paragraphs.append(_("rpt.digest.cases.none", lang))
    tables = (table,) + _open_cases(ctx, lang)
    return Section(_("rpt.digest.section.cases", lang), tuple(paragraphs), tables,
                   notes=(_("rpt.digest.note.masked", lang),),
                   key="cases")


def _open_cases(ctx: DigestContext, lang: str) -> tuple[Table, ...]:
    """Cases of earlier months still open, with their follow-up, so each month's digest carries them on."""
    if ctx.open_cases is None or ctx.open_cases.empty:
        return ()
    rows = tuple((r.reference, period_words(r.period, lang), _(f"rpt.follow_up.{r.follow_up}", lang))
                 for r in ctx.open_cases.itertuples(index=False))
    return (Table(_("rpt.digest.table.open_cases", lang), (_("rpt.digest.column.reference", lang),
                  _("rpt.digest.column.month", lang), _("rpt.digest.column.follow_up", lang)), rows,
                  _("rpt.digest.note.open_cases", lang), key="open_cases",
                  sheet=_("rpt.digest.sheet.open_cases", lang)),)


# ------------------------------------------------------------------ notes and the whole

def _method(d: Design, ctx: DigestContext, lang: str, min_n: int, weighting_notes: Sequence[str]) -> Section:
    s = weight_summary(d)
    used = ", ".join(word("rpt.margin", m, lang) for m in ctx.margins_used) or _("rpt.margins.none", lang)
    method = {"JK1": "jackknife", "JKn": "jackknife", "bootstrap": "bootstrap"}.get(d.rep_type)
    notes = [_("digest.note.respondents", lang, n=d.n, total=round(float(s["sum"]))),
             _("rpt.digest.note.weighting", lang, margins=used, deff=float(s["deff_kish"]),
               method=_(f"digest.method.{method}", lang) if method else _("rpt.method.linearised", lang)),
             _("rpt.margins.illustrative", lang) if ctx.margins_illustrative else
             _("rpt.margins.source", lang, source=ctx.margins_source),
             _("digest.note.hidden", lang, min_n=min_n), _("rpt.digest.note.noise", lang),
             _("rpt.digest.note.masked", lang), _("rpt.digest.note.districts", lang)]
    return Section(_("rpt.digest.section.notes", lang), (), (), (), tuple(notes) + tuple(weighting_notes), key="notes")


def labels(lang: str) -> dict[str, str]:
    """The words of a report's header and page boxes."""
    return {k: _(f"rpt.label.{k}", lang) for k in ("province", "period", "issuer", "date", "page", "contents")}


def build_digest(design: Design, qn: Questionnaire, month: str, previous: Design | None = None,
                 lang: str = "vi", min_n: int = 10, include_personal: bool = False,
                 weighting_notes: Sequence[str] | None = None,
                 sector_groups: Mapping[str, Sequence[int]] | None = None,
                 context: DigestContext | None = None) -> Digest:
    """The digest of one month (with the previous month for changes), as a :class:`Digest`.

    ``sector_groups`` (group -> sector codes) are the margins file's groups of sectors; default
    :data:`_SECTOR_GROUPS`. ``context`` carries what the store says (loads, approved cases, margins);
    without it the digest has no cases and says the margins are illustrative.
    """
    ctx = context or DigestContext()
    groups = sector_groups or _SECTOR_GROUPS
    d = _with_flags(design, qn, groups)
    p = _with_flags(previous, qn, groups) if previous is not None else None
    trend = {k: _with_flags(v, qn, groups) for k, v in ctx.trend.items()}
    ctx = replace(ctx, trend=trend)
    sections = (_key_messages(d, p, qn, ctx, lang),
                _responses(d, ctx, lang, float(np.sum(d.weights))),
                _difficulties(d, p, qn, lang), _trend(d, month, ctx, lang), _domains(d, qn, groups, lang, min_n),
                _severity(d, qn, lang, min_n), _main_and_cost(d, qn, lang, min_n),
                _cases(d, qn, groups, ctx, lang, min_n, include_personal),
                _method(d, ctx, lang, min_n, weighting_notes or ()))
    province = ctx.province or (qn.locality.province_vi if qn.locality else "")
    doc = Document(_("rpt.digest.title", lang, period=period_words(month, lang)), lang, province,
                   period_words(month, lang), ctx.issuer or _("rpt.issuer", lang), format_date(ctx.issued, lang),
                   _("rpt.notice", lang), sections, labels(lang))
    return Digest(month, lang, doc)


def write_digest_html(digest: Digest, path: str | Path) -> Path:
    """The digest as one offline HTML file, written whole or not at all."""
    return write_html(digest.document, TEMPLATE, path)


def write_digest_pdf(digest: Digest, path: str | Path) -> Path:
    """The digest as an A4 PDF (the same template), written whole or not at all."""
    return write_pdf(digest.document, TEMPLATE, path)


def write_digest_xlsx(digest: Digest, path: str | Path) -> Path:
    """One sheet per table and a "Ghi chú" sheet, written whole or not at all."""
    lang = digest.lang
    return write_xlsx(digest.document, path, _("rpt.sheet.notes", lang), _("rpt.sheet.notes_heading", lang))
