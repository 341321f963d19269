"""The official record wide by measure, with totals completed from the sub-indices.

Totals are derived as the sum of the four sub-indices where a year's total is missing but all four
sub-indices are known (exact from 2023 on; VCCI's 2022 pilot differs by up to 0.06, which is noted).
The forecast itself reads the record year by year (:mod:`survey.forecast.record`), each old province
under its own name: nothing here builds a merged province's history.
"""
from __future__ import annotations

import pandas as pd

from ..reference import complete_totals, national_means
from ..vocabulary import MEASURES, MERGER_YEAR
from .record import wide_record

__all__ = ["wide_panel", "MERGER_YEAR", "MEASURES", "national_means"]


def wide_panel(panel: pd.DataFrame) -> pd.DataFrame:
    """One row per (year, province), one column per measure (and the total's rank); totals completed from
    sub-indices (:func:`survey.reference.complete_totals`), ``total_derived`` saying where."""
    full = complete_totals(panel)
    wide = wide_record(full.drop(columns="derived"))
    derived = full.loc[full["derived"], ["year", "province"]].assign(total_derived=True)
    wide = wide.merge(derived, on=["year", "province"], how="left")
    wide["total_derived"] = wide["total_derived"].fillna(False).astype(bool)
    return wide
