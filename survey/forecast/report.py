"""The forecast in words and numbers, for the terminal and reports."""
from __future__ import annotations

import pandas as pd

from ..i18n import _
from ..notes import note_text
from ..vocabulary import measure_name
from .forecast import ForecastResult

__all__ = ["forecast_text"]


def forecast_text(result: ForecastResult, lang: str = "vi") -> str:
    """Per model: each measure's forecast, intervals and probabilities; the rank distribution of the total;
    the notes, in ``lang``."""
    lines = [f"{result.province} {result.year} — " + note_text(result.notes[0], lang)]
    for model, part in result.table.groupby("model", sort=False):
        lines.append(f"\n[{model}]")
        lines.append(f"  {'':<26}{_('forecast.column.forecast', lang):>9}  {'80%':<13}{'95%':<13}"
                     f"{_('forecast.column.p_target', lang):>12}{_('forecast.column.p_improve', lang):>11}")
        for r in part.itertuples():
            name = measure_name(r.measure, lang)
            pt = "" if pd.isna(r.p_target) else f"{r.p_target:.0%}"
            pi = "" if pd.isna(r.p_improve) else f"{r.p_improve:.0%}"
            lines.append(f"  {name:<26}{r.mean:>9.2f}  {r.pi80_low:5.2f}–{r.pi80_high:<6.2f}"
                         f"{r.pi95_low:5.2f}–{r.pi95_high:<6.2f}{pt:>12}{pi:>11}")
        rs = result.rank_summary().set_index("model").loc[model]
        likely, low, high = int(rs["most_likely_rank"]), int(rs["rank_80_low"]), int(rs["rank_80_high"])
        lines.append("  " + _("forecast.rank", lang, likely=likely, n=result.n_provinces, low=low, high=high,
                              top=result._top, p_top=float(rs["p_top"])))
    lines += [f"- {note_text(n, lang)}" for n in result.notes[1:]]
    return "\n".join(lines)
