"""The official PGI record: importing and checking VCCI's tables.

The shipped record (``survey/data/reference/official_pgi.csv``, each row with a
source key), the province names and the targets are read by :mod:`survey.reference`;
its readers (:func:`official_panel`, :func:`last_official`, :func:`match_province`,
:func:`load_targets`, :func:`targets_for` ...) are importable from here as before.
Full tables, as VCCI publishes them, are imported with :func:`read_official_table`
(CSV or XLSX; province names in Vietnamese or English, with or without
diacritics) and checked: every total equals the sum of its sub-indices within
0.02 from 2023 on (2022 was a pilot and is only noted), ranks follow the
totals, no province is unknown or repeated. Up to 2024 there are 63
provinces; from 2025, the 34 units formed on 1 July 2025.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import OfficialError, Problem  # OfficialError: defined in errors.py, importable from here
from ..notes import Note
from ..reference import (  # noqa: F401  (the official record's readers, importable from here as before)
    _fold, last_official, load_official, load_provinces, load_targets, match_province, official_panel,
    province_key, targets_for,
)
from ..vocabulary import MEASURES, MERGER_YEAR, PROVINCES_AFTER, PROVINCES_BEFORE, SUBINDICES

__all__ = ["OfficialError", "province_key", "match_province", "read_official_table", "official_panel",
           "last_official", "load_targets", "targets_for", "MEASURES", "MERGER_YEAR"]

SUM_TOLERANCE = 0.02


_COLUMNS = {"province": ("province", "tinh", "tinhthanhpho", "tinhthanh", "diaphuong"),
            "sub1": ("sub1", "subindex1", "chiso1", "cstp1", "minimizingrisk"),
            "sub2": ("sub2", "subindex2", "chiso2", "cstp2", "maintainingstandards"),
            "sub3": ("sub3", "subindex3", "chiso3", "cstp3", "environmentalleadership"),
            "sub4": ("sub4", "subindex4", "chiso4", "cstp4", "environmentalincentives"),
            "total": ("total", "pgi", "tongdiem", "diem", "score"),
            "rank": ("rank", "xephang", "thuhang", "hang")}


def _standard_columns(frame: pd.DataFrame, file: str) -> pd.DataFrame:
    found = {}
    for col in frame.columns:
        key = re.sub(r"[^a-z0-9]+", "", _fold(col))
        for std, names in _COLUMNS.items():
            if key in names and std not in found:
                found[std] = col
    missing = [c for c in ("province", "total") if c not in found]
    if missing:
        raise OfficialError(f"the table has no column for {missing}", file=file, code="official.columns_missing",
                            params={"missing": str(missing)},
                            hint="name the columns province, sub1..sub4, total, rank (or their Vietnamese names)")
    return frame.rename(columns={v: k for k, v in found.items()})[list(found)]


def read_official_table(path: str | Path, year: int) -> tuple[pd.DataFrame, list[Note]]:
    """Read and check an official PGI table; return it long (year, province, measure, score, rank, source) and notes
    (:class:`survey.notes.Note`, shown with :func:`survey.notes.note_text`).

    Raises
    ------
    OfficialError
        Listing every problem: unknown or repeated provinces, totals that differ from
        the sum of sub-indices (from 2023 on), ranks that contradict the totals.
    """
    path = Path(path)
    file = str(path)
    try:
        raw = pd.read_excel(path) if path.suffix.lower() in (".xlsx", ".xlsm") else pd.read_csv(path, encoding="utf-8-sig")
    except Exception as exc:  # pandas raises many kinds on a bad file
        raise OfficialError(f"cannot read the table: {exc}", file=file, code="official.unreadable",
                            params={"reason": str(exc)}) from None
    frame = _standard_columns(raw, file)
    problems, notes = [], []
    frame["province_raw"] = frame["province"].astype(str)
    frame["province"] = [match_province(n, year) for n in frame["province_raw"]]
    for i, (raw_name, name) in enumerate(zip(frame["province_raw"], frame["province"]), start=2):
        if pd.isna(name):  # pandas stores a missing match as NaN, not None
            if year >= MERGER_YEAR:
                problems.append(Problem(f"unknown province '{raw_name}' for {year}", file, "province", i,
                                        hint=f"{PROVINCES_AFTER} provinces from {MERGER_YEAR}, {PROVINCES_BEFORE} before",
                                        code="official.unknown_province_merged",
                                        params={"name": raw_name, "year": year, "after": PROVINCES_AFTER,
                                                "merger_year": MERGER_YEAR, "before": PROVINCES_BEFORE}))
            else:
                problems.append(Problem(f"unknown province '{raw_name}' for {year}", file, "province", i,
                                        code="official.unknown_province", params={"name": raw_name, "year": year}))
    dup = frame["province"].notna() & frame["province"].duplicated(keep=False)
    for i in np.flatnonzero(dup.to_numpy()):
        problems.append(Problem(f"province '{frame['province'].iloc[i]}' appears more than once", file, "province", i + 2,
                                code="official.province_twice", params={"name": frame["province"].iloc[i]}))
    subs = [c for c in SUBINDICES if c in frame.columns]
    for c in subs + ["total"] + (["rank"] if "rank" in frame.columns else []):
        frame[c] = pd.to_numeric(frame[c], errors="coerce")
    if len(subs) == 4:
        gap = (frame[subs].sum(axis=1) - frame["total"]).abs()
        for i in np.flatnonzero((gap > SUM_TOLERANCE).to_numpy()):
            msg = (f"{frame['province_raw'].iloc[i]}: total {frame['total'].iloc[i]:.2f} differs from the sum of "
                   f"sub-indices {frame[subs].iloc[i].sum():.2f}")
            if year >= 2023:
                problems.append(Problem(msg, file, "total", i + 2, hint=f"allowed difference {SUM_TOLERANCE}",
                                        code="official.total_differs",
                                        params={"name": frame["province_raw"].iloc[i],
                                                "total": float(frame["total"].iloc[i]),
                                                "sum": float(frame[subs].iloc[i].sum()),
                                                "tolerance": SUM_TOLERANCE}))
            else:
                notes.append(Note("official.pilot_total", {"name": frame["province_raw"].iloc[i],
                                                           "total": float(frame["total"].iloc[i]),
                                                           "sum": float(frame[subs].iloc[i].sum()), "year": year}))
    if "rank" in frame.columns:
        problems += _rank_problems(frame, file)
    if problems:
        raise OfficialError(f"the official table for {year} cannot be imported", problems=problems,
                            code="official.not_importable", params={"year": year})
    long = frame.melt(id_vars=["province"] + (["rank"] if "rank" in frame.columns else []),
                      value_vars=subs + ["total"], var_name="measure", value_name="score").dropna(subset=["score"])
    if "rank" not in long.columns:
        long["rank"] = np.nan
    long.loc[long["measure"] != "total", "rank"] = np.nan
    long["year"] = year
    long["source"] = f"import:{path.name}"
    return long[["year", "province", "measure", "score", "rank", "source"]].reset_index(drop=True), notes


def _rank_problems(frame: pd.DataFrame, file: str) -> list[Problem]:
    ranked = frame.dropna(subset=["rank", "total"]).sort_values("rank")
    out = []
    totals = ranked["total"].to_numpy()
    for j in range(1, len(ranked)):
        if totals[j] > totals[j - 1] + 1e-9:
            row = ranked.index[j]
            out.append(Problem(f"rank {int(ranked['rank'].iloc[j])} ({ranked['province_raw'].iloc[j]}, "
                               f"{totals[j]:.2f}) has a higher total than rank {int(ranked['rank'].iloc[j - 1])} "
                               f"({totals[j - 1]:.2f})", file, "rank", int(row) + 2, code="official.rank_order",
                               params={"rank": int(ranked["rank"].iloc[j]), "name": ranked["province_raw"].iloc[j],
                                       "total": float(totals[j]), "previous": int(ranked["rank"].iloc[j - 1]),
                                       "previous_total": float(totals[j - 1])}))
    return out
