"""Around a score table: targets and the last official values beside it, the bridge's inputs, a summary.

Scoring a stored year is a job of the use-case layer (:func:`survey.jobs.score_year`); nothing here
reads the store."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..i18n import _
from ..notes import note_text
from .official import last_official, targets_for
from .score import ScoreResult

__all__ = ["add_targets", "summary_text", "association_estimates"]


def add_targets(table: pd.DataFrame, year: int, targets: dict | None, panel: pd.DataFrame,
                province: str | None) -> pd.DataFrame:
    """Columns target, to_target (estimate - target), official_last and official_year for sub-indices and total."""
    table = table.copy()
    in_force = targets_for(targets, year)
    table["target"] = table["id"].map(in_force).astype(float)
    table["to_target"] = table["estimate"] - table["target"]
    last = {m: last_official(panel, province, m, before=year + 1) if province else None
            for m in ("sub1", "sub2", "sub3", "sub4", "total")}
    table["official_last"] = table["id"].map(lambda m: last.get(m)[0] if last.get(m) else np.nan)
    table["official_year"] = table["id"].map(lambda m: last.get(m)[1] if last.get(m) else np.nan)
    return table


def association_estimates(table: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """Sub-index and total estimates with their SEs, ``{id: (estimate, se)}``, as the forecast bridge takes
    them; suppressed rows and rows without a standard error are left out."""
    rows = table[table["level"] != "indicator"].set_index("id")
    return {m: (float(rows.loc[m, "estimate"]), float(rows.loc[m, "se"])) for m in rows.index
            if not rows.loc[m, "suppressed"] and np.isfinite(rows.loc[m, "se"])}


def summary_text(result: ScoreResult, lang: str = "vi") -> str:
    """A readable summary of the sub-indices and total (per domain when scored by one), with the notes in ``lang``."""
    t = result.table[result.table["level"] != "indicator"]
    dom_col = f"domain_{lang}" if f"domain_{lang}" in t.columns else (
        t.columns[0] if t.columns[0] not in ("level", "id") else None)
    lines = ["Ước tính không chính thức / unofficial estimate",
             f"{'':<30}{_('scoring.column.score', lang):>7}{'SE':>7}  {'95%':<14}"
             f"{_('scoring.column.target', lang):>9}{_('scoring.column.official', lang):>13}"]
    for _row, r in t.iterrows():
        if dom_col and r["level"] == "subindex" and r["id"] == "sub1":
            lines.append(f"[{r[dom_col]}]")
        name = str(r[f"short_{lang}"])[:28]
        if r["suppressed"]:
            why = _(f"scoring.suppressed.{r['suppressed_reason']}", lang)
            lines.append(f"  {name:<28} {why}")
            continue
        off = "" if pd.isna(r.get("official_last")) else f"{r['official_last']:.2f} ({int(r['official_year'])})"
        tgt = "" if pd.isna(r.get("target")) else f">= {r['target']:.2f}"
        ci = "" if pd.isna(r["se"]) else f"{r['ci95_low']:.2f}–{r['ci95_high']:.2f}"
        se = "" if pd.isna(r["se"]) else f"{r['se']:.2f}"
        lines.append(f"  {name:<28}{r['estimate']:>7.2f}{se:>7}  {ci:<14}{tgt:>9}{off:>13}")
    return "\n".join(lines + [f"- {note_text(n, lang)}" for n in result.notes])
