"""The official record wide by measure, with totals completed from the sub-indices.

Totals are derived as the sum of the four sub-indices where a year's total is missing but all four
sub-indices are known (exact from 2023 on; VCCI's 2022 pilot differs by up to 0.06, which is noted).
The forecast itself reads the record year by year (:mod:`survey.forecast.record`), each old province
under its own name: nothing here builds a merged province's history.
"""
from __future__ import annotations

import pandas as pd

from ..reference import national_means
from ..vocabulary import MEASURES, MERGER_YEAR, SUBINDICES
from .record import wide_record

__all__ = ["wide_panel", "MERGER_YEAR", "MEASURES", "national_means"]


def wide_panel(panel: pd.DataFrame) -> pd.DataFrame:
    """One row per (year, province), one column per measure (and the total's rank); totals completed from
    sub-indices, ``total_derived`` saying where."""
    wide = wide_record(panel)
    derived = wide[list(SUBINDICES)].sum(axis=1, min_count=len(SUBINDICES))
    wide["total_derived"] = wide["total"].isna() & derived.notna()
    wide["total"] = wide["total"].fillna(derived)
    return wide
