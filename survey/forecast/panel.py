"""The official panel prepared for forecasting: wide by measure, totals completed, units after the merger.

- Totals are derived as the sum of the four sub-indices where a year's total is
  missing but all four sub-indices are known (exact from 2023 on; VCCI's 2022
  pilot differs by up to 0.06, which is noted).
- For a forecast year from 2025, history is expressed for the 34 units formed on
  1 July 2025: each new unit's value in an earlier year is the **mean of its old
  provinces' values, weighted by their number of enterprises** when a weights
  table is given, else equally (enterprise counts are not shipped), over the old
  provinces that have a value; the number of old provinces used is kept.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..reference import crosswalk, national_means
from ..vocabulary import MEASURES, MERGER_YEAR, SUBINDICES

__all__ = ["wide_panel", "to_units", "MERGER_YEAR", "MEASURES", "national_means"]


def wide_panel(panel: pd.DataFrame) -> pd.DataFrame:
    """One row per (year, province), one column per measure; totals completed from sub-indices."""
    wide = panel.pivot_table(index=["year", "province"], columns="measure", values="score", aggfunc="last")
    wide = wide.reindex(columns=list(MEASURES))
    subs = wide[list(SUBINDICES)]
    derived = subs.sum(axis=1, min_count=len(SUBINDICES))
    wide["total_derived"] = wide["total"].isna() & derived.notna()
    wide["total"] = wide["total"].fillna(derived)
    return wide.reset_index()


def to_units(wide: pd.DataFrame, weights: pd.Series | None = None) -> pd.DataFrame:
    """History of the 63 provinces expressed for the 34 units of 1 July 2025.

    Parameters
    ----------
    weights : Series, optional
        Number of enterprises by old province (English name); default equal weights.
    """
    df = wide[wide["year"] < MERGER_YEAR].copy()
    df["unit"] = df["province"].map(crosswalk())
    df["w"] = 1.0 if weights is None else df["province"].map(weights).fillna(0.0)
    rows = []
    for (year, unit), g in df.groupby(["year", "unit"]):
        row = {"year": year, "province": unit, "n_old": len(g)}
        for m in MEASURES:
            ok = g[m].notna() & (g["w"] > 0)
            row[m] = np.average(g.loc[ok, m], weights=g.loc[ok, "w"]) if ok.any() else np.nan
        rows.append(row)
    after = wide[wide["year"] >= MERGER_YEAR].assign(n_old=np.nan)
    return pd.concat([pd.DataFrame(rows), after], ignore_index=True)

