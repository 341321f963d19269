"""The official record as the forecast reads it: one cross-section per year, with what is known of each province.

For each year, each province's total is one of:

- **published** (as printed, or the sum of its four published sub-indices: from 2023 the two agree to 0.01);
- **censored**: the year's table published only a top ``K`` and lists every province outside it, so a
  province with no value is one of the top ``K`` whose total was not printed. Its total lies in a *block*
  between two published totals whose ranks are known: e.g. in 2024, 3 unprinted provinces sit between
  Long An (rank 6, 27.56) and Hai Duong (rank 13, 26.34), 11 between Hai Duong and Dak Nong (rank 29, 25.24);
- **unknown**: no record at all that year (the forecast gives it the spread of provinces).

A pilot edition (2022) is marked: its level is on a scale of its own.

:func:`table_problems` checks that a year's values, ranks, top-``K`` structure and published national mean
agree with one another and says which disagree (e.g. the shipped 2024 table cannot reach the published mean
25.39: the most its values and bounds allow is 25.19).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..notes import Note
from ..reference import TableInfo
from ..vocabulary import MEASURES, SUBINDICES, TOTAL_MAX

__all__ = ["Block", "YearRecord", "year_record", "table_problems", "mean_range", "wide_record"]

#: totals and the sum of their sub-indices agree within this from 2023 on (VCCI rounds to 0.01)
SUM_TOLERANCE = 0.02


@dataclass(frozen=True)
class Block:
    """``count`` unprinted totals of a top-``K`` table, each between ``low`` and ``high`` (published totals)."""

    low: float
    high: float
    count: int


@dataclass
class YearRecord:
    """One year of the official record for a fixed list of provinces (their order is the arrays' order)."""

    year: int
    provinces: list[str]
    total: np.ndarray            # published or derived total; NaN when censored or unknown
    derived: np.ndarray          # bool: the total is the sum of the four sub-indices
    subs: np.ndarray             # (provinces, 4): published sub-indices, NaN where not published
    censored: np.ndarray         # bool: one of the top K without a printed total
    blocks: list[Block] = field(default_factory=list)   # for the censored, highest block first
    pilot: bool = False
    published_mean: float | None = None
    problems: list[Note] = field(default_factory=list)

    @property
    def known(self) -> np.ndarray:
        return ~np.isnan(self.total)

    @property
    def unknown(self) -> np.ndarray:
        return np.isnan(self.total) & ~self.censored


def year_record(wide: pd.DataFrame, year: int, provinces: list[str], info: TableInfo | None = None,
                published_mean: float | None = None) -> YearRecord:
    """The cross-section of ``year`` for ``provinces`` from the wide panel (year, province, sub1..total, rank).

    The censoring of a top-``K`` table is worked out from ``info`` (see :class:`survey.reference.TableInfo`);
    disagreements found on the way are kept in ``problems`` (notes), never silently resolved.
    """
    rows = wide[wide["year"] == year].set_index("province").reindex(provinces)
    subs = rows[list(SUBINDICES)].to_numpy(dtype=float)
    printed = rows["total"].to_numpy(dtype=float) if "total" in rows else np.full(len(provinces), np.nan)
    summed = np.where(np.isnan(subs).any(axis=1), np.nan, subs.sum(axis=1))
    derived = np.isnan(printed) & ~np.isnan(summed)
    total = np.where(derived, summed, printed)
    ranks = rows["rank"].to_numpy(dtype=float) if "rank" in rows else np.full(len(provinces), np.nan)
    record = YearRecord(year, list(provinces), total, derived, subs, np.zeros(len(provinces), bool),
                        pilot=bool(info and info.pilot), published_mean=published_mean)
    gap = np.abs(printed - summed)
    if year >= 2023:
        for i in np.flatnonzero(gap > SUM_TOLERANCE):
            record.problems.append(Note("forecast.table.sum", {"year": year, "name": provinces[i],
                                                               "total": float(printed[i]), "sum": float(summed[i])}))
    if info is not None and info.top and info.outside_top_listed:
        _censor(record, ranks, info.top)
    return record


def _censor(record: YearRecord, ranks: np.ndarray, top: int) -> None:
    """Mark the unprinted members of a top-``top`` table and the blocks their totals lie in."""
    missing = np.isnan(record.total)
    if not missing.any():  # a complete table: nothing is censored
        return
    in_top = record.known & ~record.derived          # printed totals are the top's; the rest are listed below it
    below = record.total[record.known & record.derived]
    if in_top.sum() + missing.sum() != top:
        record.problems.append(Note("forecast.table.top_count", {"year": record.year, "top": top,
                                                                 "printed": int(in_top.sum()),
                                                                 "missing": int(missing.sum())}))
        return
    record.censored = missing
    floor = float(below.max()) if below.size else 0.0
    anchors = [(0, TOTAL_MAX)] + sorted((int(r), float(v)) for r, v in zip(ranks[in_top], record.total[in_top])
                                        if not np.isnan(r)) + [(top + 1, floor)]
    unranked = record.total[in_top & np.isnan(ranks)]
    blocks, placed = [], 0
    for (ra, va), (rb, vb) in zip(anchors, anchors[1:]):
        if vb > va:
            record.problems.append(Note("forecast.table.rank_order", {"year": record.year, "rank": rb,
                                                                      "previous": ra}))
            continue
        between = int(np.sum((unranked < va) & (unranked > vb)))
        count = rb - ra - 1 - between
        if count < 0:
            record.problems.append(Note("forecast.table.crowded", {"year": record.year, "low": ra, "high": rb}))
        elif count:
            blocks.append(Block(vb, va, count))
            placed += count
    if placed != missing.sum():
        record.problems.append(Note("forecast.table.blocks", {"year": record.year, "placed": placed,
                                                              "missing": int(missing.sum())}))
        blocks = [Block(floor, max(float(record.total[in_top].min()), floor) if in_top.any() else TOTAL_MAX,
                        int(missing.sum()))]
    record.blocks = blocks


def mean_range(record: YearRecord) -> tuple[float, float] | None:
    """The lowest and highest national mean the year's values and bounds allow, or None when some
    province's total is unknown (then any mean is possible)."""
    if record.unknown.any():
        return None
    known = float(np.nansum(record.total))
    low = known + sum(b.low * b.count for b in record.blocks)
    high = known + sum(b.high * b.count for b in record.blocks)
    n = len(record.provinces)
    return low / n, high / n


def table_problems(record: YearRecord, tolerance: float = 0.005) -> list[Note]:
    """Every disagreement of the year's table: sums, ranks, the top's structure, and a published national
    mean outside what the values and bounds allow."""
    out = list(record.problems)
    bounds = mean_range(record)
    if record.published_mean is not None and bounds is not None:
        low, high = bounds
        if not low - tolerance <= record.published_mean <= high + tolerance:
            out.append(Note("forecast.table.mean", {"year": record.year, "mean": float(record.published_mean),
                                                    "low": low, "high": high}))
    return out


def wide_record(panel: pd.DataFrame) -> pd.DataFrame:
    """One row per (year, province): the measures as published (no totals filled in) and the total's rank."""
    wide = panel.pivot_table(index=["year", "province"], columns="measure", values="score", aggfunc="last")
    wide = wide.reindex(columns=list(MEASURES))
    if "rank" in panel.columns:
        ranks = panel[panel["measure"] == "total"].dropna(subset=["rank"]).drop_duplicates(
            ["year", "province"], keep="last").set_index(["year", "province"])["rank"]
        wide["rank"] = ranks.reindex(wide.index)
    else:
        wide["rank"] = np.nan
    return wide.reset_index()
