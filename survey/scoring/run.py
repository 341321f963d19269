"""Around a score table: the official record beside it (on its own scale), the bridge's inputs, a summary.

Scoring a stored year is a job of the use-case layer (:func:`survey.jobs.score_year`); nothing here
reads the store. The plan's targets are compared with official values only, never with the association's
index: they are on different scales.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..i18n import _
from ..notes import note_text
from ..reference import complete_totals
from ..vocabulary import MEASURES, unofficial
from .score import ScoreResult

__all__ = ["official_record", "summary_text", "association_estimates"]


def official_record(panel: pd.DataFrame, province: str | None, targets=None, before: int | None = None
                    ) -> pd.DataFrame:
    """The province's official PGI by year and measure as published: ``year, measure, score, derived, rank,
    source``, a total completed as the sum of the same year's four sub-indices where only they are published
    (``derived``), and the plan's ``target`` with the edition whose scale it was set on (``scale_year``)."""
    cols = ["year", "measure", "score", "derived", "rank", "source", "target", "scale_year"]
    if not province:
        return pd.DataFrame(columns=cols)
    rows = panel[panel["province"] == province]
    if before is not None:
        rows = rows[rows["year"] < before]
    out = complete_totals(rows.reindex(columns=["year", "province", "measure", "score", "rank", "source"]))
    plan = {} if targets is None else dict(targets.years.get(max(targets.years), {})) if targets.years else {}
    out["target"] = out["measure"].map(plan).astype(float)
    out["scale_year"] = getattr(targets, "scale_year", None) if targets is not None else None
    order = {m: i for i, m in enumerate(MEASURES)}
    return out.sort_values(["year", "measure"], key=lambda s: s.map(order) if s.name == "measure" else s)[cols] \
        .reset_index(drop=True)


def association_estimates(table: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """Sub-index and total estimates with their SEs, ``{id: (estimate, se)}``, as the forecast takes
    them; suppressed rows and rows without a standard error are left out."""
    rows = table[table["kind"] != "indicator"].set_index("id")
    return {m: (float(rows.loc[m, "estimate"]), float(rows.loc[m, "se"])) for m in rows.index
            if not rows.loc[m, "suppressed"] and np.isfinite(rows.loc[m, "se"])}


def hidden_text(row, lang: str, min_n: int) -> str:
    """Why a row is not shown, in words: too few respondents (with n), does not apply, or complementary."""
    return _(f"scoring.hidden.{row['reason']}", lang, n=int(row["n"]), min_n=min_n)


def _value_text(row, lang: str) -> str:
    if row["method"] == "mean":
        return _("scoring.value.mean", lang, value=row["value"], low=row["value_ci_low"], high=row["value_ci_high"])
    return _("scoring.value.share", lang, value=row["value"], low=max(row["value_ci_low"], 0.0),
             high=min(row["value_ci_high"], 1.0))


def summary_text(result: ScoreResult, lang: str = "vi") -> str:
    """The indicators' shares first (what the firms said, with 95% intervals and n), then the association's
    index on its own 0-10 scale with its sensitivity range, per domain when scored by one; notes in ``lang``."""
    t = result.table
    dom_col = f"domain_{lang}" if f"domain_{lang}" in t.columns else (
        t.columns[0] if t.columns[0] not in ("kind", "id") else None)
    lines = [unofficial("estimate", lang) + " — " + _("scoring.summary.not_pgi", lang)]
    groups = t.groupby(dom_col, sort=False) if dom_col else [(None, t)]
    for dom, part in groups:
        if dom is not None:
            lines.append(f"[{dom}]")
        lines.append(_("scoring.summary.indicators", lang))
        for r in part[part["kind"] == "indicator"].to_dict("records"):
            name = str(r[f"name_{lang}"])
            shown = hidden_text(r, lang, result.config.min_n) if r["suppressed"] else \
                _value_text(r, lang) + f"  n={int(r['n'])}"
            lines.append(f"  {name:<66} {shown}")
        lines.append(_("scoring.summary.index", lang))
        for r in part[part["kind"] != "indicator"].to_dict("records"):
            name = str(r[f"short_{lang}"])[:28]
            if r["suppressed"]:
                lines.append(f"  {name:<28} {hidden_text(r, lang, result.config.min_n)}")
                continue
            ci = "" if pd.isna(r["se"]) else _("scoring.interval", lang, low=r["ci_low"], high=r["ci_high"])
            sens = "" if pd.isna(r.get("sens_low", np.nan)) else _("scoring.sensitivity", lang, low=r["sens_low"],
                                                                   high=r["sens_high"])
            lines.append(f"  {name:<28}{r['estimate']:>7.2f}  {ci}  {sens}")
    return "\n".join(lines + [f"- {note_text(n, lang)}" for n in result.notes])
